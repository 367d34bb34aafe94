//! `toron.canonical`, `toron.digest`, `toron.pretty`, `toron.parse_json` and `toron.read_json`: RFC 8785
//! canonical JSON and value identity (`toron_core::canon`).

use crate::{convert, errors};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::path::PathBuf;
use toron_core::{canon, Error as CoreError, ErrorKind};

/// The RFC 8785 canonical bytes of `value` (a JSON-like Python value).
#[pyfunction]
pub(crate) fn canonical<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let value = convert::to_canonical(value)?;
    let bytes = canon::canonical_bytes(&value).map_err(errors::map)?;
    Ok(PyBytes::new(py, &bytes))
}

/// The identity of `value`: blake3 of its canonical bytes, 64 lowercase hex characters.
#[pyfunction]
pub(crate) fn digest(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = convert::to_canonical(value)?;
    canon::digest(&value).map_err(errors::map)
}

/// Readable JSON in canonical key order and number form (2-space indent, final newline): a golden file's body.
#[pyfunction]
pub(crate) fn pretty(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = convert::to_canonical(value)?;
    canon::to_pretty(&value).map_err(errors::map)
}

/// Text (`str`, or UTF-8 `bytes`) as a `&str`-able owned string; `JsonError` for bytes that are not UTF-8.
pub(crate) fn text_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec()).map_err(|e| {
            errors::map(CoreError::new(
                ErrorKind::Json,
                format!(
                    "{what} is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            ))
        });
    }
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, not {type_name}"
    )))
}

/// Parse JSON text strictly (no duplicate keys, no trailing content, no NaN, integers within ±(2^53 - 1)).
/// `JsonError` with line and column (and the pointer of a duplicate key), `CanonicalError` with the pointer
/// of a number the canonical encoding cannot carry.
#[pyfunction]
pub(crate) fn parse_json<'py>(py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let text = text_arg(text, "JSON text")?;
    let value = py.detach(|| canon::parse_json(&text)).map_err(errors::map)?;
    convert::from_value(py, &value)
}

/// Read a JSON file and parse it as `parse_json` does; errors also name the file.
#[pyfunction]
pub(crate) fn read_json(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
    let value = py.detach(|| canon::read_json_file(&path)).map_err(errors::map)?;
    convert::from_value(py, &value)
}
