//! `toron_snapshots`: golden files (`<root>/<case>.json`) checked against values, and the pending candidates
//! (`<case>.json.new`) a failed check leaves for review, accepted or rejected.

use crate::canon::{about, canonical_text, json_arg};
use crate::diff::options_arg;
use crate::handle::{borrow, borrow_str, check_out, give, give_string, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use serde_json::{json, Value};
use std::ffi::c_char;
use toron_core::snapshot::{CheckStatus, Snapshots};

/// A directory of golden files. Opaque: create it with `toron_snapshots_open`, free it with
/// `toron_snapshots_free`. It holds only the directory and the update mode (every call reads the files
/// afresh), and every file is written atomically, so it may be used from several threads at once.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_snapshots {
    inner: Snapshots,
}

/// What `toron_snapshots_check` concluded.
#[allow(non_camel_case_types, reason = "C type name")]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum toron_check_status {
    /// The value equals the golden (under the diff options). Nothing was written.
    TORON_CHECK_PASSED = 0,
    /// The value differs from the golden, or there is no golden yet: the candidate was written beside it as
    /// `<case>.json.new` for review (`toron_snapshots_accept` / `_reject`). The only failing status.
    TORON_CHECK_FAILED = 1,
    /// Update mode: there was no golden, and one was written.
    TORON_CHECK_CREATED = 2,
    /// Update mode: the golden differed (or was unreadable) and was rewritten.
    TORON_CHECK_UPDATED = 3,
}

impl From<CheckStatus> for toron_check_status {
    fn from(s: CheckStatus) -> Self {
        match s {
            CheckStatus::Passed => toron_check_status::TORON_CHECK_PASSED,
            CheckStatus::Failed => toron_check_status::TORON_CHECK_FAILED,
            CheckStatus::Created => toron_check_status::TORON_CHECK_CREATED,
            CheckStatus::Updated => toron_check_status::TORON_CHECK_UPDATED,
        }
    }
}

/// Open the golden files under the directory `root` (e.g. `"snapshots"`, relative to the working
/// directory; it is created when the first file is written). With `update` true, or when the environment
/// variable `TORON_SNAPSHOT_UPDATE` is `1` or `true` at this call, a check writes the golden itself instead
/// of a candidate (update mode).
///
/// On success writes a new object to `*out` (free it with `toron_snapshots_free`). Nothing is read or
/// written yet. Fails with `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_open(
    root: *const c_char,
    update: bool,
    out: *mut *mut toron_snapshots,
) -> toron_status {
    boundary(|| {
        // SAFETY: `root` is NULL or a NUL-terminated string (the header's pointer rules).
        let root = unsafe { borrow_str(root, "root") }?;
        check_out(out, "out")?;
        let from_env = Snapshots::from_env(root);
        let update = update || from_env.is_update();
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe {
            give(
                out,
                toron_snapshots {
                    inner: from_env.update(update),
                },
            )
        };
        Ok(())
    })
}

/// Compare the JSON document `value_json` with the golden file of `case_name` (`<root>/<case_name>.json`;
/// `/` in the name makes subdirectories) under the diff options `options_json` (NULL for the defaults; the
/// same JSON object as for `toron_diff_json`: tolerances, ignored paths and keyed arrays apply to the
/// comparison, redacted paths are stored as `"[REDACTED]"`).
///
/// Writes the outcome to `*status_out`:
/// - `TORON_CHECK_PASSED`: equal; nothing written (a stale `<case>.json.new` is removed);
/// - `TORON_CHECK_FAILED`: different or no golden yet; the candidate was written to `<case>.json.new`;
/// - `TORON_CHECK_CREATED` / `TORON_CHECK_UPDATED` (update mode only): the golden was written.
///
/// When `diff_summary_out` is not NULL, also writes a one-line summary there (`"no differences"`,
/// `"no golden yet"` or `"1 changed, 0 added, 0 removed"`), owned by the caller: free it with
/// `toron_string_free`. `diff_summary_out` is the one output that may be NULL.
///
/// A failed check is `TORON_OK` with `TORON_CHECK_FAILED`, not an error. Errors: `TORON_SNAPSHOT_ERROR` when
/// the golden cannot be read or was edited into invalid JSON (`toron_last_error_file()` names it, `_line()`
/// and `_column()` say where; nothing is written), `TORON_INVALID_ARGUMENT` for a bad case name or option,
/// `TORON_IO_ERROR` when a file cannot be written, `TORON_JSON_ERROR` / `TORON_CANONICAL_ERROR` for a bad
/// `value_json`, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_check(
    snapshots: *const toron_snapshots,
    case_name: *const c_char,
    value_json: *const c_char,
    options_json: *const c_char,
    status_out: *mut toron_check_status,
    diff_summary_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules for every argument.
        let (snapshots, case, value, options) = unsafe {
            (
                borrow(snapshots, "snapshots")?,
                borrow_str(case_name, "case_name")?,
                json_arg(value_json, "value_json")?,
                options_arg(options_json)?,
            )
        };
        check_out(status_out, "status_out")?;
        let result = snapshots.inner.check(case, &value, &options)?;
        if !diff_summary_out.is_null() {
            // SAFETY: non-NULL and writable (the header's pointer rules).
            unsafe { give_string(diff_summary_out, result.summary()) }?;
        }
        // SAFETY: `status_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { status_out.write(result.status().into()) };
        Ok(())
    })
}

/// Accept pending candidates: each `<case>.json.new` replaces `<case>.json` (atomically). `case_or_null`
/// names one case, or is NULL to accept every pending case. A candidate with exactly the golden's bytes is
/// only removed.
///
/// Fails with `TORON_SNAPSHOT_ERROR` when the named case has no pending candidate, or a candidate does not
/// parse (the last error names the file; nothing is moved for it), `TORON_IO_ERROR`, `TORON_NULL_ARGUMENT`
/// (for `snapshots`) or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_accept(
    snapshots: *const toron_snapshots,
    case_or_null: *const c_char,
) -> toron_status {
    // SAFETY: the header's pointer rules, passed on.
    boundary(|| unsafe { select(snapshots, case_or_null, |s, c| s.accept(c).map(drop)) })
}

/// Reject pending candidates: delete `<case>.json.new` (`case_or_null` NULL: every pending case). Goldens
/// are untouched. Fails with `TORON_SNAPSHOT_ERROR` when the named case has no pending candidate,
/// `TORON_IO_ERROR`, `TORON_NULL_ARGUMENT` (for `snapshots`) or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_reject(
    snapshots: *const toron_snapshots,
    case_or_null: *const c_char,
) -> toron_status {
    // SAFETY: the header's pointer rules, passed on.
    boundary(|| unsafe { select(snapshots, case_or_null, |s, c| s.reject(c).map(drop)) })
}

/// Borrow the object and the optional case name, and run `f`.
///
/// # Safety
///
/// `snapshots` is NULL or live; `case` is NULL or a NUL-terminated string.
unsafe fn select(
    snapshots: *const toron_snapshots,
    case: *const c_char,
    f: impl FnOnce(&Snapshots, Option<&str>) -> toron_core::Result<()>,
) -> crate::error::FfiResult<()> {
    // SAFETY: the caller's guarantee.
    let snapshots = unsafe { borrow(snapshots, "snapshots") }?;
    let case = if case.is_null() {
        None
    } else {
        // SAFETY: non-NULL, NUL-terminated (the caller's guarantee).
        Some(unsafe { borrow_str(case, "case_or_null") }?)
    };
    Ok(f(&snapshots.inner, case)?)
}

/// The pending candidates as a JSON array sorted by case, each an object with `case`, `golden_path`,
/// `new_path` (file paths), `summary` (as `toron_diff_summary` gives it), `patch` (the JSON Patch from the
/// golden's value to the candidate's; from `null` when there is no golden), `golden` (the golden's value, or
/// `null` when there is none) and `candidate` (the candidate's value). `"[]"` when nothing is pending.
///
/// On success writes a new string to `*json_out`, owned by the caller: free it with `toron_string_free`.
/// Fails with `TORON_SNAPSHOT_ERROR` when a golden or candidate cannot be read or parsed (the last error
/// names the file), `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_pending_json(
    snapshots: *const toron_snapshots,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `snapshots` is NULL or live (the header's pointer rules).
        let snapshots = unsafe { borrow(snapshots, "snapshots") }?;
        check_out(json_out, "json_out")?;
        let pending: Vec<Value> = snapshots
            .inner
            .pending()?
            .into_iter()
            .map(|p| {
                json!({
                    "case": p.case,
                    "golden_path": p.golden_path.to_string_lossy(),
                    "new_path": p.new_path.to_string_lossy(),
                    "summary": p.diff.summary(),
                    "patch": p.diff.patch(),
                    "golden": p.golden.map_or(Value::Null, |g| g.value),
                    "candidate": p.candidate.value,
                })
            })
            .collect();
        let text = canonical_text(&Value::Array(pending))?;
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, text) }
    })
}

/// The cases that have a golden file but are not in `seen_cases_json` (a JSON array of case names), as a
/// sorted JSON array of strings. Reported only: nothing is deleted.
///
/// On success writes a new string to `*json_out`, owned by the caller: free it with `toron_string_free`.
/// Fails with `TORON_INVALID_ARGUMENT` when `seen_cases_json` is not an array of strings,
/// `TORON_JSON_ERROR`, `TORON_IO_ERROR` / `TORON_SNAPSHOT_ERROR` when the directory cannot be read,
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_unused_json(
    snapshots: *const toron_snapshots,
    seen_cases_json: *const c_char,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules for every argument.
        let (snapshots, seen) = unsafe {
            (
                borrow(snapshots, "snapshots")?,
                json_arg(seen_cases_json, "seen_cases_json")?,
            )
        };
        check_out(json_out, "json_out")?;
        let seen: Vec<String> = serde_json::from_value(seen).map_err(|e| {
            about(
                "seen_cases_json",
                toron_core::Error::new(
                    toron_core::ErrorKind::InvalidArgument,
                    format!("expected a JSON array of case names: {e}"),
                ),
            )
        })?;
        let unused = snapshots.inner.unused(&seen)?;
        let text = canonical_text(&json!(unused))?;
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, text) }
    })
}

/// Free a `toron_snapshots`. `toron_snapshots_free(NULL)` does nothing. Files are not touched.
#[no_mangle]
pub unsafe extern "C" fn toron_snapshots_free(snapshots: *mut toron_snapshots) {
    // SAFETY: `snapshots` is NULL or came from `toron_snapshots_open` and is freed once.
    or_default((), || unsafe { take(snapshots) })
}
