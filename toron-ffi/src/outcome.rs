//! `toron_outcome`: the result of one simulation, with accessors and its JSON form.

use crate::error::{c_string, FfiError};
use crate::handle::{borrow, check_out, give_string, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use std::ffi::{c_char, CString};
use std::ptr;
use toron_core::sim::Outcome;

/// The result of one simulation: seed, digest, counters, latency, violations, coverage, output document.
/// Opaque: made by `toron_simulate*`, freed with `toron_outcome_free`. Read it with the accessors or as
/// JSON with `toron_outcome_to_json`.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_outcome {
    inner: Outcome,
    digest: CString,
    summary: CString,
    violations: Vec<ViolationText>,
}

/// The texts of one violation, NUL-terminated for C.
struct ViolationText {
    node: CString,
    invariant: CString,
    message: CString,
}

impl toron_outcome {
    pub(crate) fn new(inner: Outcome) -> Self {
        let violations = inner
            .violations
            .iter()
            .map(|v| ViolationText {
                node: c_string(&v.node),
                invariant: c_string(&v.invariant),
                message: c_string(&v.message),
            })
            .collect();
        toron_outcome {
            digest: c_string(&inner.digest),
            summary: c_string(&inner.summary()),
            violations,
            inner,
        }
    }
}

/// One invariant violation of an outcome, filled in by `toron_outcome_violation`. The strings are owned by
/// the outcome: valid until `toron_outcome_free`, do not free them.
#[allow(non_camel_case_types, reason = "C type name")]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct toron_violation {
    /// Virtual time of the violation, in seconds.
    pub time: f64,
    /// Virtual time of the violation, in nanoseconds.
    pub time_ns: u64,
    /// The node that reported it (or `"client"` for the load's checker).
    pub node: *const c_char,
    /// The invariant's name, e.g. `"acknowledged_write_lost"`.
    pub invariant: *const c_char,
    /// What happened.
    pub message: *const c_char,
}

/// The trace digest: 64 lowercase hex characters (blake3 of the trace). The same scenario and seed give the
/// same digest on every run, thread, process and surface. Owned by the outcome: valid until
/// `toron_outcome_free`, do not free it. NULL when `outcome` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_digest(outcome: *const toron_outcome) -> *const c_char {
    or_default(ptr::null(), || {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        unsafe { borrow(outcome, "outcome") }.map_or(ptr::null(), |o| o.digest.as_ptr())
    })
}

/// The seed the simulation used (from the call, else the scenario, else `SIM_SEED`, else 0).
/// 0 when `outcome` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_seed(outcome: *const toron_outcome) -> u64 {
    or_default(0, || {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        unsafe { borrow(outcome, "outcome") }.map_or(0, |o| o.inner.seed)
    })
}

/// The number of invariant violations found. 0 when `outcome` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_violation_count(outcome: *const toron_outcome) -> usize {
    or_default(0, || {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        unsafe { borrow(outcome, "outcome") }.map_or(0, |o| o.inner.violations.len())
    })
}

/// Read violation number `index` (0-based, in time order) into `*out`; its strings are owned by the outcome.
///
/// Fails with `TORON_INVALID_ARGUMENT` when `index >= toron_outcome_violation_count(outcome)`, or
/// `TORON_NULL_ARGUMENT`. `*out` is written only on success.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_violation(
    outcome: *const toron_outcome,
    index: usize,
    out: *mut toron_violation,
) -> toron_status {
    boundary(|| {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        let o = unsafe { borrow(outcome, "outcome") }?;
        check_out(out, "out")?;
        let (Some(v), Some(text)) = (o.inner.violations.get(index), o.violations.get(index)) else {
            return Err(FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                format!(
                    "violation index {index} is out of range (the outcome has {} violations)",
                    o.inner.violations.len()
                ),
            ));
        };
        let violation = toron_violation {
            time: v.time,
            time_ns: v.time_ns,
            node: text.node.as_ptr(),
            invariant: text.invariant.as_ptr(),
            message: text.message.as_ptr(),
        };
        // SAFETY: `out` was checked non-NULL and points to a writable `toron_violation` (the pointer rules).
        unsafe { out.write(violation) };
        Ok(())
    })
}

/// A one-line summary for people: scenario, seed, digest prefix, events, requests, p50/p99, violations.
/// Owned by the outcome: valid until `toron_outcome_free`, do not free it. NULL when `outcome` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_summary(outcome: *const toron_outcome) -> *const c_char {
    or_default(ptr::null(), || {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        unsafe { borrow(outcome, "outcome") }.map_or(ptr::null(), |o| o.summary.as_ptr())
    })
}

/// The whole outcome as JSON text (an object with keys sorted: `coverage`, `digest`, `engine`, `latency`,
/// `output`, `scenario`, `seed`, `stats`, `violations`), the same text on every surface.
///
/// On success writes a new string to `*json_out`, owned by the caller: free it with `toron_string_free`.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_to_json(
    outcome: *const toron_outcome,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `outcome` is NULL or a live outcome (the header's pointer rules).
        let o = unsafe { borrow(outcome, "outcome") }?;
        check_out(json_out, "json_out")?;
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, o.inner.to_json()) }
    })
}

/// Free an outcome. `toron_outcome_free(NULL)` does nothing. Strings from its accessors die with it.
#[no_mangle]
pub unsafe extern "C" fn toron_outcome_free(outcome: *mut toron_outcome) {
    // SAFETY: `outcome` is NULL or came from a `toron_simulate*` function and is freed once.
    or_default((), || unsafe { take(outcome) })
}
