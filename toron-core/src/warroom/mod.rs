//! The warroom: incidents opened from failing gates, rollbacks of goldens to an earlier run's output, and
//! postmortems (DESIGN.md section 11).
//!
//! A [`Warroom`] is a directory holding one SQLite database, `warroom.db` (WAL mode, a busy timeout, one
//! `BEGIN IMMEDIATE` transaction per change, so two processes never both allocate `INC-n` nor both open the
//! same dedup key), and the postmortems written from it (`postmortems/<ID>.md` and `.html`).
//!
//! ```
//! use toron_core::warroom::{OpenOn, Severity, Status, Warroom, WarroomPolicy};
//! use toron_core::runner::RunResult;
//!
//! let dir = tempfile::tempdir()?;
//! let warroom = Warroom::open(dir.path().join("warroom"))?;
//! // A NO-GO run (as a run ends; here built from its JSON form).
//! let run: RunResult = serde_json::from_value(serde_json::json!({
//!     "id": "run-2.5.0-20261124T101530Z", "state": "failed", "error": null, "profile": "full",
//!     "suites": ["unit"], "seed": null, "started": "2026-11-24T10:15:30Z", "duration": 1.0, "cases": [],
//!     "kpis": {"run": {"failed": 1.0}, "suites": {}, "cases": {}},
//!     "verdict": {"go": false, "verdict": "NO-GO", "rules": [{
//!         "rule": "failed == 0", "metric": "failed", "scope": null, "comparator": "==", "threshold": 0.0,
//!         "baseline_run": null, "baseline": null, "actual": 1.0, "severity": "block", "default": false,
//!         "status": "failed", "passed": false, "explanation": "1 case failed (expected exactly 0)"}]},
//!     "archive": ".toron", "report_dir": null
//! }))?;
//! let policy = WarroomPolicy { open_on: OpenOn::NoGo, ..Default::default() };
//! let opened = warroom.record_run(&run, &policy)?.expect("a NO-GO opens an incident");
//! assert!(opened.created);
//! assert_eq!(opened.incident.id, "INC-1");
//! assert_eq!(opened.incident.severity, Severity::Sev2); // a failed-cases rule: see the mapping below
//! assert_eq!(opened.incident.rules[0].rule, "failed == 0");
//! // The same failure again joins the open incident.
//! let again = warroom.record_run(&run, &policy)?.unwrap();
//! assert!(!again.created);
//! let inc = warroom.mitigate("INC-1", "ana", Some("reverted the deploy"))?;
//! assert_eq!(inc.status, Status::Mitigated);
//! // resolved → mitigated is not a transition: the error names the status and the allowed next ones.
//! warroom.resolve("INC-1", "ana", None)?;
//! let err = warroom.mitigate("INC-1", "ana", None).unwrap_err();
//! assert_eq!(err.kind(), toron_core::ErrorKind::Warroom);
//! assert!(err.to_string().contains("resolved (allowed next: reopened)"), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The database is SQLite compiled into Toron (`rusqlite`'s bundled build). Another copy of SQLite in the same
//! process (Python's `sqlite3` module, say) must not open `warroom.db` while a [`Warroom`] has it open:
//! POSIX locks belong to the process, so the other copy closing the file drops this one's locks (see
//! "multiple copies of SQLite linked into the same application" on sqlite.org's *How To Corrupt An SQLite
//! Database File*). Other processes are safe.
//!
//! # Incidents
//!
//! [`Warroom::open_incident`] opens an incident for a NO-GO run of the archive (by id, or the newest NO-GO
//! run); [`Warroom::record_run`] is what a run calls at its end when its manifest says
//! `[warroom] open_on = "no-go"`. An incident keeps the failing gate rules, the cases behind them (outcome,
//! message, golden diff summary, violations per seed, determinism drift), the runs linked to it, and a
//! timeline of every change.
//!
//! **Dedup key.** By default the run's profile and the sorted set of its failing blocking rules, each written
//! as its text with its scope (`<profile>|<rule>[ @<scope>];...`, `-` for no profile), e.g.
//! `broken|coverage >= 90% @unit-partial;failed == 0`. A NO-GO run whose key matches an incident that is not
//! resolved joins it (`run_linked`, `created: false`); once resolved, the same key opens a new incident.
//! Linking a run already linked changes nothing.
//!
//! **Severity**, from the failing rules (a request may override it):
//!
//! | severity | when |
//! | --- | --- |
//! | `sev1` | never chosen automatically: a person declares it (user-facing impact a test run cannot see) |
//! | `sev2` | a blocking rule on `determinism`, `failed`, `errored`, `violations` or `pass_rate` failed (correctness) |
//! | `sev3` | only other blocking rules failed (`coverage`, `latency.*`, `throughput`, `flaky`, `duration`), or the run ended NO-GO without a failing rule |
//! | `sev4` | only `warn` rules failed |
//!
//! **Status** moves `open → mitigated → resolved`, and `reopened` after `mitigated` or `resolved`:
//!
//! | from | allowed next |
//! | --- | --- |
//! | `open` | `mitigated`, `resolved` |
//! | `mitigated` | `resolved`, `reopened` |
//! | `resolved` | `reopened` |
//! | `reopened` | `mitigated`, `resolved` |
//!
//! Any other change is a [`crate::ErrorKind::Warroom`] error naming the current status and the allowed
//! next ones.
//!
//! **Timeline** entries (`what`): `opened`, `note`, `status` (to mitigated or reopened), `resolved`,
//! `run_linked` (another NO-GO with the same key), `gates_green` (a GO run of the same profile afterwards;
//! with [`WarroomPolicy::auto_resolve`] it is followed by `resolved`), `rollback`, `postmortem`.
//!
//! # JSON form
//!
//! What Python, C and the HTTP API return; every field is always present (`null` when absent).
//!
//! - incident: `id`, `title`, `severity` (`sev1`..`sev4`), `status` (`open`, `mitigated`, `resolved`,
//!   `reopened`), `run_id` (the run that opened it), `profile`, `verdict`, `opened_at`, `updated_at`
//!   (RFC 3339 UTC), `owner`, `labels`, `dedup_key`, `rules`, `cases`, `runs` (run ids, oldest first),
//!   `timeline`;
//! - rule: `rule`, `metric`, `scope`, `comparator`, `actual`, `threshold`, `severity` (`block`/`warn`),
//!   `sentence`;
//! - case: `case` (`suite/case`), `suite`, `name`, `kind`, `outcome`, `message`, `golden` (`status`,
//!   `summary`, `candidate`) , `violations` (`seed`, `digest`, `violations`), `drift` (`seed`, `index`,
//!   `time`, `a`, `b`), `artifact_drift` (`artifact`, `path`, `a`, `b`);
//! - timeline entry: `seq`, `who`, `when` (RFC 3339 UTC wall time, for people), `what`, `text`, `run_id`,
//!   `from`, `to`, `rollback` (the rollback's id);
//! - rollback ([`Rollback`]): `id` (`null` for a dry run), `case`, `golden` (the file), `from` (the golden's
//!   value digest before, `null` when there was none), `from_run` (the newest run whose archived output has
//!   that digest, if any: roll back to it to undo), `to` (the new value's digest), `source_run`, `summary`,
//!   `diff` (text), `incident`, `who`, `when`, `dry_run`.
//!
//! # Rollbacks
//!
//! [`Warroom::rollback`] rewrites goldens from the outputs a run archived, in the golden format
//! [`crate::snapshot::Snapshots`] reads, each atomically (temporary file, fsync, rename, fsync of the
//! directory): a kill leaves a golden old or new, never torn. Each rollback is recorded (the `rollbacks`
//! table, and the incident's timeline when one is named) in the transaction that writes the file.
//!
//! # Postmortems
//!
//! [`Warroom::postmortem`] writes `postmortems/<ID>.md` and a self-contained `.html` (every value escaped), in
//! the blameless shape of the Google SRE postmortem: summary, impact (failing rules, cases, KPIs before /
//! during / after), timeline, diffs and drift, rollbacks, and the sections a person writes —
//! `## Root cause`, `## What went well`, `## What went wrong`, `## Action items` — which regenerating keeps.

#![allow(
    clippy::result_large_err,
    reason = "toron_core::Error's size is decided in error.rs, not here"
)]

mod db;
mod incident;
mod postmortem;
mod rollback;

pub use postmortem::HUMAN_SECTIONS;

use crate::runner::{DeterminismResult, Divergence, RunResult, ValueDrift};
use crate::{Error, ErrorKind, Result};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The database file in a warroom's directory.
pub const DB_FILE: &str = "warroom.db";

/// Who a change is attributed to when no one is named.
pub const DEFAULT_WHO: &str = "toron";

/// How bad an incident is: `sev1` (worst) to `sev4`. See the module docs for the mapping from rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// User-facing impact; declared by a person.
    Sev1,
    /// Correctness: determinism, failed or errored cases, violations, pass rate.
    Sev2,
    /// Quality or performance: coverage, latency, throughput...
    Sev3,
    /// Warnings only.
    Sev4,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    /// `sev1` .. `sev4`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// Parse `sev1` .. `sev4` (a `Warroom` error naming the choices otherwise).
    pub fn parse(text: &str) -> Result<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Warroom,
                    format!("unknown severity {text:?} (expected one of: sev1, sev2, sev3, sev4)"),
                )
                .with_field("severity")
            })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an incident is. See the module docs for the allowed transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Opened, not yet mitigated.
    Open,
    /// The impact is contained (a rollback, a revert), the cause may remain.
    Mitigated,
    /// Over: the gates are green again.
    Resolved,
    /// Back after being mitigated or resolved.
    Reopened,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [Status::Open, Status::Mitigated, Status::Resolved, Status::Reopened];

    /// `open`, `mitigated`, `resolved`, `reopened`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
            Status::Reopened => "reopened",
        }
    }

    /// Parse a status name (a `Warroom` error naming the choices otherwise).
    pub fn parse(text: &str) -> Result<Status> {
        Status::ALL
            .into_iter()
            .find(|s| s.name() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Warroom,
                    format!("unknown status {text:?} (expected one of: open, mitigated, resolved, reopened)"),
                )
                .with_field("status")
            })
    }

    /// The statuses an incident may move to from this one.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Open => &[Status::Mitigated, Status::Resolved],
            Status::Mitigated => &[Status::Resolved, Status::Reopened],
            Status::Resolved => &[Status::Reopened],
            Status::Reopened => &[Status::Mitigated, Status::Resolved],
        }
    }

    /// Whether the incident is still being worked on (anything but resolved).
    pub fn is_active(self) -> bool {
        self != Status::Resolved
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failing gate rule, as the incident keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingRule {
    /// The rule as written (`coverage >= 90%`).
    pub rule: String,
    /// The metric's name.
    pub metric: String,
    /// `null` for the whole run, else `suite` or `suite/case`.
    pub scope: Option<String>,
    /// The comparator (`>=`).
    pub comparator: String,
    /// The actual value, if the run had data.
    pub actual: Option<f64>,
    /// The value compared against, if known.
    pub threshold: Option<f64>,
    /// `block` or `warn`.
    pub severity: String,
    /// The sentence the gate gave.
    pub sentence: String,
}

/// A golden comparison behind an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenSummary {
    /// `failed`, `missing`...
    pub status: String,
    /// One line: what changed.
    pub summary: Option<String>,
    /// The candidate output's digest (its object in the run's archive).
    pub candidate: Option<String>,
}

/// One seed's invariant violations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedViolations {
    /// The seed.
    pub seed: u64,
    /// The trace digest.
    pub digest: String,
    /// How many violations.
    pub violations: usize,
}

/// A determinism drift: the first divergent event of two traced re-runs of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The seed that drifted.
    pub seed: Option<u64>,
    /// The index of the first divergent event (`null` when the drift did not reproduce).
    pub index: Option<u64>,
    /// Its virtual time, if known.
    pub time: Option<u64>,
    /// The event in the first re-run.
    pub a: Option<serde_json::Value>,
    /// The event in the second.
    pub b: Option<serde_json::Value>,
}

/// A case behind an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentCase {
    /// `suite/case`.
    pub case: String,
    /// The suite.
    pub suite: String,
    /// The case.
    pub name: String,
    /// Its kind (`sim`, `command`...).
    pub kind: String,
    /// Its outcome (`failed`, `errored`...).
    pub outcome: String,
    /// Why, when it did not pass.
    pub message: Option<String>,
    /// Its golden comparison, when it did not match.
    pub golden: Option<GoldenSummary>,
    /// Seeds that found violations.
    pub violations: Vec<SeedViolations>,
    /// A determinism drift, if any.
    pub drift: Option<Drift>,
    /// A command's artifacts that drifted.
    pub artifact_drift: Vec<ValueDrift>,
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// The incident was opened.
    Opened,
    /// A person's note.
    Note,
    /// A status change (to mitigated or reopened).
    Status,
    /// Another NO-GO run with the same dedup key.
    RunLinked,
    /// A GO run of the same profile afterwards.
    GatesGreen,
    /// A golden was rolled back.
    Rollback,
    /// The incident was resolved.
    Resolved,
    /// A postmortem was written.
    Postmortem,
}

impl What {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            What::Opened => "opened",
            What::Note => "note",
            What::Status => "status",
            What::RunLinked => "run_linked",
            What::GatesGreen => "gates_green",
            What::Rollback => "rollback",
            What::Resolved => "resolved",
            What::Postmortem => "postmortem",
        }
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// 1, 2... per incident.
    pub seq: u64,
    /// Who made the change.
    pub who: String,
    /// When (RFC 3339 UTC wall time, for people).
    pub when: String,
    /// What happened.
    pub what: What,
    /// One sentence.
    pub text: String,
    /// The run concerned, if any.
    pub run_id: Option<String>,
    /// The status before, for a status change.
    pub from: Option<Status>,
    /// The status after, for a status change.
    pub to: Option<Status>,
    /// The rollback's id, for a rollback.
    pub rollback: Option<u64>,
}

/// An incident. Its JSON form is described in the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-<n>`, sequential per warroom.
    pub id: String,
    /// A title for people.
    pub title: String,
    /// `sev1` .. `sev4`.
    pub severity: Severity,
    /// Where it is.
    pub status: Status,
    /// The run that opened it.
    pub run_id: String,
    /// That run's profile.
    pub profile: Option<String>,
    /// That run's verdict (`NO-GO`).
    pub verdict: String,
    /// When it was opened (RFC 3339 UTC).
    pub opened_at: String,
    /// When it last changed (RFC 3339 UTC).
    pub updated_at: String,
    /// Who owns it.
    pub owner: Option<String>,
    /// Free labels, sorted.
    pub labels: Vec<String>,
    /// Runs failing the same way join it while it is not resolved.
    pub dedup_key: String,
    /// The failing rules of the run that opened it.
    pub rules: Vec<FailingRule>,
    /// The cases behind them.
    pub cases: Vec<IncidentCase>,
    /// Every run linked (the opening run first).
    pub runs: Vec<String>,
    /// Every change, in order.
    pub timeline: Vec<TimelineEntry>,
}

/// [`Warroom::open_incident`]'s request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenRequest {
    /// The run (`None`: the newest NO-GO run of the archive).
    pub run_id: Option<String>,
    /// The dedup key (`None`: profile + failing rules, see the module docs).
    pub dedup_key: Option<String>,
    /// The severity (`None`: from the failing rules).
    pub severity: Option<Severity>,
    /// The title (`None`: from the profile and the failing rules).
    pub title: Option<String>,
    /// The owner.
    pub owner: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Who opens it (`None`: `toron`).
    pub who: Option<String>,
}

/// What [`Warroom::open_incident`] and [`Warroom::record_run`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    /// The incident, as it is now.
    pub incident: Incident,
    /// Whether it was created (`false`: the run joined an incident that was not resolved).
    pub created: bool,
}

/// When a run opens incidents (the manifest's `[warroom] open_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenOn {
    /// Never: the warroom is not used.
    #[default]
    Never,
    /// On a NO-GO verdict.
    NoGo,
}

/// How a run uses the warroom at its end (the manifest's `[warroom]` table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarroomPolicy {
    /// When to open an incident.
    pub open_on: OpenOn,
    /// Resolve an incident when a GO run of its profile follows.
    pub auto_resolve: bool,
    /// The dedup key of incidents opened (`None`: the default key).
    pub dedup_key: Option<String>,
}

/// A golden rolled back (or, for a dry run, that would be).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// The rollback's id in the warroom (`None` for a dry run).
    pub id: Option<u64>,
    /// `suite/case`.
    pub case: String,
    /// The golden file.
    pub golden: PathBuf,
    /// The golden's value digest before (`None`: there was no golden).
    pub from: Option<String>,
    /// The newest run whose archived output has the `from` digest, if any: roll back to it to undo.
    pub from_run: Option<String>,
    /// The new value's digest.
    pub to: String,
    /// The run whose archived output the golden now holds.
    pub source_run: String,
    /// The case of `source_run` whose output it is, when not `case` itself (the request's `from_case`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_case: Option<String>,
    /// One line: what changed.
    pub summary: String,
    /// The change rendered as text.
    pub diff: String,
    /// The incident it was made for.
    pub incident: Option<String>,
    /// Who made it.
    pub who: String,
    /// When (RFC 3339 UTC).
    pub when: String,
    /// Whether nothing was written.
    pub dry_run: bool,
}

/// [`Warroom::rollback`]'s request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackRequest {
    /// The run archive.
    pub archive_root: PathBuf,
    /// The golden files' directory.
    pub snapshots_root: PathBuf,
    /// The cases (`suite/case`) to roll back.
    pub cases: Vec<String>,
    /// A run whose failed golden cases are rolled back too.
    pub all_failed: Option<String>,
    /// The run whose archived outputs the goldens get.
    pub to: String,
    /// Take the output of this case (`suite/case`) of run `to` instead of the rolled-back case's own: for a
    /// case renamed or moved to another suite, or one profile's case whose scenario another profile runs under
    /// another name. Only with exactly one case.
    pub from_case: Option<String>,
    /// The incident it is made for.
    pub incident: Option<String>,
    /// Write and record nothing; return what would change.
    pub dry_run: bool,
    /// Who makes it (`None`: `toron`).
    pub who: Option<String>,
}

/// A warroom: incidents, rollbacks and postmortems in one directory. Safe to share between threads (one
/// connection behind a mutex) and to open from several processes at once.
#[derive(Debug)]
pub struct Warroom {
    dir: PathBuf,
    conn: Mutex<Connection>,
}

impl Warroom {
    /// Open the warroom in `dir`, creating the directory and `warroom.db` (schema migrated to this build's
    /// version) if needed. A database made by a newer build is a `Warroom` error.
    pub fn open(dir: impl AsRef<Path>) -> Result<Warroom> {
        let dir = dir.as_ref().to_path_buf();
        let conn = db::open(&dir)?;
        Ok(Warroom {
            dir,
            conn: Mutex::new(conn),
        })
    }

    /// The warroom's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction, committed when it returns `Ok`.
    fn change<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        db::immediate(&mut conn, &self.db_path(), f)
    }

    /// Run `f` on the connection (reads).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Open an incident for a NO-GO run of the archive at `archive_root`, or join the incident (not resolved)
    /// that has the same dedup key. A GO run is refused (the error names the run and its verdict); an unknown
    /// run id is a `Warroom` error listing the newest ids.
    pub fn open_incident(&self, archive_root: &Path, request: OpenRequest) -> Result<Opened> {
        let run = incident::find_run(archive_root, request.run_id.as_deref())?;
        self.open_from(&run, request)
    }

    fn open_from(&self, run: &RunResult, request: OpenRequest) -> Result<Opened> {
        let draft = incident::draft(run, &request)?;
        let who = who_or_default(request.who.as_deref());
        let path = self.db_path();
        self.change(|tx| incident::open_or_join(tx, &path, draft, &who))
    }

    /// What a run calls at its end under `policy`: a NO-GO opens an incident or joins one (`Some`); a GO run
    /// adds a `gates_green` entry to every incident of its profile that is not resolved, and resolves them
    /// when `auto_resolve` (`None`). `OpenOn::Never` does nothing.
    pub fn record_run(&self, result: &RunResult, policy: &WarroomPolicy) -> Result<Option<Opened>> {
        if policy.open_on == OpenOn::Never {
            return Ok(None);
        }
        if result.verdict.go {
            let path = self.db_path();
            self.change(|tx| incident::gates_green(tx, &path, result, policy.auto_resolve, DEFAULT_WHO))?;
            return Ok(None);
        }
        if result.verdict.verdict != "NO-GO" {
            return Ok(None); // never reached its gates: nothing to say about them
        }
        let request = OpenRequest {
            run_id: Some(result.id.clone()),
            dedup_key: policy.dedup_key.clone(),
            ..Default::default()
        };
        self.open_from(result, request).map(Some)
    }

    /// Every incident (with `status`: only those), by number.
    pub fn incidents(&self, status: Option<Status>) -> Result<Vec<Incident>> {
        let path = self.db_path();
        self.read(|c| incident::list(c, &path, status))
    }

    /// One incident; an unknown id is a `Warroom` error listing the newest ids.
    pub fn incident(&self, id: &str) -> Result<Incident> {
        let path = self.db_path();
        self.read(|c| {
            let n = incident::number(c, &path, id)?;
            incident::load(c, &path, n)
        })
    }

    /// Add a note to an incident's timeline.
    pub fn note(&self, id: &str, who: &str, text: &str) -> Result<Incident> {
        let path = self.db_path();
        let who = who_or_default(Some(who));
        self.change(|tx| {
            let n = incident::number(tx, &path, id)?;
            incident::append(tx, &path, n, &who, What::Note, text.to_string(), Default::default())?;
            incident::load(tx, &path, n)
        })
    }

    /// Move an incident to `status` (with an optional note in the same timeline entry). A change the
    /// transitions do not allow is a `Warroom` error naming the current status and the allowed next ones.
    pub fn set_status(&self, id: &str, status: Status, who: &str, note: Option<&str>) -> Result<Incident> {
        let path = self.db_path();
        let who = who_or_default(Some(who));
        self.change(|tx| {
            let n = incident::number(tx, &path, id)?;
            incident::transition(tx, &path, n, status, &who, note, None)?;
            incident::load(tx, &path, n)
        })
    }

    /// [`Warroom::set_status`] to mitigated.
    pub fn mitigate(&self, id: &str, who: &str, note: Option<&str>) -> Result<Incident> {
        self.set_status(id, Status::Mitigated, who, note)
    }

    /// [`Warroom::set_status`] to resolved.
    pub fn resolve(&self, id: &str, who: &str, note: Option<&str>) -> Result<Incident> {
        self.set_status(id, Status::Resolved, who, note)
    }

    /// [`Warroom::set_status`] to reopened.
    pub fn reopen(&self, id: &str, who: &str, note: Option<&str>) -> Result<Incident> {
        self.set_status(id, Status::Reopened, who, note)
    }

    /// Roll goldens back to the outputs run `request.to` archived (see the module docs). Everything is
    /// checked before anything is written: an unknown run id (the error lists the newest ids), a case the run
    /// archived no output for (named), an unknown incident. A dry run writes and records nothing.
    pub fn rollback(&self, request: RollbackRequest) -> Result<Vec<Rollback>> {
        let path = self.db_path();
        if let Some(id) = &request.incident {
            self.read(|c| incident::number(c, &path, id))?;
        }
        let planned = rollback::plan(&request)?;
        if request.dry_run {
            return Ok(planned.into_iter().map(rollback::Planned::into_rollback).collect());
        }
        let mut done = Vec::with_capacity(planned.len());
        for p in planned {
            let r = self.change(|tx| rollback::apply(tx, &path, p))?;
            done.push(r);
        }
        Ok(done)
    }

    /// Every real rollback recorded, oldest first.
    pub fn rollbacks(&self) -> Result<Vec<Rollback>> {
        let path = self.db_path();
        self.read(|c| rollback::list(c, &path, None))
    }

    /// Write the postmortem of incident `id`: `<dir>/postmortems/<ID>.md` and `<ID>.html`, pre-filled from the
    /// incident, its runs (read from the archive at `archive_root`) and its rollbacks; the sections a person
    /// writes are kept from an existing file. Returns the Markdown file's path.
    pub fn postmortem(&self, id: &str, archive_root: &Path, reports_root: &Path) -> Result<PathBuf> {
        let inc = self.incident(id)?;
        let path = self.db_path();
        let rollbacks = self.read(|c| rollback::list(c, &path, Some(&inc.id)))?;
        let file = postmortem::write(&self.dir, &inc, &rollbacks, archive_root, reports_root)?;
        let text = format!("postmortem written to {}", file.display());
        let written = self.change(|tx| {
            let n = incident::number(tx, &path, &inc.id)?;
            let last = incident::load(tx, &path, n)?;
            // Regenerating the same postmortem again and again adds one entry, not one per call.
            if last.timeline.last().is_some_and(|e| e.what == What::Postmortem) {
                return Ok(());
            }
            incident::append(tx, &path, n, DEFAULT_WHO, What::Postmortem, text, Default::default())
        });
        written.map(|()| file)
    }
}

/// `who`, or [`DEFAULT_WHO`] when empty or absent.
fn who_or_default(who: Option<&str>) -> String {
    match who.map(str::trim) {
        Some(w) if !w.is_empty() => w.to_string(),
        _ => DEFAULT_WHO.to_string(),
    }
}

/// A `Warroom` error.
fn werr(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Warroom, message)
}

/// The drift of a determinism result, for an incident.
fn drift_of(d: &DeterminismResult) -> Option<Drift> {
    if d.deterministic {
        return None;
    }
    let seed = d.digests.iter().find(|(_, seen)| seen.len() > 1).map(|(s, _)| *s);
    let div: Option<&Divergence> = d.drift.as_ref();
    Some(Drift {
        seed,
        index: div.map(|v| v.index),
        time: div.and_then(|v| v.time),
        a: div.and_then(|v| v.a.clone()),
        b: div.and_then(|v| v.b.clone()),
    })
}
