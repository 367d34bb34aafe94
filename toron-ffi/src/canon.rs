//! Canonical JSON (RFC 8785) and value identity: `toron_canonical_json`, `toron_digest_json`.
//!
//! Also the one way every function of this surface reads a JSON argument: strictly (no duplicate keys, no
//! integer a double cannot hold), with the argument's name in the message and the line, column and JSON
//! pointer of the core's error kept for `toron_last_error_line()`, `_column()` and `_path()`.

use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow_str, check_out, give_string};
use crate::panic::boundary;
use crate::status::toron_status;
use serde_json::Value;
use std::ffi::c_char;
use toron_core::canon;

/// Prefix a core error's message with the name of the argument it is about, keeping its location.
pub(crate) fn about(name: &str, err: toron_core::Error) -> FfiError {
    let mut e = FfiError::from(err);
    e.message = format!("{name}: {}", e.message);
    e
}

/// Parse the JSON text of the C string argument `name` strictly ([`canon::parse_json`]).
///
/// # Safety
///
/// `ptr` is NULL or a NUL-terminated string that stays unchanged during the call.
pub(crate) unsafe fn json_arg(ptr: *const c_char, name: &str) -> FfiResult<Value> {
    // SAFETY: the caller's guarantee, passed on.
    let text = unsafe { borrow_str(ptr, name) }?;
    canon::parse_json(text).map_err(|e| about(name, e))
}

/// The canonical text of a value the library built from checked input (it cannot fail; a failure is a bug).
pub(crate) fn canonical_text(value: &Value) -> FfiResult<String> {
    canon::canonical_string(value).map_err(|e| {
        FfiError::new(
            toron_status::TORON_PANIC,
            format!("internal error (a bug in toron, please report it): cannot encode a result: {e}"),
        )
    })
}

/// The identity of the JSON document `json`: blake3 of its RFC 8785 canonical bytes, as 64 lowercase hex
/// characters. Equal values give equal digests whatever their formatting, key order or number spelling
/// (`{"b": 1.0, "a": 2}` and `{"a":2,"b":1}` have the same digest), on every surface (Rust, Python, C).
///
/// On success writes a new string to `*hex_out`, owned by the caller: free it with `toron_string_free`.
/// Fails with `TORON_JSON_ERROR` when `json` is not JSON or has a duplicate key (the last error gives the
/// line and column, or the JSON pointer of the duplicate), `TORON_CANONICAL_ERROR` for a number JSON
/// cannot carry exactly, such as an integer beyond 2^53 (`toron_last_error_path()` names it),
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_digest_json(json: *const c_char, hex_out: *mut *mut c_char) -> toron_status {
    boundary(|| {
        check_out(hex_out, "hex_out")?;
        // SAFETY: `json` is NULL or a NUL-terminated string (the header's pointer rules).
        let value = unsafe { json_arg(json, "json") }?;
        let hex = canon::digest(&value).map_err(|e| about("json", e))?;
        // SAFETY: `hex_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(hex_out, hex) }
    })
}

/// The RFC 8785 canonical form of the JSON document `json`: no whitespace, object keys sorted by UTF-16
/// code units, numbers in their shortest round-trip (ECMAScript) form (`1.0` is `1`, `1E30` is `1e+30`),
/// minimal string escaping. Equal values give byte-identical text, so two canonical strings can be compared
/// with `strcmp`.
///
/// On success writes a new string to `*canonical_out`, owned by the caller: free it with
/// `toron_string_free`. Fails as `toron_digest_json`.
#[no_mangle]
pub unsafe extern "C" fn toron_canonical_json(json: *const c_char, canonical_out: *mut *mut c_char) -> toron_status {
    boundary(|| {
        check_out(canonical_out, "canonical_out")?;
        // SAFETY: `json` is NULL or a NUL-terminated string (the header's pointer rules).
        let value = unsafe { json_arg(json, "json") }?;
        let text = canon::canonical_string(&value).map_err(|e| about("json", e))?;
        // SAFETY: `canonical_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(canonical_out, text) }
    })
}
