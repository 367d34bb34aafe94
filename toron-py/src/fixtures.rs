//! `toron.Dataset`: a synthetic data-set schema (`toron_core::fixtures`), its rows as Python dicts or
//! columns, and its files with their digests.

use crate::{convert, doorway, errors};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use toron_core::fixtures::{Cell, OutputFormat, Schema};
use toron_core::scenario::Format;
use toron_core::{Error as CoreError, ErrorKind};

/// A validated data-set schema. Immutable; build one with `from_file`, `from_str` or `from_dict`.
#[pyclass(frozen, module = "toron", name = "Dataset")]
pub(crate) struct PyDataset {
    inner: Arc<Schema>,
}

impl PyDataset {
    fn new(inner: Schema) -> Self {
        PyDataset { inner: Arc::new(inner) }
    }
}

/// Every cell of `table` under `seed`, row after row (rows × fields), generated with the GIL released.
fn cells(py: Python<'_>, schema: &Arc<Schema>, table: &str, seed: u64) -> PyResult<(Vec<String>, Vec<Cell>)> {
    let schema = schema.clone();
    let table = table.to_string();
    doorway::enter(py, move |cancel| {
        let mut gen = schema.generator(&table, seed)?;
        let names: Vec<String> = gen.field_names().map(str::to_string).collect();
        let mut out = Vec::with_capacity(
            usize::try_from(gen.len())
                .unwrap_or(0)
                .saturating_mul(names.len())
                .min(1 << 26),
        );
        let mut n = 0u64;
        while let Some(row) = gen.next_row() {
            out.extend_from_slice(row?);
            n += 1;
            if n.is_multiple_of(65_536) && cancel.load(Ordering::Relaxed) {
                return Err(CoreError::new(ErrorKind::Cancelled, "cancelled"));
            }
        }
        Ok((names, out))
    })
}

#[inline]
fn cell_to_py<'py>(py: Python<'py>, cell: &Cell) -> PyResult<Bound<'py, PyAny>> {
    Ok(match cell {
        Cell::Null => py.None().into_bound(py),
        Cell::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Cell::Int(i) => i.into_pyobject(py)?.into_any(),
        Cell::Float(f) => PyFloat::new(py, *f).into_any(),
        Cell::Text(s) => PyString::new(py, s).into_any(),
    })
}

fn format_arg(format: &str) -> PyResult<OutputFormat> {
    OutputFormat::parse(format).map_err(errors::map)
}

#[pymethods]
impl PyDataset {
    /// Read a schema file (`.json` is JSON, anything else TOML).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Schema::from_path(&path))
            .map(Self::new)
            .map_err(errors::map)
    }

    /// Parse a schema from text; `format` is "toml" or "json".
    #[staticmethod]
    #[pyo3(signature = (text, format = "toml"))]
    fn from_str(text: &str, format: &str) -> PyResult<Self> {
        let format = Format::parse(format).map_err(errors::map)?;
        Schema::from_str(text, format, None).map(Self::new).map_err(errors::map)
    }

    /// Build a schema from a dict of the file's structure.
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value = convert::to_value_as(d, ErrorKind::Dataset)?;
        Schema::from_value(&value).map(Self::new).map_err(errors::map)
    }

    /// The table names, in declaration order.
    #[getter]
    fn tables(&self) -> Vec<String> {
        self.inner.tables().into_iter().map(|t| t.name).collect()
    }

    /// Each table's name, row count and field names: `[{"name", "rows", "fields"}]`.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for t in self.inner.tables() {
            let d = PyDict::new(py);
            d.set_item("name", t.name)?;
            d.set_item("rows", t.rows)?;
            d.set_item("fields", t.fields)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The rows of `table` under `seed` as dicts (keys in field order). Releases the GIL while generating.
    #[pyo3(signature = (table, seed = 0))]
    fn rows<'py>(&self, py: Python<'py>, table: &str, seed: u64) -> PyResult<Bound<'py, PyList>> {
        let (names, cells) = cells(py, &self.inner, table, seed)?;
        let keys: Vec<Bound<'py, PyString>> = names.iter().map(|n| PyString::intern(py, n)).collect();
        let list = PyList::empty(py);
        if keys.is_empty() {
            return Ok(list);
        }
        for row in cells.chunks_exact(keys.len()) {
            let d = PyDict::new(py);
            for (k, c) in keys.iter().zip(row) {
                d.set_item(k, cell_to_py(py, c)?)?;
            }
            list.append(d)?;
        }
        Ok(list)
    }

    /// The columns of `table` under `seed`: a dict from field name to the list of its values.
    #[pyo3(signature = (table, seed = 0))]
    fn columns<'py>(&self, py: Python<'py>, table: &str, seed: u64) -> PyResult<Bound<'py, PyDict>> {
        let (names, cells) = cells(py, &self.inner, table, seed)?;
        let out = PyDict::new(py);
        let width = names.len();
        for (i, name) in names.iter().enumerate() {
            let col = PyList::empty(py);
            for c in cells.iter().skip(i).step_by(width.max(1)) {
                col.append(cell_to_py(py, c)?)?;
            }
            out.set_item(PyString::intern(py, name), col)?;
        }
        Ok(out)
    }

    /// Write every table to `<out_dir>/<table>.<format>` (atomically per file) and return the summary:
    /// `{"seed", "format", "engine", "words", "digest", "tables": [{"table", "rows", "bytes", "digest", "path"}]}`.
    #[pyo3(signature = (out_dir, seed = 0, format = "jsonl"))]
    fn write<'py>(&self, py: Python<'py>, out_dir: PathBuf, seed: u64, format: &str) -> PyResult<Bound<'py, PyAny>> {
        let format = format_arg(format)?;
        let schema = self.inner.clone();
        let summary = doorway::enter(py, move |_| schema.write_dir(&out_dir, seed, format))?;
        convert::from_value(py, &summary.to_value())
    }

    /// The data set's digest (what `write` would report) without writing anything.
    #[pyo3(signature = (seed = 0, format = "jsonl"))]
    fn digest(&self, py: Python<'_>, seed: u64, format: &str) -> PyResult<String> {
        let format = format_arg(format)?;
        let schema = self.inner.clone();
        doorway::enter(py, move |_| schema.digest(seed, format)).map(|s| s.digest)
    }

    /// The summary `write` would return (paths None), without writing anything.
    #[pyo3(signature = (seed = 0, format = "jsonl"))]
    fn summary<'py>(&self, py: Python<'py>, seed: u64, format: &str) -> PyResult<Bound<'py, PyAny>> {
        let format = format_arg(format)?;
        let schema = self.inner.clone();
        let summary = doorway::enter(py, move |_| schema.digest(seed, format))?;
        convert::from_value(py, &summary.to_value())
    }

    /// One table's bytes in `format` (what its file would hold).
    #[pyo3(signature = (table, seed = 0, format = "jsonl"))]
    fn dump(&self, py: Python<'_>, table: &str, seed: u64, format: &str) -> PyResult<Vec<u8>> {
        let format = format_arg(format)?;
        let schema = self.inner.clone();
        let table = table.to_string();
        doorway::enter(py, move |_| {
            let mut out = Vec::new();
            schema.write_table(&table, seed, format, &mut out)?;
            Ok(out)
        })
    }

    /// The file the schema was read from, if any.
    #[getter]
    fn file(&self) -> Option<String> {
        self.inner.file().map(|f| f.to_string_lossy().into_owned())
    }

    fn __repr__(&self) -> String {
        let tables: Vec<String> = self
            .inner
            .tables()
            .into_iter()
            .map(|t| format!("{}({} rows)", t.name, t.rows))
            .collect();
        format!("Dataset({})", tables.join(", "))
    }
}

/// Add this concept's classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDataset>()?;
    Ok(())
}
