//! Simulation: one run (`toron_simulate*`) or many seeds at once (`toron_sweep`).

use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow, borrow_str, check_out, give, give_string};
use crate::outcome::toron_outcome;
use crate::panic::boundary;
use crate::scenario::toron_scenario;
use crate::status::toron_status;
use serde_json::Value;
use std::ffi::c_char;
use std::path::PathBuf;
use toron_core::sim::{self, SimOptions};
use toron_core::{Error, ErrorKind};

/// Simulate `scenario` with `seed` (the call's seed wins over the scenario's).
///
/// On success writes a new outcome to `*out` (free it with `toron_outcome_free`). The same scenario and seed
/// give the same digest every time. Fails with `TORON_SIM_ERROR` if a model cannot proceed, or
/// `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_simulate(
    scenario: *const toron_scenario,
    seed: u64,
    out: *mut *mut toron_outcome,
) -> toron_status {
    // SAFETY: the header's pointer rules, passed on unchanged.
    boundary(|| unsafe {
        run(
            scenario,
            &SimOptions {
                seed: Some(seed),
                ..Default::default()
            },
            out,
        )
    })
}

/// Simulate `scenario` with its default seed: the scenario's `seed`, else the environment variable
/// `SIM_SEED`, else 0. `toron_outcome_seed()` tells which seed was used.
///
/// As `toron_simulate` otherwise; also fails with `TORON_INVALID_ARGUMENT` when `SIM_SEED` is not a seed.
#[no_mangle]
pub unsafe extern "C" fn toron_simulate_default_seed(
    scenario: *const toron_scenario,
    out: *mut *mut toron_outcome,
) -> toron_status {
    // SAFETY: the header's pointer rules, passed on unchanged.
    boundary(|| unsafe { run(scenario, &SimOptions::default(), out) })
}

/// Simulate `scenario` with options given as a JSON object, e.g. `{"seed": 42, "trace": "run.jsonl"}`:
///
/// - `seed`: an integer from 0 to 2^64-1; absent or `null` means the default seed (the scenario's, else
///   `SIM_SEED`, else 0);
/// - `trace`: a file path (relative to the working directory) where the full trace is written as JSON Lines;
///   absent or `null` writes no trace;
/// - `history`: `true` records the load's client operations in the outcome (`"history"` in
///   `toron_outcome_to_json`, for `toron_check_linearizable_json`); the digest is the same either way.
///
/// `"{}"` gives the same result as `toron_simulate_default_seed`. Fails with `TORON_JSON_ERROR` when
/// `options_json` is not JSON, `TORON_INVALID_ARGUMENT` for an unknown key or a wrong value (the last error
/// names the field), `TORON_IO_ERROR` when the trace file cannot be written, and as `toron_simulate`.
#[no_mangle]
pub unsafe extern "C" fn toron_simulate_opts(
    scenario: *const toron_scenario,
    options_json: *const c_char,
    out: *mut *mut toron_outcome,
) -> toron_status {
    boundary(|| {
        // SAFETY: `options_json` is NULL or a NUL-terminated string (the header's pointer rules).
        let text = unsafe { borrow_str(options_json, "options_json") }?;
        let options = parse_options(text)?;
        // SAFETY: the header's pointer rules, passed on unchanged.
        unsafe {
            run(
                scenario,
                &SimOptions {
                    seed: options.seed,
                    trace: options.trace,
                    cancel: None,
                    history: options.history,
                },
                out,
            )
        }
    })
}

/// Simulate `scenario` once per seed of `seeds[0..n]`, on `threads` threads (0: one per core), and write
/// the outcomes as a JSON array in the order of `seeds` (each element as `toron_outcome_to_json` gives it)
/// to `*json_out`, owned by the caller: free it with `toron_string_free`. The results equal running the
/// seeds one by one, whatever the thread count.
///
/// `seeds` may be NULL only when `n` is 0 (the result is then `"[]"`). Fails with the first failing seed's
/// status (e.g. `TORON_SIM_ERROR`), `TORON_EXPECTATION_ERROR` when a mark of the scenario's
/// `[expect] sometimes` was reached on no seed (the last error names it), `TORON_NULL_ARGUMENT` or
/// `TORON_SIM_ERROR` when threads cannot start.
#[no_mangle]
pub unsafe extern "C" fn toron_sweep(
    scenario: *const toron_scenario,
    seeds: *const u64,
    n: usize,
    threads: usize,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `scenario` is NULL or a live scenario (the header's pointer rules).
        let scenario = unsafe { borrow(scenario, "scenario") }?;
        let seeds: &[u64] = if n == 0 {
            &[]
        } else {
            // SAFETY: a NULL `seeds` is rejected; otherwise the caller guarantees `n` readable u64s.
            unsafe { std::slice::from_raw_parts(borrow(seeds, "seeds")?, n) }
        };
        check_out(json_out, "json_out")?;
        let threads = (threads != 0).then_some(threads);
        let outcomes = sim::sweep(&scenario.inner, seeds, threads)?;
        let json = Value::Array(outcomes.iter().map(|o| o.to_value()).collect()).to_string();
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, json) }
    })
}

/// Shrink `scenario` while the seed still violates the invariant of its first violation (see
/// `toron shrink`), with options as a JSON object: `seed` (absent or null: the default seed) and `max_runs`
/// (a positive integer, default 1000). Writes a JSON object to `*json_out` (free it with
/// `toron_string_free`): `seed`, `invariant`, `violation`, `runs`, `steps` (strings), `exhausted`,
/// `original` and `minimal` (`faults`, `clients`, `requests`, `virtual_time_ns`), `scenario` (the minimal
/// scenario's structure, for `toron_scenario_from_json`) and `toml` (it as a file, headed by how it was
/// reached).
///
/// Fails with `TORON_INVALID_ARGUMENT` when the seed violates no invariant or for a bad option (the last error
/// names it), `TORON_JSON_ERROR`, `TORON_SIM_ERROR`, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_shrink_json(
    scenario: *const toron_scenario,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `scenario` is NULL or a live scenario (the header's pointer rules).
        let scenario = unsafe { borrow(scenario, "scenario") }?;
        // SAFETY: `options_json` is NULL or a NUL-terminated string (the header's pointer rules).
        let text = unsafe { borrow_str(options_json, "options_json") }?;
        check_out(json_out, "json_out")?;
        let (seed, max_runs) = parse_shrink_options(text)?;
        let shrunk =
            toron_core::shrink::shrink(&scenario.inner, seed, &toron_core::shrink::ShrinkOptions { max_runs })?;
        let mut value = shrunk.to_value();
        if let Value::Object(m) = &mut value {
            m.insert("toml".into(), Value::String(shrunk.to_toml()?));
        }
        // SAFETY: `json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(json_out, value.to_string()) }
    })
}

fn options_object(text: &str, example: &str) -> FfiResult<serde_json::Map<String, Value>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        FfiError::from(
            Error::new(ErrorKind::Json, format!("options_json is not JSON: {e}")).with_line(e.line(), Some(e.column())),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("options_json is not a JSON object (expected e.g. {example})"),
        )
        .into()),
    }
}

fn invalid_option(key: &str, expected: &str) -> FfiError {
    FfiError::from(
        Error::new(
            ErrorKind::InvalidArgument,
            format!("options_json: {key}: expected {expected}"),
        )
        .with_field(key)
        .with_path(format!("/{key}")),
    )
}

fn unknown_option(key: &str, expected: &str) -> FfiError {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("options_json: unknown key {key:?} (expected {expected})"),
    )
    .with_field(key)
    .with_path(format!("/{key}"))
    .into()
}

/// `(seed, max_runs)` of `toron_shrink_json`.
fn parse_shrink_options(text: &str) -> FfiResult<(Option<u64>, usize)> {
    let map = options_object(text, "{\"seed\": 3}")?;
    let (mut seed, mut max_runs) = (None, 1000usize);
    for (key, v) in &map {
        match (key.as_str(), v) {
            ("seed" | "max_runs", Value::Null) => {}
            ("seed", v) => {
                seed = Some(
                    v.as_u64()
                        .ok_or_else(|| invalid_option(key, "an integer from 0 to 2^64-1, or null"))?,
                )
            }
            ("max_runs", v) => {
                max_runs = v
                    .as_u64()
                    .filter(|n| *n > 0)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| invalid_option(key, "a positive integer, or null"))?
            }
            _ => return Err(unknown_option(key, "seed, max_runs")),
        }
    }
    Ok((seed, max_runs))
}

/// Check the arguments, simulate, give the outcome.
///
/// # Safety
///
/// `scenario` is NULL or a live scenario; `out` is NULL or writable.
unsafe fn run(
    scenario: *const toron_scenario,
    options: &SimOptions<'_>,
    out: *mut *mut toron_outcome,
) -> FfiResult<()> {
    // SAFETY: the caller's guarantee.
    let scenario = unsafe { borrow(scenario, "scenario") }?;
    check_out(out, "out")?;
    let outcome = sim::simulate_with(&scenario.inner, options)?;
    // SAFETY: `out` was checked non-NULL; the caller guarantees it is writable.
    unsafe { give(out, toron_outcome::new(outcome)) };
    Ok(())
}

/// The options of `toron_simulate_opts`.
#[derive(Debug, Default, PartialEq)]
struct Options {
    seed: Option<u64>,
    trace: Option<PathBuf>,
    history: bool,
}

/// The options object; unknown keys and wrong types are errors, never ignored.
fn parse_options(text: &str) -> FfiResult<Options> {
    let map = options_object(text, "{\"seed\": 42}")?;
    let mut o = Options::default();
    for (key, v) in &map {
        match (key.as_str(), v) {
            ("seed" | "trace" | "history", Value::Null) => {}
            ("seed", v) => {
                o.seed = Some(
                    v.as_u64()
                        .ok_or_else(|| invalid_option(key, "an integer from 0 to 2^64-1, or null"))?,
                )
            }
            ("trace", Value::String(path)) if !path.is_empty() => o.trace = Some(PathBuf::from(path)),
            ("trace", _) => return Err(invalid_option(key, "a file path (a non-empty string), or null")),
            ("history", Value::Bool(b)) => o.history = *b,
            ("history", _) => return Err(invalid_option(key, "true or false, or null")),
            _ => return Err(unknown_option(key, "seed, trace, history")),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(parse_options("{}").unwrap(), Options::default());
        assert_eq!(
            parse_options(r#"{"seed": null, "trace": null, "history": null}"#).unwrap(),
            Options::default()
        );
        assert_eq!(
            parse_options(r#"{"seed": 18446744073709551615, "trace": "t.jsonl", "history": true}"#).unwrap(),
            Options {
                seed: Some(u64::MAX),
                trace: Some("t.jsonl".into()),
                history: true
            }
        );
        assert_eq!(parse_shrink_options(r#"{"seed": 3}"#).unwrap(), (Some(3), 1000));
        for bad in [r#"{"max_runs": 0}"#, r#"{"max_runs": "5"}"#, r#"{"runs": 5}"#] {
            assert_eq!(
                parse_shrink_options(bad).unwrap_err().status,
                toron_status::TORON_INVALID_ARGUMENT,
                "{bad}"
            );
        }
        for bad in [
            r#"{"seed": -1}"#,
            r#"{"seed": 1.5}"#,
            r#"{"seed": "1"}"#,
            r#"{"trace": 3}"#,
            r#"{"history": 1}"#,
            r#"{"sede": 1}"#,
            "[]",
        ] {
            assert_eq!(
                parse_options(bad).unwrap_err().status,
                toron_status::TORON_INVALID_ARGUMENT,
                "{bad}"
            );
        }
        let err = parse_options("{\"seed\": 1,\n}").unwrap_err();
        assert_eq!(err.status, toron_status::TORON_JSON_ERROR);
        assert_eq!(err.core.unwrap().line(), Some(2));
        assert_eq!(
            parse_options(r#"{"sede": 1}"#).unwrap_err().core.unwrap().field(),
            Some("sede")
        );
    }
}
