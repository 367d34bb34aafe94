//! `toron.scrub`, `toron.scan`, `toron.Scrubbed` and `toron.Finding` (`toron_core::pii`), plus the private
//! helpers of the `toron scrub | scan | quarantine` commands (`_scrub_file`, `_quarantine_*`).
//!
//! Compiled scrubbers are kept in a small cache keyed by (kinds, allow, key), so repeated calls with the
//! same policy do not compile the detectors again. Inputs above [`GIL_FREE`] bytes are scrubbed through the
//! doorway, with the GIL released.

use crate::{convert, doorway, errors};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use toron_core::pii::{self, Finding, Key, Location, Policy, Scrubber};
use toron_core::{Error as CoreError, ErrorKind};

/// Texts at least this long are scrubbed with the GIL released.
const GIL_FREE: usize = 64 * 1024;

/// Scrubbers kept for reuse.
const CACHED: usize = 8;

type CacheKey = (Vec<String>, Vec<String>, [u8; 32]);

static CACHE: Mutex<Vec<(CacheKey, Arc<Scrubber>)>> = Mutex::new(Vec::new());

/// The archive whose per-archive key is used when no key is given: `.toron` in the current directory.
const DEFAULT_ARCHIVE: &str = ".toron";

fn pii_error(message: impl Into<String>) -> PyErr {
    errors::map(CoreError::new(ErrorKind::Pii, message))
}

fn string_list(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(s) = obj.cast::<PyString>() {
        // `kinds="email,card"` as the command line writes it.
        return Ok(s
            .to_cow()?
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect());
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let s = item.cast::<PyString>().map_err(|_| {
            pii_error(format!(
                "{name} must be a list of strings (found {})",
                item.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        out.push(s.to_cow()?.into_owned());
    }
    Ok(out)
}

/// The key: a `str` (a passphrase), 32 `bytes` (the key itself), or `None` (`key_env`, default
/// `TORON_PII_KEY`, else the per-archive key of `archive`, default `.toron`).
fn key_arg(key: Option<&Bound<'_, PyAny>>, key_env: Option<&str>, archive: Option<&Path>) -> PyResult<Key> {
    let explicit = match key.filter(|k| !k.is_none()) {
        None => None,
        Some(k) => {
            if let Ok(s) = k.cast::<PyString>() {
                Some(Key::from_text(&s.to_cow()?))
            } else if let Ok(b) = k.cast::<PyBytes>() {
                let bytes: [u8; 32] = b.as_bytes().try_into().map_err(|_| {
                    pii_error(format!(
                        "a key given as bytes must be 32 bytes long (found {}); pass a str for a passphrase",
                        b.as_bytes().len()
                    ))
                })?;
                Some(Key::from_bytes(bytes))
            } else {
                return Err(PyTypeError::new_err("key must be str, bytes or None"));
            }
        }
    };
    let archive = archive.unwrap_or(Path::new(DEFAULT_ARCHIVE));
    Key::resolve(explicit, key_env, archive).map_err(errors::map)
}

fn scrubber(kinds: Vec<String>, allow: Vec<String>, key: Key) -> PyResult<Arc<Scrubber>> {
    let cache_key: CacheKey = (kinds, allow, *key.as_bytes());
    {
        let cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, s)) = cache.iter().find(|(k, _)| *k == cache_key) {
            return Ok(Arc::clone(s));
        }
    }
    let policy = Policy::new(&cache_key.0, &cache_key.1).map_err(errors::map)?;
    let s = Arc::new(Scrubber::new(&policy, key).map_err(errors::map)?);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHED {
        cache.remove(0);
    }
    cache.push((cache_key, Arc::clone(&s)));
    Ok(s)
}

/// One finding: `kind`, `location` (`"12:5"` or a JSON pointer), `placeholder`, and `line` / `column`
/// (text) or `pointer` (JSON values). Never the value.
#[pyclass(frozen, module = "toron", name = "Finding")]
pub(crate) struct PyFinding {
    inner: Finding,
}

#[pymethods]
impl PyFinding {
    /// The kind: `email`, `phone`, `card`, `ssn`, `iban`, `ipv4`, `ipv6`, `jwt`, `aws_key`, `private_key`, `token`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.name()
    }
    /// `line:column` in text, the JSON pointer in a value.
    #[getter]
    fn location(&self) -> String {
        self.inner.location.to_string()
    }
    /// What replaced the value: `<EMAIL:1f3a9c2b>`.
    #[getter]
    fn placeholder(&self) -> &str {
        &self.inner.placeholder
    }
    /// The 1-based line (text), else None.
    #[getter]
    fn line(&self) -> Option<usize> {
        match self.inner.location {
            Location::Text { line, .. } => Some(line),
            Location::Pointer(_) => None,
        }
    }
    /// The 1-based column in characters (text), else None.
    #[getter]
    fn column(&self) -> Option<usize> {
        match self.inner.location {
            Location::Text { column, .. } => Some(column),
            Location::Pointer(_) => None,
        }
    }
    /// The RFC 6901 pointer (JSON values), else None.
    #[getter]
    fn pointer(&self) -> Option<&str> {
        match &self.inner.location {
            Location::Pointer(p) => Some(p),
            Location::Text { .. } => None,
        }
    }
    /// A dict of the fields, for JSON output.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("location", self.location())?;
        d.set_item("placeholder", self.placeholder())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "<toron.Finding {} at {} {}>",
            self.kind(),
            self.location(),
            self.inner.placeholder
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyFinding>().is_ok_and(|o| self.inner == o.get().inner)
    }
}

/// The result of `toron.scrub`: `text` (for a `str` input) or `value` (for a JSON-like input) with every
/// finding replaced by its placeholder, and `findings`. `bool(s)` is true when something was found.
#[pyclass(frozen, module = "toron", name = "Scrubbed")]
pub(crate) struct PyScrubbed {
    text: Option<String>,
    value: Option<Py<PyAny>>,
    findings: Py<PyList>,
}

#[pymethods]
impl PyScrubbed {
    /// The scrubbed text (None for a JSON-like input).
    #[getter]
    fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
    /// The scrubbed value (None for a `str` input).
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.as_ref().map_or_else(|| py.None(), |v| v.clone_ref(py))
    }
    /// The findings, in order.
    #[getter]
    fn findings(&self, py: Python<'_>) -> Py<PyList> {
        self.findings.clone_ref(py)
    }
    fn __bool__(&self, py: Python<'_>) -> bool {
        !self.findings.bind(py).is_empty()
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!("<toron.Scrubbed: {} findings>", self.findings.bind(py).len())
    }
}

fn finding_list<'py>(py: Python<'py>, findings: Vec<Finding>) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<Py<PyFinding>> = findings
        .into_iter()
        .map(|inner| Py::new(py, PyFinding { inner }))
        .collect::<PyResult<_>>()?;
    PyList::new(py, items)
}

enum Input<'a> {
    Text(std::borrow::Cow<'a, str>),
    Value(serde_json::Value),
}

/// A `str` is borrowed from the object (no copy of a large text); anything else is converted to JSON.
fn input_arg<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Input<'a>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Input::Text(match convert::str_of(s) {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(s.to_cow()?.into_owned()),
        }));
    }
    Ok(Input::Value(convert::to_canonical(obj)?))
}

enum Output {
    Text(pii::Scrubbed),
    Value(serde_json::Value, Vec<Finding>),
}

fn run(py: Python<'_>, s: Arc<Scrubber>, input: Input<'_>) -> PyResult<Output> {
    let big = match &input {
        Input::Text(t) => t.len() >= GIL_FREE,
        Input::Value(_) => true,
    };
    let work = move |_: &std::sync::atomic::AtomicBool| -> toron_core::Result<Output> {
        Ok(match input {
            Input::Text(t) => Output::Text(s.scrub_text(&t)),
            Input::Value(v) => {
                let (out, f) = s.scrub_value(&v);
                Output::Value(out, f)
            }
        })
    };
    if big {
        doorway::enter(py, work)
    } else {
        work(&std::sync::atomic::AtomicBool::new(false)).map_err(errors::map)
    }
}

fn strict_check(findings: &[Finding]) -> PyResult<()> {
    pii::check_strict(findings).map_err(errors::map)
}

/// Scrub a `str` (→ `.text`) or a JSON-like value (→ `.value`). `kinds` (names, default all) and `allow`
/// (glob patterns of test values) make the policy; `key` is a passphrase `str` or 32 `bytes` (default: the
/// `TORON_PII_KEY` environment variable, else the per-archive key of `.toron`). `strict=True` raises
/// `PiiError` naming each finding's kind and location instead of returning.
#[pyfunction]
#[pyo3(signature = (text_or_value, kinds = None, allow = None, *, key = None, strict = false))]
pub(crate) fn scrub(
    py: Python<'_>,
    text_or_value: &Bound<'_, PyAny>,
    kinds: Option<&Bound<'_, PyAny>>,
    allow: Option<&Bound<'_, PyAny>>,
    key: Option<&Bound<'_, PyAny>>,
    strict: bool,
) -> PyResult<PyScrubbed> {
    let s = scrubber(
        string_list(kinds, "kinds")?,
        string_list(allow, "allow")?,
        key_arg(key, None, None)?,
    )?;
    let input = input_arg(text_or_value)?;
    match run(py, s, input)? {
        Output::Text(out) => {
            if strict {
                strict_check(&out.findings)?;
            }
            Ok(PyScrubbed {
                text: Some(out.text),
                value: None,
                findings: finding_list(py, out.findings)?.unbind(),
            })
        }
        Output::Value(v, findings) => {
            if strict {
                strict_check(&findings)?;
            }
            Ok(PyScrubbed {
                text: None,
                value: Some(convert::from_value(py, &v)?.unbind()),
                findings: finding_list(py, findings)?.unbind(),
            })
        }
    }
}

/// The findings of a `str` or JSON-like value, as `scrub` would report them.
#[pyfunction]
#[pyo3(signature = (text_or_value, kinds = None, allow = None, *, key = None, strict = false))]
pub(crate) fn scan<'py>(
    py: Python<'py>,
    text_or_value: &Bound<'py, PyAny>,
    kinds: Option<&Bound<'py, PyAny>>,
    allow: Option<&Bound<'py, PyAny>>,
    key: Option<&Bound<'py, PyAny>>,
    strict: bool,
) -> PyResult<Bound<'py, PyList>> {
    let s = scrubber(
        string_list(kinds, "kinds")?,
        string_list(allow, "allow")?,
        key_arg(key, None, None)?,
    )?;
    let input = input_arg(text_or_value)?;
    let findings = match run(py, s, input)? {
        Output::Text(out) => out.findings,
        Output::Value(_, f) => f,
    };
    if strict {
        strict_check(&findings)?;
    }
    finding_list(py, findings)
}

fn open_in(path: &str) -> toron_core::Result<Box<dyn std::io::Read + Send>> {
    if path == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let f = std::fs::File::open(path).map_err(|e| CoreError::io(&e, Path::new(path)))?;
    Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))
}

/// The output's buffer: the stream writes the text between findings and each placeholder separately, and an
/// 8 KiB buffer made a `write` call per 8 KiB of output.
const OUT_BUFFER: usize = 256 * 1024;

fn open_out(path: Option<&str>) -> toron_core::Result<Box<dyn std::io::Write + Send>> {
    match path {
        None | Some("-") => Ok(Box::new(std::io::BufWriter::with_capacity(
            OUT_BUFFER,
            std::io::stdout(),
        ))),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| CoreError::io(&e, Path::new(p)))?;
            Ok(Box::new(std::io::BufWriter::with_capacity(OUT_BUFFER, f)))
        }
    }
}

/// Scrub the file `path_in` (`-`: standard input) into `path_out` (None or `-`: standard output) as a
/// stream, in bounded memory; returns `(findings, total, {kind: count})`, the findings being the first
/// `limit` (None: all; the command that only summarises keeps a few, so memory stays bounded however many
/// values a file holds). `json=True` reads the whole input as one JSON document and writes the scrubbed
/// document. `strict=True` writes nothing when anything is found (the caller fails) — standard input is then
/// held in memory. `log` appends a line per finding as it is found.
#[pyfunction]
#[pyo3(signature = (path_in, path_out = None, *, kinds = None, allow = None, key = None, key_env = None, archive = None, log = None, strict = false, json = false, limit = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "the options of the toron scrub command, one per flag"
)]
pub(crate) fn _scrub_file<'py>(
    py: Python<'py>,
    path_in: &str,
    path_out: Option<&str>,
    kinds: Option<&Bound<'py, PyAny>>,
    allow: Option<&Bound<'py, PyAny>>,
    key: Option<&Bound<'py, PyAny>>,
    key_env: Option<&str>,
    archive: Option<PathBuf>,
    log: Option<PathBuf>,
    strict: bool,
    json: bool,
    limit: Option<usize>,
) -> PyResult<(Bound<'py, PyList>, u64, std::collections::BTreeMap<&'static str, u64>)> {
    let s = scrubber(
        string_list(kinds, "kinds")?,
        string_list(allow, "allow")?,
        key_arg(key, key_env, archive.as_deref())?,
    )?;
    let path_in = path_in.to_owned();
    let path_out = path_out.map(str::to_owned);
    let artifact = if path_in == "-" {
        "<stdin>".to_owned()
    } else {
        path_in.clone()
    };
    let found = doorway::enter(py, move |_| -> toron_core::Result<Found> {
        use std::io::{Read as _, Write as _};
        let log = log.as_deref().map(pii::ScrubLog::open).transpose()?;
        let mut found = Found::new(limit);
        if json {
            let mut text = String::new();
            open_in(&path_in)?
                .read_to_string(&mut text)
                .map_err(|e| CoreError::io(&e, Path::new(&path_in)))?;
            let value = toron_core::canon::parse_json(&text).map_err(|e| e.with_file(&path_in))?;
            let (out, findings) = s.scrub_value(&value);
            if !strict || findings.is_empty() {
                let mut w = open_out(path_out.as_deref())?;
                let text = serde_json::to_string_pretty(&out).unwrap_or_default();
                w.write_all(text.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
                    .and_then(|()| w.flush())
                    .map_err(|e| CoreError::io(&e, Path::new(path_out.as_deref().unwrap_or("<stdout>"))))?;
            }
            for f in &findings {
                found.add(f, log.as_ref(), &artifact)?;
            }
            return Ok(found);
        }
        let mut failed = None;
        let mut on_finding = |f: &Finding| {
            if let Err(e) = found.add(f, log.as_ref(), &artifact) {
                failed.get_or_insert(e);
            }
        };
        if strict {
            // Nothing may reach the output if anything is found: look first, then copy the unchanged input.
            let mut held = Vec::new();
            let reader: Box<dyn std::io::Read + Send> = if path_in == "-" {
                open_in("-")?
                    .read_to_end(&mut held)
                    .map_err(|e| CoreError::io(&e, Path::new("<stdin>")))?;
                Box::new(std::io::Cursor::new(held.clone()))
            } else {
                open_in(&path_in)?
            };
            s.scrub_stream(reader, std::io::sink(), &mut on_finding)?;
            if found.total == 0 {
                let mut w = open_out(path_out.as_deref())?;
                let copied = if path_in == "-" {
                    w.write_all(&held)
                } else {
                    std::io::copy(&mut open_in(&path_in)?, &mut w).map(|_| ())
                };
                copied
                    .and_then(|()| w.flush())
                    .map_err(|e| CoreError::io(&e, Path::new("<stdout>")))?;
            }
        } else {
            let w = open_out(path_out.as_deref())?;
            s.scrub_stream(open_in(&path_in)?, w, &mut on_finding)?;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(found),
        }
    })?;
    Ok((finding_list(py, found.kept)?, found.total, found.kinds))
}

/// What a file's scrub found: the first findings (up to a limit), how many in all, and how many per kind.
struct Found {
    kept: Vec<Finding>,
    limit: Option<usize>,
    total: u64,
    kinds: std::collections::BTreeMap<&'static str, u64>,
}

impl Found {
    fn new(limit: Option<usize>) -> Found {
        Found {
            kept: Vec::new(),
            limit,
            total: 0,
            kinds: Default::default(),
        }
    }

    /// Count `f`, keep it while under the limit, and log it (never the value).
    fn add(&mut self, f: &Finding, log: Option<&pii::ScrubLog>, artifact: &str) -> toron_core::Result<()> {
        self.total += 1;
        *self.kinds.entry(f.kind.name()).or_default() += 1;
        if self.limit.is_none_or(|l| self.kept.len() < l) {
            self.kept.push(f.clone());
        }
        match log {
            Some(log) => log.append(&[pii::LogEntry::new("", "", artifact, f, pii::Action::Redacted)]),
            None => Ok(()),
        }
    }
}

fn entry_dict<'py>(py: Python<'py>, e: &pii::QuarantineEntry) -> PyResult<Bound<'py, PyAny>> {
    convert::from_value(py, &e.to_json())
}

/// Quarantine a file's bytes with its findings; returns the entry as a dict.
#[pyfunction]
pub(crate) fn _quarantine_put<'py>(
    py: Python<'py>,
    root: PathBuf,
    run_id: &str,
    case: &str,
    artifact: &str,
    data: &[u8],
    findings: Vec<PyRef<'py, PyFinding>>,
) -> PyResult<Bound<'py, PyAny>> {
    let findings: Vec<Finding> = findings.iter().map(|f| f.inner.clone()).collect();
    let e = pii::Quarantine::new(root)
        .put(run_id, case, artifact, data, &findings)
        .map_err(errors::map)?;
    entry_dict(py, &e)
}

/// The quarantine's entries as dicts (sorted by run, then id).
#[pyfunction]
pub(crate) fn _quarantine_list<'py>(py: Python<'py>, root: PathBuf) -> PyResult<Bound<'py, PyList>> {
    let entries = pii::Quarantine::new(root).list().map_err(errors::map)?;
    let items: Vec<Bound<'py, PyAny>> = entries.iter().map(|e| entry_dict(py, e)).collect::<PyResult<_>>()?;
    PyList::new(py, items)
}

/// Move a quarantined artifact out to `to`; returns where it went.
#[pyfunction]
pub(crate) fn _quarantine_release(root: PathBuf, id: &str, to: PathBuf) -> PyResult<String> {
    let dest = pii::Quarantine::new(root).release(id, &to).map_err(errors::map)?;
    Ok(dest.to_string_lossy().into_owned())
}

/// Delete a quarantined artifact.
#[pyfunction]
pub(crate) fn _quarantine_purge(root: PathBuf, id: &str) -> PyResult<()> {
    pii::Quarantine::new(root).purge(id).map_err(errors::map)
}

/// Add this concept's classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFinding>()?;
    m.add_class::<PyScrubbed>()?;
    m.add_function(wrap_pyfunction!(scrub, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(_scrub_file, m)?)?;
    m.add_function(wrap_pyfunction!(_quarantine_put, m)?)?;
    m.add_function(wrap_pyfunction!(_quarantine_list, m)?)?;
    m.add_function(wrap_pyfunction!(_quarantine_release, m)?)?;
    m.add_function(wrap_pyfunction!(_quarantine_purge, m)?)?;
    Ok(())
}
