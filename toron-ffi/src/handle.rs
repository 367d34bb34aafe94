//! Ownership helpers: checked borrowing of C arguments, writing outputs only on success, and giving and
//! taking back boxed objects and strings.
//!
//! A C object (`toron_scenario`, `toron_outcome`) is a Rust value in a `Box`; C holds the raw pointer and gives
//! it back to the matching `_free`. Strings given to C are `CString`s, freed with `toron_string_free`.

use crate::error::{FfiError, FfiResult};
use crate::status::toron_status;
use std::ffi::{c_char, CStr, CString};

/// Borrow the object behind a C argument; NULL is `TORON_NULL_ARGUMENT`.
///
/// # Safety
///
/// `ptr` is NULL or points to a live `T` that nothing mutates for `'a`.
pub(crate) unsafe fn borrow<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller guarantees that a non-NULL `ptr` points to a live, unaliased-for-writes `T`.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// Borrow a C string argument as UTF-8; NULL is `TORON_NULL_ARGUMENT`, bad UTF-8 `TORON_INVALID_UTF8`.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays unchanged for `'a`.
pub(crate) unsafe fn borrow_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string valid for `'a`.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        FfiError::new(
            toron_status::TORON_INVALID_UTF8,
            format!(
                "argument {name} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Check an output pointer before doing any work, so a NULL `out` fails fast.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> FfiResult<()> {
    if out.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(())
    }
}

/// Give `value` to C: box it and write the pointer to `*out`. The last step of a successful call.
///
/// # Safety
///
/// `out` is non-NULL (see `check_out`) and points to writable storage for one pointer.
pub(crate) unsafe fn give<T>(out: *mut *mut T, value: T) {
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: the caller checked `out` and guarantees it is writable.
    unsafe { out.write(raw) };
}

/// Give a string to C (to be freed with `toron_string_free`): write it to `*out`.
///
/// # Safety
///
/// As `give`.
pub(crate) unsafe fn give_string(out: *mut *mut c_char, text: String) -> FfiResult<()> {
    let c = CString::new(text).map_err(|_| {
        FfiError::new(
            toron_status::TORON_PANIC,
            "internal error: output text contains a NUL byte",
        )
    })?;
    // SAFETY: the caller checked `out` and guarantees it is writable.
    unsafe { out.write(c.into_raw()) };
    Ok(())
}

/// Take back and drop an object given by `give`; NULL is a no-op.
///
/// # Safety
///
/// `ptr` is NULL or a pointer from `give` with the same `T`, not freed before and not used after.
pub(crate) unsafe fn take<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller guarantees `ptr` came from `Box::into_raw` in `give` and is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Free a string returned by a `toron_*` function through a `char **` output (such as
/// `toron_outcome_to_json`). `toron_string_free(NULL)` does nothing.
///
/// Never pass a string returned as `const char *` (owned by its object or the library), nor a string from
/// `malloc`, nor the same string twice.
#[no_mangle]
pub unsafe extern "C" fn toron_string_free(string: *mut c_char) {
    crate::panic::or_default((), || {
        if !string.is_null() {
            // SAFETY: the contract above: `string` came from `CString::into_raw` in `give_string`, freed once.
            drop(unsafe { CString::from_raw(string) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn null_and_bad_text_are_statuses() {
        // SAFETY: NULL is allowed.
        let err = unsafe { borrow::<u8>(ptr::null(), "x") }.unwrap_err();
        assert_eq!(err.status, toron_status::TORON_NULL_ARGUMENT);
        // SAFETY: NULL is allowed.
        let err = unsafe { borrow_str(ptr::null(), "text") }.unwrap_err();
        assert_eq!(err.status, toron_status::TORON_NULL_ARGUMENT);
        let bad = c"a\xffb";
        // SAFETY: a NUL-terminated literal.
        let err = unsafe { borrow_str(bad.as_ptr(), "text") }.unwrap_err();
        assert_eq!(err.status, toron_status::TORON_INVALID_UTF8);
        assert!(check_out(ptr::null_mut::<*mut u8>(), "out").is_err());
    }

    #[test]
    fn give_and_take_round_trip() {
        let mut out: *mut String = ptr::null_mut();
        // SAFETY: `out` is a local, writable.
        unsafe { give(&mut out, "x".to_string()) };
        // SAFETY: from `give`, freed once.
        unsafe { take(out) };
        // SAFETY: NULL is a no-op.
        unsafe { take::<String>(ptr::null_mut()) };
        let mut s: *mut c_char = ptr::null_mut();
        // SAFETY: `s` is a local, writable.
        unsafe { give_string(&mut s, "hello".into()) }.unwrap();
        // SAFETY: from `give_string`, freed once; NULL is a no-op.
        unsafe {
            toron_string_free(s);
            toron_string_free(ptr::null_mut());
        }
    }
}
