//! The runs an archive holds, for `toron runs`, `toron report` and replay: finished runs come back whole (the
//! archive keeps each [`RunResult`] as an object of the run) or as their [`RunOverview`] (kept in the run's
//! manifest, so listing runs never reads their cases); a run whose process died before it finished (`kill
//! -9`, a crash, a power cut) is shown `errored` with the error "interrupted", never as running forever.

use super::lock;
use super::run::{RunOverview, RunResult, RunState, RESULT_KEY};
use crate::gate::Verdict;
use crate::report::Kpis;
use crate::snapshot::archive::{Archive, ManifestHead, ObjectId, RunManifest};
use crate::{Error, ErrorKind, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The error of a run whose process ended before the run finished.
pub const INTERRUPTED: &str = "interrupted";

/// Every run of the archive at `archive_root`, newest first. Finished runs as they ended; unfinished ones as
/// `scheduled` / `running` while their process lives, else `errored` with the error [`INTERRUPTED`].
pub fn list_runs(archive_root: impl AsRef<Path>) -> Result<Vec<RunResult>> {
    let root = archive_root.as_ref();
    let archive = Archive::open(root);
    Ok(archive
        .manifests()?
        .iter()
        .map(|m| from_manifest(root, &archive, m))
        .collect())
}

/// [`list_runs`] at a glance: each run's [`RunOverview`], read from its manifest alone.
pub fn list_overviews(archive_root: impl AsRef<Path>) -> Result<Vec<RunOverview>> {
    overviews_except(archive_root.as_ref(), "")
}

fn overviews_except(root: &Path, skip: &str) -> Result<Vec<RunOverview>> {
    let archive = Archive::open(root);
    Ok(archive
        .manifest_heads_except(skip)?
        .iter()
        .map(|m| overview(root, &archive, m))
        .collect())
}

/// A finished run's overview as its manifest keeps it; else (an unfinished run, or one archived by an earlier
/// build) the overview of what [`from_manifest`] makes of it.
fn overview(root: &Path, archive: &Archive, m: &ManifestHead) -> RunOverview {
    if m.meta.get(RESULT_KEY).is_some_and(Value::is_string) {
        if let Ok(o) = <RunOverview as serde::Deserialize>::deserialize(&m.meta) {
            return o;
        }
    }
    RunOverview::from(&from_parts(root, archive, &m.tag, &m.created, &m.meta))
}

/// One run's [`RunOverview`] by id, read from its manifest alone (what [`list_overviews`] gives for it); an
/// unknown id is an `InvalidArgument` error that lists the newest ids.
pub fn load_overview(archive_root: impl AsRef<Path>, run_id: &str) -> Result<RunOverview> {
    let root = archive_root.as_ref();
    let archive = Archive::open(root);
    match archive.manifest_head(run_id) {
        Ok(head) => Ok(overview(root, &archive, &head)),
        Err(e) => {
            let known = archive.runs()?;
            if known.iter().any(|r| r.tag == run_id) {
                Err(e)
            } else {
                Err(unknown_run(root, run_id, known.iter().map(|r| r.tag.as_str())))
            }
        }
    }
}

/// One run of the archive by id; an unknown id is an `InvalidArgument` error that lists the newest ids.
pub fn load_run(archive_root: impl AsRef<Path>, run_id: &str) -> Result<RunResult> {
    let root = archive_root.as_ref();
    let archive = Archive::open(root);
    let known = archive.runs()?;
    if !known.iter().any(|r| r.tag == run_id) {
        return Err(unknown_run(root, run_id, known.iter().map(|r| r.tag.as_str())));
    }
    Ok(from_manifest(root, &archive, &archive.manifest(run_id)?))
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

fn from_manifest(root: &Path, archive: &Archive, m: &RunManifest) -> RunResult {
    from_parts(root, archive, &m.tag, &m.created, &m.meta)
}

/// A run from its manifest's tag, start and metadata: the archived result of a finished run, else what the
/// metadata says (an unfinished run is running while its process lives, else interrupted).
fn from_parts(root: &Path, archive: &Archive, tag: &str, created: &str, meta_value: &Value) -> RunResult {
    let mut unreadable = None;
    match meta_value.get(RESULT_KEY) {
        Some(Value::String(id)) => {
            match ObjectId::parse(id)
                .and_then(|id| archive.get(&id))
                .and_then(|v| serde_json::from_value(v).map_err(|e| Error::new(ErrorKind::Archive, e.to_string())))
            {
                Ok(r) => return r,
                Err(e) => unreadable = Some(format!("the run's archived result is unreadable: {e}")),
            }
        }
        // Archived by an earlier build: the result itself.
        Some(v) => {
            if let Ok(r) = <RunResult as serde::Deserialize>::deserialize(v) {
                return r;
            }
        }
        None => {}
    }
    let meta = |k: &str| meta_value.get(k).cloned().unwrap_or(Value::Null);
    let recorded: RunState = serde_json::from_value(meta("state")).unwrap_or(RunState::Errored);
    let alive = lock::is_alive(root, tag);
    let (state, error) = match recorded {
        RunState::Scheduled | RunState::Running if alive => (recorded, None),
        RunState::Scheduled | RunState::Running => (RunState::Errored, Some(INTERRUPTED.to_string())),
        other => (other, meta("error").as_str().map(str::to_string).or(unreadable)),
    };
    RunResult {
        id: tag.to_string(),
        state,
        error,
        profile: meta("profile").as_str().map(str::to_string),
        suites: serde_json::from_value(meta("suites")).unwrap_or_default(),
        seed: meta("seed").as_u64(),
        seed_source: meta("seed_source").as_str().unwrap_or("scenario").to_string(),
        started: created.to_string(),
        duration: 0.0,
        cases: Vec::new(),
        kpis: Kpis::default(),
        verdict: Verdict::none(),
        archive: root.to_path_buf(),
        report_dir: None,
        unused_goldens: Vec::new(),
        datasets: Vec::new(),
        incident: None,
        seed_overrides: Vec::new(),
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
    let chosen = match run_id {
        Some(id) => vec![load_run(root, id)?],
        None => list_runs(root)?,
    };
    let mut dirs = Vec::new();
    for mut r in chosen {
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
    crate::report::write_index(&list_overviews(archive_root)?, reports_root)
}

/// [`write_index`] at the end of a run, which has its own overview at hand: it is not read back.
pub(crate) fn write_index_with(archive_root: &Path, reports_root: &Path, current: &RunOverview) -> Result<PathBuf> {
    let mut runs = overviews_except(archive_root, &current.id)?;
    let at = runs
        .iter()
        .position(|r| (r.started.as_str(), r.id.as_str()) < (current.started.as_str(), current.id.as_str()))
        .unwrap_or(runs.len());
    runs.insert(at, current.clone());
    crate::report::write_index(&runs, reports_root)
}
