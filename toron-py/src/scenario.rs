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
    /// The nodes bound in code (`nodes=`), in id order: kept for pickling.
    bound: Vec<(String, Py<PyAny>)>,
}

impl PyScenario {
    pub(crate) fn new(inner: Scenario) -> Self {
        PyScenario {
            inner: Arc::new(inner),
            bound: Vec::new(),
        }
    }

    /// `inner` with the nodes of `nodes` (a dict of node id → `toron.Node` prototype) bound in code.
    fn with_nodes(mut inner: Scenario, nodes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut bound = Vec::new();
        if let Some(nodes) = nodes {
            for (id, node) in nodes.iter() {
                let id: String = id
                    .extract()
                    .map_err(|_| errors::invalid_argument("nodes: the keys are node ids (str)"))?;
                let factory = crate::node::prototype_factory(&id, &node)?;
                inner.set_node(&id, factory).map_err(errors::map)?;
                bound.push((id, node.unbind()));
            }
        }
        bound.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(PyScenario {
            inner: Arc::new(inner),
            bound,
        })
    }
}

#[pymethods]
impl PyScenario {
    /// Read a scenario file (`.json` is JSON, anything else TOML). `python:` node modules beside the file
    /// are importable, and a `c:` node's relative `library` is relative to it; `base_dir` names another
    /// directory for both (a copy of a scenario written elsewhere). `nodes` binds node ids to `toron.Node`
    /// prototypes (see `from_dict`).
    #[staticmethod]
    #[pyo3(signature = (path, nodes = None, base_dir = None))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        nodes: Option<&Bound<'_, PyDict>>,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let dir = base_dir.clone().or_else(|| {
            path.parent().map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
        });
        let inner = py
            .detach(|| {
                crate::node::loading_from(dir, || match &base_dir {
                    Some(base) => Scenario::from_path_relative_to(&path, base),
                    None => Scenario::from_path(&path),
                })
            })
            .map_err(errors::map)?;
        Self::with_nodes(inner, nodes)
    }

    /// Parse a scenario from text; `format` is "toml" or "json".
    #[staticmethod]
    #[pyo3(signature = (text, format = "toml", nodes = None))]
    fn from_str(text: &str, format: &str, nodes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let format = Format::parse(format).map_err(errors::map)?;
        let inner = Scenario::from_str(text, format).map_err(errors::map)?;
        Self::with_nodes(inner, nodes)
    }

    /// Build a scenario from a dict of the file's structure (what `to_dict` returns). `nodes` binds node ids
    /// to `toron.Node` instances, which win over the nodes' models: each is a prototype, and every start and
    /// restart of that node runs on a `copy.deepcopy` of it (the prototype itself never runs). `base_dir` is
    /// the directory of `python:` modules and relative `c:` libraries (a pickled scenario keeps its own).
    #[staticmethod]
    #[pyo3(signature = (d, nodes = None, base_dir = None))]
    fn from_dict(
        py: Python<'_>,
        d: &Bound<'_, PyAny>,
        nodes: Option<&Bound<'_, PyDict>>,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
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
        let inner = match base_dir {
            Some(dir) => py.detach(|| {
                crate::node::loading_from(Some(dir.clone()), || Scenario::from_value_relative_to(&value, &dir))
            }),
            None => Scenario::from_value(&value),
        }
        .map_err(errors::map)?;
        Self::with_nodes(inner, nodes)
    }

    /// The directory of `python:` modules and relative `c:` libraries: the file's, or the one given.
    #[getter]
    fn base_dir(&self) -> Option<String> {
        self.inner.base_dir().map(|d| d.to_string_lossy().into_owned())
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
        let nodes = PyDict::new(py);
        for (id, node) in &slf.get().bound {
            nodes.set_item(id, node.bind(py))?;
        }
        let base_dir = slf.get().base_dir().into_pyobject(py)?.into_any();
        let args = PyTuple::new(py, [slf.get().to_dict(py)?, nodes.into_any(), base_dir])?;
        PyTuple::new(py, [ctor, args.into_any()])
    }
}
