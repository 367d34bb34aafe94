//! `toron_warroom`: incidents, rollbacks and postmortems (`toron_core::warroom`), as JSON in and out.
//!
//! Every output is the core's JSON form (the field names of the core's `warroom` module docs, the same as
//! Python's and the HTTP API's), owned by the caller and freed with `toron_string_free`. Bad input (an
//! unknown incident or run id, a status change not allowed, a case with no archived output, a request with an
//! unknown field) is `TORON_WARROOM_ERROR` with the detail in the last error.

use crate::canon::json_arg;
use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow, borrow_str, check_out, give, give_string, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use serde::Deserialize;
use serde_json::Value;
use std::ffi::c_char;
use std::path::PathBuf;
use toron_core::warroom::{OpenRequest, RollbackRequest, Status, Warroom};
use toron_core::{Error, ErrorKind};

/// A warroom: a directory with `warroom.db` and `postmortems/`, and the run archive, golden files and reports
/// it works with. Opaque: open it with `toron_warroom_open`, free it with `toron_warroom_free`. It may be used
/// from several threads at once (its calls are serialised); several processes may open the same directory.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_warroom {
    inner: Warroom,
    archive: PathBuf,
    snapshots: PathBuf,
    reports: PathBuf,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Options {
    archive: PathBuf,
    snapshots: PathBuf,
    reports: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            archive: ".toron".into(),
            snapshots: "snapshots".into(),
            reports: "reports".into(),
        }
    }
}

/// What `toron_rollback_json` reads.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Rollback {
    cases: Vec<String>,
    all_failed: Option<String>,
    to: String,
    from_case: Option<String>,
    incident: Option<String>,
    dry_run: bool,
    who: Option<String>,
}

fn warroom_error(message: String) -> FfiError {
    FfiError::from(Error::new(ErrorKind::Warroom, message))
}

/// The JSON argument `name` as a `T`; a field that is unknown or of the wrong type is `TORON_WARROOM_ERROR`.
///
/// # Safety
///
/// `ptr` is NULL or a NUL-terminated string that stays unchanged during the call.
unsafe fn request<T: serde::de::DeserializeOwned>(ptr: *const c_char, name: &str) -> FfiResult<T> {
    // SAFETY: the caller's guarantee, passed on.
    let value = unsafe { json_arg(ptr, name) }?;
    serde_json::from_value(value).map_err(|e| warroom_error(format!("{name}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> FfiResult<String> {
    serde_json::to_string(value).map_err(|e| FfiError::from(Error::new(ErrorKind::Json, e.to_string())))
}

/// Open (or create) the warroom in the directory `dir`. `options_json` is NULL or a JSON object with any of
/// `"archive"` (default `".toron"`), `"snapshots"` (default `"snapshots"`) and `"reports"` (default
/// `"reports"`), paths relative to the working directory. On success `*out` is a new warroom, owned by the
/// caller: free it with `toron_warroom_free`; on failure `*out` is unchanged.
///
/// Fails with `TORON_WARROOM_ERROR` (a database that cannot be used, or made by a newer toron; an unknown
/// option), `TORON_IO_ERROR` (the directory cannot be created), `TORON_JSON_ERROR`, `TORON_NULL_ARGUMENT`
/// or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_warroom_open(
    dir: *const c_char,
    options_json: *const c_char,
    out: *mut *mut toron_warroom,
) -> toron_status {
    boundary(|| {
        // SAFETY: `dir` is NULL or a NUL-terminated string (the header's pointer rules).
        let dir = unsafe { borrow_str(dir, "dir") }?;
        check_out(out, "out")?;
        let options: Options = if options_json.is_null() {
            Options::default()
        } else {
            // SAFETY: as `dir`.
            unsafe { request(options_json, "options_json") }?
        };
        let inner = Warroom::open(dir)?;
        let w = toron_warroom {
            inner,
            archive: options.archive,
            snapshots: options.snapshots,
            reports: options.reports,
        };
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, w) };
        Ok(())
    })
}

/// Open an incident for a NO-GO run of the archive, or join the incident not yet resolved that has the same
/// dedup key. `request_json` is a JSON object with any of `"run_id"` (default: the newest NO-GO run),
/// `"dedup_key"`, `"severity"` (`"sev1"`..`"sev4"`), `"title"`, `"owner"`, `"labels"` (an array of strings)
/// and `"who"` (default `"toron"`); `"{}"` takes every default. On success `*incident_json_out` is the
/// incident as a JSON object with `"created"` (false: the run joined an open incident), owned by the caller
/// (free it with `toron_string_free`).
///
/// Fails with `TORON_WARROOM_ERROR` (a GO run, an unknown run id — the message lists the newest —, no NO-GO
/// run, an unknown field), `TORON_JSON_ERROR`, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_incident_open_json(
    warroom: *mut toron_warroom,
    request_json: *const c_char,
    incident_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom (the header's pointer rules); it is only read.
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        check_out(incident_json_out, "incident_json_out")?;
        // SAFETY: NULL or a NUL-terminated string (the header's pointer rules).
        let req: OpenRequest = unsafe { request(request_json, "request_json") }?;
        let opened = w.inner.open_incident(&w.archive, req)?;
        let mut value = serde_json::to_value(&opened.incident)
            .map_err(|e| FfiError::from(Error::new(ErrorKind::Json, e.to_string())))?;
        if let Value::Object(m) = &mut value {
            m.insert("created".into(), Value::Bool(opened.created));
        }
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(incident_json_out, value.to_string()) }
    })
}

/// The incident `id` (e.g. `"INC-1"`) as a JSON object in `*incident_json_out`, owned by the caller (free it
/// with `toron_string_free`). Fails with `TORON_WARROOM_ERROR` for an unknown id (the message lists the
/// newest ids), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_incident_get_json(
    warroom: *mut toron_warroom,
    id: *const c_char,
    incident_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom; `id` NULL or a NUL-terminated string.
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        // SAFETY: as above.
        let id = unsafe { borrow_str(id, "id") }?;
        check_out(incident_json_out, "incident_json_out")?;
        let json = to_json(&w.inner.incident(id)?)?;
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(incident_json_out, json) }
    })
}

/// Every incident as a JSON array in `*incidents_json_out` (by number), owned by the caller (free it with
/// `toron_string_free`). `status_or_null` is NULL (all) or one of `"open"`, `"mitigated"`, `"resolved"`,
/// `"reopened"`. Fails with `TORON_WARROOM_ERROR` for an unknown status, `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_incidents_json(
    warroom: *mut toron_warroom,
    status_or_null: *const c_char,
    incidents_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom (the header's pointer rules).
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        check_out(incidents_json_out, "incidents_json_out")?;
        let status = if status_or_null.is_null() {
            None
        } else {
            // SAFETY: a NUL-terminated string (the header's pointer rules).
            Some(Status::parse(unsafe { borrow_str(status_or_null, "status") }?)?)
        };
        let json = to_json(&w.inner.incidents(status)?)?;
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(incidents_json_out, json) }
    })
}

/// Move incident `id` to `status` (`"mitigated"`, `"resolved"` or `"reopened"`), with an optional note
/// (`note_or_null`), attributed to `"toron"`; on success `*incident_json_out` is the updated incident (free
/// it with `toron_string_free`). A change the transitions do not allow is `TORON_WARROOM_ERROR`, whose
/// message names the current status and the allowed next ones; also for an unknown id or status.
#[no_mangle]
pub unsafe extern "C" fn toron_incident_set_status(
    warroom: *mut toron_warroom,
    id: *const c_char,
    status: *const c_char,
    note_or_null: *const c_char,
    incident_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom; the strings NULL or NUL-terminated.
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        // SAFETY: as above.
        let id = unsafe { borrow_str(id, "id") }?;
        // SAFETY: as above.
        let status = Status::parse(unsafe { borrow_str(status, "status") }?)?;
        let note = if note_or_null.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { borrow_str(note_or_null, "note") }?)
        };
        check_out(incident_json_out, "incident_json_out")?;
        let inc = w.inner.set_status(id, status, toron_core::warroom::DEFAULT_WHO, note)?;
        let json = to_json(&inc)?;
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(incident_json_out, json) }
    })
}

/// Roll goldens back to the outputs a run archived. `request_json` is a JSON object: `"to"` (the run id,
/// required), `"cases"` (an array of `"suite/case"`), `"all_failed"` (a run id whose failed golden cases are
/// rolled back too), `"from_case"` (for one case: take that other case's output of the run), `"incident"` (an incident id to record it in), `"dry_run"` (write nothing) and `"who"`.
/// On success `*rollbacks_json_out` is a JSON array, one object per golden (`case`, `golden`, `from`,
/// `from_run`, `to`, `source_run`, `summary`, `diff`, `incident`, `id`...), owned by the caller (free it with
/// `toron_string_free`). Nothing is written unless every case checks out: an unknown run id (the message
/// lists the newest), a case the run archived no output for (named), an unknown incident are
/// `TORON_WARROOM_ERROR`.
#[no_mangle]
pub unsafe extern "C" fn toron_rollback_json(
    warroom: *mut toron_warroom,
    request_json: *const c_char,
    rollbacks_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom (the header's pointer rules).
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        check_out(rollbacks_json_out, "rollbacks_json_out")?;
        // SAFETY: NULL or a NUL-terminated string.
        let r: Rollback = unsafe { request(request_json, "request_json") }?;
        if r.to.is_empty() {
            return Err(warroom_error(
                "request_json: \"to\" (the run id to roll back to) is missing".into(),
            ));
        }
        let done = w.inner.rollback(RollbackRequest {
            archive_root: w.archive.clone(),
            snapshots_root: w.snapshots.clone(),
            cases: r.cases,
            all_failed: r.all_failed,
            to: r.to,
            from_case: r.from_case,
            incident: r.incident,
            dry_run: r.dry_run,
            who: r.who,
        })?;
        let json = to_json(&done)?;
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(rollbacks_json_out, json) }
    })
}

/// Write the postmortem of incident `id` (`<dir>/postmortems/<ID>.md` and `<ID>.html`, keeping the sections
/// a person wrote); on success `*path_out` is the Markdown file's path, owned by the caller (free it with
/// `toron_string_free`). Fails with `TORON_WARROOM_ERROR` for an unknown id, `TORON_IO_ERROR` when the files
/// cannot be written, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_postmortem_write(
    warroom: *mut toron_warroom,
    id: *const c_char,
    path_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `warroom` is NULL or a live warroom; `id` NULL or a NUL-terminated string.
        let w = unsafe { borrow(warroom.cast_const(), "warroom") }?;
        // SAFETY: as above.
        let id = unsafe { borrow_str(id, "id") }?;
        check_out(path_out, "path_out")?;
        let path = w.inner.postmortem(id, &w.archive, &w.reports)?;
        // SAFETY: checked non-NULL and writable.
        unsafe { give_string(path_out, path.to_string_lossy().into_owned()) }
    })
}

/// Free a warroom from `toron_warroom_open`. `toron_warroom_free(NULL)` does nothing.
#[no_mangle]
pub unsafe extern "C" fn toron_warroom_free(warroom: *mut toron_warroom) {
    or_default((), || {
        // SAFETY: NULL or a pointer from `toron_warroom_open`, freed once (the header's pointer rules).
        unsafe { take(warroom) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CStr, CString};
    use std::ptr;

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn take_string(p: *mut c_char) -> String {
        // SAFETY: a string given by the library, freed once here.
        let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        // SAFETY: as above.
        unsafe { crate::handle::toron_string_free(p) };
        s
    }

    #[test]
    fn bad_input_is_a_warroom_status_and_outputs_stay_untouched() {
        let dir = std::env::temp_dir().join(format!("toron-ffi-warroom-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = c(dir.join("w").to_str().unwrap());
        let mut w: *mut toron_warroom = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { toron_warroom_open(d.as_ptr(), ptr::null(), &mut w) },
            toron_status::TORON_OK
        );
        let mut out: *mut c_char = ptr::null_mut();
        let id = c("INC-1");
        // SAFETY: valid arguments.
        let s = unsafe { toron_incident_get_json(w, id.as_ptr(), &mut out) };
        assert_eq!(s, toron_status::TORON_WARROOM_ERROR);
        assert!(out.is_null());
        let bad = c(r#"{"colour": "red"}"#);
        // SAFETY: valid arguments.
        let s = unsafe { toron_incident_open_json(w, bad.as_ptr(), &mut out) };
        assert_eq!(s, toron_status::TORON_WARROOM_ERROR);
        let st = c("closed");
        // SAFETY: valid arguments.
        let s = unsafe { toron_incidents_json(w, st.as_ptr(), &mut out) };
        assert_eq!(s, toron_status::TORON_WARROOM_ERROR);
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { toron_incidents_json(w, ptr::null(), &mut out) },
            toron_status::TORON_OK
        );
        assert_eq!(take_string(out), "[]");
        // SAFETY: NULL arguments are statuses, not crashes.
        assert_eq!(
            unsafe { toron_incidents_json(ptr::null_mut(), ptr::null(), &mut out) },
            toron_status::TORON_NULL_ARGUMENT
        );
        // SAFETY: valid arguments.
        unsafe { toron_warroom_free(w) };
        // SAFETY: NULL is a no-op.
        unsafe { toron_warroom_free(ptr::null_mut()) };
        let _ = std::fs::remove_dir_all(&dir);
    }
}
