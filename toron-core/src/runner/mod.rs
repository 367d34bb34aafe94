//! The runner: the test-operations manifest ([`Manifest`], `testops.toml`) and its suites, cases, profiles
//! and gates.
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
//! assert_eq!(m.gates.len(), 1);
//! # Ok::<(), toron_core::Error>(())
//! ```

#![allow(
    clippy::result_large_err,
    reason = "toron_core::Error's size is decided in error.rs, not here"
)]

mod case;
mod command;
mod events;
mod manifest;
mod run;

pub use case::{Attempt, CaseOutcome, CaseResult, DeterminismResult, GoldenResult, SeedResult};
pub use command::CAPTURE_LIMIT;
pub use events::{read_events, Event, Events, EVENTS_FILE};
pub use manifest::{Case, CaseKind, Defaults, Expect, Manifest, Project, Suite, MANIFEST_FILE};
pub use run::{events_path, Run, RunHandle, RunOptions, RunResult, RunState};
