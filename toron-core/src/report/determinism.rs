//! `determinism.json`: per determinism case, the runs made, the digests seen, whether they agree, and the drift
//! (the first divergent trace event, or a command artifact's first differing JSON paths).
//!
//! # Schema `toron.determinism` version 1
//!
//! ```text
//! { "schema": "toron.determinism", "version": 1, "run": id, "deterministic": bool (every case agreed),
//!   "cases": [ { "case": "suite/case", "scenario": id | null, "runs", "repeats", "threads": [..],
//!                "processes", "deterministic", "digests": {seed: {digest: times}},
//!                "artifacts": {file: {identity: times}}, "drift": divergence | null,
//!                "artifact_drift": [ {"artifact", "path", "a", "b"} ], "outcome", "message" } ] }
//! ```
//!
//! Each run writes `reports/<run id>/determinism.json`; a run that checked determinism also writes
//! `reports/determinism.json` (the operations guide's "check drift in `reports/determinism.json`"), so the
//! latest check stays there when later runs check none.

use crate::runner::{CaseKind, RunResult};
use crate::snapshot::fsutil::atomic_write;
use crate::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// The file name.
pub const DETERMINISM_FILE: &str = "determinism.json";

/// The schema name.
pub const DETERMINISM_SCHEMA: &str = "toron.determinism";

/// `determinism.json` of a run as a value.
pub fn determinism_json(result: &RunResult) -> Value {
    let cases: Vec<Value> = result
        .cases
        .iter()
        .filter(|c| c.kind == CaseKind::Determinism)
        .map(|c| {
            let last = c.last();
            let d = last.and_then(|a| a.determinism.as_ref());
            json!({
                "case": c.id(),
                "scenario": c.scenario,
                "outcome": c.outcome.name(),
                "message": last.and_then(|a| a.message.clone()).or_else(|| c.error.clone()),
                "runs": d.map(|d| d.runs),
                "repeats": d.map(|d| d.repeats),
                "threads": d.map(|d| d.threads.clone()),
                "processes": d.map(|d| d.processes),
                "deterministic": d.map(|d| d.deterministic),
                "digests": d.map(|d| json!(d.digests)),
                "artifacts": d.map(|d| json!(d.artifacts)),
                "drift": d.and_then(|d| d.drift.clone()),
                "artifact_drift": d.map(|d| json!(d.artifact_drift)),
            })
        })
        .collect();
    let all = cases.iter().all(|c| c["deterministic"] == json!(true));
    json!({
        "schema": DETERMINISM_SCHEMA,
        "version": super::json::SCHEMA_VERSION,
        "run": result.id,
        "deterministic": all,
        "cases": cases,
    })
}

/// Write `<reports_root>/<run id>/determinism.json`, and `<reports_root>/determinism.json` when the run
/// checked determinism.
pub fn write(result: &RunResult, reports_root: &Path) -> Result<()> {
    let value = determinism_json(result);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    let dir = reports_root.join(&result.id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&e, &dir))?;
    let per_run = dir.join(DETERMINISM_FILE);
    atomic_write(&per_run, text.as_bytes()).map_err(|e| Error::write(&e, &per_run))?;
    if result.cases.iter().any(|c| c.kind == CaseKind::Determinism) {
        let latest = reports_root.join(DETERMINISM_FILE);
        atomic_write(&latest, text.as_bytes()).map_err(|e| Error::write(&e, &latest))?;
    }
    Ok(())
}
