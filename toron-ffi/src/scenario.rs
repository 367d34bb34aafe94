//! `toron_scenario`: a validated scenario, read from a file or from text.

use crate::error::c_string;
use crate::handle::{borrow, borrow_str, check_out, give, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use std::ffi::{c_char, CString};
use std::ptr;
use toron_core::scenario::{Format, Scenario};

/// A validated scenario (nodes, network, load, faults), ready to simulate. Opaque: create it with
/// `toron_scenario_from_path` or `toron_scenario_from_str`, free it with `toron_scenario_free`. It is
/// immutable, so one scenario may be simulated from several threads at once.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_scenario {
    pub(crate) inner: Scenario,
    name: CString,
}

impl toron_scenario {
    fn new(inner: Scenario) -> Self {
        let name = c_string(inner.name());
        toron_scenario { inner, name }
    }
}

/// Read and validate the scenario file at `path` (TOML, or JSON when the name ends in `.json`).
///
/// On success writes a new scenario to `*out` (free it with `toron_scenario_free`). Fails with
/// `TORON_IO_ERROR` when the file cannot be read, `TORON_SCENARIO_ERROR` when it is invalid (the last error
/// names the file, line and field and says what was expected), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_scenario_from_path(path: *const c_char, out: *mut *mut toron_scenario) -> toron_status {
    boundary(|| {
        crate::node::register_c_resolver();
        // SAFETY: `path` is NULL or a NUL-terminated string (the header's pointer rules).
        let path = unsafe { borrow_str(path, "path") }?;
        check_out(out, "out")?;
        let scenario = Scenario::from_path(path)?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, toron_scenario::new(scenario)) };
        Ok(())
    })
}

/// Parse and validate a scenario from `text` in `format`: `"toml"` or `"json"` (case-insensitive).
///
/// On success writes a new scenario to `*out` (free it with `toron_scenario_free`). Fails with
/// `TORON_SCENARIO_ERROR` when the text is invalid (the last error gives the line and field),
/// `TORON_INVALID_ARGUMENT` for an unknown format, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_scenario_from_str(
    text: *const c_char,
    format: *const c_char,
    out: *mut *mut toron_scenario,
) -> toron_status {
    boundary(|| {
        crate::node::register_c_resolver();
        // SAFETY: `text` is NULL or a NUL-terminated string (the header's pointer rules).
        let text = unsafe { borrow_str(text, "text") }?;
        // SAFETY: as for `text`.
        let format = unsafe { borrow_str(format, "format") }?;
        check_out(out, "out")?;
        let scenario = Scenario::from_str(text, Format::parse(format)?)?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, toron_scenario::new(scenario)) };
        Ok(())
    })
}

/// The scenario's `name`. Owned by the scenario: valid until `toron_scenario_free`, do not free it.
/// NULL when `scenario` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_scenario_name(scenario: *const toron_scenario) -> *const c_char {
    or_default(ptr::null(), || {
        // SAFETY: `scenario` is NULL or a live scenario (the header's pointer rules).
        unsafe { borrow(scenario, "scenario") }.map_or(ptr::null(), |s| s.name.as_ptr())
    })
}

/// Free a scenario. `toron_scenario_free(NULL)` does nothing. Outcomes made from it stay valid.
#[no_mangle]
pub unsafe extern "C" fn toron_scenario_free(scenario: *mut toron_scenario) {
    // SAFETY: `scenario` is NULL or came from a `toron_scenario_*` constructor and is freed once.
    or_default((), || unsafe { take(scenario) })
}
