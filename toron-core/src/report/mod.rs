//! Reports: a run's KPIs ([`Kpis`]), the coverage files it ingests ([`coverage`]), and the files written per
//! run by [`write_reports`] into `reports/<run id>/`: `report.json` and `verdict.json` ([`json`], schemas
//! documented there) and `junit.xml` ([`junit`]).
//!
//! Coverage comes from Cobertura XML (as coverage.py and most tools write it) and lcov `.info` files; several
//! files merge into one [`coverage::Coverage`] where a line counts as covered when any file covers it, and the
//! line rate of a single coverage.py file equals coverage.py's own total.

#![allow(
    clippy::result_large_err,
    reason = "toron_core::Error's size is decided in error.rs, not here"
)]

pub mod coverage;
pub mod determinism;
pub mod json;
pub mod junit;
mod kpi;

pub use kpi::{Kpis, Values};

use crate::runner::RunResult;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// `report.json`.
pub const REPORT_FILE: &str = "report.json";
/// `verdict.json`.
pub const VERDICT_FILE: &str = "verdict.json";
/// `junit.xml`.
pub const JUNIT_FILE: &str = "junit.xml";

/// Write `report.json`, `verdict.json` and `junit.xml` of `result` into `<reports_root>/<run id>/`; returns
/// that directory. Each file is written to a temporary name then renamed, so a reader never sees half a file.
pub fn write_reports(result: &RunResult, reports_root: &Path) -> Result<PathBuf> {
    let dir = reports_root.join(&result.id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&e, &dir))?;
    let pretty = |v: &serde_json::Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s
    };
    write_atomic(&dir.join(REPORT_FILE), &pretty(&json::report_json(result)))?;
    write_atomic(&dir.join(VERDICT_FILE), &pretty(&json::verdict_json(result)))?;
    write_atomic(&dir.join(JUNIT_FILE), &junit::junit_xml(result)?)?;
    Ok(dir)
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::io(&e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(&e, path))
}
