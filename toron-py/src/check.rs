//! `toron.check_linearizable`: linearizability of a client history (`toron_core::check`).

use crate::{canon::text_arg, convert, doorway, errors};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use std::path::PathBuf;
use toron_core::check::{self, History, ModelKind};

/// What the history argument was.
enum Source {
    Value(serde_json::Value),
    Text(String),
    Path(PathBuf),
}

fn source(history: &Bound<'_, PyAny>) -> PyResult<Source> {
    if history.cast::<PyList>().is_ok() || history.cast::<pyo3::types::PyTuple>().is_ok() {
        return Ok(Source::Value(convert::to_argument(history, "history")?));
    }
    if history.cast::<PyBytes>().is_ok() {
        return Ok(Source::Text(text_arg(history, "history")?));
    }
    if let Ok(s) = history.cast::<PyString>() {
        let text = s.to_cow()?.into_owned();
        // History text starts with a bracket, a brace, `#` (an EDN tag), `(` or `;` (an EDN comment); anything
        // else is a file name.
        let looks_like_text = matches!(
            text.trim_start().chars().next(),
            None | Some('[' | '{' | '(' | '#' | ';')
        );
        return Ok(if looks_like_text {
            Source::Text(text)
        } else {
            Source::Path(PathBuf::from(text))
        });
    }
    // os.PathLike (pathlib.Path), else a TypeError from the conversion.
    Ok(Source::Path(history.extract::<PathBuf>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "history must be a list of op dicts, JSON or EDN text (str or bytes), or a path",
        )
    })?))
}

/// Check a history for linearizability against a model and return the verdict as a dict.
#[pyfunction]
#[pyo3(signature = (history, model = "kv", budget = None))]
pub(crate) fn check_linearizable<'py>(
    py: Python<'py>,
    history: &Bound<'py, PyAny>,
    model: &str,
    budget: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let model = ModelKind::parse(model).map_err(errors::map)?;
    let source = source(history)?;
    // Ctrl-C sets `cancel`, which the search looks at every few thousand steps: `KeyboardInterrupt` promptly.
    let verdict = doorway::enter(py, move |cancel| {
        let history = match source {
            Source::Value(v) => History::from_value(&v)?,
            Source::Text(t) => History::parse(&t)?,
            Source::Path(p) => History::from_path(&p)?,
        };
        check::check_with(&history, model, budget, Some(cancel))
    })?;
    convert::from_value(py, &verdict.to_value())
}

/// The verdict's text rendering, for the command line (`verdict` as `check_linearizable` returned it).
#[pyfunction]
pub(crate) fn _verdict_text(verdict: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = convert::to_argument(verdict, "verdict")?;
    let verdict: check::Verdict =
        serde_json::from_value(value).map_err(|e| errors::invalid_argument(format!("not a verdict: {e}")))?;
    Ok(verdict.text())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_linearizable, m)?)?;
    m.add_function(wrap_pyfunction!(_verdict_text, m)?)?;
    Ok(())
}
