//! `toron_dataset`: a synthetic data-set schema (`toron_core::fixtures`), its files and digests.

use crate::handle::{borrow, borrow_str, check_out, give, give_string, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use std::ffi::c_char;
use toron_core::fixtures::{OutputFormat, Schema};
use toron_core::scenario::Format;

/// A validated data-set schema (tables of seeded fake records). Opaque: create it with
/// `toron_dataset_from_path` or `toron_dataset_from_json`, free it with `toron_dataset_free`. It is immutable,
/// so one data set may be written from several threads at once.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_dataset {
    inner: Schema,
}

/// Read and validate the data-set schema file at `path` (TOML, or JSON when the name ends in `.json`).
///
/// On success writes a new data set to `*out` (free it with `toron_dataset_free`). Fails with
/// `TORON_IO_ERROR` when the file cannot be read, `TORON_DATASET_ERROR` when it is invalid (the last error
/// names the file, line and field and says what was expected), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_dataset_from_path(path: *const c_char, out: *mut *mut toron_dataset) -> toron_status {
    boundary(|| {
        // SAFETY: `path` is NULL or a NUL-terminated string (the header's pointer rules).
        let path = unsafe { borrow_str(path, "path") }?;
        check_out(out, "out")?;
        let inner = Schema::from_path(path)?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, toron_dataset { inner }) };
        Ok(())
    })
}

/// Parse and validate a data-set schema from JSON text (the structure of a schema file).
///
/// On success writes a new data set to `*out` (free it with `toron_dataset_free`). Fails with
/// `TORON_DATASET_ERROR` when the text is not JSON or not a valid schema (the last error gives the line,
/// column and field), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_dataset_from_json(json: *const c_char, out: *mut *mut toron_dataset) -> toron_status {
    boundary(|| {
        // SAFETY: `json` is NULL or a NUL-terminated string (the header's pointer rules).
        let text = unsafe { borrow_str(json, "json") }?;
        check_out(out, "out")?;
        let inner = Schema::from_str(text, Format::Json, None)?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, toron_dataset { inner }) };
        Ok(())
    })
}

/// Write every table of `dataset` under `seed` to `<dir>/<table>.<format>`, where `format` is `"jsonl"`,
/// `"csv"` or `"json"`; `dir` is created if needed, and each file is written to a temporary file and
/// renamed, so a reader never sees half a file (not synced: the schema and seed give it again). Same schema and seed give the same bytes on every surface.
///
/// On success writes the summary as a JSON object to `*summary_json_out`, owned by the caller (free it with
/// `toron_string_free`): `{"seed", "format", "engine", "words", "digest", "tables": [{"table", "rows",
/// "bytes", "digest", "path"}]}`, where each table's `digest` is blake3 of its file's bytes and `digest` the
/// data set's (blake3 of `<table> <digest>\n` lines sorted by table name). Fails with
/// `TORON_INVALID_ARGUMENT` for an unknown format, `TORON_IO_ERROR` when a file cannot be written,
/// `TORON_DATASET_ERROR` when a `unique` field runs out of values, `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`; `*summary_json_out` is left alone then.
#[no_mangle]
pub unsafe extern "C" fn toron_dataset_write(
    dataset: *const toron_dataset,
    dir: *const c_char,
    seed: u64,
    format: *const c_char,
    summary_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `dataset` is NULL or a live data set (the header's pointer rules).
        let dataset = unsafe { borrow(dataset, "dataset") }?;
        // SAFETY: NULL or NUL-terminated strings (the header's pointer rules).
        let dir = unsafe { borrow_str(dir, "dir") }?;
        // SAFETY: as for `dir`.
        let format = OutputFormat::parse(unsafe { borrow_str(format, "format") }?)?;
        check_out(summary_json_out, "summary_json_out")?;
        let summary = dataset.inner.write_dir(dir, seed, format)?;
        // SAFETY: `summary_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(summary_json_out, summary.to_value().to_string()) }
    })
}

/// The data set's digest under `seed` in `format` (`"jsonl"`, `"csv"` or `"json"`): what
/// `toron_dataset_write` would report as `digest`, computed without writing anything (64 lowercase hex
/// characters).
///
/// On success writes a new string to `*digest_out`, owned by the caller: free it with `toron_string_free`.
/// Fails as `toron_dataset_write` (but never with `TORON_IO_ERROR`).
#[no_mangle]
pub unsafe extern "C" fn toron_dataset_digest(
    dataset: *const toron_dataset,
    seed: u64,
    format: *const c_char,
    digest_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `dataset` is NULL or a live data set (the header's pointer rules).
        let dataset = unsafe { borrow(dataset, "dataset") }?;
        // SAFETY: NULL or a NUL-terminated string (the header's pointer rules).
        let format = OutputFormat::parse(unsafe { borrow_str(format, "format") }?)?;
        check_out(digest_out, "digest_out")?;
        let summary = dataset.inner.digest(seed, format)?;
        // SAFETY: `digest_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(digest_out, summary.digest) }
    })
}

/// Free a data set. `toron_dataset_free(NULL)` does nothing.
#[no_mangle]
pub unsafe extern "C" fn toron_dataset_free(dataset: *mut toron_dataset) {
    // SAFETY: `dataset` is NULL or came from a `toron_dataset_*` constructor and is freed once.
    or_default((), || unsafe { take(dataset) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{toron_last_error_field, toron_last_error_line};
    use crate::handle::toron_string_free;
    use crate::status::toron_status::*;
    use std::ffi::{CStr, CString};
    use std::ptr;

    fn text(p: *const c_char) -> String {
        // SAFETY: non-NULL, NUL-terminated and alive for the statement.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn every_extern_fn_is_inside_a_panic_boundary() {
        let marker = concat!("extern ", "\"C\" fn ");
        let source = include_str!("fixtures.rs");
        let mut count = 0;
        for item in source.split(marker).skip(1) {
            let body = item.split("\n}\n").next().unwrap_or_default();
            assert!(body.contains("boundary(") || body.contains("or_default("));
            count += 1;
        }
        assert_eq!(count, 5);
    }

    #[test]
    fn from_json_digest_write_and_errors() {
        let json = CString::new(
            r#"{"version": 1, "table": [{"name": "t", "rows": 3, "field": [{"name": "n", "kind": "seq"}]}]}"#,
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("toron-ffi-fixtures-{}", std::process::id()));
        let cdir = CString::new(dir.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: NUL-terminated strings, writable locals, each object freed once.
        unsafe {
            let mut d = ptr::null_mut();
            assert_eq!(toron_dataset_from_json(json.as_ptr(), &mut d), TORON_OK);
            let mut digest = ptr::null_mut();
            assert_eq!(toron_dataset_digest(d, 1, c"csv".as_ptr(), &mut digest), TORON_OK);
            assert_eq!(text(digest).len(), 64);
            let mut summary = ptr::null_mut();
            assert_eq!(
                toron_dataset_write(d, cdir.as_ptr(), 1, c"csv".as_ptr(), &mut summary),
                TORON_OK
            );
            let v: serde_json::Value = serde_json::from_str(&text(summary)).unwrap();
            assert_eq!(v["digest"].as_str().unwrap(), text(digest));
            assert_eq!(
                std::fs::read_to_string(dir.join("t.csv")).unwrap(),
                "n\r\n1\r\n2\r\n3\r\n"
            );
            toron_string_free(summary);
            toron_string_free(digest);

            let sentinel = 0x57 as *mut c_char;
            let mut out = sentinel;
            assert_eq!(
                toron_dataset_digest(d, 1, c"xml".as_ptr(), &mut out),
                TORON_INVALID_ARGUMENT
            );
            assert_eq!(
                toron_dataset_digest(ptr::null(), 1, c"csv".as_ptr(), &mut out),
                TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_dataset_digest(d, 1, c"csv".as_ptr(), ptr::null_mut()),
                TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_dataset_write(d, ptr::null(), 1, c"csv".as_ptr(), &mut out),
                TORON_NULL_ARGUMENT
            );
            assert_eq!(out, sentinel, "output written on failure");
            toron_dataset_free(d);
            toron_dataset_free(ptr::null_mut());

            let bad = CString::new("{\n \"version\": 1,\n \"table\": [{\"name\": \"t\", \"rows\": 1,\n  \"field\": [{\"name\": \"n\", \"kind\": \"sek\"}]}]\n}").unwrap();
            let mut d = ptr::null_mut();
            assert_eq!(toron_dataset_from_json(bad.as_ptr(), &mut d), TORON_DATASET_ERROR);
            assert!(d.is_null());
            assert_eq!(toron_last_error_line(), 4);
            assert_eq!(text(toron_last_error_field()), "table[0].field[0].kind");
            assert_eq!(
                toron_dataset_from_path(c"/nonexistent/s.toml".as_ptr(), &mut d),
                TORON_IO_ERROR
            );
            assert_eq!(toron_dataset_from_path(ptr::null(), &mut d), TORON_NULL_ARGUMENT);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
