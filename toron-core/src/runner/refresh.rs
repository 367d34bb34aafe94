//! `toron snapshot refresh`: regenerate the goldens of a manifest's golden cases — missing ones created,
//! changed ones rewritten with their diff shown, unchanged ones left untouched (not even rewritten).

use super::case::{run_attempt, worker_from_env, CaseContext, CaseOutcome};
use super::manifest::Manifest;
use super::replay::{follow_cancel, ReplayOptions, Scratch};
use crate::diff::Format;
use crate::snapshot::{CheckStatus, Snapshots};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What happened to one golden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    /// There was none: written.
    Created,
    /// It differed: rewritten.
    Changed,
    /// Equal under the case's diff options: not touched.
    Unchanged,
    /// The case did not pass, so its output was not made a golden (the message says why).
    Skipped,
}

/// One golden case of a refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshEntry {
    /// `suite/case` (also the golden's name under the snapshots directory).
    pub case: String,
    /// What happened.
    pub status: RefreshStatus,
    /// The diff's one-line summary, or why the case was skipped.
    pub message: Option<String>,
    /// The change as plain text (`Changed` and `Created`).
    pub text: Option<String>,
}

/// A refresh: every golden case of the selected suites, in manifest order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshResult {
    /// The cases.
    pub entries: Vec<RefreshEntry>,
}

impl RefreshResult {
    /// How many entries have `status`.
    pub fn count(&self, status: RefreshStatus) -> usize {
        self.entries.iter().filter(|e| e.status == status).count()
    }

    /// `2 created, 1 changed, 5 unchanged` (and `, 1 skipped` when some were).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} created, {} changed, {} unchanged",
            self.count(RefreshStatus::Created),
            self.count(RefreshStatus::Changed),
            self.count(RefreshStatus::Unchanged)
        );
        let skipped = self.count(RefreshStatus::Skipped);
        if skipped > 0 {
            s.push_str(&format!(", {skipped} skipped"));
        }
        s
    }
}

/// Regenerate the goldens of `manifest`'s golden cases in the suites of `profile` (or `suites`, or every
/// suite), under the manifest's snapshots directory. `seed` is the run-level seed, as for a run.
///
/// ```
/// use toron_core::runner::{refresh_snapshots, Manifest, RefreshStatus};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("echo.toml"),
///     "name = \"echo\"\nstop = { requests = 5 }\n[[node]]\nid = \"s\"\nmodel = \"echo\"\n\
///      [load]\nmode = \"closed\"\ntarget = \"s\"\nclients = 1\n")?;
/// let m = Manifest::from_str("[[suite]]\nname = \"sim\"\n[[suite.case]]\nname = \"echo\"\nkind = \"sim\"\n\
///                             scenario = \"echo.toml\"\ngolden = true\n", dir.path())?;
/// let first = refresh_snapshots(&m, None, &[], None)?;
/// assert_eq!(first.summary(), "1 created, 0 changed, 0 unchanged");
/// assert!(dir.path().join("snapshots/sim/echo.json").exists());
/// assert_eq!(refresh_snapshots(&m, None, &[], None)?.entries[0].status, RefreshStatus::Unchanged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn refresh_snapshots(
    manifest: &Manifest,
    profile: Option<&str>,
    suites: &[String],
    seed: Option<u64>,
) -> Result<RefreshResult> {
    refresh_snapshots_with(manifest, profile, suites, seed, &ReplayOptions::default())
}

/// [`refresh_snapshots`] with a worker command and a cancel flag (checked between cases and inside
/// simulations; a cancelled refresh ends with an `ErrorKind::Cancelled` error, goldens written so far kept).
pub fn refresh_snapshots_with(
    manifest: &Manifest,
    profile: Option<&str>,
    suites: &[String],
    seed: Option<u64>,
    options: &ReplayOptions<'_>,
) -> Result<RefreshResult> {
    follow_cancel(options.cancel, |cancel| {
        refresh(manifest, profile, suites, seed, options, cancel)
    })
}

fn refresh(
    manifest: &Manifest,
    profile: Option<&str>,
    suites: &[String],
    seed: Option<u64>,
    options: &ReplayOptions<'_>,
    cancel: &Arc<AtomicBool>,
) -> Result<RefreshResult> {
    let selected = manifest.select(profile, suites)?;
    let root = manifest.resolve(&manifest.project.snapshots);
    let snapshots = Snapshots::new(root).update(true);
    let scratch = Scratch::new()?;
    let worker = options.worker.clone().or_else(worker_from_env);
    // Goldens hold placeholders, as a run's do: the manifest's policy and the archive's key.
    let protect = super::protect::Protect::quiet(Some(manifest), &manifest.resolve(&manifest.project.archive))?;
    let generated = Default::default();
    let ctx = CaseContext {
        manifest,
        seed,
        retries: 0,
        check: true,
        cancel,
        logs: Some(scratch.path()),
        worker: worker.as_deref(),
        protect: protect.as_ref(),
        datasets: &generated,
    };
    let mut entries = Vec::new();
    for suite in selected {
        for case in suite.cases.iter().filter(|c| c.golden) {
            if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Error::new(ErrorKind::Cancelled, "the snapshot refresh was cancelled"));
            }
            let id = format!("{}/{}", suite.name, case.name);
            let mut bare = case.clone();
            bare.golden = false;
            let attempt = run_attempt(&ctx, &suite.name, &bare, 1);
            if attempt.outcome != CaseOutcome::Passed || attempt.output.is_null() {
                entries.push(RefreshEntry {
                    case: id,
                    status: RefreshStatus::Skipped,
                    message: Some(
                        attempt
                            .message
                            .unwrap_or_else(|| format!("the case ended {}", attempt.outcome.name())),
                    ),
                    text: None,
                });
                continue;
            }
            let r = snapshots.check(&id, &attempt.output, &case.diff)?;
            let status = match r.status() {
                CheckStatus::Created => RefreshStatus::Created,
                CheckStatus::Updated => RefreshStatus::Changed,
                CheckStatus::Passed | CheckStatus::Failed => RefreshStatus::Unchanged,
            };
            entries.push(RefreshEntry {
                case: id,
                status,
                message: (status != RefreshStatus::Unchanged).then(|| r.summary()),
                text: r
                    .diff()
                    .filter(|_| status != RefreshStatus::Unchanged)
                    .map(|d| d.render(Format::Text)),
            });
        }
    }
    Ok(RefreshResult { entries })
}
