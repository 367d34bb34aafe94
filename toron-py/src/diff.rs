//! `toron.diff`, `toron.Diff`, `toron.apply_patch`, `toron.text_diff` and `toron.TextDiff`
//! (`toron_core::diff`).
//!
//! Values are converted with the GIL held (`convert::to_canonical`); the comparison itself runs through the
//! doorway, with the GIL released.

use crate::{convert, doorway, errors};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde_json::{Map, Value};
use toron_core::diff::text::{self, TextAlgorithm, TextOptions};
use toron_core::diff::{self as core, DiffOptions, Format};
use toron_core::{Error as CoreError, ErrorKind};

/// Diff options from the keyword arguments every diffing call takes (`keys`, `ignore`, `redact`, `tolerance`,
/// `tolerances`, `budget`), validated by the core: `InvalidArgumentError` naming the option.
pub(crate) fn options(
    keys: Option<&Bound<'_, PyAny>>,
    ignore: Option<&Bound<'_, PyAny>>,
    redact: Option<&Bound<'_, PyAny>>,
    tolerance: Option<&Bound<'_, PyAny>>,
    tolerances: Option<&Bound<'_, PyAny>>,
    budget: Option<&Bound<'_, PyAny>>,
) -> PyResult<DiffOptions> {
    let mut map = Map::new();
    for (name, arg) in [
        ("keys", keys),
        ("ignore", ignore),
        ("redact", redact),
        ("tolerance", tolerance),
        ("tolerances", tolerances),
        ("budget", budget),
    ] {
        if let Some(arg) = arg.filter(|a| !a.is_none()) {
            if matches!(name, "ignore" | "redact") && arg.is_instance_of::<PyString>() {
                // A lone string would be read as a list of characters by a looser API; say what is expected.
                return Err(errors::map(
                    CoreError::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "{name} must be a list of path patterns, not a string (write [{:?}])",
                            arg.str()?.to_cow()?
                        ),
                    )
                    .with_field(name),
                ));
            }
            map.insert(name.into(), convert::to_argument(arg, name)?);
        }
    }
    DiffOptions::from_json(&Value::Object(map)).map_err(errors::map)
}

fn format_arg(format: &str) -> PyResult<Format> {
    format.parse::<Format>().map_err(errors::map)
}

/// The result of `toron.diff`: operations that turn `old` into `new`. `bool(diff)` is true when they differ.
#[pyclass(frozen, module = "toron", name = "Diff")]
pub(crate) struct PyDiff {
    pub(crate) inner: core::Diff,
}

#[pymethods]
impl PyDiff {
    /// The RFC 6902 JSON Patch (a fresh list of dicts): `apply_patch(old, d.patch) == new`.
    #[getter]
    fn patch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.patch())
    }

    /// The changes for machines: dicts with `op`, `path`, and `from`, `old`, `value` when present.
    #[getter]
    fn changes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let changes: Vec<Value> = self.inner.ops().iter().map(core::Op::to_change).collect();
        convert::from_value(py, &Value::Array(changes))
    }

    /// Operations by kind: `{"changed": n, "added": n, "removed": n, "moved": n}`.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.inner.counts();
        let d = PyDict::new(py);
        d.set_item("changed", c.changed)?;
        d.set_item("added", c.added)?;
        d.set_item("removed", c.removed)?;
        d.set_item("moved", c.moved)?;
        Ok(d)
    }

    /// True when the operation budget ran out and some subtrees were replaced whole (the patch is still right).
    #[getter]
    fn coarse(&self) -> bool {
        self.inner.is_coarse()
    }

    /// The comparison steps spent (what `budget` counts).
    #[getter]
    fn steps(&self) -> u64 {
        self.inner.steps()
    }

    /// One line: `3 changed, 1 added, 2 removed` or `no differences`.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// Render as `"text"`, `"color"` (ANSI), `"html"` (a self-contained fragment) or `"json"`.
    #[pyo3(signature = (format = "text"))]
    fn render(&self, format: &str) -> PyResult<String> {
        Ok(self.inner.render(format_arg(format)?))
    }

    fn __bool__(&self) -> bool {
        !self.inner.is_empty()
    }

    fn __len__(&self) -> usize {
        self.inner.ops().len()
    }

    fn __str__(&self) -> String {
        self.inner.render(Format::Text)
    }

    fn __repr__(&self) -> String {
        format!("<toron.Diff: {}>", self.inner.summary())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyDiff>().is_ok_and(|o| self.inner == o.get().inner)
    }
}

/// Compare two JSON-like values. Releases the GIL while comparing.
#[pyfunction]
#[pyo3(signature = (old, new, *, keys = None, ignore = None, redact = None, tolerance = None, tolerances = None, budget = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "the keyword options of the Python API, one per diff option"
)]
pub(crate) fn diff(
    py: Python<'_>,
    old: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    ignore: Option<&Bound<'_, PyAny>>,
    redact: Option<&Bound<'_, PyAny>>,
    tolerance: Option<&Bound<'_, PyAny>>,
    tolerances: Option<&Bound<'_, PyAny>>,
    budget: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyDiff> {
    let options = options(keys, ignore, redact, tolerance, tolerances, budget)?;
    let old = convert::to_canonical(old)?;
    let new = convert::to_canonical(new)?;
    let inner = doorway::enter(py, move |_cancel| {
        let d = core::diff(&old, &new, &options);
        // Free the two documents on the worker too, not under the GIL.
        drop((old, new));
        d
    })?;
    Ok(PyDiff { inner })
}

/// Apply an RFC 6902 JSON Patch to a copy of `value` and return it. `PatchError` (with `op_index` and `path`)
/// when an operation cannot apply; `value` is never modified.
#[pyfunction]
pub(crate) fn apply_patch<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    patch: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let value = convert::to_canonical(value)?;
    let patch = convert::to_canonical(patch)?;
    let result = doorway::enter(py, move |_cancel| core::apply_patch(&value, &patch))?;
    convert::from_value(py, &result)
}

/// The result of `toron.text_diff`: a line diff. `bool(d)` is true when the texts differ.
#[pyclass(frozen, module = "toron", name = "TextDiff")]
pub(crate) struct PyTextDiff {
    inner: text::TextDiff,
}

#[pymethods]
impl PyTextDiff {
    /// The unified diff (GNU `diff -u` format) as text; non-UTF-8 bytes appear as `\xNN` escapes.
    #[pyo3(signature = (context = 3, old_name = "a", new_name = "b"))]
    fn unified(&self, context: usize, old_name: &str, new_name: &str) -> String {
        self.inner.unified(context, old_name, new_name)
    }

    /// The unified diff as bytes, exactly what `patch` applies whatever the encoding.
    #[pyo3(signature = (context = 3, old_name = "a", new_name = "b"))]
    fn unified_bytes<'py>(
        &self,
        py: Python<'py>,
        context: usize,
        old_name: &str,
        new_name: &str,
    ) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.unified_bytes(context, old_name, new_name))
    }

    /// `N lines added, M lines removed` or `no differences`.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// Render as `"text"`, `"color"` (with intra-line highlights), `"html"` or `"json"`.
    #[pyo3(signature = (format = "text"))]
    fn render(&self, format: &str) -> PyResult<String> {
        Ok(self.inner.render(format_arg(format)?))
    }

    /// True when either side was not UTF-8 and lines of bytes were compared.
    #[getter]
    fn binary(&self) -> bool {
        self.inner.is_binary()
    }

    /// `(added, removed)` line counts.
    #[getter]
    fn counts(&self) -> (usize, usize) {
        self.inner.counts()
    }

    fn __bool__(&self) -> bool {
        !self.inner.is_empty()
    }

    fn __repr__(&self) -> String {
        format!("<toron.TextDiff: {}>", self.inner.summary())
    }
}

/// The bytes of a text argument, borrowed from the Python object where it can be.
enum Text<'a, 'py> {
    Borrowed(&'a [u8]),
    Encoded(Bound<'py, PyBytes>),
}

impl Text<'_, '_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Borrowed(b) => b,
            Text::Encoded(b) => b.as_bytes(),
        }
    }
}

/// Text as bytes: a `bytes` object's buffer, or a `str`'s UTF-8 form, both borrowed (immutable, kept alive
/// by the caller's frame), so a large text is not copied on the way in. (A `str` used to be encoded into a
/// new `bytes` object: two 10 MB copies per call on the text benchmark.) A `str` with a lone surrogate
/// raises the `UnicodeEncodeError` of encoding it, as before.
fn text_arg<'a, 'py>(obj: &'a Bound<'py, PyAny>, what: &str) -> PyResult<Text<'a, 'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Text::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(match convert::str_of(s) {
            Some(text) => Text::Borrowed(text.as_bytes()),
            None => Text::Encoded(s.encode_utf8()?),
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

/// Compare two texts (`str` or `bytes`) line by line with `algorithm` `"myers"` (default), `"patience"` or
/// `"histogram"`. Releases the GIL while comparing.
#[pyfunction]
#[pyo3(signature = (old, new, *, algorithm = "myers"))]
pub(crate) fn text_diff(
    py: Python<'_>,
    old: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
    algorithm: &str,
) -> PyResult<PyTextDiff> {
    let algorithm = match algorithm {
        "myers" => TextAlgorithm::Myers,
        "patience" => TextAlgorithm::Patience,
        "histogram" => TextAlgorithm::Histogram,
        other => {
            return Err(errors::map(
                CoreError::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown algorithm {other:?} (expected myers, patience or histogram)"),
                )
                .with_field("algorithm"),
            ))
        }
    };
    let old = text_arg(old, "old")?;
    let new = text_arg(new, "new")?;
    let (old, new) = (old.as_bytes(), new.as_bytes());
    let inner = doorway::enter(py, move |_cancel| {
        Ok(text::text_diff(old, new, &TextOptions { algorithm }))
    })?;
    Ok(PyTextDiff { inner })
}
