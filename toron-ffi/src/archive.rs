//! `toron_archive`: the run archive's object store (values stored content-addressed by their identity,
//! verified on every read) and its whole-archive check.

use crate::canon::{about, canonical_text, json_arg};
use crate::handle::{borrow, borrow_str, check_out, give, give_string, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use serde_json::{json, Value};
use std::ffi::c_char;
use toron_core::snapshot::archive::{Archive, ObjectId, ProblemKind};

/// A run archive rooted at a directory (`.toron` by convention). Opaque: create it with
/// `toron_archive_open`, free it with `toron_archive_free`. Writes are atomic and idempotent, so one archive
/// may be used from several threads (and processes) at once.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_archive {
    inner: Archive,
}

/// Open the archive at the directory `root` (e.g. `".toron"`; created on the first write). Nothing is read
/// or written yet.
///
/// On success writes a new object to `*out` (free it with `toron_archive_free`). Fails with
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_archive_open(root: *const c_char, out: *mut *mut toron_archive) -> toron_status {
    boundary(|| {
        // SAFETY: `root` is NULL or a NUL-terminated string (the header's pointer rules).
        let root = unsafe { borrow_str(root, "root") }?;
        check_out(out, "out")?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe {
            give(
                out,
                toron_archive {
                    inner: Archive::open(root),
                },
            )
        };
        Ok(())
    })
}

/// Store the JSON document `json` and write its id to `*id_out`: 64 lowercase hex characters, the same as
/// `toron_digest_json` gives (owned by the caller: free it with `toron_string_free`). Storing an equal value
/// again writes nothing.
///
/// Fails with `TORON_ARCHIVE_ERROR` when the object cannot be written (the last error names the file),
/// `TORON_JSON_ERROR` / `TORON_CANONICAL_ERROR` for a bad `json`, `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_archive_put_json(
    archive: *const toron_archive,
    json: *const c_char,
    id_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules for every argument.
        let (archive, value) = unsafe { (borrow(archive, "archive")?, json_arg(json, "json")?) };
        check_out(id_out, "id_out")?;
        let id = archive.inner.put(&value)?;
        // SAFETY: `id_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(id_out, id.as_str().to_string()) }
    })
}

/// Read the object `id` (64 hex characters from `toron_archive_put_json`) and write it as canonical JSON to
/// `*json_out` (owned by the caller: free it with `toron_string_free`). The bytes read are verified against
/// the id.
///
/// Fails with `TORON_ARCHIVE_ERROR` when the object is missing or its bytes were changed (the last error
/// names the id and `toron_last_error_file()` the object file), `TORON_INVALID_ARGUMENT` for an id that is
/// not 64 lowercase hex characters, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_archive_get_json(
    archive: *const toron_archive,
    id: *const c_char,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules for every argument.
        let (archive, id) = unsafe { (borrow(archive, "archive")?, borrow_str(id, "id")?) };
        check_out(json_out, "json_out")?;
        let id = ObjectId::parse(id).map_err(|e| about("id", e))?;
        let value = archive.inner.get(&id)?;
        let text = canonical_text(&value)?;
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, text) }
    })
}

/// Check the whole archive (every object's hash; every run manifest parses and references stored objects)
/// and write a report as canonical JSON to `*report_json_out` (owned by the caller: free it with
/// `toron_string_free`): `{"ok": true|false, "objects": N, "runs": N, "problems": [...], "leftovers":
/// [...]}`, each problem an object with `kind` (`"corrupt_object"`, `"missing_object"`, `"bad_manifest"` or
/// `"unexpected_file"`), `path`, `message`, and `id` / `tag` when known; leftovers are the paths of files
/// that interrupted writers left (harmless). A corrupt archive is `TORON_OK` with `"ok": false`.
///
/// Fails with `TORON_ARCHIVE_ERROR` / `TORON_IO_ERROR` when the archive cannot be read, `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_archive_verify_json(
    archive: *const toron_archive,
    report_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `archive` is NULL or live (the header's pointer rules).
        let archive = unsafe { borrow(archive, "archive") }?;
        check_out(report_json_out, "report_json_out")?;
        let report = archive.inner.verify()?;
        let problems: Vec<Value> = report
            .problems
            .iter()
            .map(|p| {
                let mut v = json!({
                    "kind": kind_name(p.kind),
                    "path": p.path.to_string_lossy(),
                    "message": p.message,
                });
                if let Some(id) = &p.id {
                    v["id"] = json!(id);
                }
                if let Some(tag) = &p.tag {
                    v["tag"] = json!(tag);
                }
                v
            })
            .collect();
        let leftovers: Vec<String> = report
            .leftovers
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let text = canonical_text(&json!({
            "ok": report.is_ok(),
            "objects": report.objects,
            "runs": report.runs,
            "problems": problems,
            "leftovers": leftovers,
        }))?;
        // SAFETY: `report_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(report_json_out, text) }
    })
}

fn kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::CorruptObject => "corrupt_object",
        ProblemKind::MissingObject => "missing_object",
        ProblemKind::BadManifest => "bad_manifest",
        ProblemKind::UnexpectedFile => "unexpected_file",
    }
}

/// Free a `toron_archive`. `toron_archive_free(NULL)` does nothing. Files are not touched.
#[no_mangle]
pub unsafe extern "C" fn toron_archive_free(archive: *mut toron_archive) {
    // SAFETY: `archive` is NULL or came from `toron_archive_open` and is freed once.
    or_default((), || unsafe { take(archive) })
}
