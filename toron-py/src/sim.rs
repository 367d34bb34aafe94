//! `toron.simulate`, `toron.sweep` and `toron.Outcome`.

use crate::scenario::PyScenario;
use crate::{convert, doorway, errors};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyTuple};
use std::path::PathBuf;
use toron_core::check::HistoryFormat;
use toron_core::sim::{self, Outcome, SimOptions};

/// The result of one simulation. Immutable; the dict attributes are fresh copies on each access.
#[pyclass(frozen, module = "toron", name = "Outcome")]
pub(crate) struct PyOutcome {
    inner: Outcome,
}

#[pymethods]
impl PyOutcome {
    /// The scenario's name.
    #[getter]
    fn scenario(&self) -> &str {
        &self.inner.scenario
    }

    /// The seed used (from the call, the scenario, `SIM_SEED`, or 0).
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The engine version that produced it.
    #[getter]
    fn engine(&self) -> &str {
        &self.inner.engine
    }

    /// The trace digest: blake3 of the trace, 64 hex chars.
    #[getter]
    fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// Counters: events, messages_*, virtual_time_ns, requests_*, throughput, stopped_by.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.stats)
    }

    /// Latency of answered requests in seconds: count, min, mean, p50, p90, p99, p999, max.
    #[getter]
    fn latency<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.latency)
    }

    /// Invariant violations in time order: dicts with time, time_ns, node, invariant, message.
    #[getter]
    fn violations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.violations)
    }

    /// The load's client operations (op dicts: process, type, f, key, value, time, index), when recorded
    /// (`simulate(..., history=True)` or a scenario's `[invariants] linearizable`); else None.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.history {
            Some(h) => convert::from_value(py, &h.to_value()),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// The recorded history as text: `"json"` (a JSON array) or `"edn"` (Jepsen EDN, one op per line), for
    /// `toron check-history` or Jepsen's own checkers.
    #[pyo3(signature = (format = "json"))]
    fn history_text(&self, format: &str) -> PyResult<String> {
        let Some(h) = &self.inner.history else {
            return Err(errors::invalid_argument(
                "no history was recorded (expected simulate(..., history=True) or [invariants] linearizable)",
            ));
        };
        match format {
            "json" => Ok(h.write(HistoryFormat::Json)),
            "edn" => Ok(h.write(HistoryFormat::Edn)),
            other => Err(errors::invalid_argument(format!(
                "unknown history format {other:?} (expected \"json\" or \"edn\")"
            ))),
        }
    }

    /// The verdict of the scenario's `[invariants] linearizable` check (as `check_linearizable` returns it),
    /// or None when the scenario asks for none.
    #[getter]
    fn linearizable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.linearizable {
            Some(v) => convert::from_value(py, &v.to_value()),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// Marks reached (`ctx.mark`, and `fault.<kind>` per injected fault), with their counts.
    #[getter]
    fn coverage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.inner.coverage)
    }

    /// The output document: per node id, what the model reports.
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.output)
    }

    /// The whole outcome as a dict (the structure of `to_json()`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_value(py, &self.inner.to_value())
    }

    /// The outcome as JSON text (keys sorted).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// A one-line summary for people.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// An outcome from `to_json()` text (used by pickling).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        serde_json::from_str(text)
            .map(|inner| PyOutcome { inner })
            .map_err(|e| {
                errors::map(toron_core::Error::new(
                    toron_core::ErrorKind::Json,
                    format!("not an outcome: {e}"),
                ))
            })
    }

    fn __repr__(&self) -> String {
        let o = &self.inner;
        format!(
            "Outcome(scenario={}, seed={}, digest='{}…', events={}, violations={})",
            convert::quoted(&o.scenario),
            o.seed,
            &o.digest[..16.min(o.digest.len())],
            o.stats.events,
            o.violations.len()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyOutcome>) -> bool {
        self.inner == other.get().inner
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(py, [slf.get().inner.to_json()])?;
        PyTuple::new(py, [ctor, args.into_any()])
    }
}

/// An unsigned 64-bit integer argument (an `int` or an integer-like with `__index__`, not a `bool`):
/// `TypeError` if not an integer, `toron.InvalidArgumentError` (a `ValueError`) if out of range.
fn u64_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let integer = !obj.is_instance_of::<PyBool>() && (obj.is_instance_of::<PyInt>() || obj.hasattr("__index__")?);
    if !integer {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(PyTypeError::new_err(format!("{what} must be an int, not {type_name}")));
    }
    let value = obj.call_method0("__index__")?;
    value.extract::<u64>().map_err(|_| {
        let shown = value.str().map(|s| s.to_string()).unwrap_or_default();
        errors::invalid_argument(format!("{what} {shown} is out of range (expected from 0 to 2^64-1)"))
    })
}

/// Simulate `scenario` with `seed` (None: the scenario's, then `SIM_SEED`, then 0); `trace` writes the full
/// trace as JSON Lines to that path; `history` records the load's operations in `Outcome.history`. Releases
/// the GIL; Ctrl-C stops it with `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (scenario, seed = None, trace = None, *, history = false))]
pub(crate) fn simulate(
    py: Python<'_>,
    scenario: &Bound<'_, PyScenario>,
    seed: Option<&Bound<'_, PyAny>>,
    trace: Option<PathBuf>,
    history: bool,
) -> PyResult<PyOutcome> {
    let seed = seed.map(|s| u64_arg(s, "seed")).transpose()?;
    let s = scenario.get().inner.clone();
    let outcome = doorway::enter(py, move |cancel| {
        sim::simulate_with(
            &s,
            &SimOptions {
                seed,
                trace,
                cancel: Some(cancel),
                history,
            },
        )
    })?;
    Ok(PyOutcome { inner: outcome })
}

/// Simulate every seed (on all cores, or `threads` threads); the outcomes come back in seed order and equal
/// what `simulate` gives for each seed alone. Releases the GIL; Ctrl-C stops it with `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (scenario, seeds, threads = None))]
pub(crate) fn sweep(
    py: Python<'_>,
    scenario: &Bound<'_, PyScenario>,
    seeds: &Bound<'_, PyAny>,
    threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<PyOutcome>> {
    let mut list = Vec::new();
    for item in seeds.try_iter()? {
        list.push(u64_arg(&item?, "seed")?);
    }
    let threads = threads
        .map(|t| {
            u64_arg(t, "threads").and_then(|n| {
                usize::try_from(n).map_err(|_| errors::invalid_argument(format!("threads {n} is too many")))
            })
        })
        .transpose()?;
    let s = scenario.get().inner.clone();
    let outcomes = doorway::enter(py, move |cancel| sim::sweep_with(&s, &list, threads, Some(cancel)))?;
    Ok(outcomes.into_iter().map(|inner| PyOutcome { inner }).collect())
}

/// Per mark of the scenario's `[expect] sometimes`, the seeds of `outcomes` that reached it; raises
/// `toron.ExpectationError` naming the marks no seed reached.
#[pyfunction]
pub(crate) fn _expect_sometimes(
    scenario: &Bound<'_, PyScenario>,
    outcomes: Vec<Bound<'_, PyOutcome>>,
) -> PyResult<Vec<(String, Vec<u64>)>> {
    let list: Vec<Outcome> = outcomes.iter().map(|o| o.get().inner.clone()).collect();
    sim::expect_sometimes(&scenario.get().inner, &list).map_err(errors::map)
}

/// Per mark of the scenario's `[expect] sometimes`, the seeds of `outcomes` that reached it (never raises).
#[pyfunction]
pub(crate) fn marks(scenario: &Bound<'_, PyScenario>, outcomes: Vec<Bound<'_, PyOutcome>>) -> Vec<(String, Vec<u64>)> {
    let list: Vec<Outcome> = outcomes.iter().map(|o| o.get().inner.clone()).collect();
    sim::sometimes(&scenario.get().inner, &list)
}
