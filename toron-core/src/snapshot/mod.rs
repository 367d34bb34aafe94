//! Snapshots: golden files in the user's repository, and the archive of every run.
//!
//! - [`Snapshots`] keeps one readable golden file per case (`snapshots/<case>.json`), checks values against
//!   them, and manages the pending candidates (`<case>.json.new`) a failed check leaves for review:
//!   [`Snapshots::pending`], [`Snapshots::accept`], [`Snapshots::reject`], [`Snapshots::unused`].
//! - [`archive::Archive`] stores run outputs content-addressed by the blake3 of their canonical bytes, with a
//!   manifest per run tagged `run-<semver>-<UTC timestamp>`; reads verify the hash and
//!   [`archive::Archive::verify`] checks the whole archive.
//!
//! Every file is written atomically (temporary file in the same directory, fsync, rename, fsync of the
//! directory), so a crash or a kill leaves either the old file or the new one. Nothing written here depends on
//! the wall clock except a run's tag and its `created` field.
//!
//! ```
//! use serde_json::json;
//! use toron_core::diff::DiffOptions;
//! use toron_core::snapshot::{CheckStatus, Snapshots};
//!
//! let dir = tempfile::tempdir()?;
//! let snaps = Snapshots::new(dir.path().join("snapshots")).update(true);
//! assert_eq!(snaps.check("demo", &json!([1, 2, 3]), &DiffOptions::default())?.status(), CheckStatus::Created);
//! assert_eq!(snaps.check("demo", &json!([1, 2, 3]), &DiffOptions::default())?.status(), CheckStatus::Passed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod archive;
mod case;
mod encode;
pub(crate) mod fsutil;
mod golden;
mod pack;
mod tag;

pub use golden::{CheckResult, CheckStatus, Golden, Pending, Snapshots, DEFAULT_ROOT, FORMAT_VERSION, UPDATE_ENV};
pub use tag::UtcTime;
