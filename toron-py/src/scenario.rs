//! `toron.Scenario`: a validated scenario, read from a file, text or a dict.

use crate::{convert, errors};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;
use toron_core::scenario::{Format, Scenario};

/// A validated scenario, ready to simulate. Immutable; build one with `from_file`, `from_str` or `from_dict`.
#[pyclass(frozen, module = "toron", name = "Scenario")]
pub(crate) struct PyScenario {
    pub(crate) inner: Arc<Scenario>,
}

impl PyScenario {
    pub(crate) fn new(inner: Scenario) -> Self {
        PyScenario { inner: Arc::new(inner) }
    }
}

#[pymethods]
impl PyScenario {
    /// Read a scenario file (`.json` is JSON, anything else TOML).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Scenario::from_path(&path))
            .map(Self::new)
            .map_err(errors::map)
    }

    /// Parse a scenario from text; `format` is "toml" or "json".
    #[staticmethod]
    #[pyo3(signature = (text, format = "toml"))]
    fn from_str(text: &str, format: &str) -> PyResult<Self> {
        let format = Format::parse(format).map_err(errors::map)?;
        Scenario::from_str(text, format).map(Self::new).map_err(errors::map)
    }

    /// Build a scenario from a dict of the file's structure (what `to_dict` returns).
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !d.is_instance_of::<PyDict>() && d.cast::<pyo3::types::PyMapping>().is_err() {
            let type_name = d
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into());
            return Err(errors::scenario_error(
                "",
                "",
                format!("a scenario is a dict, not {type_name}"),
            ));
        }
        let value = convert::to_value(d)?;
        Scenario::from_value(&value).map(Self::new).map_err(errors::map)
    }

    /// The structure as a dict (round-trips through `from_dict`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.to_value())
    }

    /// The scenario's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The scenario's identity: blake3 of its canonical structure (64 hex chars).
    #[getter]
    fn id(&self) -> String {
        self.inner.id()
    }

    /// The seed written in the scenario, if any.
    #[getter]
    fn seed(&self) -> Option<u64> {
        self.inner.spec().seed
    }

    /// The file it was read from, if any.
    #[getter]
    fn file(&self) -> Option<String> {
        self.inner.file().map(|f| f.to_string_lossy().into_owned())
    }

    fn __repr__(&self) -> String {
        let id = self.inner.id();
        let mut s = format!(
            "Scenario(name={}, id='{}…', nodes={}",
            convert::quoted(self.inner.name()),
            &id[..16.min(id.len())],
            self.inner.spec().nodes.len()
        );
        if let Some(f) = self.inner.file() {
            s.push_str(&format!(", file={}", convert::quoted(&f.to_string_lossy())));
        }
        s.push(')');
        s
    }

    fn __eq__(&self, other: &Bound<'_, PyScenario>) -> bool {
        self.inner.spec() == other.get().inner.spec()
    }

    fn __hash__(&self) -> u64 {
        let id = self.inner.id();
        u64::from_str_radix(&id[..16.min(id.len())], 16).unwrap_or(0)
    }

    /// Pickle support (so a scenario can go to a `concurrent.futures` worker).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let ctor = slf.get_type().getattr("from_dict")?;
        let args = PyTuple::new(py, [slf.get().to_dict(py)?])?;
        PyTuple::new(py, [ctor, args.into_any()])
    }
}
