//! `toron._toron`: the native module behind `import toron`. An adapter only: it converts types, maps
//! errors and releases the GIL; every decision is toron-core's.
//!
//! One module per core concept: [`scenario`] (`toron.Scenario`), [`sim`] (`toron.simulate`, `toron.sweep`,
//! `toron.Outcome`), [`canon`] (`toron.canonical`, `toron.digest`, `toron.parse_json`), [`diff`] (`toron.diff`,
//! `toron.apply_patch`, `toron.text_diff`), [`snapshot`] (`toron.Snapshots`), [`archive`] (`toron.Archive`),
//! [`run`] (`toron.Manifest`, `toron.start_run` / `toron.run` → `toron.Run` / `toron.RunResult`, `toron.replay`,
//! `toron.runs`, `toron.report`, `toron.refresh_snapshots`, `toron.first_divergence`), [`check`]
//! (`toron.check_linearizable`), [`errors`] (the exception hierarchy under `toron.Error`), [`convert`] (Python objects ↔
//! JSON values) and [`doorway`] (the one place that releases the GIL and polls for Ctrl-C).
#![allow(
    clippy::result_large_err,
    reason = "closures returning toron_core::Result; the size of toron_core::Error is the core's to change"
)]

use pyo3::prelude::*;

/// Rust allocations of the module (not Python's objects) go through mimalloc: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod archive;
mod canon;
mod check;
mod convert;
mod diff;
mod doorway;
mod errors;
mod fixtures;
mod node;
mod pii;
mod run;
mod scenario;
mod server;
mod shrink;
mod sim;
mod snapshot;
mod warroom;

/// The native module.
#[pymodule]
fn _toron(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", toron_core::VERSION)?;
    errors::register(m)?;
    m.add_class::<scenario::PyScenario>()?;
    m.add_class::<sim::PyOutcome>()?;
    m.add_function(wrap_pyfunction!(sim::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sim::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sim::_expect_sometimes, m)?)?;
    m.add_function(wrap_pyfunction!(sim::marks, m)?)?;
    m.add_function(wrap_pyfunction!(canon::canonical, m)?)?;
    m.add_function(wrap_pyfunction!(canon::digest, m)?)?;
    m.add_function(wrap_pyfunction!(canon::pretty, m)?)?;
    m.add_function(wrap_pyfunction!(canon::parse_json, m)?)?;
    m.add_function(wrap_pyfunction!(canon::read_json, m)?)?;
    m.add_class::<diff::PyDiff>()?;
    m.add_class::<diff::PyTextDiff>()?;
    m.add_function(wrap_pyfunction!(diff::diff, m)?)?;
    m.add_function(wrap_pyfunction!(diff::apply_patch, m)?)?;
    m.add_function(wrap_pyfunction!(diff::text_diff, m)?)?;
    m.add_class::<snapshot::PySnapshots>()?;
    m.add_class::<snapshot::PyCheckResult>()?;
    m.add_class::<snapshot::PyPending>()?;
    m.add_class::<archive::PyArchive>()?;
    m.add_class::<archive::PyRunWriter>()?;
    run::register(m)?;
    m.add_function(wrap_pyfunction!(server::serve, m)?)?;
    pii::register(m)?;
    fixtures::register(m)?;
    warroom::register(m)?;
    check::register(m)?;
    shrink::register(m)?;
    node::register(m)?;
    Ok(())
}
