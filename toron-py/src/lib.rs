//! `toron._toron`: the native module behind `import toron`. An adapter only: it converts types, maps
//! errors and releases the GIL; every decision is toron-core's.
//!
//! One module per core concept: [`scenario`] (`toron.Scenario`), [`sim`] (`toron.simulate`, `toron.sweep`,
//! `toron.Outcome`), [`errors`] (the exception hierarchy under `toron.Error`), [`convert`] (Python objects ↔
//! JSON values) and [`doorway`] (the one place that releases the GIL and polls for Ctrl-C).
#![allow(
    clippy::result_large_err,
    reason = "closures returning toron_core::Result; the size of toron_core::Error is the core's to change"
)]

use pyo3::prelude::*;

mod convert;
mod doorway;
mod errors;
mod scenario;
mod sim;

/// The native module.
#[pymodule]
fn _toron(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", toron_core::VERSION)?;
    errors::register(m)?;
    m.add_class::<scenario::PyScenario>()?;
    m.add_class::<sim::PyOutcome>()?;
    m.add_function(wrap_pyfunction!(sim::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sim::sweep, m)?)?;
    Ok(())
}
