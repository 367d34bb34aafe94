//! The runs an archive holds, for `toron runs`, `toron report` and replay: finished runs come back whole (the
//! archive keeps each [`RunResult`]); a run whose process died before it finished (`kill -9`, a crash, a
//! power cut) is shown `errored` with the error "interrupted", never as running forever.

use super::lock;
use super::run::{RunResult, RunState};
use crate::gate::Verdict;
use crate::report::Kpis;
use crate::snapshot::archive::{Archive, RunManifest};
use crate::{Error, ErrorKind, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The error of a run whose process ended before the run finished.
pub const INTERRUPTED: &str = "interrupted";

/// Every run of the archive at `archive_root`, newest first. Finished runs as they ended; unfinished ones as
/// `scheduled` / `running` while their process lives, else `errored` with the error [`INTERRUPTED`].
pub fn list_runs(archive_root: impl AsRef<Path>) -> Result<Vec<RunResult>> {
    let root = archive_root.as_ref();
    Ok(Archive::open(root)
        .manifests()?
        .iter()
        .map(|m| from_manifest(root, m))
        .collect())
}

/// One run of the archive by id; an unknown id is an `InvalidArgument` error that lists the newest ids.
pub fn load_run(archive_root: impl AsRef<Path>, run_id: &str) -> Result<RunResult> {
    let root = archive_root.as_ref();
    let archive = Archive::open(root);
    let known = archive.runs()?;
    if !known.iter().any(|r| r.tag == run_id) {
        return Err(unknown_run(root, run_id, known.iter().map(|r| r.tag.as_str())));
    }
    Ok(from_manifest(root, &archive.manifest(run_id)?))
}

/// "no run X in ARCHIVE (newest: a, b, c)", as the `InvalidArgument` error of an unknown run id.
pub(crate) fn unknown_run<'a>(root: &Path, run_id: &str, newest: impl Iterator<Item = &'a str>) -> Error {
    let newest: Vec<&str> = newest.take(5).collect();
    let listed = if newest.is_empty() {
        "it has no runs".to_string()
    } else {
        format!("newest: {}", newest.join(", "))
    };
    Error::new(
        ErrorKind::InvalidArgument,
        format!("no run {run_id:?} in the archive {} ({listed})", root.display()),
    )
    .with_field("run_id")
}

fn from_manifest(root: &Path, m: &RunManifest) -> RunResult {
    if let Some(r) = m
        .meta
        .get("result")
        .and_then(|v| <RunResult as serde::Deserialize>::deserialize(v).ok())
    {
        return r;
    }
    let meta = |k: &str| m.meta.get(k).cloned().unwrap_or(Value::Null);
    let recorded: RunState = serde_json::from_value(meta("state")).unwrap_or(RunState::Errored);
    let alive = lock::is_alive(root, &m.tag);
    let (state, error) = match recorded {
        RunState::Scheduled | RunState::Running if alive => (recorded, None),
        RunState::Scheduled | RunState::Running => (RunState::Errored, Some(INTERRUPTED.to_string())),
        other => (other, meta("error").as_str().map(str::to_string)),
    };
    RunResult {
        id: m.tag.clone(),
        state,
        error,
        profile: meta("profile").as_str().map(str::to_string),
        suites: serde_json::from_value(meta("suites")).unwrap_or_default(),
        seed: meta("seed").as_u64(),
        seed_source: meta("seed_source").as_str().unwrap_or("scenario").to_string(),
        started: m.created.clone(),
        duration: 0.0,
        cases: Vec::new(),
        kpis: Kpis::default(),
        verdict: Verdict::none(),
        archive: root.to_path_buf(),
        report_dir: None,
        unused_goldens: Vec::new(),
    }
}

/// Render the reports of the archive's runs from the archive alone: `run_id` (or every run when `None`)
/// into `<reports_root>/<run id>/`, then `<reports_root>/index.html`. Returns the directories written.
pub fn render_reports(
    archive_root: impl AsRef<Path>,
    reports_root: impl AsRef<Path>,
    run_id: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let (root, reports) = (archive_root.as_ref(), reports_root.as_ref());
    let runs = list_runs(root)?;
    let chosen: Vec<&RunResult> = match run_id {
        Some(id) => {
            let r = runs
                .iter()
                .find(|r| r.id == id)
                .ok_or_else(|| unknown_run(root, id, runs.iter().map(|r| r.id.as_str())))?;
            vec![r]
        }
        None => runs.iter().collect(),
    };
    let mut dirs = Vec::new();
    for r in chosen {
        let mut r = r.clone();
        let dir = crate::report::write_reports(&r, reports)?;
        r.report_dir = Some(dir.clone());
        crate::report::determinism::write(&r, reports)?;
        dirs.push(dir);
    }
    write_index(root, reports)?;
    Ok(dirs)
}

/// Write `<reports_root>/index.html` listing every run of the archive, newest first.
pub fn write_index(archive_root: &Path, reports_root: &Path) -> Result<PathBuf> {
    crate::report::write_index(&list_runs(archive_root)?, reports_root)
}

/// [`write_index`] at the end of a run, which has its own result at hand: it is not read back.
pub(crate) fn write_index_with(archive_root: &Path, reports_root: &Path, current: &RunResult) -> Result<PathBuf> {
    let mut runs = Vec::new();
    for m in Archive::open(archive_root).manifests_except(&current.id)? {
        runs.push(from_manifest(archive_root, &m));
    }
    let at = runs
        .iter()
        .position(|r| (r.started.as_str(), r.id.as_str()) < (current.started.as_str(), current.id.as_str()))
        .unwrap_or(runs.len());
    runs.insert(at, current.clone());
    crate::report::write_index(&runs, reports_root)
}
