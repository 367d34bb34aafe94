//! The thread-local last error: what went wrong in the last failed call on this thread, with the core
//! error's location (file, line, column, field, JSON pointer) kept as C strings.
//!
//! Every fallible entry point clears it first (see `crate::panic::boundary`), then sets it on failure.
//! The getters and the infallible accessors leave it alone, so a C caller may free objects in its clean-up
//! path and still read the message afterwards.

use crate::panic::or_default;
use crate::status::toron_status;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::ptr;

/// A failure on the way out of an entry point: its status and its detail.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) status: toron_status,
    pub(crate) message: String,
    pub(crate) core: Option<Box<toron_core::Error>>,
}

impl FfiError {
    /// A failure of the C surface itself (NULL pointer, bad UTF-8, panic).
    pub(crate) fn new(status: toron_status, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
            core: None,
        }
    }

    /// A NULL pointer given for the argument `name`.
    pub(crate) fn null(name: &str) -> Self {
        FfiError::new(
            toron_status::TORON_NULL_ARGUMENT,
            format!("argument {name} is NULL (expected a valid pointer)"),
        )
    }
}

impl From<toron_core::Error> for FfiError {
    fn from(err: toron_core::Error) -> Self {
        FfiError {
            status: toron_status::from_kind(err.kind()),
            message: err.to_string(),
            core: Some(Box::new(err)),
        }
    }
}

/// The result type of entry-point bodies.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

/// The stored last error, every text already NUL-terminated for C.
struct LastError {
    status: toron_status,
    message: CString,
    file: Option<CString>,
    line: usize,
    column: usize,
    field: Option<CString>,
    path: Option<CString>,
    op_index: Option<usize>,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A C string from Rust text; an interior NUL (never produced by the core's messages) is shown as `\0`.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| CString::new(text.replace('\0', "\\0")).unwrap_or_default())
}

/// Forget the last error of this thread.
pub(crate) fn clear() {
    // `try_with`: during thread teardown there is nothing to clear.
    let _ = LAST_ERROR.try_with(|e| e.try_borrow_mut().map(|mut e| e.take()));
}

/// Record `err` as this thread's last error.
pub(crate) fn set(err: &FfiError) {
    let core = err.core.as_deref();
    let last = LastError {
        status: err.status,
        message: c_string(&err.message),
        file: core.and_then(|c| c.file()).map(|f| c_string(&f.to_string_lossy())),
        line: core.and_then(|c| c.line()).unwrap_or(0),
        column: core.and_then(|c| c.column()).unwrap_or(0),
        field: core.and_then(|c| c.field()).map(c_string),
        path: core.and_then(|c| c.path()).map(c_string),
        op_index: core.and_then(|c| c.op_index()),
    };
    let _ = LAST_ERROR.try_with(|e| e.try_borrow_mut().map(|mut e| *e = Some(last)));
}

/// Read a part of the last error; `None` when there is none.
fn with_last<T>(f: impl FnOnce(&LastError) -> T) -> Option<T> {
    LAST_ERROR
        .try_with(|e| e.try_borrow().ok().and_then(|e| e.as_ref().map(f)))
        .ok()
        .flatten()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

/// The message of the last failed call on this thread, e.g.
/// `"examples/scenarios/kv.toml:14:8: field fault[0].node: unknown node \"primery\" (expected one of:
/// primary, backup)"`, or `""` (never NULL) when the last call succeeded.
///
/// The string is owned by the thread: do not free it; it stays valid until the next fallible `toron_*` call
/// on this thread. Calling this function, the other `toron_last_error_*` getters, accessors or `_free`
/// functions does not clear it.
#[no_mangle]
pub extern "C" fn toron_last_error_message() -> *const c_char {
    or_default(c"".as_ptr(), || {
        with_last(|e| e.message.as_ptr()).unwrap_or(c"".as_ptr())
    })
}

/// The status of the last failed call on this thread, or `TORON_OK` when the last call succeeded.
#[no_mangle]
pub extern "C" fn toron_last_error_status() -> toron_status {
    let ok = toron_status::TORON_OK;
    or_default(ok, || with_last(|e| e.status).unwrap_or(ok))
}

/// The file the last error is about (e.g. the scenario file), or NULL when it is not about a file.
/// Owned by the thread, valid as `toron_last_error_message()`'s string is.
#[no_mangle]
pub extern "C" fn toron_last_error_file() -> *const c_char {
    or_default(ptr::null(), || with_last(|e| opt_ptr(&e.file)).unwrap_or(ptr::null()))
}

/// The 1-based line in the file or text of the last error, or 0 when unknown.
#[no_mangle]
pub extern "C" fn toron_last_error_line() -> usize {
    or_default(0, || with_last(|e| e.line).unwrap_or(0))
}

/// The 1-based column in the file or text of the last error, or 0 when unknown.
#[no_mangle]
pub extern "C" fn toron_last_error_column() -> usize {
    or_default(0, || with_last(|e| e.column).unwrap_or(0))
}

/// The dotted field name the last error is about (e.g. `"fault[0].node"`), or NULL when it is not about one
/// field. Owned by the thread, valid as `toron_last_error_message()`'s string is.
#[no_mangle]
pub extern "C" fn toron_last_error_field() -> *const c_char {
    or_default(ptr::null(), || with_last(|e| opt_ptr(&e.field)).unwrap_or(ptr::null()))
}

/// The RFC 6901 JSON pointer of the value the last error is about (e.g. `"/fault/0/node"`), or NULL when
/// unknown. Owned by the thread, valid as `toron_last_error_message()`'s string is.
#[no_mangle]
pub extern "C" fn toron_last_error_path() -> *const c_char {
    or_default(ptr::null(), || with_last(|e| opt_ptr(&e.path)).unwrap_or(ptr::null()))
}

/// The 0-based index of the JSON Patch operation the last error is about (a `TORON_PATCH_ERROR` from
/// `toron_apply_patch_json`), or -1 when the last error is not about one operation (or there is none).
#[no_mangle]
pub extern "C" fn toron_last_error_op_index() -> i64 {
    or_default(-1, || {
        with_last(|e| e.op_index.and_then(|i| i64::try_from(i).ok()))
            .flatten()
            .unwrap_or(-1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use toron_core::{Error, ErrorKind};

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: the getters return NULL or a NUL-terminated string valid until the next fallible call.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn set_then_clear() {
        clear();
        assert_eq!(text(toron_last_error_message()).as_deref(), Some(""));
        assert_eq!(toron_last_error_status(), toron_status::TORON_OK);
        let err = Error::new(ErrorKind::Scenario, "bad")
            .with_file("s.toml")
            .with_line(3, Some(2))
            .with_field("node[0].id")
            .with_path("/node/0/id");
        set(&FfiError::from(err));
        assert_eq!(toron_last_error_status(), toron_status::TORON_SCENARIO_ERROR);
        assert_eq!(
            text(toron_last_error_message()).as_deref(),
            Some("s.toml:3:2: field node[0].id: bad")
        );
        assert_eq!(text(toron_last_error_file()).as_deref(), Some("s.toml"));
        assert_eq!(toron_last_error_line(), 3);
        assert_eq!(toron_last_error_column(), 2);
        assert_eq!(text(toron_last_error_field()).as_deref(), Some("node[0].id"));
        assert_eq!(text(toron_last_error_path()).as_deref(), Some("/node/0/id"));
        clear();
        assert_eq!(text(toron_last_error_message()).as_deref(), Some(""));
        assert_eq!(toron_last_error_line(), 0);
        assert!(toron_last_error_field().is_null());
        assert!(toron_last_error_path().is_null());
        assert!(toron_last_error_file().is_null());
    }

    #[test]
    fn the_last_error_is_per_thread() {
        set(&FfiError::null("out"));
        std::thread::spawn(|| assert_eq!(toron_last_error_status(), toron_status::TORON_OK))
            .join()
            .unwrap();
        assert_eq!(toron_last_error_status(), toron_status::TORON_NULL_ARGUMENT);
    }

    #[test]
    fn interior_nul_is_escaped() {
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\\0b");
    }
}
