//! `toron_status`: the numbered result of every fallible C function.
//!
//! The numbers are ABI: once released, a number keeps its meaning forever and is never reused. Codes 1-99
//! belong to the C surface itself (bad pointers, bad text, panics); codes from 100 mirror
//! [`toron_core::ErrorKind`], one each.

use std::ffi::{c_char, c_int};
use toron_core::ErrorKind;

/// The result of a fallible call. `TORON_OK` (0) is success; anything else is a failure whose detail is in
/// `toron_last_error_message()` (and the other `toron_last_error_*` getters) on the same thread.
///
/// The numbers are part of the ABI: they never change and are never reused.
#[allow(non_camel_case_types, reason = "C type name")]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum toron_status {
    /// Success.
    TORON_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    TORON_NULL_ARGUMENT = 1,
    /// A string argument is not valid UTF-8.
    TORON_INVALID_UTF8 = 2,
    /// A bug in Toron: a Rust panic was caught at the boundary. Please report it with the message.
    TORON_PANIC = 3,
    /// An error kind this version of the C surface does not know (a newer core): see the message.
    TORON_UNKNOWN_ERROR = 4,
    /// Not a failure of the call but the end of a stream: `toron_run_next_event` has returned every event of
    /// the run, up to `run.finished`. Nothing is written to the output.
    TORON_END_OF_STREAM = 5,
    /// Nothing happened within the timeout (`toron_run_next_event`): the operation goes on, call again.
    /// Nothing is written to the output.
    TORON_TIMEOUT = 6,
    /// The scenario is invalid: syntax, unknown field, wrong type, bad value, unknown node id.
    /// `toron_last_error_line()`, `_field()` and `_path()` say where.
    TORON_SCENARIO_ERROR = 100,
    /// Reading or writing a file failed (missing scenario file, unwritable trace file, ...).
    TORON_IO_ERROR = 101,
    /// The simulation could not proceed (a model reported an unrecoverable state).
    TORON_SIM_ERROR = 102,
    /// The operation was cancelled before it finished.
    TORON_CANCELLED = 103,
    /// An argument is invalid (an unknown format name, a bad option, a bad `SIM_SEED`).
    TORON_INVALID_ARGUMENT = 104,
    /// Text that should be JSON is not (the line and column are given).
    TORON_JSON_ERROR = 105,
    /// A value cannot be canonically encoded (NaN, infinity, an integer beyond 2^53, ...).
    TORON_CANONICAL_ERROR = 106,
    /// A JSON Patch cannot be applied.
    TORON_PATCH_ERROR = 107,
    /// A golden file is missing, unreadable or invalid.
    TORON_SNAPSHOT_ERROR = 108,
    /// The run archive is corrupt or cannot be written.
    TORON_ARCHIVE_ERROR = 109,
    /// The test-operations manifest (`testops.toml`) is invalid; file, line and field are given.
    TORON_MANIFEST_ERROR = 110,
    /// A run could not be started or finished (harness failure, unknown run id).
    TORON_RUN_ERROR = 111,
    /// A PII scrubber policy is invalid, or strict mode refused a document that holds PII.
    TORON_PII_ERROR = 112,
    /// A synthetic data set schema is invalid (file, line and field are given), or generating it failed.
    TORON_DATASET_ERROR = 113,
    /// A warroom operation is invalid (unknown incident or run id, a status change that is not allowed) or
    /// the warroom database cannot be used.
    TORON_WARROOM_ERROR = 114,
    /// What a scenario expects of a sweep did not happen: a mark of `[expect] sometimes` no seed reached.
    TORON_EXPECTATION_ERROR = 115,
    /// A node written outside Toron failed (a callback returned an error status, its constructor failed) or
    /// its model (`c:<symbol>`, `python:...`) cannot be found or built.
    TORON_NODE_ERROR = 116,
}

impl toron_status {
    /// Every status, for tests and `toron_status_name`.
    pub const ALL: &'static [toron_status] = &[
        toron_status::TORON_OK,
        toron_status::TORON_NULL_ARGUMENT,
        toron_status::TORON_INVALID_UTF8,
        toron_status::TORON_PANIC,
        toron_status::TORON_UNKNOWN_ERROR,
        toron_status::TORON_END_OF_STREAM,
        toron_status::TORON_TIMEOUT,
        toron_status::TORON_SCENARIO_ERROR,
        toron_status::TORON_IO_ERROR,
        toron_status::TORON_SIM_ERROR,
        toron_status::TORON_CANCELLED,
        toron_status::TORON_INVALID_ARGUMENT,
        toron_status::TORON_JSON_ERROR,
        toron_status::TORON_CANONICAL_ERROR,
        toron_status::TORON_PATCH_ERROR,
        toron_status::TORON_SNAPSHOT_ERROR,
        toron_status::TORON_ARCHIVE_ERROR,
        toron_status::TORON_MANIFEST_ERROR,
        toron_status::TORON_RUN_ERROR,
        toron_status::TORON_PII_ERROR,
        toron_status::TORON_DATASET_ERROR,
        toron_status::TORON_WARROOM_ERROR,
        toron_status::TORON_EXPECTATION_ERROR,
        toron_status::TORON_NODE_ERROR,
    ];

    /// The status of a core error kind. The match is exhaustive: a kind added to the core does not compile
    /// until it is given its own number here.
    pub fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Scenario => toron_status::TORON_SCENARIO_ERROR,
            ErrorKind::Io => toron_status::TORON_IO_ERROR,
            ErrorKind::Sim => toron_status::TORON_SIM_ERROR,
            ErrorKind::Cancelled => toron_status::TORON_CANCELLED,
            ErrorKind::InvalidArgument => toron_status::TORON_INVALID_ARGUMENT,
            ErrorKind::Json => toron_status::TORON_JSON_ERROR,
            ErrorKind::Canonical => toron_status::TORON_CANONICAL_ERROR,
            ErrorKind::Patch => toron_status::TORON_PATCH_ERROR,
            ErrorKind::Snapshot => toron_status::TORON_SNAPSHOT_ERROR,
            ErrorKind::Archive => toron_status::TORON_ARCHIVE_ERROR,
            ErrorKind::Manifest => toron_status::TORON_MANIFEST_ERROR,
            ErrorKind::Run => toron_status::TORON_RUN_ERROR,
            ErrorKind::Pii => toron_status::TORON_PII_ERROR,
            ErrorKind::Dataset => toron_status::TORON_DATASET_ERROR,
            ErrorKind::Warroom => toron_status::TORON_WARROOM_ERROR,
            ErrorKind::Expectation => toron_status::TORON_EXPECTATION_ERROR,
            ErrorKind::Node => toron_status::TORON_NODE_ERROR,
        }
    }

    /// The name of the C constant, NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            toron_status::TORON_OK => "TORON_OK\0",
            toron_status::TORON_NULL_ARGUMENT => "TORON_NULL_ARGUMENT\0",
            toron_status::TORON_INVALID_UTF8 => "TORON_INVALID_UTF8\0",
            toron_status::TORON_PANIC => "TORON_PANIC\0",
            toron_status::TORON_UNKNOWN_ERROR => "TORON_UNKNOWN_ERROR\0",
            toron_status::TORON_END_OF_STREAM => "TORON_END_OF_STREAM\0",
            toron_status::TORON_TIMEOUT => "TORON_TIMEOUT\0",
            toron_status::TORON_SCENARIO_ERROR => "TORON_SCENARIO_ERROR\0",
            toron_status::TORON_IO_ERROR => "TORON_IO_ERROR\0",
            toron_status::TORON_SIM_ERROR => "TORON_SIM_ERROR\0",
            toron_status::TORON_CANCELLED => "TORON_CANCELLED\0",
            toron_status::TORON_INVALID_ARGUMENT => "TORON_INVALID_ARGUMENT\0",
            toron_status::TORON_JSON_ERROR => "TORON_JSON_ERROR\0",
            toron_status::TORON_CANONICAL_ERROR => "TORON_CANONICAL_ERROR\0",
            toron_status::TORON_PATCH_ERROR => "TORON_PATCH_ERROR\0",
            toron_status::TORON_SNAPSHOT_ERROR => "TORON_SNAPSHOT_ERROR\0",
            toron_status::TORON_ARCHIVE_ERROR => "TORON_ARCHIVE_ERROR\0",
            toron_status::TORON_MANIFEST_ERROR => "TORON_MANIFEST_ERROR\0",
            toron_status::TORON_RUN_ERROR => "TORON_RUN_ERROR\0",
            toron_status::TORON_PII_ERROR => "TORON_PII_ERROR\0",
            toron_status::TORON_DATASET_ERROR => "TORON_DATASET_ERROR\0",
            toron_status::TORON_WARROOM_ERROR => "TORON_WARROOM_ERROR\0",
            toron_status::TORON_EXPECTATION_ERROR => "TORON_EXPECTATION_ERROR\0",
            toron_status::TORON_NODE_ERROR => "TORON_NODE_ERROR\0",
        }
    }
}

/// The name of a status constant, e.g. `"TORON_SCENARIO_ERROR"` for 100, or `"TORON_UNKNOWN_STATUS"` for a
/// number that is not a status. Static storage: never free it. Takes an `int` so that any number is safe to
/// pass.
#[no_mangle]
pub extern "C" fn toron_status_name(status: c_int) -> *const c_char {
    let unknown = "TORON_UNKNOWN_STATUS\0";
    let name = crate::panic::or_default(unknown, || {
        toron_status::ALL
            .iter()
            .find(|s| **s as c_int == status)
            .map_or(unknown, |s| s.name())
    });
    name.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::ffi::CStr;

    #[test]
    fn every_kind_has_its_own_status() {
        let mut seen = BTreeSet::new();
        for &kind in ErrorKind::ALL {
            let status = toron_status::from_kind(kind);
            assert_ne!(status, toron_status::TORON_OK, "{kind:?} maps to TORON_OK");
            assert_ne!(
                status,
                toron_status::TORON_UNKNOWN_ERROR,
                "{kind:?} has no status of its own: give it a new number"
            );
            assert!((status as i32) >= 100, "{kind:?}: core kinds are numbered from 100");
            assert!(seen.insert(status), "{kind:?} shares {status:?} with another kind");
        }
    }

    #[test]
    fn numbers_are_pinned() {
        // ABI: these numbers never change. Add new statuses, never edit this table.
        let pinned = [
            (toron_status::TORON_OK, 0),
            (toron_status::TORON_NULL_ARGUMENT, 1),
            (toron_status::TORON_INVALID_UTF8, 2),
            (toron_status::TORON_PANIC, 3),
            (toron_status::TORON_UNKNOWN_ERROR, 4),
            (toron_status::TORON_END_OF_STREAM, 5),
            (toron_status::TORON_TIMEOUT, 6),
            (toron_status::TORON_SCENARIO_ERROR, 100),
            (toron_status::TORON_IO_ERROR, 101),
            (toron_status::TORON_SIM_ERROR, 102),
            (toron_status::TORON_CANCELLED, 103),
            (toron_status::TORON_INVALID_ARGUMENT, 104),
            (toron_status::TORON_JSON_ERROR, 105),
            (toron_status::TORON_CANONICAL_ERROR, 106),
            (toron_status::TORON_PATCH_ERROR, 107),
            (toron_status::TORON_SNAPSHOT_ERROR, 108),
            (toron_status::TORON_ARCHIVE_ERROR, 109),
            (toron_status::TORON_MANIFEST_ERROR, 110),
            (toron_status::TORON_RUN_ERROR, 111),
            (toron_status::TORON_PII_ERROR, 112),
            (toron_status::TORON_DATASET_ERROR, 113),
            (toron_status::TORON_WARROOM_ERROR, 114),
            (toron_status::TORON_EXPECTATION_ERROR, 115),
            (toron_status::TORON_NODE_ERROR, 116),
        ];
        assert_eq!(pinned.len(), toron_status::ALL.len());
        for (status, number) in pinned {
            assert_eq!(status as i32, number, "{status:?}");
        }
    }

    #[test]
    fn names_match_constants() {
        for &status in toron_status::ALL {
            // SAFETY: toron_status_name returns a pointer to a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(toron_status_name(status as c_int)) };
            assert_eq!(name.to_str().unwrap(), format!("{status:?}"));
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(toron_status_name(-7)) };
        assert_eq!(unknown.to_str().unwrap(), "TORON_UNKNOWN_STATUS");
    }
}
