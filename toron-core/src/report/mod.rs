//! Reports: a run's KPIs ([`Kpis`]), the coverage files it ingests ([`coverage`]), and the files written per
//! run by [`write_reports`] into `reports/<run id>/`: `report.json` and `verdict.json` ([`json`], schemas
//! documented there), `junit.xml` ([`junit`]) and `index.html` ([`html`]: one self-contained page for people,
//! the verdict first). [`write_index`] writes `reports/index.html`, the list of runs linking to each run's
//! page.
//!
//! Every file is written under a temporary name then renamed, so a reader (a CI upload, a browser) never sees
//! half a file.
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
pub mod html;
pub mod json;
pub mod junit;
mod kpi;

pub use kpi::{Kpis, Values};

use crate::runner::{RunOverview, RunResult};
use crate::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// `report.json`.
pub const REPORT_FILE: &str = "report.json";
/// `verdict.json`.
pub const VERDICT_FILE: &str = "verdict.json";
/// `junit.xml`.
pub const JUNIT_FILE: &str = "junit.xml";
/// `index.html`: a run's page in its directory, and the list of runs in the reports root.
pub const INDEX_FILE: &str = "index.html";

/// A run's report directory: `<reports_root>/<run id>/`.
pub fn run_dir(reports_root: &Path, run_id: &str) -> PathBuf {
    reports_root.join(run_id)
}

/// Write `report.json`, `verdict.json`, `junit.xml` and `index.html` of `result` into
/// `<reports_root>/<run id>/`; returns that directory. Each file is written to a temporary name then renamed,
/// so a reader never sees half a file.
pub fn write_reports(result: &RunResult, reports_root: &Path) -> Result<PathBuf> {
    write_reports_with(result, reports_root, &OnceLock::new())
}

/// [`write_reports`] with the result as a JSON value in `value`, shared with whoever else needs it (the run's
/// end stores the same value in the archive): the first to need it builds it, the other waits for it.
pub(crate) fn write_reports_with(result: &RunResult, reports_root: &Path, value: &OnceLock<Value>) -> Result<PathBuf> {
    let dir = run_dir(reports_root, &result.id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&e, &dir))?;
    // The page and the JUnit file are the costly ones for a large run: render them on their own threads
    // while this one writes the JSON files (rayon's pool, which the simulations use, stays free).
    let (junit, page) = std::thread::scope(|scope| {
        let junit = scope.spawn(|| junit::junit_xml(result));
        let page = scope.spawn(|| html::run_html(result));
        let v = value.get_or_init(|| result_value(result));
        let json = write_atomic(&dir.join(REPORT_FILE), &pretty(&json::report_document(result, v)))
            .and_then(|()| write_atomic(&dir.join(VERDICT_FILE), &pretty(&json::verdict_json(result))));
        let joined = |what: &str| Error::new(crate::ErrorKind::Run, format!("rendering {what} panicked (a bug)"));
        let junit = junit.join().map_err(|_| joined(JUNIT_FILE)).and_then(|r| r);
        let page = page.join().map_err(|_| joined(INDEX_FILE));
        json.map(|()| (junit, page))
    })?;
    write_atomic(&dir.join(JUNIT_FILE), &junit?)?;
    write_atomic(&dir.join(INDEX_FILE), &page?)?;
    Ok(dir)
}

/// The whole result as a JSON value (what the archive stores, and what `report.json` is made of).
pub(crate) fn result_value(result: &RunResult) -> Value {
    serde_json::to_value(result).unwrap_or(Value::Null)
}

/// Pretty JSON ending with a newline.
fn pretty<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The warroom's incidents page under the reports root.
pub const INCIDENTS_FILE: &str = "incidents.html";

/// Write `<reports_root>/incidents.html`, the warroom's `incidents` (see [`html::incidents_html`]); returns its
/// path.
pub fn write_incidents(
    incidents: &[crate::warroom::Incident],
    postmortems: &std::collections::BTreeMap<String, String>,
    reports_root: &Path,
) -> Result<PathBuf> {
    std::fs::create_dir_all(reports_root).map_err(|e| Error::write(&e, reports_root))?;
    let path = reports_root.join(INCIDENTS_FILE);
    write_atomic(&path, &html::incidents_html(incidents, postmortems))?;
    Ok(path)
}

/// Write `<reports_root>/index.html`, the list of `runs` (newest first, as given) linking to each run's
/// `<run id>/index.html`; returns its path. Written to a temporary name then renamed, like the run's files.
pub fn write_index(runs: &[RunOverview], reports_root: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(reports_root).map_err(|e| Error::write(&e, reports_root))?;
    let path = reports_root.join(INDEX_FILE);
    write_atomic(&path, &html::index_html(runs))?;
    Ok(path)
}

/// Write `text` to `path` through a temporary file beside it. The temporary name carries the process id and
/// a counter: two runs of one project share `reports/index.html`, and must not write one temporary file.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| Error::write(&e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(&e, path)
    })
}
