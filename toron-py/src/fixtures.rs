//! The Python surface of `toron_core::fixtures` (being built).

use pyo3::prelude::*;

/// Add this concept's classes and functions to the module.
pub(crate) fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
