//! Structural diff of JSON documents (RFC 6902 JSON Patch with RFC 6901 paths), patch application, and
//! line-based text diff with unified output.
//!
//! Documents and options come in as JSON text and results go out as JSON text (canonical, RFC 8785), so a C
//! caller needs no JSON library to compare results: `strcmp` on canonical texts compares values.

use crate::canon::{about, canonical_text, json_arg};
use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow_str, check_out, give_string};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use std::ffi::c_char;
use toron_core::diff::text::{text_diff, TextDiff, TextOptions};
use toron_core::diff::{self, Diff, DiffOptions, Format};

/// Read diff options from `options_json`; NULL means the defaults.
///
/// # Safety
///
/// `options_json` is NULL or a NUL-terminated string.
pub(crate) unsafe fn options_arg(options_json: *const c_char) -> FfiResult<DiffOptions> {
    if options_json.is_null() {
        return Ok(DiffOptions::default());
    }
    // SAFETY: the caller's guarantee.
    let value = unsafe { json_arg(options_json, "options_json") }?;
    DiffOptions::from_json(&value).map_err(|e| about("options_json", e))
}

/// Parse the three arguments and diff.
///
/// # Safety
///
/// Each pointer is NULL or a NUL-terminated string.
unsafe fn run(old_json: *const c_char, new_json: *const c_char, options_json: *const c_char) -> FfiResult<Diff> {
    // SAFETY: the caller's guarantee, passed on.
    let (old, new, options) = unsafe {
        (
            json_arg(old_json, "old_json")?,
            json_arg(new_json, "new_json")?,
            options_arg(options_json)?,
        )
    };
    diff::diff(&old, &new, &options).map_err(|e| about("options_json", e))
}

fn format_arg(format: &str) -> FfiResult<Format> {
    // The core's error already names the field `format`.
    Ok(format.parse::<Format>()?)
}

/// Compare two JSON documents and write the RFC 6902 JSON Patch that turns `old_json` into `new_json` to
/// `*patch_json_out` (a canonical JSON array, `"[]"` when they are equal; owned by the caller: free it with
/// `toron_string_free`). Applying the patch to the old document (`toron_apply_patch_json`) gives the new
/// one. Array insertions and deletions are found by a sequence diff, so a record inserted at the front of a
/// long array is one `add`.
///
/// `options_json` is NULL for the defaults, or a JSON object with any of:
/// - `"keys"`: keyed arrays, `{"/items": "id"}` (records matched by their `id` member; moves reported as
///   `move`);
/// - `"ignore"`: path patterns whose differences are not reported, `["/meta/timestamp"]`; a `*` segment
///   matches any one key or index (`/items/` then `*` then `/at` ignores the `at` of every item);
/// - `"redact"`: path patterns whose values appear as `"[REDACTED]"`, never their content;
/// - `"tolerance"`: for every number, `1e-9` (absolute) or `{"abs": 1e-9, "rel": 1e-6}`;
/// - `"tolerances"`: by path pattern, `{"/latency": {"rel": 0.01}}`;
/// - `"budget"`: a limit on comparison steps, past which whole subtrees are replaced.
///
/// Fails with `TORON_JSON_ERROR` when an argument is not JSON (the message names the argument and
/// `toron_last_error_line()` / `_column()` say where), `TORON_CANONICAL_ERROR` for a number JSON cannot carry
/// exactly (`toron_last_error_path()`), `TORON_INVALID_ARGUMENT` for an unknown or bad option
/// (`toron_last_error_field()` names it), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_diff_json(
    old_json: *const c_char,
    new_json: *const c_char,
    options_json: *const c_char,
    patch_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(patch_json_out, "patch_json_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let d = unsafe { run(old_json, new_json, options_json) }?;
        let text = canonical_text(&d.patch())?;
        // SAFETY: `patch_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(patch_json_out, text) }
    })
}

/// Compare two JSON documents as `toron_diff_json` does and write a one-line summary to `*summary_out`:
/// `"3 changed, 1 added, 2 removed"` (`", 1 moved"` when elements moved), or `"no differences"` when the
/// documents are equal under the options. Owned by the caller: free it with `toron_string_free`.
///
/// Fails as `toron_diff_json`.
#[no_mangle]
pub unsafe extern "C" fn toron_diff_summary(
    old_json: *const c_char,
    new_json: *const c_char,
    options_json: *const c_char,
    summary_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(summary_out, "summary_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let d = unsafe { run(old_json, new_json, options_json) }?;
        // SAFETY: `summary_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(summary_out, d.summary()) }
    })
}

/// Compare two JSON documents as `toron_diff_json` does and render the differences in `format`:
/// - `"text"`: one line per change with its path and old -> new value;
/// - `"color"`: the same with ANSI colours, for a terminal;
/// - `"html"`: a self-contained HTML fragment (inline styles, values escaped), for reports;
/// - `"json"`: an object with `summary`, `patch`, `changes` (each operation with its old value) and `coarse`.
///
/// On success writes a new string to `*out`, owned by the caller: free it with `toron_string_free`. Fails
/// with `TORON_INVALID_ARGUMENT` for an unknown format, and as `toron_diff_json`.
#[no_mangle]
pub unsafe extern "C" fn toron_diff_render(
    old_json: *const c_char,
    new_json: *const c_char,
    options_json: *const c_char,
    format: *const c_char,
    out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(out, "out")?;
        // SAFETY: `format` is NULL or a NUL-terminated string (the header's pointer rules).
        let format = format_arg(unsafe { borrow_str(format, "format") }?)?;
        // SAFETY: the header's pointer rules, passed on.
        let d = unsafe { run(old_json, new_json, options_json) }?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(out, d.render(format)) }
    })
}

/// Apply the RFC 6902 JSON Patch `patch_json` (an array of `add`, `remove`, `replace`, `move`, `copy` and
/// `test` operations, applied in order) to the JSON document `json`, and write the result as canonical JSON
/// to `*result_json_out` (owned by the caller: free it with `toron_string_free`).
///
/// Fails with `TORON_PATCH_ERROR` when an operation cannot apply (a missing path, a failed `test`, an
/// unknown `op`, ...): `toron_last_error_op_index()` gives the 0-based index of the failing operation and
/// `toron_last_error_path()` its path. Nothing is written on failure. Also fails with `TORON_JSON_ERROR`,
/// `TORON_CANONICAL_ERROR`, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8` as `toron_diff_json`.
#[no_mangle]
pub unsafe extern "C" fn toron_apply_patch_json(
    json: *const c_char,
    patch_json: *const c_char,
    result_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(result_json_out, "result_json_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let (doc, patch) = unsafe { (json_arg(json, "json")?, json_arg(patch_json, "patch_json")?) };
        let result = diff::apply_patch(&doc, &patch).map_err(|e| about("patch_json", e))?;
        let text = canonical_text(&result)?;
        // SAFETY: `result_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(result_json_out, text) }
    })
}

/// Borrow `len` bytes at `ptr`; NULL is allowed only when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or points to `len` readable bytes that stay unchanged during the call.
unsafe fn bytes_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Read the two texts and diff them.
///
/// # Safety
///
/// As `bytes_arg` for each text.
unsafe fn text_run(old: *const c_char, old_len: usize, new: *const c_char, new_len: usize) -> FfiResult<TextDiff> {
    // SAFETY: the caller's guarantee, passed on.
    let (old, new) = unsafe {
        (
            bytes_arg(old, old_len, "old_text")?,
            bytes_arg(new, new_len, "new_text")?,
        )
    };
    Ok(text_diff(old, new, &TextOptions::default()))
}

/// The unified diff as bytes, for both unified entry points.
///
/// # Safety
///
/// As `text_run`; the names are NULL or NUL-terminated strings.
#[allow(clippy::too_many_arguments, reason = "mirrors the C signature")]
unsafe fn unified(
    old: *const c_char,
    old_len: usize,
    new: *const c_char,
    new_len: usize,
    context: usize,
    old_name: *const c_char,
    new_name: *const c_char,
) -> FfiResult<Vec<u8>> {
    // SAFETY: the caller's guarantee, passed on.
    let (old_name, new_name) = unsafe { (borrow_str(old_name, "old_name")?, borrow_str(new_name, "new_name")?) };
    for (name, value) in [("old_name", old_name), ("new_name", new_name)] {
        if value.contains('\n') {
            return Err(FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                format!("argument {name} contains a newline (expected a file name for the --- / +++ header)"),
            ));
        }
    }
    // SAFETY: the caller's guarantee, passed on.
    let d = unsafe { text_run(old, old_len, new, new_len) }?;
    Ok(d.unified_bytes(context, old_name, new_name))
}

/// Compare two texts line by line (Myers) and write the unified diff, exactly as GNU `diff -u` writes it
/// (so GNU `patch` applies it), to `*unified_out`: `--- old_name` / `+++ new_name` headers, hunks with
/// `context` lines of context (3 is the usual), `\ No newline at end of file` markers. The empty string
/// when the texts are equal. Owned by the caller: free it with `toron_string_free`.
///
/// The texts are bytes (`old_len` and `new_len` bytes; a pointer may be NULL when its length is 0), so they
/// need not be NUL-terminated nor UTF-8: text that is not UTF-8 is compared as lines of bytes and written
/// unchanged. A diff that would contain a NUL byte cannot be a C string: it fails with
/// `TORON_INVALID_ARGUMENT`; use `toron_text_diff_unified_bytes` for such input. Also fails with
/// `TORON_INVALID_ARGUMENT` when a name contains a newline, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`
/// (for a name).
#[no_mangle]
#[allow(clippy::too_many_arguments, reason = "the C signature of the contract")]
pub unsafe extern "C" fn toron_text_diff_unified(
    old_text: *const c_char,
    old_len: usize,
    new_text: *const c_char,
    new_len: usize,
    context: usize,
    old_name: *const c_char,
    new_name: *const c_char,
    unified_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(unified_out, "unified_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let bytes = unsafe { unified(old_text, old_len, new_text, new_len, context, old_name, new_name) }?;
        let text = std::ffi::CString::new(bytes).map_err(|_| {
            FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                "the unified diff contains a NUL byte, so it cannot be a C string (use \
                 toron_text_diff_unified_bytes)",
            )
        })?;
        // SAFETY: `unified_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { unified_out.write(text.into_raw()) };
        Ok(())
    })
}

/// As `toron_text_diff_unified`, for any bytes (including NUL): writes the unified diff to `*bytes_out` and
/// its length to `*len_out`. The buffer is owned by the caller: free it with
/// `toron_bytes_free(*bytes_out, *len_out)` (it is not NUL-terminated; with length 0 it must still be
/// freed).
#[no_mangle]
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the C signature of toron_text_diff_unified"
)]
pub unsafe extern "C" fn toron_text_diff_unified_bytes(
    old_text: *const c_char,
    old_len: usize,
    new_text: *const c_char,
    new_len: usize,
    context: usize,
    old_name: *const c_char,
    new_name: *const c_char,
    bytes_out: *mut *mut u8,
    len_out: *mut usize,
) -> toron_status {
    boundary(|| {
        check_out(bytes_out, "bytes_out")?;
        check_out(len_out, "len_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let bytes = unsafe { unified(old_text, old_len, new_text, new_len, context, old_name, new_name) }?;
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed).cast::<u8>();
        // SAFETY: both outputs were checked non-NULL and are writable (the header's pointer rules).
        unsafe {
            bytes_out.write(ptr);
            len_out.write(len);
        }
        Ok(())
    })
}

/// Free a buffer written by `toron_text_diff_unified_bytes`, with the length it gave.
/// `toron_bytes_free(NULL, 0)` does nothing. Never pass any other pointer or length.
#[no_mangle]
pub unsafe extern "C" fn toron_bytes_free(bytes: *mut u8, len: usize) {
    or_default((), || {
        if !bytes.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(bytes, len);
            // SAFETY: the contract above: `bytes` and `len` came from `Box::<[u8]>::into_raw`, freed once.
            drop(unsafe { Box::from_raw(slice) });
        }
    })
}

/// Compare two texts line by line as `toron_text_diff_unified` does and render the result in `format`:
/// `"text"` (the summary, then the unified diff with 3 lines of context), `"color"` (ANSI colours, with the
/// changed part of changed lines highlighted), `"html"` (a self-contained `<div>` with the same
/// highlights) or `"json"` (`summary`, `binary`, `hunks`). Bytes that are not UTF-8 appear as `\xNN`, a NUL
/// byte as `\x00`.
///
/// On success writes a new string to `*out`, owned by the caller: free it with `toron_string_free`. Fails
/// with `TORON_INVALID_ARGUMENT` for an unknown format, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8` (for
/// `format`).
#[no_mangle]
pub unsafe extern "C" fn toron_text_diff_render(
    old_text: *const c_char,
    old_len: usize,
    new_text: *const c_char,
    new_len: usize,
    format: *const c_char,
    out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(out, "out")?;
        // SAFETY: `format` is NULL or a NUL-terminated string (the header's pointer rules).
        let format = format_arg(unsafe { borrow_str(format, "format") }?)?;
        // SAFETY: the header's pointer rules, passed on.
        let d = unsafe { text_run(old_text, old_len, new_text, new_len) }?;
        let text = d.render(format).replace('\0', "\\x00");
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(out, text) }
    })
}

/// Compare two texts line by line and write a one-line summary to `*summary_out`:
/// `"2 lines added, 1 line removed"` (with a note when the input is not UTF-8), or `"no differences"`.
/// Owned by the caller: free it with `toron_string_free`. Fails with `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_text_diff_summary(
    old_text: *const c_char,
    old_len: usize,
    new_text: *const c_char,
    new_len: usize,
    summary_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(summary_out, "summary_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let d = unsafe { text_run(old_text, old_len, new_text, new_len) }?;
        // SAFETY: `summary_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(summary_out, d.summary()) }
    })
}

#[cfg(test)]
mod tests {
    //! The snapshot-and-diff functions called as C calls them; the C programs in `tests/c/` cover the rest.

    use super::*;
    use crate::canon::toron_canonical_json;
    use crate::error::*;
    use crate::handle::toron_string_free;
    use std::ffi::CStr;
    use std::ptr;

    fn take_string(p: *mut c_char) -> String {
        assert!(!p.is_null());
        // SAFETY: a string from this library, freed once.
        unsafe {
            let s = CStr::from_ptr(p).to_string_lossy().into_owned();
            toron_string_free(p);
            s
        }
    }

    #[test]
    fn diff_apply_and_errors() {
        let mut out = ptr::null_mut();
        // SAFETY: NUL-terminated literals and a writable local.
        unsafe {
            assert_eq!(
                toron_diff_json(
                    c"{\"a\": [1, 2]}".as_ptr(),
                    c"{\"a\": [0, 1, 2]}".as_ptr(),
                    ptr::null(),
                    &mut out
                ),
                toron_status::TORON_OK
            );
            let patch = take_string(out);
            assert_eq!(patch, r#"[{"op":"add","path":"/a/0","value":0}]"#);
            assert_eq!(
                toron_canonical_json(c"{\"b\": 1.0,\n \"a\": 1E30}".as_ptr(), &mut out),
                toron_status::TORON_OK
            );
            assert_eq!(take_string(out), r#"{"a":1e+30,"b":1}"#);

            let sentinel = 0x10 as *mut c_char;
            let mut keep = sentinel;
            assert_eq!(
                toron_diff_json(c"[1,\n 2,]".as_ptr(), c"[]".as_ptr(), ptr::null(), &mut keep),
                toron_status::TORON_JSON_ERROR
            );
            assert_eq!(keep, sentinel, "output written on failure");
            assert_eq!((toron_last_error_line(), toron_last_error_column()), (2, 4));
            let msg = CStr::from_ptr(toron_last_error_message())
                .to_string_lossy()
                .into_owned();
            assert!(msg.starts_with("old_json: "), "{msg}");
            assert_eq!(toron_last_error_op_index(), -1);

            assert_eq!(
                toron_apply_patch_json(
                    c"[1]".as_ptr(),
                    c"[{\"op\": \"test\", \"path\": \"/0\", \"value\": 1}, {\"op\": \"remove\", \"path\": \"/5\"}]"
                        .as_ptr(),
                    &mut keep
                ),
                toron_status::TORON_PATCH_ERROR
            );
            assert_eq!(toron_last_error_op_index(), 1);
            assert_eq!(CStr::from_ptr(toron_last_error_path()).to_str().unwrap(), "/5");
            assert_eq!(keep, sentinel);
        }
    }
}
