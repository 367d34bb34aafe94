//! The runner: the test-operations manifest ([`Manifest`], `testops.toml`), and runs of its suites
//! ([`Run::start`] → [`RunHandle`] with [`RunHandle::events`], [`RunHandle::cancel`], [`RunHandle::wait`]).
//!
//! A run gets the archive tag `run-<semver>-<UTC timestamp>` as its id, runs the selected cases on `jobs`
//! workers (results in manifest order), retries failed attempts (a pass after a failure is `flaky`), stores
//! each case's output in the archive, appends its events to `<archive>/events/<run id>.events.ndjson`,
//! evaluates the gates and writes `reports/<run id>/` (`report.json`, `verdict.json`, `junit.xml`,
//! `index.html`, `determinism.json`) and `reports/index.html`.
//!
//! ```
//! use toron_core::runner::{CaseOutcome, Manifest, Run, RunOptions, RunState};
//! let dir = tempfile::tempdir()?;
//! let m = Manifest::from_str(r#"
//!     [[suite]]
//!     name = "unit"
//!     [[suite.case]]
//!     name = "ok"
//!     kind = "command"
//!     argv = ["sh", "-c", "echo hello"]
//!     [[gate]]
//!     rule = "failed == 0"
//! "#, dir.path())?;
//! let run = Run::start(&m, RunOptions { check: true, ..Default::default() })?;
//! let kinds: Vec<String> = run.events(0).map(|e| e.kind).collect();
//! assert_eq!(kinds.first().map(String::as_str), Some("run.scheduled"));
//! assert_eq!(kinds.last().map(String::as_str), Some("run.finished"));
//! let result = run.wait()?;
//! assert_eq!(result.state, RunState::Passed);
//! assert_eq!(result.cases[0].outcome, CaseOutcome::Passed);
//! assert_eq!(result.cases[0].attempts[0].stdout, "hello\n");
//! assert!(result.report_dir.unwrap().join("junit.xml").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The manifest alone:
//!
//! ```
//! use toron_core::runner::{CaseKind, Manifest};
//! let m = Manifest::from_str(r#"
//!     [project]
//!     name = "shop"
//!     [[suite]]
//!     name = "lint"
//!     [[suite.case]]
//!     name = "clippy"
//!     kind = "command"
//!     argv = ["cargo", "clippy"]
//!     timeout = "15m"
//!     [[gate]]
//!     rule = "failed == 0"
//! "#, ".")?;
//! assert_eq!(m.suites[0].cases[0].kind, CaseKind::Command);
//! assert_eq!(m.suites[0].cases[0].timeout.map(|t| t.secs_f64()), Some(900.0));
//! assert_eq!(m.gates.len(), 2); // and `errored == 0`, added to every manifest that does not gate it
//! # Ok::<(), toron_core::Error>(())
//! ```

#![allow(
    clippy::result_large_err,
    reason = "toron_core::Error's size is decided in error.rs, not here"
)]

mod case;
mod command;
mod datasets;
mod deadline;
mod drift;
mod events;
mod history;
mod lock;
mod manifest;
pub mod progress;
mod protect;
mod queue;
mod refresh;
mod replay;
mod run;

pub use case::{
    Attempt, CaseOutcome, CaseResult, DeterminismResult, GoldenResult, MarkResult, SeedCounterexample, SeedResult,
    ValueDrift, WORKER_ENV,
};
pub use command::CAPTURE_LIMIT;
pub use datasets::{dataset_env, DatasetRecord, DatasetTable, DATASETS_DIR_ENV};
pub use drift::{first_divergence, Divergence};
pub use events::{read_events, Event, Events, Next, EVENTS_FILE};
pub use history::{list_overviews, list_runs, load_overview, load_run, render_reports, write_index, INTERRUPTED};
pub use manifest::{
    Case, CaseKind, DatasetSpec, Defaults, Expect, Manifest, PiiSettings, Project, Suite, WarroomSettings,
    MANIFEST_FILE,
};
pub use progress::Progress;
pub use protect::PiiFinding;
pub use queue::{Queue, QueueStats};
pub use refresh::{refresh_snapshots, refresh_snapshots_with, RefreshEntry, RefreshResult, RefreshStatus};
pub use replay::{replay, replay_with, ReplayCase, ReplayDataset, ReplayOptions, ReplayResult, ReplayStatus};
pub use run::{evaluate_gates, events_path, Run, RunHandle, RunIncident, RunOptions, RunOverview, RunResult, RunState};
