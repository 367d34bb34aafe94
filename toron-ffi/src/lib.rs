//! The C ABI of Toron. See `include/toron.h` for the conventions.

use std::ffi::c_char;

/// The engine version, e.g. "2.5.0". Static storage: never free it.
#[no_mangle]
pub extern "C" fn toron_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
