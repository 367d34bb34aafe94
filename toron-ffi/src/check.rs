//! Linearizability of a client history: `toron_check_linearizable_json`.

use crate::canon::about;
use crate::handle::{borrow_str, check_out, give_string};
use crate::panic::boundary;
use crate::status::toron_status;
use std::ffi::c_char;
use toron_core::check::{self, History, ModelKind};

/// Check the client history `history_json` for linearizability against `model` (`"register"`,
/// `"cas-register"`, `"kv"`, `"set"` or `"queue"`).
///
/// `history_json` is a JSON array of op objects with Jepsen's field names (`process`, `type` = `"invoke"`,
/// `"ok"`, `"fail"` or `"info"`, `f`, and optionally `key`, `value`, `time`, `index`); Jepsen EDN text (op maps
/// one per line, or a vector of them) is accepted too. `budget` is the number of model steps the search may
/// try per partition before giving up with an unknown verdict; 0 means the default (5 000 000).
///
/// On success writes a new string to `*verdict_out`, owned by the caller (free it with `toron_string_free`):
/// the verdict as canonical JSON (plain JSON if the history holds an integer beyond 2^53), `{"budget": ..., "counterexample": null or {"key": ..., "ops": [...]},
/// "linearizable": true, false or null (unknown), "model": ..., "ops": ..., "partitions": ..., "steps": ...}`.
/// A non-linearizable or unknown history is a successful call: read `linearizable`.
///
/// Fails with `TORON_JSON_ERROR` for text that is not JSON (line and column in the last error),
/// `TORON_INVALID_ARGUMENT` for EDN that does not parse (line and column), an unknown model, an op with a
/// bad or missing field or one the model has no meaning for (`toron_last_error_field()` names the field, the
/// message the op's index), a history that does not pair up; `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
/// `*verdict_out` is untouched on failure.
#[no_mangle]
pub unsafe extern "C" fn toron_check_linearizable_json(
    history_json: *const c_char,
    model: *const c_char,
    budget: u64,
    verdict_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(verdict_out, "verdict_out")?;
        // SAFETY: NULL or NUL-terminated strings (the header's pointer rules).
        let text = unsafe { borrow_str(history_json, "history_json") }?;
        // SAFETY: as above.
        let model = unsafe { borrow_str(model, "model") }?;
        let model = ModelKind::parse(model).map_err(|e| about("model", e))?;
        let history = History::parse(text).map_err(|e| about("history_json", e))?;
        let verdict =
            check::check(&history, model, (budget > 0).then_some(budget)).map_err(|e| about("history_json", e))?;
        let value = verdict.to_value();
        // EDN may carry integers beyond 2^53, which the canonical form refuses: plain JSON then.
        let text = toron_core::canon::canonical_string(&value).unwrap_or_else(|_| value.to_string());
        // SAFETY: `verdict_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(verdict_out, text) }
    })
}
