//! `toron._toron`: the native module behind `import toron`. An adapter only: it converts types, maps
//! errors and releases the GIL; every decision is toron-core's.

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _toron(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", toron_core::VERSION)?;
    Ok(())
}
