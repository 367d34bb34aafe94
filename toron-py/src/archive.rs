//! `toron.Archive` and `toron.RunWriter`: the content-addressed run archive (`toron_core::snapshot::archive`).

use crate::{convert, doorway, errors};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use toron_core::snapshot::archive::{Archive, CaseRecord, ObjectId, ProblemKind, RunWriter};

/// A run archive (`.toron/` by default): values stored by the blake3 of their canonical bytes, one manifest
/// per run. Reads verify the hash: a changed object is an `ArchiveError` naming its id and file.
#[pyclass(frozen, module = "toron", name = "Archive")]
pub(crate) struct PyArchive {
    inner: Archive,
}

/// Writes one run: `add_case` for each case, then `finish()` (or use it as a context manager).
#[pyclass(module = "toron", name = "RunWriter")]
pub(crate) struct PyRunWriter {
    inner: Option<RunWriter>,
    tag: String,
}

fn id_arg(id: &str) -> PyResult<ObjectId> {
    ObjectId::parse(id).map_err(errors::map)
}

fn problem_kind(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::CorruptObject => "corrupt_object",
        ProblemKind::MissingObject => "missing_object",
        ProblemKind::BadManifest => "bad_manifest",
        ProblemKind::UnexpectedFile => "unexpected_file",
    }
}

#[pymethods]
impl PyArchive {
    /// The archive at `root` (nothing is created until the first write). `compress=False` stores new objects
    /// as plain canonical JSON.
    #[new]
    #[pyo3(
        signature = (root = PathBuf::from(toron_core::snapshot::archive::DEFAULT_ROOT), *, compress = true),
        text_signature = "(root='.toron', *, compress=True)"
    )]
    fn new(root: PathBuf, compress: bool) -> Self {
        PyArchive {
            inner: Archive::open(root).compress(compress),
        }
    }

    /// The archive's root directory.
    #[getter]
    fn root(&self) -> String {
        self.inner.root().to_string_lossy().into_owned()
    }

    /// Store `value` (atomically, idempotently) and return its id: 64 hex digits.
    fn put(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
        let value = convert::to_canonical(value)?;
        let archive = self.inner.clone();
        let id = doorway::enter(py, move |_cancel| archive.put(&value))?;
        Ok(id.to_string())
    }

    /// Read object `id`, verifying its hash. `ArchiveError` (naming the id and file) if missing or changed.
    fn get<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = id_arg(id)?;
        let archive = self.inner.clone();
        let value = doorway::enter(py, move |_cancel| archive.get(&id))?;
        convert::from_value(py, &value)
    }

    /// Whether object `id` is stored (its hash is not checked; `get` does).
    fn contains(&self, id: &str) -> PyResult<bool> {
        Ok(self.inner.contains(&id_arg(id)?))
    }

    fn __contains__(&self, key: &str) -> PyResult<bool> {
        self.contains(key)
    }

    /// Where object `id` is stored: `objects/<2 hex>/<62 hex>`.
    fn object_path(&self, id: &str) -> PyResult<String> {
        Ok(self.inner.object_path(&id_arg(id)?).to_string_lossy().into_owned())
    }

    /// Start a run tagged `run-<engine>-<UTC now>` (unique even within one second).
    #[pyo3(signature = (meta = None, *, engine = toron_core::VERSION.to_string()))]
    fn new_run(&self, meta: Option<&Bound<'_, PyAny>>, engine: String) -> PyResult<PyRunWriter> {
        let meta = match meta.filter(|m| !m.is_none()) {
            Some(m) => convert::to_argument(m, "meta")?,
            None => serde_json::Value::Null,
        };
        let writer = self.inner.new_run(&engine, meta).map_err(errors::map)?;
        Ok(PyRunWriter {
            tag: writer.tag().to_string(),
            inner: Some(writer),
        })
    }

    /// The manifest of run `tag` as a dict (tag, engine, created, scenarios, cases → {object, scenario, seed,
    /// meta}, meta).
    fn manifest<'py>(&self, py: Python<'py>, tag: &str) -> PyResult<Bound<'py, PyAny>> {
        let m = self.inner.manifest(tag).map_err(errors::map)?;
        convert::to_python(py, &m)
    }

    /// The output of `case` in run `tag`, read and verified.
    fn output<'py>(&self, py: Python<'py>, tag: String, case: String) -> PyResult<Bound<'py, PyAny>> {
        let archive = self.inner.clone();
        let value = doorway::enter(py, move |_cancel| archive.output(&tag, &case))?;
        convert::from_value(py, &value)
    }

    /// Every finished run, newest first: dicts with tag, engine, created, cases (a count), scenarios.
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let runs = self.inner.runs().map_err(errors::map)?;
        let out = PyList::empty(py);
        for r in runs {
            let d = PyDict::new(py);
            d.set_item("tag", r.tag)?;
            d.set_item("engine", r.engine)?;
            d.set_item("created", r.created)?;
            d.set_item("cases", r.cases)?;
            d.set_item("scenarios", r.scenarios)?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// Check the whole archive: a dict with `ok`, `objects`, `runs`, `problems` (dicts with kind, id, tag,
    /// path, message) and `leftovers` (temporary files of interrupted writers: harmless).
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let archive = self.inner.clone();
        let report = doorway::enter(py, move |_cancel| archive.verify())?;
        let d = PyDict::new(py);
        d.set_item("ok", report.is_ok())?;
        d.set_item("objects", report.objects)?;
        d.set_item("runs", report.runs)?;
        let problems = PyList::empty(py);
        for p in &report.problems {
            let item = PyDict::new(py);
            item.set_item("kind", problem_kind(p.kind))?;
            item.set_item("id", p.id.as_deref())?;
            item.set_item("tag", p.tag.as_deref())?;
            item.set_item("path", p.path.to_string_lossy())?;
            item.set_item("message", &p.message)?;
            problems.append(item)?;
        }
        d.set_item("problems", problems)?;
        let leftovers: Vec<String> = report
            .leftovers
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        d.set_item("leftovers", leftovers)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("Archive({})", convert::quoted(&self.root()))
    }
}

impl PyRunWriter {
    fn writer(&mut self) -> PyResult<&mut RunWriter> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err(format!("run {} is already finished", self.tag)))
    }
}

#[pymethods]
impl PyRunWriter {
    /// The run's tag, `run-<semver>-<UTC timestamp>`.
    #[getter]
    fn tag(&self) -> &str {
        &self.tag
    }

    /// Store `output` as case `case` and return its object id. Recording a case twice keeps the last.
    #[pyo3(signature = (case, output, *, scenario = None, seed = None, meta = None))]
    fn add_case(
        &mut self,
        case: &str,
        output: &Bound<'_, PyAny>,
        scenario: Option<String>,
        seed: Option<u64>,
        meta: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let output = convert::to_canonical(output)?;
        let mut record = CaseRecord::new();
        if let Some(s) = scenario {
            record = record.scenario(s);
        }
        if let Some(s) = seed {
            record = record.seed(s);
        }
        if let Some(m) = meta.filter(|m| !m.is_none()) {
            record = record.meta(convert::to_argument(m, "meta")?);
        }
        let id = self.writer()?.add_case(case, &output, record).map_err(errors::map)?;
        Ok(id.to_string())
    }

    /// Write the manifest (atomically) and return it as a dict; until then the run is invisible to `runs()`.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.writer()?;
        let writer = self
            .inner
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("run already finished"))?;
        let manifest = writer.finish().map_err(errors::map)?;
        convert::to_python(py, &manifest)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Finish the run when the block ends without an exception (otherwise it stays unfinished: a leftover).
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none_or(|t| t.is_none()) && self.inner.is_some() {
            self.finish(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "<toron.RunWriter {}{}>",
            self.tag,
            if self.inner.is_some() { "" } else { " (finished)" }
        )
    }
}
