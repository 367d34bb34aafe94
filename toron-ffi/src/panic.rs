//! The panic boundary: no Rust panic ever unwinds into C.
//!
//! Every fallible `extern "C"` body runs inside `boundary`, which clears the thread's last error, runs the
//! body, records a failure as the last error and turns a caught panic into `TORON_PANIC` with the panic's
//! message. Every other function (accessors, `_free`, the last-error getters, `toron_version`) runs inside
//! `or_default`, which turns a panic into a default value (NULL, 0) without touching the last error.

use crate::error::{self, FfiError, FfiResult};
use crate::status::toron_status;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Run the body of a fallible entry point: clear the last error, run `body`, and turn its error or panic
/// into a status (recording the detail as the last error).
pub(crate) fn boundary(body: impl FnOnce() -> FfiResult<()>) -> toron_status {
    error::clear();
    // AssertUnwindSafe: after a panic the body's state is dropped, never used again; the objects the caller
    // passed in are only read (shared references), so they stay valid.
    let err = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return toron_status::TORON_OK,
        Ok(Err(err)) => err,
        Err(payload) => FfiError::new(
            toron_status::TORON_PANIC,
            format!(
                "internal error (a bug in toron, please report it): panic: {}",
                panic_message(payload.as_ref())
            ),
        ),
    };
    error::set(&err);
    err.status
}

/// Run the body of an infallible accessor; a panic gives `default`. The last error is left as it is.
pub(crate) fn or_default<T>(default: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{toron_last_error_message, toron_last_error_status};
    use std::ffi::CStr;

    fn last_message() -> String {
        // SAFETY: the message is a NUL-terminated string valid until the next fallible call on this thread.
        unsafe { CStr::from_ptr(toron_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_toron_panic_with_its_message() {
        let status = boundary(|| panic!("boom {}", 42));
        assert_eq!(status, toron_status::TORON_PANIC);
        assert_eq!(toron_last_error_status(), toron_status::TORON_PANIC);
        assert!(last_message().ends_with("panic: boom 42"), "{}", last_message());
        let status = boundary(|| std::panic::panic_any(7_u8));
        assert_eq!(status, toron_status::TORON_PANIC);
        assert!(last_message().ends_with("(no message)"));
    }

    #[test]
    fn an_error_is_recorded_and_success_clears_it() {
        let status = boundary(|| Err(FfiError::null("out")));
        assert_eq!(status, toron_status::TORON_NULL_ARGUMENT);
        assert_eq!(last_message(), "argument out is NULL (expected a valid pointer)");
        assert_eq!(boundary(|| Ok(())), toron_status::TORON_OK);
        assert_eq!(last_message(), "");
    }

    #[test]
    fn an_accessor_panic_gives_the_default() {
        assert_eq!(or_default(5_u64, || panic!("accessor")), 5);
        assert_eq!(or_default(5_u64, || 6), 6);
    }
}
