//! Offline replay of an archived run: every simulation case (sim, chaos, load, determinism) is re-run from
//! the scenario and seeds stored in the archive — not from the working tree — and its output diffed against
//! the archived one. Command cases depend on the machine and the working tree, so they are listed as not
//! replayed.

use super::case::{run_attempt, worker_from_env, CaseContext};
use super::history::unknown_run;
use super::manifest::{Case, CaseKind, Expect, Manifest};
use crate::diff::{DiffOptions, Format};
use crate::scenario::Scenario;
use crate::snapshot::archive::{Archive, ObjectId};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What replay found for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayStatus {
    /// The re-run output equals the archived one.
    Identical,
    /// It differs (the diff says how).
    Differs,
    /// A command case: not replayed offline.
    NotReplayed,
    /// It could not be re-run (the message says why).
    Errored,
}

/// One case of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayCase {
    /// `suite/case`.
    pub case: String,
    /// The case's kind.
    pub kind: CaseKind,
    /// What replay found.
    pub status: ReplayStatus,
    /// Why it was not replayed, or why it errored.
    pub message: Option<String>,
    /// The seeds re-run.
    pub seeds: Vec<u64>,
    /// The difference, archived → replayed, as JSON (see [`crate::diff::Diff::to_json`]), when it differs.
    pub diff: Option<Value>,
    /// The same difference as plain text, when it differs.
    pub text: Option<String>,
}

/// One data set of a replay: regenerated from the archived schema and seed, its digest compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayDataset {
    /// The data set's name.
    pub name: String,
    /// `identical`, `differs` or `errored`.
    pub status: ReplayStatus,
    /// The archived digest.
    pub digest: String,
    /// The regenerated digest (`None`: it could not be regenerated; `message` says why).
    pub replayed: Option<String>,
    /// Why it errored.
    pub message: Option<String>,
}

/// A replay of an archived run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayResult {
    /// The run replayed.
    pub run: String,
    /// Its cases, in the archive's order.
    pub cases: Vec<ReplayCase>,
    /// Every replayed case was identical (and at least one case was replayed or none needed to be), and so
    /// was every data set.
    pub identical: bool,
    /// The run's data sets, regenerated from their archived schemas and seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<ReplayDataset>,
}

/// Replay run `run_id` of the archive at `archive_root` offline. An unknown run id is an `InvalidArgument`
/// error listing the newest ids; a case that cannot be re-run is reported in its [`ReplayCase`], not as an
/// error of the whole replay.
///
/// ```
/// use toron_core::runner::{replay, Manifest, Run, RunOptions, ReplayStatus};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("echo.toml"), r#"
///     name = "echo"
///     stop = { requests = 20 }
///     [[node]]
///     id = "server"
///     model = "echo"
///     [load]
///     mode = "closed"
///     target = "server"
///     clients = 2
/// "#)?;
/// let m = Manifest::from_str(r#"
///     [[suite]]
///     name = "sim"
///     [[suite.case]]
///     name = "echo"
///     kind = "sim"
///     scenario = "echo.toml"
///     seeds = [1, 2]
/// "#, dir.path())?;
/// let run = Run::start(&m, RunOptions::default())?.wait()?;
/// std::fs::remove_file(dir.path().join("echo.toml"))?; // replay reads the archive, not the working tree
/// let r = replay(dir.path().join(".toron"), &run.id)?;
/// assert!(r.identical);
/// assert_eq!(r.cases[0].status, ReplayStatus::Identical);
/// assert_eq!(r.cases[0].seeds, vec![1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replay(archive_root: impl AsRef<Path>, run_id: &str) -> Result<ReplayResult> {
    replay_with(archive_root, run_id, &ReplayOptions::default())
}

/// How to replay: the worker command for determinism cases with `processes > 1` (`None`: `TORON_WORKER`)
/// and a flag that cancels the replay between simulations.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions<'a> {
    /// `<worker...> simulate <scenario.json> --seed N --json [--base-dir DIR]` simulates in a separate
    /// process (see [`crate::runner::RunOptions::worker`]).
    pub worker: Option<Vec<String>>,
    /// Set it to stop: the replay ends with an `ErrorKind::Cancelled` error.
    pub cancel: Option<&'a AtomicBool>,
}

/// Run `work` with a cancel flag of the runner's own (attempts hand it to the deadline watcher) that follows
/// `external`: a scoped thread copies `external` into it every 10 ms until `work` returns.
pub(crate) fn follow_cancel<T>(external: Option<&AtomicBool>, work: impl FnOnce(&Arc<AtomicBool>) -> T) -> T {
    use std::sync::atomic::Ordering;
    let own = Arc::new(AtomicBool::new(external.is_some_and(|e| e.load(Ordering::SeqCst))));
    let Some(external) = external else {
        return work(&own);
    };
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if external.load(Ordering::SeqCst) {
                    own.store(true, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        let out = work(&own);
        done.store(true, Ordering::SeqCst);
        out
    })
}

/// [`replay`] with options.
pub fn replay_with(archive_root: impl AsRef<Path>, run_id: &str, options: &ReplayOptions<'_>) -> Result<ReplayResult> {
    follow_cancel(options.cancel, |cancel| {
        replay_inner(archive_root.as_ref(), run_id, options, cancel)
    })
}

fn replay_inner(
    root: &Path,
    run_id: &str,
    options: &ReplayOptions<'_>,
    cancel: &Arc<AtomicBool>,
) -> Result<ReplayResult> {
    let archive = Archive::open(root);
    let known = archive.runs()?;
    if !known.iter().any(|r| r.tag == run_id) {
        return Err(unknown_run(root, run_id, known.iter().map(|r| r.tag.as_str())));
    }
    let manifest = archive.manifest(run_id)?;
    let scratch = Scratch::new()?;
    let mut host = Manifest::from_str("", scratch.path())?;
    let worker = options.worker.clone().or_else(worker_from_env);
    // The archived outputs were scrubbed with the run's `[pii]` policy and key: so are the replayed ones.
    let archived_pii = manifest.meta.get(super::run::PII_KEY).filter(|v| v.is_object());
    if let Some(pii) = archived_pii {
        let strings = |v: Option<&Value>| -> Option<Vec<String>> {
            v?.as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        };
        host.pii.kinds = strings(pii.get("kinds"));
        host.pii.allow = strings(pii.get("allow")).unwrap_or_default();
        host.pii.key_env = pii.get("key_env").and_then(Value::as_str).map(str::to_string);
    }
    let protect = super::protect::Protect::quiet(archived_pii.map(|_| &host), root)?;
    let generated = Default::default();
    let ctx = CaseContext {
        manifest: &host,
        seed: None,
        retries: 0,
        check: true,
        cancel,
        logs: Some(scratch.path()),
        worker: worker.as_deref(),
        protect: protect.as_ref(),
        datasets: &generated,
    };
    let mut cases = Vec::new();
    for (id, entry) in &manifest.cases {
        let meta = entry.meta.clone().unwrap_or(Value::Null);
        let kind: CaseKind =
            serde_json::from_value(meta.get("kind").cloned().unwrap_or(Value::Null)).unwrap_or(CaseKind::Command);
        let mut rc = ReplayCase {
            case: id.clone(),
            kind,
            status: ReplayStatus::NotReplayed,
            message: None,
            seeds: Vec::new(),
            diff: None,
            text: None,
        };
        if kind == CaseKind::Command {
            rc.message = Some("a command case is not replayed offline".to_string());
            cases.push(rc);
            continue;
        }
        if cancel.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!("the replay of {run_id} was cancelled"),
            ));
        }
        match replay_case(&archive, &ctx, id, &meta, &entry.object) {
            Ok((seeds, d)) => {
                rc.seeds = seeds;
                if d.is_empty() {
                    rc.status = ReplayStatus::Identical;
                } else {
                    rc.status = ReplayStatus::Differs;
                    rc.message = Some(d.summary());
                    rc.diff = Some(d.to_json());
                    rc.text = Some(d.render(Format::Text));
                }
            }
            Err(e) => {
                rc.status = ReplayStatus::Errored;
                rc.message = Some(e.to_string());
            }
        }
        cases.push(rc);
    }
    let datasets = replay_datasets(&archive, root, run_id);
    let identical = cases
        .iter()
        .all(|c| matches!(c.status, ReplayStatus::Identical | ReplayStatus::NotReplayed))
        && datasets.iter().all(|d| d.status == ReplayStatus::Identical);
    Ok(ReplayResult {
        run: run_id.to_string(),
        cases,
        identical,
        datasets,
    })
}

/// Regenerate each data set the run recorded from its archived schema and seed (in memory) and compare the
/// digests.
fn replay_datasets(archive: &Archive, root: &Path, run_id: &str) -> Vec<ReplayDataset> {
    let Ok(result) = super::history::load_run(root, run_id) else {
        return Vec::new();
    };
    result
        .datasets
        .iter()
        .map(|d| {
            let regenerated = d
                .schema_object
                .as_deref()
                .ok_or_else(|| Error::new(ErrorKind::Archive, "the run archived no schema for it"))
                .and_then(ObjectId::parse)
                .and_then(|id| archive.get(&id))
                .and_then(|doc| super::datasets::regenerate_digest(&doc, d));
            let (status, replayed, message) = match regenerated {
                Ok(digest) if digest == d.digest => (ReplayStatus::Identical, Some(digest), None),
                Ok(digest) => (
                    ReplayStatus::Differs,
                    Some(digest),
                    Some("the regenerated bytes differ".to_string()),
                ),
                Err(e) => (ReplayStatus::Errored, None, Some(e.to_string())),
            };
            ReplayDataset {
                name: d.name.clone(),
                status,
                digest: d.digest.clone(),
                replayed,
                message,
            }
        })
        .collect()
}

fn replay_case(
    archive: &Archive,
    ctx: &CaseContext<'_>,
    id: &str,
    meta: &Value,
    output: &ObjectId,
) -> Result<(Vec<u64>, crate::diff::Diff)> {
    let bad = |what: &str| {
        Error::new(
            ErrorKind::Archive,
            format!("case {id}: the archive does not record {what} (archived by an older Toron?)"),
        )
    };
    let object = meta
        .get("scenario_object")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("its scenario"))?;
    let value = archive.get(&ObjectId::parse(object)?)?;
    let scenario = match meta.get("scenario_dir").and_then(Value::as_str) {
        Some(dir) => Scenario::from_value_relative_to(&value, dir)?,
        None => Scenario::from_value(&value)?,
    };
    let seeds: Vec<u64> = serde_json::from_value(meta.get("seeds").cloned().ok_or_else(|| bad("its seeds"))?)
        .map_err(|_| bad("its seeds as integers"))?;
    let field = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let (suite, name) = id.split_once('/').unwrap_or(("", id));
    let case = Case {
        name: name.to_string(),
        kind: serde_json::from_value(field("kind")).map_err(|_| bad("its kind"))?,
        scenario_file: None,
        scenario: Some(scenario),
        seeds: seeds.clone(),
        golden: false,
        diff: DiffOptions::default(),
        expect: serde_json::from_value(field("expect")).unwrap_or(Expect::Pass),
        argv: Vec::new(),
        env: Default::default(),
        timeout: None,
        retries: Some(0),
        coverage: Vec::new(),
        artifacts: Vec::new(),
        repeats: serde_json::from_value(field("repeats")).unwrap_or(2),
        threads: serde_json::from_value(field("threads")).unwrap_or_else(|_| vec![1]),
        processes: serde_json::from_value(field("processes")).unwrap_or(1),
        datasets: Vec::new(),
        line: None,
    };
    let attempt = run_attempt(ctx, suite, &case, 1);
    if attempt.output == Value::Null {
        return Err(Error::new(
            ErrorKind::Run,
            attempt
                .message
                .unwrap_or_else(|| "the case produced no output".to_string()),
        ));
    }
    let archived = archive.get(output)?;
    Ok((
        seeds,
        crate::diff::diff(&archived, &attempt.output, &DiffOptions::default())?,
    ))
}

/// A private directory for what a re-run writes (the worker's scenario file, drift traces), removed on drop.
pub(crate) struct Scratch(std::path::PathBuf);

impl Scratch {
    pub(crate) fn new() -> Result<Scratch> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "toron-scratch-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&e, &dir))?;
        Ok(Scratch(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
