//! `toron.shrink` and `toron.Shrunk`: the smallest scenario that, with the same seed, still breaks the same
//! invariant (`toron_core::shrink`).

use crate::scenario::PyScenario;
use crate::{convert, doorway, errors};
use pyo3::prelude::*;
use std::path::PathBuf;
use toron_core::shrink::{shrink_with, ShrinkOptions, Shrunk};

/// What `toron.shrink` found: the minimal scenario (its seed written in), the invariant it still violates and
/// how it got there.
#[pyclass(frozen, module = "toron", name = "Shrunk")]
pub(crate) struct PyShrunk {
    inner: Shrunk,
}

#[pymethods]
impl PyShrunk {
    /// The minimal scenario (a `toron.Scenario`, with `seed` set so it replays alone).
    #[getter]
    fn scenario(&self) -> PyScenario {
        PyScenario::new(self.inner.scenario.clone())
    }

    /// The seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The invariant that is still violated.
    #[getter]
    fn invariant(&self) -> &str {
        &self.inner.invariant
    }

    /// The minimal scenario's first violation of it (time, time_ns, node, invariant, message).
    #[getter]
    fn violation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.violation)
    }

    /// Simulations made.
    #[getter]
    fn runs(&self) -> usize {
        self.inner.runs
    }

    /// Each reduction kept, in order, for people.
    #[getter]
    fn steps(&self) -> Vec<String> {
        self.inner.steps.clone()
    }

    /// True when the run budget ran out before a round changed nothing (it may shrink further).
    #[getter]
    fn exhausted(&self) -> bool {
        self.inner.exhausted
    }

    /// The size before: faults, clients, requests, virtual_time_ns.
    #[getter]
    fn original<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.original)
    }

    /// The size after.
    #[getter]
    fn minimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.minimal)
    }

    /// The minimal scenario as TOML, headed by a comment of how it was reached.
    fn to_toml(&self) -> PyResult<String> {
        self.inner.to_toml().map_err(errors::map)
    }

    /// Everything as a dict (the scenario as its structure).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.to_value())
    }

    /// Write `to_toml()` to `path`.
    fn write(&self, path: PathBuf) -> PyResult<()> {
        let text = self.inner.to_toml().map_err(errors::map)?;
        std::fs::write(&path, text).map_err(|e| errors::map(toron_core::Error::write(&e, &path)))
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Shrunk(invariant={}, seed={}, faults {}->{}, requests {}->{}, runs={})",
            convert::quoted(&s.invariant),
            s.seed,
            s.original.faults,
            s.minimal.faults,
            s.original.requests,
            s.minimal.requests,
            s.runs
        )
    }
}

/// Shrink `scenario` while `seed` (None: the scenario's, then `SIM_SEED`, then 0) still violates the
/// invariant of its first violation; at most `max_runs` simulations. Releases the GIL; Ctrl-C stops it with
/// `KeyboardInterrupt`. A seed with no violation raises `toron.InvalidArgumentError`.
#[pyfunction]
#[pyo3(signature = (scenario, seed = None, *, max_runs = 1000))]
pub(crate) fn shrink(
    py: Python<'_>,
    scenario: &Bound<'_, PyScenario>,
    seed: Option<u64>,
    max_runs: usize,
) -> PyResult<PyShrunk> {
    let s = scenario.get().inner.clone();
    let inner = doorway::enter(py, move |cancel| {
        shrink_with(&s, seed, &ShrinkOptions { max_runs }, Some(cancel))
    })?;
    Ok(PyShrunk { inner })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyShrunk>()?;
    m.add_function(wrap_pyfunction!(shrink, m)?)?;
    Ok(())
}
