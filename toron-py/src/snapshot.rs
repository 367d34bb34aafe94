//! `toron.Snapshots`, `toron.CheckResult` and `toron.Pending`: golden files (`toron_core::snapshot`).

use crate::diff::{options, PyDiff};
use crate::{convert, doorway, errors};
use pyo3::prelude::*;
use std::path::PathBuf;
use toron_core::snapshot::{CheckResult, Pending, Snapshots};

/// A directory of golden files (`snapshots/` by default), one readable JSON file per case.
#[pyclass(frozen, module = "toron", name = "Snapshots")]
pub(crate) struct PySnapshots {
    inner: Snapshots,
}

/// The outcome of `Snapshots.check`.
#[pyclass(frozen, module = "toron", name = "CheckResult")]
pub(crate) struct PyCheckResult {
    inner: CheckResult,
}

/// A candidate waiting for review (`<case>.json.new`), with the diff from its golden.
#[pyclass(frozen, module = "toron", name = "Pending")]
pub(crate) struct PyPending {
    inner: Pending,
}

fn path_str(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[pymethods]
impl PySnapshots {
    /// Golden files under `root`. `update=None` reads `TORON_SNAPSHOT_UPDATE` (`1` or `true`) now, once.
    #[new]
    #[pyo3(
        signature = (root = PathBuf::from(toron_core::snapshot::DEFAULT_ROOT), *, update = None),
        text_signature = "(root='snapshots', *, update=None)"
    )]
    fn new(root: PathBuf, update: Option<bool>) -> Self {
        let inner = match update {
            Some(on) => Snapshots::new(root).update(on),
            None => Snapshots::from_env(root),
        };
        PySnapshots { inner }
    }

    /// The directory of golden files.
    #[getter]
    fn root(&self) -> String {
        path_str(self.inner.root())
    }

    /// Whether checks write goldens instead of pending candidates.
    #[getter]
    fn update(&self) -> bool {
        self.inner.is_update()
    }

    /// Compare `value` with the golden of `case` under the diff options (which apply to the comparison only;
    /// goldens stay exact, except `redact`ed paths, which are stored as the marker). A difference or a missing
    /// golden fails and writes `<case>.json.new` — or, with `update` (None: the instance's mode), the golden.
    #[pyo3(signature = (case, value, *, update = None, meta = None, keys = None, ignore = None, redact = None, tolerance = None, tolerances = None, budget = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the keyword options of the Python API, one per diff option"
    )]
    fn check(
        &self,
        py: Python<'_>,
        case: String,
        value: &Bound<'_, PyAny>,
        update: Option<bool>,
        meta: Option<&Bound<'_, PyAny>>,
        keys: Option<&Bound<'_, PyAny>>,
        ignore: Option<&Bound<'_, PyAny>>,
        redact: Option<&Bound<'_, PyAny>>,
        tolerance: Option<&Bound<'_, PyAny>>,
        tolerances: Option<&Bound<'_, PyAny>>,
        budget: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCheckResult> {
        let options = options(keys, ignore, redact, tolerance, tolerances, budget)?;
        let value = convert::to_canonical(value)?;
        let meta = meta
            .filter(|m| !m.is_none())
            .map(|m| convert::to_argument(m, "meta"))
            .transpose()?;
        let snaps = match update {
            Some(on) => self.inner.clone().update(on),
            None => self.inner.clone(),
        };
        let inner = doorway::enter(py, move |_cancel| {
            snaps.check_with_meta(&case, &value, meta.as_ref(), &options)
        })?;
        Ok(PyCheckResult { inner })
    }

    /// The golden value of `case`, or None when it has none. `SnapshotError` naming the file (and line and
    /// column) when it cannot be read.
    fn read<'py>(&self, py: Python<'py>, case: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.read(case).map_err(errors::map)? {
            Some(g) => Ok(Some(convert::from_value(py, &g.value)?)),
            None => Ok(None),
        }
    }

    /// The golden file of `case` (`<root>/<case>.json`).
    fn golden_path(&self, case: &str) -> PyResult<String> {
        self.inner.golden_path(case).map(|p| path_str(&p)).map_err(errors::map)
    }

    /// The pending candidate of `case` (`<root>/<case>.json.new`).
    fn pending_path(&self, case: &str) -> PyResult<String> {
        self.inner.pending_path(case).map(|p| path_str(&p)).map_err(errors::map)
    }

    /// Every case that has a golden file, sorted.
    fn cases(&self) -> PyResult<Vec<String>> {
        self.inner.cases().map_err(errors::map)
    }

    /// Every case with a pending candidate, sorted (without reading them).
    fn pending_cases(&self) -> PyResult<Vec<String>> {
        self.inner.pending_cases().map_err(errors::map)
    }

    /// Every pending candidate with its golden and the diff between them (under the options), sorted by case.
    #[pyo3(signature = (*, keys = None, ignore = None, redact = None, tolerance = None, tolerances = None, budget = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the keyword options of the Python API, one per diff option"
    )]
    fn pending(
        &self,
        py: Python<'_>,
        keys: Option<&Bound<'_, PyAny>>,
        ignore: Option<&Bound<'_, PyAny>>,
        redact: Option<&Bound<'_, PyAny>>,
        tolerance: Option<&Bound<'_, PyAny>>,
        tolerances: Option<&Bound<'_, PyAny>>,
        budget: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<PyPending>> {
        let options = options(keys, ignore, redact, tolerance, tolerances, budget)?;
        let snaps = self.inner.clone();
        let list = doorway::enter(py, move |_cancel| snaps.pending_with(&options))?;
        Ok(list.into_iter().map(|inner| PyPending { inner }).collect())
    }

    /// Accept pending candidates (`case=None`: all): each replaces its golden. Returns the accepted cases.
    #[pyo3(signature = (case = None))]
    fn accept(&self, py: Python<'_>, case: Option<String>) -> PyResult<Vec<String>> {
        let snaps = self.inner.clone();
        doorway::enter(py, move |_cancel| snaps.accept(case.as_deref()))
    }

    /// Reject pending candidates (`case=None`: all): delete them; goldens are untouched. Returns the cases.
    #[pyo3(signature = (case = None))]
    fn reject(&self, py: Python<'_>, case: Option<String>) -> PyResult<Vec<String>> {
        let snaps = self.inner.clone();
        doorway::enter(py, move |_cancel| snaps.reject(case.as_deref()))
    }

    /// Cases with a golden file that are not in `seen_cases`, sorted. Reported only: nothing is deleted.
    fn unused(&self, seen_cases: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let mut seen = Vec::new();
        for item in seen_cases.try_iter()? {
            seen.push(item?.extract::<String>()?);
        }
        self.inner.unused(&seen).map_err(errors::map)
    }

    fn __repr__(&self) -> String {
        format!(
            "Snapshots({}, update={})",
            convert::quoted(&self.root()),
            if self.inner.is_update() { "True" } else { "False" }
        )
    }
}

#[pymethods]
impl PyCheckResult {
    /// The case name.
    #[getter]
    fn case(&self) -> &str {
        self.inner.case()
    }

    /// `"passed"`, `"failed"`, `"created"` or `"updated"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status().name()
    }

    /// Whether the check counts as a pass (every status but `"failed"`).
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed()
    }

    /// Whether there was no golden file before the check.
    #[getter]
    fn golden_missing(&self) -> bool {
        self.inner.golden_missing()
    }

    /// The golden file (it may not exist).
    #[getter]
    fn golden_path(&self) -> String {
        path_str(self.inner.golden_path())
    }

    /// The candidate written by a failed check (`<case>.json.new`), else None.
    #[getter]
    fn pending_path(&self) -> Option<String> {
        self.inner.pending_path().map(path_str)
    }

    /// How the value differs from the golden (None when it passed); from `null` when there was no golden.
    #[getter]
    fn diff(&self) -> Option<PyDiff> {
        self.inner.diff().map(|d| PyDiff { inner: d.clone() })
    }

    /// `no differences`, `no golden yet`, or the diff's summary.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    fn __bool__(&self) -> bool {
        self.inner.passed()
    }

    fn __repr__(&self) -> String {
        format!(
            "<toron.CheckResult {} {}: {}>",
            convert::quoted(self.inner.case()),
            self.inner.status().name(),
            self.inner.summary()
        )
    }
}

#[pymethods]
impl PyPending {
    /// The case name.
    #[getter]
    fn case(&self) -> &str {
        &self.inner.case
    }

    /// The golden file it would replace (it may not exist yet).
    #[getter]
    fn golden_path(&self) -> String {
        path_str(&self.inner.golden_path)
    }

    /// The candidate file, `<case>.json.new`.
    #[getter]
    fn new_path(&self) -> String {
        path_str(&self.inner.new_path)
    }

    /// The golden's value, or None when the case has no golden yet.
    #[getter]
    fn golden<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .golden
            .as_ref()
            .map(|g| convert::from_value(py, &g.value))
            .transpose()
    }

    /// The candidate's value.
    #[getter]
    fn candidate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.candidate.value)
    }

    /// From the golden's value to the candidate's (from `null` when there is no golden).
    #[getter]
    fn diff(&self) -> PyDiff {
        PyDiff {
            inner: self.inner.diff.clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<toron.Pending {}: {}>",
            convert::quoted(&self.inner.case),
            self.inner.diff.summary()
        )
    }
}
