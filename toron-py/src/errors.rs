//! The exception hierarchy under `toron.Error`, and the one mapping from `toron_core::ErrorKind` to it.
//!
//! Each class also subclasses the stdlib exception a user would catch (`ValueError` for bad input,
//! `OSError` for files). The classes are made once per process with `type(name, bases, dict)`, because
//! PyO3's `create_exception!` takes a single base. Every raised instance carries the core error's context as
//! attributes: `kind`, `message`, `file`, `line`, `column`, `field`, `path`, `op_index` (`None` when unknown).

use pyo3::exceptions::{PyBaseException, PyException, PyLookupError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use toron_core::{Error as CoreError, ErrorKind};

/// The context attributes every `toron.Error` has (class default `None`).
const ATTRIBUTES: &[&str] = &["kind", "message", "file", "line", "column", "field", "path", "op_index"];

/// The attributes `toron.NodeError` adds (class default `None`).
const NODE_ATTRIBUTES: &[&str] = &["node", "callback", "time_ns", "traceback"];

/// The exception classes, made once.
pub(crate) struct Classes {
    pub(crate) base: Py<PyType>,
    pub(crate) scenario: Py<PyType>,
    pub(crate) io: Py<PyType>,
    pub(crate) sim: Py<PyType>,
    pub(crate) cancelled: Py<PyType>,
    pub(crate) invalid_argument: Py<PyType>,
    pub(crate) json: Py<PyType>,
    pub(crate) canonical: Py<PyType>,
    pub(crate) patch: Py<PyType>,
    pub(crate) snapshot: Py<PyType>,
    pub(crate) archive: Py<PyType>,
    pub(crate) manifest: Py<PyType>,
    pub(crate) run: Py<PyType>,
    pub(crate) pii: Py<PyType>,
    pub(crate) dataset: Py<PyType>,
    pub(crate) warroom: Py<PyType>,
    pub(crate) expectation: Py<PyType>,
    pub(crate) node: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn make_class(py: Python<'_>, name: &str, doc: &str, bases: &[&Py<PyType>], attributes: bool) -> PyResult<Py<PyType>> {
    let dict = PyDict::new(py);
    dict.set_item("__module__", "toron")?;
    dict.set_item("__doc__", doc)?;
    if attributes {
        for attr in ATTRIBUTES {
            dict.set_item(*attr, py.None())?;
        }
    }
    let bases = PyTuple::new(py, bases.iter().map(|b| b.bind(py)))?;
    let class = py.get_type::<PyType>().call1((name, bases, dict))?;
    Ok(class.cast_into::<PyType>()?.unbind())
}

/// The classes (made on first use).
pub(crate) fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
    CLASSES.get_or_try_init(py, || {
        let exception = py.get_type::<PyException>().unbind();
        let value_error = py.get_type::<PyValueError>().unbind();
        let os_error = py.get_type::<PyOSError>().unbind();
        let base = make_class(
            py,
            "Error",
            "Base of every error Toron raises. Attributes (None when unknown): kind (the core's error kind, e.g. \
             'scenario'), message (without the location), file, line, column, field (dotted, e.g. 'fault[0].node'), \
             path (JSON pointer, e.g. '/fault/0/node') and op_index (JSON Patch operation).",
            &[&exception],
            true,
        )?;
        let sub = |name: &str, doc: &str, also: Option<&Py<PyType>>| -> PyResult<Py<PyType>> {
            match also {
                Some(other) => make_class(py, name, doc, &[&base, other], false),
                None => make_class(py, name, doc, &[&base], false),
            }
        };
        let io = sub("IoError", "Reading or writing a file failed (also an OSError; `filename` is set).", Some(&os_error))?;
        // Setting `filename` would make OSError's own __str__ print "[Errno None] None: 'file'"; keep the
        // core's one-line message instead.
        io.bind(py).setattr("__str__", py.get_type::<PyBaseException>().getattr("__str__")?)?;
        Ok::<_, PyErr>(Classes {
            scenario: sub(
                "ScenarioError",
                "A scenario (file, text or dict) is invalid: syntax, unknown field, wrong type, bad value, unknown node id.",
                Some(&value_error),
            )?,
            io,
            sim: sub("SimulationError", "The simulation could not proceed.", None)?,
            cancelled: sub("CancelledError", "The operation was cancelled before it finished (not by Ctrl-C).", None)?,
            invalid_argument: sub("InvalidArgumentError", "An argument given by the caller is invalid.", Some(&value_error))?,
            json: sub("JsonError", "Text that should be JSON is not (with line and column).", Some(&value_error))?,
            canonical: sub(
                "CanonicalError",
                "A value cannot be canonically encoded (NaN, infinity, an integer beyond 2^53, a non-string key).",
                Some(&value_error),
            )?,
            patch: sub("PatchError", "A JSON Patch cannot be applied (names the operation index and path).", Some(&value_error))?,
            snapshot: sub("SnapshotError", "A golden file is missing, unreadable or invalid.", None)?,
            archive: sub("ArchiveError", "The run archive is corrupt or cannot be written.", None)?,
            manifest: sub(
                "ManifestError",
                "The test-operations manifest (testops.toml) is invalid; path, line and field say where.",
                Some(&value_error),
            )?,
            run: sub("RunError", "A run could not be started or finished (harness failure, unknown run id).", None)?,
            pii: sub(
                "PiiError",
                "A PII scrubber policy is invalid, or strict mode refused a value that holds PII.",
                Some(&value_error),
            )?,
            dataset: sub(
                "DatasetError",
                "A synthetic data set schema is invalid (file, line and field say where), or generating it failed.",
                Some(&value_error),
            )?,
            warroom: sub(
                "WarroomError",
                "A warroom operation is invalid (unknown incident or run id, a status change not allowed) or its \
                 database cannot be used.",
                None,
            )?,
            expectation: sub(
                "ExpectationError",
                "What a scenario expects of a sweep did not happen: a mark of `[expect] sometimes` that no seed \
                 reached (the message names it).",
                None,
            )?,
            node: sub(
                "NodeError",
                "A node written outside Toron failed: its constructor or a callback raised or returned an error \
                 status, or its model (`python:...`, `c:...`) cannot be found or built.",
                None,
            )?,
            base,
        })
    })
    .and_then(|c| {
        // NodeError's own attributes (None unless a Python node failed): which node, in which callback, at
        // what virtual time, with which traceback.
        let node = c.node.bind(py);
        if !node.hasattr("callback")? {
            for attr in NODE_ATTRIBUTES {
                node.setattr(*attr, py.None())?;
            }
        }
        Ok(c)
    })
}

/// The class of one kind. The match is exhaustive: a new `ErrorKind` does not compile until it is mapped
/// here (and `tests/python/test_errors.py` walks `ErrorKind::ALL` through it).
pub(crate) fn class_for(classes: &Classes, kind: ErrorKind) -> Option<&Py<PyType>> {
    match kind {
        ErrorKind::Scenario => Some(&classes.scenario),
        ErrorKind::Io => Some(&classes.io),
        ErrorKind::Sim => Some(&classes.sim),
        ErrorKind::Cancelled => Some(&classes.cancelled),
        ErrorKind::InvalidArgument => Some(&classes.invalid_argument),
        ErrorKind::Json => Some(&classes.json),
        ErrorKind::Canonical => Some(&classes.canonical),
        ErrorKind::Patch => Some(&classes.patch),
        ErrorKind::Snapshot => Some(&classes.snapshot),
        ErrorKind::Archive => Some(&classes.archive),
        ErrorKind::Manifest => Some(&classes.manifest),
        ErrorKind::Run => Some(&classes.run),
        ErrorKind::Pii => Some(&classes.pii),
        ErrorKind::Dataset => Some(&classes.dataset),
        ErrorKind::Warroom => Some(&classes.warroom),
        ErrorKind::Expectation => Some(&classes.expectation),
        ErrorKind::Node => Some(&classes.node),
    }
}

fn build(py: Python<'_>, err: &CoreError) -> PyResult<PyErr> {
    let classes = classes(py)?;
    let class = class_for(classes, err.kind()).unwrap_or(&classes.base).bind(py);
    let instance = class.call1((err.to_string(),))?;
    let file = err.file().map(|f| f.to_string_lossy().into_owned());
    instance.setattr("kind", err.kind().name())?;
    instance.setattr("message", err.message())?;
    instance.setattr("file", file.clone())?;
    instance.setattr("line", err.line())?;
    instance.setattr("column", err.column())?;
    instance.setattr("field", err.field())?;
    instance.setattr("path", err.path())?;
    instance.setattr("op_index", err.op_index())?;
    if err.kind() == ErrorKind::Io {
        instance.setattr("filename", file)?;
    }
    if err.kind() == ErrorKind::Node {
        if let Some(f) = crate::node::failure_for(err.message()) {
            instance.setattr("node", f.node)?;
            instance.setattr("callback", f.callback)?;
            instance.setattr("time_ns", f.time_ns)?;
            instance.setattr("traceback", f.traceback)?;
        }
    }
    Ok(PyErr::from_value(instance))
}

/// The Python exception for a core error.
pub(crate) fn to_pyerr(py: Python<'_>, err: &CoreError) -> PyErr {
    build(py, err).unwrap_or_else(|e| e)
}

/// `map_err` helper: the Python exception for a core error.
pub(crate) fn map(err: CoreError) -> PyErr {
    Python::attach(|py| to_pyerr(py, &err))
}

/// A `toron.ScenarioError` made on the Python side (conversion of a dict), naming the JSON path (none for
/// the root).
pub(crate) fn scenario_error(pointer: &str, field: &str, message: impl Into<String>) -> PyErr {
    let mut err = CoreError::new(ErrorKind::Scenario, message);
    if !pointer.is_empty() {
        err = err.with_path(pointer);
    }
    if !field.is_empty() {
        err = err.with_field(field);
    }
    map(err)
}

/// A `toron.InvalidArgumentError` (a `ValueError`) for a bad argument.
pub(crate) fn invalid_argument(message: impl Into<String>) -> PyErr {
    map(CoreError::new(ErrorKind::InvalidArgument, message))
}

fn kind_named(name: &str) -> PyResult<ErrorKind> {
    ErrorKind::ALL
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| {
            let names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
            PyValueError::new_err(format!(
                "unknown error kind {name:?} (expected one of: {})",
                names.join(", ")
            ))
        })
}

/// Every core error kind's name, from `ErrorKind::ALL` (for the test that walks the mapping).
#[pyfunction]
pub(crate) fn _error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.name()).collect()
}

/// The exception class a core error kind maps to; `LookupError` if a kind has no class.
#[pyfunction]
pub(crate) fn _error_class_for_kind(py: Python<'_>, name: &str) -> PyResult<Py<PyType>> {
    let kind = kind_named(name)?;
    class_for(classes(py)?, kind)
        .map(|c| c.clone_ref(py))
        .ok_or_else(|| PyLookupError::new_err(format!("error kind {name:?} has no Python exception class")))
}

/// Raise the exception a core error with this context maps to (tests the attribute plumbing).
#[pyfunction]
#[pyo3(signature = (kind, message, *, file=None, line=None, column=None, field=None, path=None, op_index=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors every context field of toron_core::Error"
)]
pub(crate) fn _raise_error(
    py: Python<'_>,
    kind: &str,
    message: &str,
    file: Option<std::path::PathBuf>,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<&str>,
    path: Option<&str>,
    op_index: Option<usize>,
) -> PyResult<()> {
    let mut err = CoreError::new(kind_named(kind)?, message);
    if let Some(f) = file {
        err = err.with_file(f);
    }
    if let Some(l) = line {
        err = err.with_line(l, column);
    }
    if let Some(f) = field {
        err = err.with_field(f);
    }
    if let Some(p) = path {
        err = err.with_path(p);
    }
    if let Some(i) = op_index {
        err = err.with_op_index(i);
    }
    Err(to_pyerr(py, &err))
}

/// Add the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    for (name, class) in [
        ("Error", &c.base),
        ("ScenarioError", &c.scenario),
        ("IoError", &c.io),
        ("SimulationError", &c.sim),
        ("CancelledError", &c.cancelled),
        ("InvalidArgumentError", &c.invalid_argument),
        ("JsonError", &c.json),
        ("CanonicalError", &c.canonical),
        ("PatchError", &c.patch),
        ("SnapshotError", &c.snapshot),
        ("ArchiveError", &c.archive),
        ("ManifestError", &c.manifest),
        ("RunError", &c.run),
        ("PiiError", &c.pii),
        ("DatasetError", &c.dataset),
        ("WarroomError", &c.warroom),
        ("ExpectationError", &c.expectation),
        ("NodeError", &c.node),
    ] {
        m.add(name, class.bind(py))?;
    }
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_error_class_for_kind, m)?)?;
    m.add_function(wrap_pyfunction!(_raise_error, m)?)?;
    Ok(())
}
