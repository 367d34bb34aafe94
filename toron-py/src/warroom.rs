//! `toron.Warroom`: incidents, rollbacks and postmortems (`toron_core::warroom`).
//!
//! Every method returns the core's JSON form as Python objects (`dict`, `list`): the same field names as the
//! C ABI and the HTTP API (see the core's `warroom` module docs). Calls are short database transactions and
//! file writes, made with the GIL released. Bad input (an unknown incident or run id, a status change not
//! allowed, a case with no archived output) raises `toron.WarroomError`.

use crate::{convert, errors};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::path::PathBuf;
use toron_core::warroom::{OpenRequest, RollbackRequest, Severity, Status, Warroom, DEFAULT_WHO};

/// Who a change is attributed to: the argument, else `$USER`, else `toron`.
fn who_of(who: Option<String>) -> String {
    who.filter(|w| !w.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_WHO.to_string())
}

/// `None`, one `str`, or an iterable of `str`.
fn strings(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if obj.is_instance_of::<PyString>() {
        return Ok(vec![obj.extract()?]);
    }
    let iter = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a str or an iterable of str")))?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        if !item.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!("{what} must hold str")));
        }
        out.push(item.extract()?);
    }
    Ok(out)
}

/// A warroom directory (`warroom/` by default, holding `warroom.db` and `postmortems/`), with the run
/// archive, golden files and reports it reads.
#[pyclass(frozen, module = "toron", name = "Warroom")]
pub(crate) struct PyWarroom {
    inner: Warroom,
    archive: PathBuf,
    snapshots: PathBuf,
    reports: PathBuf,
}

impl PyWarroom {
    fn status_change(
        &self,
        py: Python<'_>,
        id: &str,
        status: Status,
        who: Option<String>,
        note: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let who = who_of(who);
        let inc = py
            .detach(|| self.inner.set_status(id, status, &who, note))
            .map_err(errors::map)?;
        Ok(convert::to_python(py, &inc)?.unbind())
    }
}

#[pymethods]
impl PyWarroom {
    /// Open (or create) the warroom in `path`; `archive`, `snapshots` and `reports` are the run archive, the
    /// golden files and the reports it works with.
    #[new]
    #[pyo3(
        signature = (path = PathBuf::from("warroom"), *, archive = PathBuf::from(".toron"),
                     snapshots = PathBuf::from("snapshots"), reports = PathBuf::from("reports")),
        text_signature = "(path='warroom', *, archive='.toron', snapshots='snapshots', reports='reports')"
    )]
    fn new(py: Python<'_>, path: PathBuf, archive: PathBuf, snapshots: PathBuf, reports: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| Warroom::open(&path)).map_err(errors::map)?;
        Ok(PyWarroom {
            inner,
            archive,
            snapshots,
            reports,
        })
    }

    /// The warroom's directory.
    #[getter]
    fn path(&self) -> String {
        self.inner.dir().to_string_lossy().into_owned()
    }

    /// The run archive.
    #[getter]
    fn archive(&self) -> String {
        self.archive.to_string_lossy().into_owned()
    }

    /// The golden files' directory.
    #[getter]
    fn snapshots(&self) -> String {
        self.snapshots.to_string_lossy().into_owned()
    }

    /// The reports' directory.
    #[getter]
    fn reports(&self) -> String {
        self.reports.to_string_lossy().into_owned()
    }

    /// Open an incident for a NO-GO run (`run_id=None`: the newest NO-GO run of the archive), or join the
    /// incident not yet resolved that has the same dedup key. Returns the incident with `"created"`.
    #[pyo3(signature = (run_id = None, dedup_key = None, severity = None, *, title = None, owner = None,
                        labels = None, who = None))]
    #[allow(clippy::too_many_arguments, reason = "the Python signature")]
    fn open_incident(
        &self,
        py: Python<'_>,
        run_id: Option<String>,
        dedup_key: Option<String>,
        severity: Option<String>,
        title: Option<String>,
        owner: Option<String>,
        labels: Option<&Bound<'_, PyAny>>,
        who: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let severity = severity
            .as_deref()
            .map(Severity::parse)
            .transpose()
            .map_err(errors::map)?;
        let request = OpenRequest {
            run_id,
            dedup_key,
            severity,
            title,
            owner,
            labels: strings(labels, "labels")?,
            who: Some(who_of(who)),
        };
        let opened = py
            .detach(|| self.inner.open_incident(&self.archive, request))
            .map_err(errors::map)?;
        let mut value = serde_json::to_value(&opened.incident)
            .map_err(|e| errors::map(toron_core::Error::new(toron_core::ErrorKind::Json, e.to_string())))?;
        if let serde_json::Value::Object(m) = &mut value {
            m.insert("created".into(), serde_json::Value::Bool(opened.created));
        }
        Ok(convert::from_value(py, &value)?.unbind())
    }

    /// Every incident (`status`: only those), by number.
    #[pyo3(signature = (status = None))]
    fn incidents(&self, py: Python<'_>, status: Option<String>) -> PyResult<Py<PyAny>> {
        let status = status.as_deref().map(Status::parse).transpose().map_err(errors::map)?;
        let all = py.detach(|| self.inner.incidents(status)).map_err(errors::map)?;
        Ok(convert::to_python(py, &all)?.unbind())
    }

    /// One incident by id (`INC-1`).
    fn incident(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        let inc = py.detach(|| self.inner.incident(id)).map_err(errors::map)?;
        Ok(convert::to_python(py, &inc)?.unbind())
    }

    /// Add a note to an incident's timeline; returns the incident.
    #[pyo3(signature = (id, text, *, who = None))]
    fn note(&self, py: Python<'_>, id: &str, text: &str, who: Option<String>) -> PyResult<Py<PyAny>> {
        let who = who_of(who);
        let inc = py.detach(|| self.inner.note(id, &who, text)).map_err(errors::map)?;
        Ok(convert::to_python(py, &inc)?.unbind())
    }

    /// Mark an incident mitigated; returns the incident.
    #[pyo3(signature = (id, *, who = None, note = None))]
    fn mitigate(&self, py: Python<'_>, id: &str, who: Option<String>, note: Option<&str>) -> PyResult<Py<PyAny>> {
        self.status_change(py, id, Status::Mitigated, who, note)
    }

    /// Mark an incident resolved; returns the incident.
    #[pyo3(signature = (id, *, who = None, note = None))]
    fn resolve(&self, py: Python<'_>, id: &str, who: Option<String>, note: Option<&str>) -> PyResult<Py<PyAny>> {
        self.status_change(py, id, Status::Resolved, who, note)
    }

    /// Reopen a mitigated or resolved incident; returns the incident.
    #[pyo3(signature = (id, *, who = None, note = None))]
    fn reopen(&self, py: Python<'_>, id: &str, who: Option<String>, note: Option<&str>) -> PyResult<Py<PyAny>> {
        self.status_change(py, id, Status::Reopened, who, note)
    }

    /// Move an incident to `status` (`open`, `mitigated`, `resolved`, `reopened`); returns the incident.
    #[pyo3(signature = (id, status, *, who = None, note = None))]
    fn set_status(
        &self,
        py: Python<'_>,
        id: &str,
        status: &str,
        who: Option<String>,
        note: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let status = Status::parse(status).map_err(errors::map)?;
        self.status_change(py, id, status, who, note)
    }

    /// Rewrite the goldens of `cases` (`suite/case`; with `all_failed`, also every failed golden case of that
    /// run) from the outputs run `to` archived (with `from_case`, the output of that case of run `to`, for one
    /// case). `dry_run` writes nothing. Returns one dict per golden, with its text diff.
    #[pyo3(signature = (cases, to, incident = None, dry_run = false, *, all_failed = None, who = None, from_case = None))]
    #[allow(clippy::too_many_arguments, reason = "the Python signature")]
    fn rollback(
        &self,
        py: Python<'_>,
        cases: Option<&Bound<'_, PyAny>>,
        to: String,
        incident: Option<String>,
        dry_run: bool,
        all_failed: Option<String>,
        who: Option<String>,
        from_case: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let request = RollbackRequest {
            archive_root: self.archive.clone(),
            snapshots_root: self.snapshots.clone(),
            cases: strings(cases, "cases")?,
            all_failed,
            to,
            from_case,
            incident,
            dry_run,
            who: Some(who_of(who)),
        };
        let done = py.detach(|| self.inner.rollback(request)).map_err(errors::map)?;
        Ok(convert::to_python(py, &done)?.unbind())
    }

    /// Every rollback recorded, oldest first.
    fn rollbacks(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let all = py.detach(|| self.inner.rollbacks()).map_err(errors::map)?;
        Ok(convert::to_python(py, &all)?.unbind())
    }

    /// Write the incident's postmortem (`<path>/postmortems/<ID>.md` and `.html`), keeping the sections a
    /// person wrote; returns the Markdown file's path.
    fn postmortem(&self, py: Python<'_>, id: &str) -> PyResult<String> {
        let path = py
            .detach(|| self.inner.postmortem(id, &self.archive, &self.reports))
            .map_err(errors::map)?;
        Ok(path.to_string_lossy().into_owned())
    }

    fn __repr__(&self) -> String {
        format!("Warroom({})", convert::quoted(&self.path()))
    }
}

/// Add this concept's classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWarroom>()
}
