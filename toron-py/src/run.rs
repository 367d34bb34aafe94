//! `toron.Manifest`, `toron.start_run` / `toron.run` (`toron.Run`, `toron.RunResult`), `toron.replay`,
//! `toron.runs`, `toron.report`, `toron.refresh_snapshots` and `toron.first_divergence`: the runner
//! (`toron_core::runner`).
//!
//! A run already works on threads of its own, so nothing here goes through [`doorway::enter`]'s worker: the
//! run's events are read with the core's timed iterator (GIL released, Ctrl-C checked between waits), a
//! small thread waits for the run's end, and Python waits on it in [`doorway::recv`]. `Run.follow` renders the events in Rust (`toron_core::runner::Progress`, `Event::to_json`) and
//! writes them to Python files in one call per batch, so that following a run costs no Python per event. The
//! one-shot calls (replay, history, refresh, drift) go through [`doorway::enter`].

use crate::doorway::{self, Waited};
use crate::{convert, errors};
use pyo3::exceptions::{PyOSError, PyTimeoutError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use toron_core::runner::{
    self, Event, Events, Manifest, Next, Progress, RefreshResult, ReplayResult, Run, RunHandle, RunOptions, RunResult,
    WORKER_ENV,
};
use toron_core::{Error as CoreError, ErrorKind};

// --- arguments -------------------------------------------------------------------------------------------

/// A non-negative integer argument (an `int` or an integer-like with `__index__`, not a `bool`): `TypeError`
/// if not an integer, `toron.InvalidArgumentError` (a `ValueError`) naming `what` if out of range.
fn uint_arg(obj: &Bound<'_, PyAny>, what: &str, max: u64) -> PyResult<u64> {
    let integer = !obj.is_instance_of::<PyBool>() && (obj.is_instance_of::<PyInt>() || obj.hasattr("__index__")?);
    if !integer {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {}",
            type_name(obj)
        )));
    }
    let value = obj.call_method0("__index__")?;
    value.extract::<u64>().ok().filter(|v| *v <= max).ok_or_else(|| {
        let shown = value.str().map(|s| s.to_string()).unwrap_or_default();
        invalid(
            what,
            format!("{what} {shown} is out of range (expected from 0 to {max})"),
        )
    })
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A `toron.InvalidArgumentError` naming the argument as its field.
fn invalid(field: &str, message: impl Into<String>) -> PyErr {
    errors::map(CoreError::new(ErrorKind::InvalidArgument, message).with_field(field))
}

/// `None`, one `str`, or an iterable of `str`: the names of suites.
fn names_arg(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if obj.is_instance_of::<PyString>() {
        return Ok(vec![obj.extract()?]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a str or an iterable of str, not {}",
            type_name(obj)
        ))
    })? {
        let item = item?;
        if !item.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "{what} must hold str, not {}",
                type_name(&item)
            )));
        }
        out.push(item.extract()?);
    }
    Ok(out)
}

/// A `toron.Manifest`, or the path of a manifest file (read now).
fn manifest_arg(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Arc<Manifest>> {
    if let Ok(m) = obj.cast::<PyManifest>() {
        return Ok(m.get().inner.clone());
    }
    let path: PathBuf = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "manifest must be a toron.Manifest or the path of a testops.toml, not {}",
            type_name(obj)
        ))
    })?;
    py.detach(|| Manifest::from_path(&path))
        .map(Arc::new)
        .map_err(errors::map)
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

// --- Manifest --------------------------------------------------------------------------------------------

/// A parsed and checked test-operations manifest (`testops.toml`): suites of cases, profiles, gates.
/// Immutable; read one with `Manifest.from_file(path)`. A bad manifest raises `toron.ManifestError` (a
/// `ValueError`) with `file`, `line`, `field` and `path` (the JSON pointer) set.
#[pyclass(frozen, module = "toron", name = "Manifest")]
pub(crate) struct PyManifest {
    inner: Arc<Manifest>,
}

#[pymethods]
impl PyManifest {
    /// Read a manifest file; relative paths in it are relative to its directory.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Manifest::from_path(&path))
            .map(|m| PyManifest { inner: Arc::new(m) })
            .map_err(errors::map)
    }

    /// Parse manifest text; relative paths in it are relative to `root`.
    #[staticmethod]
    #[pyo3(signature = (text, root = PathBuf::from(".")), text_signature = "(text, root='.')")]
    fn from_str(py: Python<'_>, text: &str, root: PathBuf) -> PyResult<Self> {
        py.detach(|| Manifest::from_str(text, &root))
            .map(|m| PyManifest { inner: Arc::new(m) })
            .map_err(errors::map)
    }

    /// The manifest file, if read from one.
    #[getter]
    fn path(&self) -> Option<String> {
        self.inner.file().map(path_str)
    }

    /// The directory relative paths are resolved against.
    #[getter]
    fn root(&self) -> String {
        path_str(self.inner.root())
    }

    /// `project.name`.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.project.name
    }

    /// The run archive directory (`project.archive`, resolved against `root`).
    #[getter]
    fn archive(&self) -> String {
        path_str(&self.inner.resolve(&self.inner.project.archive))
    }

    /// The reports directory (`project.reports`, resolved against `root`).
    #[getter]
    fn reports(&self) -> String {
        path_str(&self.inner.resolve(&self.inner.project.reports))
    }

    /// The golden-file directory (`project.snapshots`, resolved against `root`).
    #[getter]
    fn snapshots(&self) -> String {
        path_str(&self.inner.resolve(&self.inner.project.snapshots))
    }

    /// Profile name → its suite names, in order.
    #[getter]
    fn profiles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, suites) in &self.inner.profiles {
            d.set_item(name, suites)?;
        }
        Ok(d)
    }

    /// The suite names, in manifest order.
    #[getter]
    fn suites(&self) -> Vec<String> {
        self.inner.suites.iter().map(|s| s.name.clone()).collect()
    }

    /// `suite/case` of every case, in manifest order.
    #[getter]
    fn cases(&self) -> Vec<String> {
        self.inner
            .suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| format!("{}/{}", s.name, c.name)))
            .collect()
    }

    fn __repr__(&self) -> String {
        let where_ = match self.inner.file() {
            Some(f) => convert::quoted(&path_str(f)),
            None => format!("root={}", convert::quoted(&path_str(self.inner.root()))),
        };
        let suites: Vec<String> = self.inner.suites.iter().map(|s| convert::quoted(&s.name)).collect();
        format!("Manifest({where_}, suites=[{}])", suites.join(", "))
    }
}

// --- runs ------------------------------------------------------------------------------------------------

/// What a run ended with. Immutable; the dict and list attributes are fresh copies on each access.
#[pyclass(frozen, module = "toron", name = "RunResult")]
pub(crate) struct PyRunResult {
    inner: Arc<RunResult>,
}

#[pymethods]
impl PyRunResult {
    /// The run id (the archive tag `run-<semver>-<UTC timestamp>`).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// `passed` (GO), `failed` (NO-GO), `errored` (a harness failure, see `error`), `cancelled`; `scheduled`
    /// or `running` only for a run still going in another process (`toron.runs`).
    #[getter]
    fn state(&self) -> &'static str {
        self.inner.state.name()
    }

    /// Why the run errored (`"interrupted"`: its process died before it finished), else None.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }

    /// `"GO"`, `"NO-GO"`, or `"none"` for a run that never reached its gates.
    #[getter]
    fn verdict(&self) -> &str {
        &self.inner.verdict.verdict
    }

    /// Whether the verdict is GO.
    #[getter]
    fn go(&self) -> bool {
        self.inner.verdict.go
    }

    /// Every gate rule's evaluation, in manifest order: dicts with rule, metric, scope, comparator,
    /// threshold, baseline_run, baseline, actual, severity, default, status (passed, failed, not_evaluated),
    /// passed and explanation (one sentence).
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.verdict.rules)
    }

    /// The KPIs: `{"run": {metric: value}, "suites": {suite: {...}}, "cases": {"suite/case": {...}}}`; a
    /// metric without data is absent.
    #[getter]
    fn kpis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.kpis)
    }

    /// The cases in manifest order, as dicts (suite, name, kind, outcome, attempts, ...).
    #[getter]
    fn cases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.cases)
    }

    /// How many cases, as `len(cases)` but without converting them.
    #[getter]
    fn case_count(&self) -> usize {
        self.inner.cases.len()
    }

    /// The profile run, if any.
    #[getter]
    fn profile(&self) -> Option<&str> {
        self.inner.profile.as_deref()
    }

    /// The suites run, in order.
    #[getter]
    fn suites(&self) -> Vec<String> {
        self.inner.suites.clone()
    }

    /// The run-level seed (by option, else `SIM_SEED`), if any.
    #[getter]
    fn seed(&self) -> Option<u64> {
        self.inner.seed
    }

    /// Where the seed of cases that name none came from: `option`, `SIM_SEED` or `scenario`.
    #[getter]
    fn seed_source(&self) -> &str {
        &self.inner.seed_source
    }

    /// When it started (RFC 3339 UTC).
    #[getter]
    fn started(&self) -> &str {
        &self.inner.started
    }

    /// Wall-clock seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration
    }

    /// The archive root.
    #[getter]
    fn archive(&self) -> String {
        path_str(&self.inner.archive)
    }

    /// Where the reports were written (`<reports>/<run id>/`), if they were.
    #[getter]
    fn report_dir(&self) -> Option<String> {
        self.inner.report_dir.as_deref().map(path_str)
    }

    /// Golden files (`suite/case`) of the suites that ran in full that no case compared; never deleted.
    #[getter]
    fn unused_goldens(&self) -> Vec<String> {
        self.inner.unused_goldens.clone()
    }

    /// The warroom incident the run opened or joined (`{"id", "created", "severity"}`), if any.
    #[getter]
    fn incident<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.incident)
    }

    /// The `[[dataset]]`s generated for the run: name, schema, seed, format, digest, tables, dir.
    #[getter]
    fn datasets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.datasets)
    }

    /// The whole result as a dict (the structure of `to_json()`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &*self.inner)
    }

    /// The whole result as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&*self.inner).map_err(|e| errors::map(CoreError::new(ErrorKind::Json, e.to_string())))
    }

    fn __repr__(&self) -> String {
        let r = &self.inner;
        format!(
            "RunResult(id={}, state={}, verdict={}, cases={})",
            convert::quoted(&r.id),
            convert::quoted(r.state.name()),
            convert::quoted(&r.verdict.verdict),
            r.cases.len()
        )
    }
}

/// The live events of a run, as dicts `{"seq", "run", "type", "time", "data"}`; the iterator waits for new
/// events (GIL released, Ctrl-C raises `KeyboardInterrupt`) and ends after `run.finished`.
#[pyclass(frozen, module = "toron", name = "RunEvents")]
pub(crate) struct PyRunEvents {
    events: Mutex<Events>,
}

/// The next event, waited for with the GIL released and Ctrl-C checked every [`doorway::POLL`]; `None` once
/// the run has ended and every event was read.
fn next_event(py: Python<'_>, events: &Mutex<Events>) -> PyResult<Option<Event>> {
    loop {
        let next = py.detach(|| {
            events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .next_timeout(doorway::POLL)
        });
        match next {
            Next::Event(e) => return Ok(Some(e)),
            Next::End => return Ok(None),
            Next::TimedOut => py.check_signals()?,
        }
    }
}

fn event_dict<'py>(py: Python<'py>, e: &Event) -> PyResult<Bound<'py, PyDict>> {
    // The file's key order: seq, run, type, time, data.
    let d = PyDict::new(py);
    d.set_item("seq", e.seq)?;
    d.set_item("run", &e.run)?;
    d.set_item("type", &e.kind)?;
    d.set_item("time", &e.time)?;
    d.set_item("data", convert::from_value(py, &e.data)?)?;
    Ok(d)
}

#[pymethods]
impl PyRunEvents {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        next_event(py, &self.events)?.map(|e| event_dict(py, &e)).transpose()
    }
}

/// A started run: `id`, `state`, `events()`, `cancel()`, `wait()`.
#[pyclass(frozen, module = "toron", name = "Run")]
pub(crate) struct PyRun {
    handle: Arc<RunHandle>,
    /// Closes when the run has ended (its waiter thread returned).
    done: Mutex<Receiver<()>>,
    /// The seq of the last event the latest `follow()` wrote.
    followed: AtomicU64,
}

/// The most events rendered into one write: bounds the text held at once when following a long run from its
/// start.
const BATCH: usize = 4096;

/// The least time between two writes of `follow()` (but the run's end is written at once): events come one
/// at a time while cases run, and a write, a flush and a trip through the GIL for each cost more than the
/// case itself; 50 writes a second is as live as a person or a log reader can tell.
const LINGER: Duration = Duration::from_millis(20);

/// One `Run.follow()`: the run's events in batches, rendered in Rust and written to Python files.
struct Follower<'a, 'py> {
    events: Mutex<Events>,
    followed: &'a AtomicU64,
    /// Where the events' JSON lines go.
    sink: Option<&'a Bound<'py, PyAny>>,
    /// Where the progress text goes, and its renderer.
    progress: Option<(&'a Bound<'py, PyAny>, Progress)>,
}

impl Follower<'_, '_> {
    /// Write batches until the run's last event; returns its seq.
    fn run(&mut self, py: Python<'_>) -> PyResult<u64> {
        // When the last batch was written (none yet: the first goes out as soon as it comes).
        let mut written: Option<Instant> = None;
        loop {
            // Waits with the GIL released, checking signals as it waits.
            let Some(first) = next_event(py, &self.events)? else {
                return Ok(self.followed.load(Ordering::Relaxed));
            };
            let (events, want_lines) = (&self.events, self.sink.is_some());
            let mut view = self.progress.as_mut().map(|(_, p)| p);
            let (lines, text, last) = py.detach(|| {
                // A lone event after a quiet spell goes out at once; in a stream, what comes within LINGER of
                // the last write joins this one.
                let since = written.map_or(LINGER, |w| w.elapsed());
                if first.kind != "run.finished" && since < LINGER {
                    std::thread::sleep(LINGER - since);
                }
                let mut batch = vec![first];
                batch.extend(events.lock().unwrap_or_else(PoisonError::into_inner).ready(BATCH - 1));
                let mut lines = String::new();
                if want_lines {
                    for e in &batch {
                        lines.push_str(&e.to_json());
                        lines.push('\n');
                    }
                }
                let mut text = String::new();
                if let Some(view) = view.as_mut() {
                    view.on_all(&batch, &mut text);
                }
                (lines, text, batch.last().map_or(0, |e| e.seq))
            });
            written = Some(Instant::now());
            if let Some(sink) = self.sink {
                write(sink, &lines)?;
            }
            // Written (if not yet flushed): an interrupted caller goes on after it.
            self.followed.store(last, Ordering::Relaxed);
            if let Some((out, _)) = &self.progress {
                if !text.is_empty() {
                    write(out, &text)?;
                }
            }
            // Between batches Python code runs (the writes) but nothing handles signals: events that keep
            // coming would otherwise hold off Ctrl-C.
            py.check_signals()?;
        }
    }

    /// Erase the bar if it is drawn.
    fn erase_bar(&mut self) -> PyResult<()> {
        let Some((out, view)) = self.progress.as_mut() else {
            return Ok(());
        };
        let mut text = String::new();
        view.clear(&mut text);
        if text.is_empty() {
            return Ok(());
        }
        write(out, &text)
    }
}

/// `out.write(text)` then `out.flush()` (if it has one).
fn write(out: &Bound<'_, PyAny>, text: &str) -> PyResult<()> {
    let py = out.py();
    out.call_method1(intern!(py, "write"), (text,))?;
    if let Ok(flush) = out.getattr(intern!(py, "flush")) {
        flush.call0()?;
    }
    Ok(())
}

impl PyRun {
    fn start(handle: RunHandle) -> PyResult<PyRun> {
        let handle = Arc::new(handle);
        let (tx, done) = mpsc::channel::<()>();
        let waiter = handle.clone();
        std::thread::Builder::new()
            .name(format!("toron-wait-{}", handle.id()))
            .spawn(move || {
                // The result stays in the handle; the channel closing (tx dropped) says it is there.
                let _ = waiter.wait_shared();
                drop(tx);
            })
            .map_err(|e| PyOSError::new_err(format!("cannot start the run's waiter thread: {e}")))?;
        Ok(PyRun {
            handle,
            done: Mutex::new(done),
            followed: AtomicU64::new(0),
        })
    }

    /// The result, once the run has ended (`Ok(None)`: `timeout` passed first).
    fn result(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<PyRunResult>> {
        if let Waited::TimedOut = doorway::recv(py, &self.done, timeout)? {
            return Ok(None);
        }
        let handle = self.handle.clone();
        py.detach(move || handle.wait_shared())
            .map(|inner| Some(PyRunResult { inner }))
            .map_err(|e| errors::to_pyerr(py, &e))
    }
}

#[pymethods]
impl PyRun {
    /// The run id (the archive tag `run-<semver>-<UTC timestamp>`).
    #[getter]
    fn id(&self) -> &str {
        self.handle.id()
    }

    /// Where the run is: `scheduled`, `running`, then `passed`, `failed`, `errored` or `cancelled`.
    #[getter]
    fn state(&self) -> &'static str {
        self.handle.state().name()
    }

    /// The run's events after `after` (None: from the first), live: the iterator waits for new events and
    /// ends after `run.finished`. Ctrl-C while it waits raises `KeyboardInterrupt` (the run goes on).
    #[pyo3(signature = (after = None))]
    fn events(&self, after: Option<&Bound<'_, PyAny>>) -> PyResult<PyRunEvents> {
        let after = after
            .filter(|a| !a.is_none())
            .map(|a| uint_arg(a, "after", u64::MAX))
            .transpose()?
            .unwrap_or(0);
        Ok(PyRunEvents {
            events: Mutex::new(self.handle.events(after)),
        })
    }

    /// Follow the run's events after `after` (None: from the first) to its end, rendered in Rust, and
    /// return the seq of the last one (`after` if none came).
    ///
    /// `progress` and `events` are writable text files (None: not written). `progress` gets the case
    /// progress for people: with `bar` a bar redrawn in place and cut to `width` columns (erased again when
    /// this returns or raises), else one line per finished case (`passed     suite/case  0.01s`). `events`
    /// gets each event's JSON line, exactly as the archive's `events.ndjson` has it. The events are written
    /// in batches, one `write()` and `flush()` per file each: a lone event at once, a stream of them at
    /// most every 20 ms, the run's end at once.
    ///
    /// Waits release the GIL; Ctrl-C raises `KeyboardInterrupt` promptly, events flowing or not (the run goes
    /// on). After an exception `followed` is the seq of the last event written: go on with
    /// `after=run.followed`.
    #[pyo3(signature = (progress = None, events = None, *, after = None, bar = false, width = 80))]
    fn follow(
        &self,
        py: Python<'_>,
        progress: Option<&Bound<'_, PyAny>>,
        events: Option<&Bound<'_, PyAny>>,
        after: Option<&Bound<'_, PyAny>>,
        bar: bool,
        width: usize,
    ) -> PyResult<u64> {
        let after = after
            .filter(|a| !a.is_none())
            .map(|a| uint_arg(a, "after", u64::MAX))
            .transpose()?
            .unwrap_or(0);
        let progress = progress
            .filter(|p| !p.is_none())
            .map(|out| (out, if bar { Progress::bar(width) } else { Progress::lines() }));
        let sink = events.filter(|e| !e.is_none());
        self.followed.store(after, Ordering::Relaxed);
        let mut follower = Follower {
            events: Mutex::new(self.handle.events(after)),
            followed: &self.followed,
            sink,
            progress,
        };
        let result = follower.run(py);
        // Success or not, the bar leaves the terminal (the caller prints next); a write error while erasing it
        // is secondary to the result's.
        let erased = follower.erase_bar();
        let last = result?;
        erased?;
        Ok(last)
    }

    /// The seq of the last event the latest `follow()` wrote (its `after` until it wrote one; 0 before any):
    /// after an interrupted `follow()`, where to go on from.
    #[getter]
    fn followed(&self) -> u64 {
        self.followed.load(Ordering::Relaxed)
    }

    /// Ask the run to stop: running attempts are stopped (command process groups killed), pending cases are
    /// recorded as cancelled, and the run ends `cancelled` with its archive and reports written. Returns at
    /// once; `wait()` for the result.
    fn cancel(&self) {
        self.handle.cancel();
    }

    /// Wait for the run to end and return its result (GIL released). `timeout` in seconds: `TimeoutError`
    /// if the run is still going then. Ctrl-C raises `KeyboardInterrupt` and leaves the run going (call
    /// `cancel()` to stop it).
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<PyRunResult> {
        let limit = timeout
            .map(|t| {
                Duration::try_from_secs_f64(t)
                    .map_err(|_| invalid("timeout", format!("timeout {t} is not a number of seconds >= 0")))
            })
            .transpose()?;
        self.result(py, limit)?.ok_or_else(|| {
            PyTimeoutError::new_err(format!(
                "run {} is still {} after {}s",
                self.handle.id(),
                self.handle.state().name(),
                timeout.unwrap_or_default()
            ))
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Run(id={}, state={})",
            convert::quoted(self.handle.id()),
            convert::quoted(self.handle.state().name())
        )
    }
}

/// The worker that simulates in separate processes (determinism cases with `processes > 1`): this Python
/// running `-m toron`, unless `TORON_WORKER` names one (the core reads it).
fn default_worker(py: Python<'_>) -> PyResult<Option<Vec<String>>> {
    if std::env::var_os(WORKER_ENV).is_some() {
        return Ok(None);
    }
    let exe = py.import("sys")?.getattr("executable")?;
    let exe: Option<String> = exe.extract().ok().filter(|s: &String| !s.is_empty());
    Ok(exe.map(|e| vec![e, "-m".to_string(), "toron".to_string()]))
}

#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the keywords of toron.start_run, one per RunOptions field"
)]
fn start(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    profile: Option<String>,
    seed: Option<&Bound<'_, PyAny>>,
    jobs: Option<&Bound<'_, PyAny>>,
    retries: Option<&Bound<'_, PyAny>>,
    suites: Option<&Bound<'_, PyAny>>,
    check: bool,
    archive: Option<PathBuf>,
    datasets: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRun> {
    fn some<'a, 'py>(o: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
        o.filter(|v| !v.is_none())
    }
    let options = RunOptions {
        profile,
        suites: names_arg(suites, "suites")?,
        seed: some(seed).map(|s| uint_arg(s, "seed", u64::MAX)).transpose()?,
        jobs: some(jobs)
            .map(|j| uint_arg(j, "jobs", u32::MAX.into()))
            .transpose()?
            .map(|j| j as usize),
        retries: some(retries)
            .map(|r| uint_arg(r, "retries", u32::MAX.into()))
            .transpose()?
            .map(|r| r as u32),
        check,
        archive,
        worker: default_worker(py)?,
        datasets: names_arg(datasets, "datasets")?,
        queue: None,
        nice: 0,
    };
    let manifest = manifest_arg(py, manifest)?;
    let handle = py
        .detach(move || Run::start(&manifest, options))
        .map_err(|e| errors::to_pyerr(py, &e))?;
    PyRun::start(handle)
}

/// Start running `manifest` (a `toron.Manifest` or the path of a `testops.toml`) in the background and
/// return the `Run` at once. Bad options (an unknown profile or suite) raise here, before anything runs.
#[pyfunction]
#[pyo3(signature = (manifest, profile = None, *, seed = None, jobs = None, retries = None, suites = None,
                    check = false, archive = None, datasets = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "the keywords of toron.start_run, one per RunOptions field"
)]
pub(crate) fn start_run(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    profile: Option<String>,
    seed: Option<&Bound<'_, PyAny>>,
    jobs: Option<&Bound<'_, PyAny>>,
    retries: Option<&Bound<'_, PyAny>>,
    suites: Option<&Bound<'_, PyAny>>,
    check: bool,
    archive: Option<PathBuf>,
    datasets: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRun> {
    start(
        py, manifest, profile, seed, jobs, retries, suites, check, archive, datasets,
    )
}

/// Run `manifest` to the end and return its result (GIL released). Ctrl-C cancels the run, waits until it
/// is recorded as cancelled (archive and reports written), then raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (manifest, profile = None, *, seed = None, jobs = None, retries = None, suites = None,
                    check = false, archive = None, datasets = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "the keywords of toron.run, one per RunOptions field"
)]
pub(crate) fn run(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    profile: Option<String>,
    seed: Option<&Bound<'_, PyAny>>,
    jobs: Option<&Bound<'_, PyAny>>,
    retries: Option<&Bound<'_, PyAny>>,
    suites: Option<&Bound<'_, PyAny>>,
    check: bool,
    archive: Option<PathBuf>,
    datasets: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRunResult> {
    let r = start(
        py, manifest, profile, seed, jobs, retries, suites, check, archive, datasets,
    )?;
    match r.result(py, None) {
        Ok(Some(result)) => Ok(result),
        Ok(None) => Err(PyOSError::new_err("a wait without a timeout timed out (a bug)")),
        Err(interrupt) => {
            r.handle.cancel();
            let handle = r.handle.clone();
            // Whatever the run ended with, the interrupt is what the caller sees.
            let _ = py.detach(move || handle.wait_shared());
            Err(interrupt)
        }
    }
}

// --- replay, history, reports ----------------------------------------------------------------------------

/// An offline replay of an archived run: `identical`, and per case its status (`identical`, `differs`,
/// `not_replayed`, `errored`) with the diff.
#[pyclass(frozen, module = "toron", name = "ReplayResult")]
pub(crate) struct PyReplayResult {
    inner: ReplayResult,
}

#[pymethods]
impl PyReplayResult {
    /// The run replayed.
    #[getter]
    fn run(&self) -> &str {
        &self.inner.run
    }

    /// Every replayed case was identical (command cases are not replayed offline).
    #[getter]
    fn identical(&self) -> bool {
        self.inner.identical
    }

    /// The cases in the archive's order: dicts with case, kind, status, message, seeds, diff (JSON) and text
    /// (the diff as plain text) when it differs.
    #[getter]
    fn cases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.cases)
    }

    /// The whole replay as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "ReplayResult(run={}, identical={}, cases={})",
            convert::quoted(&self.inner.run),
            if self.inner.identical { "True" } else { "False" },
            self.inner.cases.len()
        )
    }
}

/// Replay run `run_id` of the archive: every simulation case re-run from the scenario and seeds stored in the
/// archive (not the working tree) and its output diffed against the archived one. Only offline replay
/// exists: `offline=False` raises `InvalidArgumentError`. An unknown id raises `InvalidArgumentError`
/// listing the newest ids.
#[pyfunction]
#[pyo3(signature = (run_id, offline = true, archive = PathBuf::from(".toron")),
       text_signature = "(run_id, offline=True, archive='.toron')")]
pub(crate) fn replay(py: Python<'_>, run_id: String, offline: bool, archive: PathBuf) -> PyResult<PyReplayResult> {
    if !offline {
        return Err(invalid(
            "offline",
            "only offline replay exists: command cases depend on the working tree and the machine, so a replay \
             re-runs the archived simulations alone (pass offline=True)",
        ));
    }
    let worker = default_worker(py)?;
    let inner = doorway::enter(py, move |cancel| {
        let options = runner::ReplayOptions {
            worker,
            cancel: Some(cancel),
        };
        runner::replay_with(&archive, &run_id, &options)
    })?;
    Ok(PyReplayResult { inner })
}

/// Every run of the archive, newest first: finished runs as they ended, a run whose process died before it
/// finished as `errored` with error `"interrupted"`.
#[pyfunction]
#[pyo3(signature = (archive = PathBuf::from(".toron")), text_signature = "(archive='.toron')")]
pub(crate) fn runs(py: Python<'_>, archive: PathBuf) -> PyResult<Vec<PyRunResult>> {
    let list = doorway::enter(py, move |_cancel| runner::list_runs(&archive))?;
    Ok(list.into_iter().map(|r| PyRunResult { inner: Arc::new(r) }).collect())
}

/// Render reports from the archive alone: run `run_id` (None: every run) into `<reports>/<run id>/`; returns
/// the directories written. An unknown id raises `InvalidArgumentError` listing the newest ids.
#[pyfunction]
#[pyo3(signature = (archive = PathBuf::from(".toron"), reports = PathBuf::from("reports"), run_id = None),
       text_signature = "(archive='.toron', reports='reports', run_id=None)")]
pub(crate) fn report(
    py: Python<'_>,
    archive: PathBuf,
    reports: PathBuf,
    run_id: Option<String>,
) -> PyResult<Vec<String>> {
    let dirs = doorway::enter(py, move |_cancel| {
        runner::render_reports(&archive, &reports, run_id.as_deref())
    })?;
    Ok(dirs.iter().map(|d| path_str(d)).collect())
}

// --- snapshot refresh ------------------------------------------------------------------------------------

/// What `refresh_snapshots` did: per golden case its status (`created`, `changed`, `unchanged`,
/// `skipped`), the diff summary or why it was skipped, and the change as text.
#[pyclass(frozen, module = "toron", name = "RefreshResult")]
pub(crate) struct PyRefreshResult {
    inner: RefreshResult,
}

#[pymethods]
impl PyRefreshResult {
    /// The golden cases in manifest order: dicts with case, status, message and text.
    #[getter]
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.entries)
    }

    /// How many entries have `status` (`created`, `changed`, `unchanged` or `skipped`).
    fn count(&self, status: &str) -> PyResult<usize> {
        let parsed = serde_json::from_value(serde_json::Value::String(status.to_string())).map_err(|_| {
            invalid(
                "status",
                format!("unknown status {status:?} (expected created, changed, unchanged or skipped)"),
            )
        })?;
        Ok(self.inner.count(parsed))
    }

    /// `2 created, 1 changed, 5 unchanged` (and `, 1 skipped` when some were).
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The whole refresh as a dict (`{"entries": [...]}`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!("RefreshResult({})", convert::quoted(&self.inner.summary()))
    }
}

/// Regenerate the goldens of the manifest's golden cases in `profile` (or `suites`, or every suite):
/// missing ones created, changed ones rewritten, unchanged ones not touched; a case that does not pass is
/// skipped with the reason. `seed` is the run-level seed, as for a run.
#[pyfunction]
#[pyo3(signature = (manifest, profile = None, *, suites = None, seed = None))]
pub(crate) fn refresh_snapshots(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    profile: Option<String>,
    suites: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRefreshResult> {
    let suites = names_arg(suites, "suites")?;
    let seed = seed
        .filter(|s| !s.is_none())
        .map(|s| uint_arg(s, "seed", u64::MAX))
        .transpose()?;
    let manifest = manifest_arg(py, manifest)?;
    let worker = default_worker(py)?;
    let inner = doorway::enter(py, move |cancel| {
        let options = runner::ReplayOptions {
            worker,
            cancel: Some(cancel),
        };
        runner::refresh_snapshots_with(&manifest, profile.as_deref(), &suites, seed, &options)
    })?;
    Ok(PyRefreshResult { inner })
}

// --- drift -----------------------------------------------------------------------------------------------

/// A trace argument: text, or a file to read.
enum Trace {
    Text(String),
    File(PathBuf),
}

impl Trace {
    fn from_arg(obj: &Bound<'_, PyAny>, which: &str) -> PyResult<Trace> {
        if obj.is_instance_of::<PyString>() {
            let s: String = obj.extract()?;
            let t = s.trim_start();
            // JSON Lines text (or nothing) is text; a single line that is not JSON is a file name.
            if t.is_empty() || t.starts_with('{') || t.starts_with('[') || s.contains('\n') {
                return Ok(Trace::Text(s));
            }
            return Ok(Trace::File(PathBuf::from(s)));
        }
        obj.extract::<PathBuf>().map(Trace::File).map_err(|_| {
            PyTypeError::new_err(format!(
                "{which} must be trace text (str) or a path, not {}",
                type_name(obj)
            ))
        })
    }

    fn file(&self) -> Option<PathBuf> {
        match self {
            Trace::Text(_) => None,
            Trace::File(p) => Some(p.clone()),
        }
    }

    fn read(self) -> toron_core::Result<String> {
        match self {
            Trace::Text(t) => Ok(t),
            Trace::File(p) => std::fs::read_to_string(&p).map_err(|e| CoreError::read(&e, &p)),
        }
    }
}

/// Where two JSON Lines traces of the same scenario and seed first disagree: a dict with `index` (the event's
/// `i`, else its 0-based line), `time` (its virtual time in ns, if any), `a` and `b` (the two events; None
/// where a trace ended), or None when they are identical. Events compare as JSON values.
///
/// `a` and `b` are each trace text, or a path (`os.PathLike`, or a `str` that is one line not starting with
/// `{` or `[`: the name of a file, read).
#[pyfunction]
pub(crate) fn first_divergence<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let (a, b) = (Trace::from_arg(a, "a")?, Trace::from_arg(b, "b")?);
    let found = doorway::enter(py, move |_cancel| {
        // A trace read from a file: its errors name the file (the core only knows "trace A" / "trace B").
        let files = [a.file(), b.file()];
        let (a, b) = (a.read()?, b.read()?);
        runner::first_divergence(&a, &b).map_err(|e| {
            let which = if e.message().starts_with("trace B") { 1 } else { 0 };
            match &files[which] {
                Some(p) if e.file().is_none() => e.with_file(p),
                _ => e,
            }
        })
    })?;
    found.map(|d| convert::to_python(py, &d)).transpose()
}

/// Add the runner's classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyManifest>()?;
    m.add_class::<PyRun>()?;
    m.add_class::<PyRunEvents>()?;
    m.add_class::<PyRunResult>()?;
    m.add_class::<PyReplayResult>()?;
    m.add_class::<PyRefreshResult>()?;
    m.add_function(wrap_pyfunction!(start_run, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(replay, m)?)?;
    m.add_function(wrap_pyfunction!(runs, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(refresh_snapshots, m)?)?;
    m.add_function(wrap_pyfunction!(first_divergence, m)?)?;
    Ok(())
}
