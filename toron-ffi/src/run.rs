//! `toron_run`: a run of a manifest's suites, started in the background, with its events (polled with a
//! timeout, or pushed to a callback), cancel, wait and the result as JSON.
//!
//! The core's event log keeps every event of a run and never waits for a consumer. Each C consumer reads it
//! on a thread of its own: the callback stream on a delivery thread that calls the callback, the poll stream
//! on a reader thread that moves the events into a channel, so that `toron_run_next_event` can wait with a
//! timeout (`Receiver::recv_timeout`) although the core's iterator only blocks. Neither thread ever holds
//! the log while C code runs, so a slow consumer never slows the run down.

use crate::canon::{about, json_arg};
use crate::error::{c_string, FfiError, FfiResult};
use crate::handle::{borrow, check_out, give, give_string, take};
use crate::manifest::toron_manifest;
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use serde_json::Value;
use std::ffi::{c_char, c_void, CString};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;
use toron_core::runner::{Events, Run, RunHandle, RunOptions, RunResult};
use toron_core::{canon, Error, ErrorKind};

/// A function that receives the events of a run, one JSON object per call:
/// `{"seq":1,"run":"<id>","type":"run.scheduled","time":"<RFC 3339>","data":{...}}`. `userdata` is the
/// pointer given to `toron_run_start_with_callback`. See that function for the thread it runs on and how
/// long `event_json` lives.
#[allow(non_camel_case_types, reason = "C type name")]
pub type toron_event_callback = Option<unsafe extern "C" fn(userdata: *mut c_void, event_json: *const c_char)>;

/// A run of a manifest's suites, going on in the background. Opaque: start it with `toron_run_start` or
/// `toron_run_start_with_callback`, free it with `toron_run_free` (which cancels it first if it is still
/// running). Read its events with `toron_run_next_event` (or the callback), stop it with
/// `toron_run_cancel`, and get its result with `toron_run_wait`.
///
/// Unlike the other objects, a run changes while it goes on: `toron_run_id`, `toron_run_cancel`,
/// `toron_run_next_event` and `toron_run_wait` may be called from several threads at once (e.g. one thread
/// waiting for events while another cancels); free it only when no other thread uses it.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_run {
    handle: RunHandle,
    id: CString,
    /// The poll stream: started by the first `toron_run_next_event`, then read by every call (its cursor).
    poll: Mutex<Option<Receiver<String>>>,
    /// The poll stream's reader thread, joined by `toron_run_free`.
    reader: Mutex<Option<JoinHandle<()>>>,
    /// The callback's delivery thread, joined by `toron_run_wait` and `toron_run_free`.
    delivery: Mutex<Option<JoinHandle<()>>>,
    /// The delivery thread's id, to refuse a wait from inside the callback (it would wait for itself).
    delivery_id: Option<ThreadId>,
    /// Set when the run is freed from inside its own callback: deliver no more events.
    detached: Arc<AtomicBool>,
}

/// A C callback and its userdata, moved to the delivery thread.
struct Callback {
    function: unsafe extern "C" fn(*mut c_void, *const c_char),
    userdata: *mut c_void,
}

// SAFETY: `toron_run_start_with_callback` documents that the callback is called on a thread of the run, so
// the caller guarantees that the function and `userdata` may be used from another thread.
unsafe impl Send for Callback {}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere, caught at the boundary; the data is still whole.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn run_error(message: String) -> FfiError {
    FfiError::from(Error::new(ErrorKind::Run, message))
}

impl toron_run {
    fn new(handle: RunHandle) -> Self {
        toron_run {
            id: c_string(handle.id()),
            handle,
            poll: Mutex::new(None),
            reader: Mutex::new(None),
            delivery: Mutex::new(None),
            delivery_id: None,
            detached: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Start the delivery thread: every event, in seq order, passed to `callback` one at a time.
    fn deliver_to(&mut self, callback: Callback) -> FfiResult<()> {
        let events = self.handle.events(0);
        let detached = self.detached.clone();
        let thread = std::thread::Builder::new()
            .name("toron-callback".into())
            .spawn(move || deliver(events, &callback, &detached))
            .map_err(|e| run_error(format!("cannot start the thread of the event callback: {e}")))?;
        self.delivery_id = Some(thread.thread().id());
        *lock(&self.delivery) = Some(thread);
        Ok(())
    }

    /// Whether the calling thread is this run's callback thread.
    fn in_callback(&self) -> bool {
        self.delivery_id == Some(std::thread::current().id())
    }

    /// Wait for the last callback to return. Holding the lock while joining makes a second waiter wait too.
    fn join_delivery(&self) {
        let mut delivery = lock(&self.delivery);
        if let Some(t) = delivery.take() {
            let _ = t.join();
        }
    }

    /// The next event of the poll stream (started on first use), waiting up to `timeout_ms`.
    fn next_event(&self, timeout_ms: i64) -> FfiResult<String> {
        let mut poll = lock(&self.poll);
        if poll.is_none() {
            let (tx, rx) = mpsc::channel();
            let events = self.handle.events(0);
            let thread = std::thread::Builder::new()
                .name("toron-events".into())
                .spawn(move || {
                    for event in events {
                        // The channel is unbounded: the reader never waits for the C consumer.
                        if tx.send(event.to_json()).is_err() {
                            return; // the run was freed
                        }
                    }
                })
                .map_err(|e| run_error(format!("cannot start the thread of the event stream: {e}")))?;
            *lock(&self.reader) = Some(thread);
            *poll = Some(rx);
        }
        let Some(rx) = poll.as_ref() else {
            return Err(run_error("the event stream is gone".into()));
        };
        let received = match u64::try_from(timeout_ms) {
            Err(_) => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Ok(0) => rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            }),
            Ok(ms) => rx.recv_timeout(Duration::from_millis(ms)),
        };
        received.map_err(|e| match e {
            RecvTimeoutError::Timeout => FfiError::new(
                toron_status::TORON_TIMEOUT,
                format!(
                    "run {}: no event within {timeout_ms} ms (the run goes on; call again)",
                    self.handle.id()
                ),
            ),
            RecvTimeoutError::Disconnected => FfiError::new(
                toron_status::TORON_END_OF_STREAM,
                format!(
                    "run {}: no more events (the stream ended after run.finished)",
                    self.handle.id()
                ),
            ),
        })
    }
}

impl Drop for toron_run {
    /// Cancel (a no-op once the run has ended), wait for the run, then for its consumers' threads.
    fn drop(&mut self) {
        self.handle.cancel();
        let _ = self.handle.wait_shared();
        if self.in_callback() {
            // Freed from inside its own callback: joining would wait for itself. The thread owns everything it
            // uses (the log, the callback), so it may outlive the run; it stops after this callback returns.
            self.detached.store(true, Ordering::SeqCst);
            drop(lock(&self.delivery).take());
        } else {
            self.join_delivery();
        }
        // The run has ended, so the log is closed and the reader finishes (its channel is unbounded).
        drop(lock(&self.poll).take());
        if let Some(t) = lock(&self.reader).take() {
            let _ = t.join();
        }
    }
}

/// The delivery thread's body: every event, in seq order, one call at a time.
fn deliver(events: Events, callback: &Callback, detached: &AtomicBool) {
    for event in events {
        if detached.load(Ordering::SeqCst) {
            return;
        }
        let json = c_string(&event.to_json());
        // SAFETY: `toron_run_start_with_callback`'s contract: the function and `userdata` stay valid until
        // `toron_run_free` returns, which joins this thread first; `json` lives during the call.
        unsafe { (callback.function)(callback.userdata, json.as_ptr()) };
    }
}

/// The keys of `options_json`: the names of the Python surface's keyword arguments.
const OPTION_KEYS: &str = "profile, suites, seed, jobs, retries, check, archive, worker";

/// The run options of an `options_json` object; unknown keys and wrong types are errors, never ignored.
fn parse_options(value: &Value) -> FfiResult<RunOptions> {
    let Value::Object(map) = value else {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("options_json is not a JSON object (expected e.g. {{\"profile\": \"offline\", \"seed\": 42}}, keys: {OPTION_KEYS})"),
        )
        .into());
    };
    // "options_json: field jobs: expected a positive integer, or null, got 0"
    let about_key = |key: &str, message: String| {
        about(
            "options_json",
            Error::new(ErrorKind::InvalidArgument, message)
                .with_field(key)
                .with_path(format!("/{key}")),
        )
    };
    let invalid = |key: &str, expected: &str, got: &Value| about_key(key, format!("expected {expected}, got {got}"));
    let text = |key: &str, v: &Value, expected: &str| match v {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid(key, expected, v)),
    };
    let mut options = RunOptions::default();
    for (key, v) in map {
        let key = key.as_str();
        if v.is_null() && OPTION_KEYS.split(", ").any(|k| k == key) {
            continue; // null: the default
        }
        match key {
            "profile" => options.profile = Some(text(key, v, "a profile name (a non-empty string), or null")?),
            "suites" => {
                let expected = "a list of suite names (non-empty strings), or null";
                let Value::Array(items) = v else {
                    return Err(invalid(key, expected, v));
                };
                options.suites = items.iter().map(|s| text(key, s, expected)).collect::<FfiResult<_>>()?;
            }
            "seed" => {
                options.seed = Some(
                    v.as_u64()
                        .ok_or_else(|| invalid(key, "an integer from 0 to 2^53, or null", v))?,
                )
            }
            "jobs" => {
                let jobs = v
                    .as_u64()
                    .filter(|n| *n > 0)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| invalid(key, "a positive integer, or null", v))?;
                options.jobs = Some(jobs);
            }
            "retries" => {
                let retries = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid(key, "an integer from 0 to 4294967295, or null", v))?;
                options.retries = Some(retries);
            }
            "check" => options.check = v.as_bool().ok_or_else(|| invalid(key, "true or false, or null", v))?,
            "archive" => {
                options.archive = Some(PathBuf::from(text(
                    key,
                    v,
                    "a directory path (a non-empty string), or null",
                )?))
            }
            "worker" => {
                let expected =
                    "the worker command as a list of non-empty strings, e.g. [\"python3\", \"-m\", \"toron\"], or null";
                let Value::Array(items) = v else {
                    return Err(invalid(key, expected, v));
                };
                let argv: Vec<String> = items.iter().map(|s| text(key, s, expected)).collect::<FfiResult<_>>()?;
                if argv.is_empty() {
                    return Err(invalid(key, expected, v));
                }
                options.worker = Some(argv);
            }
            _ => return Err(about_key(key, format!("unknown key (expected one of: {OPTION_KEYS})"))),
        }
    }
    Ok(options)
}

/// The result as JSON: canonical (RFC 8785) when it can be, else (an integer beyond 2^53, such as a large
/// seed of the manifest) compact JSON with every number exact.
fn result_json(result: &RunResult) -> FfiResult<String> {
    let value = serde_json::to_value(result).map_err(|e| {
        FfiError::new(
            toron_status::TORON_PANIC,
            format!("internal error (a bug in toron, please report it): cannot encode the run result: {e}"),
        )
    })?;
    Ok(canon::canonical_string(&value).unwrap_or_else(|_| value.to_string()))
}

/// Check the arguments and start the run; the callback, if any, gets every event.
///
/// # Safety
///
/// `manifest` is NULL or a live manifest; `options_json` NULL or a NUL-terminated string; `out` NULL or
/// writable.
unsafe fn start(
    manifest: *const toron_manifest,
    options_json: *const c_char,
    callback: Option<Callback>,
    out: *mut *mut toron_run,
) -> FfiResult<()> {
    // SAFETY: the caller's guarantee.
    let manifest = unsafe { borrow(manifest, "manifest") }?;
    check_out(out, "out")?;
    let options = if options_json.is_null() {
        RunOptions::default()
    } else {
        // SAFETY: the caller's guarantee.
        parse_options(&unsafe { json_arg(options_json, "options_json") }?)?
    };
    let handle = Run::start(&manifest.inner, options)?;
    // From here on, dropping `run` on a failure cancels the run and waits for it.
    let mut run = toron_run::new(handle);
    if let Some(callback) = callback {
        run.deliver_to(callback)?;
    }
    // SAFETY: `out` was checked non-NULL; the caller guarantees it is writable.
    unsafe { give(out, run) };
    Ok(())
}

/// Start running `manifest` in the background, with options given as a JSON object whose keys are the
/// keyword arguments of runs on the Python surface, e.g. `{"profile": "offline", "seed": 42, "jobs": 2,
/// "retries": 1, "suites": ["sim"], "check": true, "archive": ".toron"}`. Every key is optional; NULL,
/// `"{}"` or a key set to `null` mean the defaults:
///
/// - `profile`: the profile to run (default: every suite, unless `suites` is given);
/// - `suites`: the suites to run instead of the profile's, e.g. `["sim", "unit"]`;
/// - `seed`: the seed of the simulation cases that name none, an integer from 0 to 2^53 (default: each
///   scenario's, else `SIM_SEED`, else 0);
/// - `jobs`: how many cases run in parallel, a positive integer (default: the manifest's, else one per core);
/// - `retries`: extra attempts after a failed attempt (default: the manifest's defaults);
/// - `check`: true compares golden files without ever writing them (as when the `CI` environment variable
///   is set); default false;
/// - `archive`: the run archive directory, relative to the manifest's directory (default: the manifest's
///   `project.archive`, `.toron`);
/// - `worker`: the command that simulates in a separate process for determinism cases with `processes > 1`,
///   called as `<worker...> simulate <scenario.json> --seed N --json` (and `--base-dir DIR`, the scenario's
///   directory, when it has `python:` or `c:` nodes), e.g. `["python3", "-m", "toron"]`
///   (default: the `TORON_WORKER` environment variable, else such cases error saying so).
///
/// The run gets its id (`toron_run_id`), writes its events to `<archive>/events/<run id>.events.ndjson`,
/// its cases' outputs to the archive and its reports to `<reports>/<run id>/`. Bad options are errors here,
/// before anything runs; whatever happens after (failed cases, a harness failure) is in the events and the
/// result of `toron_run_wait`.
///
/// On success writes a new run to `*out` (free it with `toron_run_free`). Fails with
/// `TORON_INVALID_ARGUMENT` for an unknown key, a wrong type (the last error names the key and what was
/// expected; `toron_last_error_field()` gives the key), an unknown profile or suite, or `jobs` 0;
/// `TORON_JSON_ERROR` when `options_json` is not JSON or repeats a key; `TORON_ARCHIVE_ERROR` or
/// `TORON_IO_ERROR` when the archive cannot be written; `TORON_RUN_ERROR` when the run's thread cannot
/// start; `TORON_NULL_ARGUMENT` (`manifest`, `out`) or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_run_start(
    manifest: *const toron_manifest,
    options_json: *const c_char,
    out: *mut *mut toron_run,
) -> toron_status {
    // SAFETY: the header's pointer rules, passed on unchanged.
    boundary(|| unsafe { start(manifest, options_json, None, out) })
}

/// As `toron_run_start`, and every event of the run is passed to `callback(userdata, event_json)`:
///
/// - Thread: the callback runs on a thread owned by the run, never on the caller's thread (nor inside
///   this call), so `callback` and `userdata` must be safe to use from another thread.
/// - Order: every event is delivered, exactly once, in seq order (1, 2, 3... with no gaps), from
///   `run.scheduled` to `run.finished`, the last call.
/// - No overlap: the calls never overlap; the next call starts after the previous one returned.
/// - Lifetime: `event_json` is a NUL-terminated JSON object owned by the library, valid only during the
///   call; copy it to keep it. It is byte for byte the event's line in the events file (without the newline).
/// - End: `toron_run_wait` and `toron_run_free` return only after the last callback returned, so
///   `userdata` may be released once either returns. Until then the callback may be called, also while
///   `toron_run_free` cancels a running run (it then receives the remaining events, `run.finished` last).
/// - Speed: a slow callback delays only the later callbacks, never the run: events are buffered.
/// - Inside the callback, `toron_run_next_event`, `toron_run_cancel` and `toron_run_id` may be called on the
///   run; `toron_run_wait` fails with `TORON_INVALID_ARGUMENT` (it would wait for itself), and
///   `toron_run_free` frees the run without waiting for the callback in progress (no call follows it). The
///   callback must return normally: no C++ exception or longjmp may leave it.
///
/// Fails as `toron_run_start`, and with `TORON_NULL_ARGUMENT` when `callback` is NULL (`userdata` may be
/// NULL); nothing is called then.
#[no_mangle]
pub unsafe extern "C" fn toron_run_start_with_callback(
    manifest: *const toron_manifest,
    options_json: *const c_char,
    callback: toron_event_callback,
    userdata: *mut c_void,
    out: *mut *mut toron_run,
) -> toron_status {
    boundary(|| {
        let function = callback.ok_or_else(|| FfiError::null("callback"))?;
        // SAFETY: the header's pointer rules, passed on unchanged.
        unsafe { start(manifest, options_json, Some(Callback { function, userdata }), out) }
    })
}

/// Poll the run's events: write the next event after the last one this function returned for `run`
/// (the first call gives seq 1, `run.scheduled`) to `*event_json_out`, a JSON object
/// `{"seq":1,"run":"<id>","type":"run.scheduled","time":"<RFC 3339>","data":{...}}`, byte for byte the
/// event's line in the events file (without the newline). It is owned by the caller: free it with
/// `toron_string_free`. Events come in seq order, with no gaps, up to `run.finished`, the last one.
///
/// `timeout_ms` is how long to wait for an event that has not happened yet: < 0 waits as long as it takes,
/// 0 only looks (never waits), > 0 waits up to that many milliseconds. Events are buffered from the start
/// of the run, so none is lost however late or slowly they are polled; the poll stream is independent of
/// the callback of `toron_run_start_with_callback` (each gets every event).
///
/// Returns `TORON_OK` with an event; `TORON_END_OF_STREAM` when every event up to `run.finished` has been
/// returned (and on every later call); `TORON_TIMEOUT` when no event came within `timeout_ms` (the run goes
/// on: call again). `*event_json_out` is written only with `TORON_OK`. Also fails with `TORON_RUN_ERROR`
/// when the stream's thread cannot start, or `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_run_next_event(
    run: *mut toron_run,
    timeout_ms: i64,
    event_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: `run` is NULL or a live run (the header's pointer rules); it is only read.
        let run = unsafe { borrow(run.cast_const(), "run") }?;
        check_out(event_json_out, "event_json_out")?;
        let json = run.next_event(timeout_ms)?;
        // SAFETY: `event_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(event_json_out, json) }
    })
}

/// Ask the run to stop, and return at once: running cases are stopped (command cases' whole process groups
/// are killed), pending cases are recorded as cancelled, and the run ends with state `"cancelled"`, its
/// events (up to `run.finished`), archive and reports intact. Wait for the end with `toron_run_wait` or
/// `toron_run_next_event`. Cancelling a run that has ended, or twice, does nothing. Fails only with
/// `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_run_cancel(run: *mut toron_run) -> toron_status {
    boundary(|| {
        // SAFETY: `run` is NULL or a live run (the header's pointer rules); it is only read.
        let run = unsafe { borrow(run.cast_const(), "run") }?;
        run.handle.cancel();
        Ok(())
    })
}

/// Wait for the run to end (and, with a callback, for the last callback to return), then write its result
/// to `*result_json_out` as a JSON object, owned by the caller: free it with `toron_string_free`. It may be
/// called several times (and from several threads); each call gives the same result.
///
/// The result has `id`, `state` (`"passed"`, `"failed"` (a NO-GO verdict), `"errored"` (a harness failure,
/// with `error`) or `"cancelled"`), `error`, `profile`, `suites`, `seed`, `started`, `duration` (seconds),
/// `cases` (in manifest order, each with `suite`, `name`, `kind`, `outcome` (`"passed"`, `"failed"`,
/// `"flaky"`, `"errored"`, `"timed_out"`, `"skipped"`, `"cancelled"`) and its `attempts`), `kpis`, `verdict`
/// (`verdict` is `"GO"` or `"NO-GO"`, with each gate rule), `archive` and `report_dir`. It is canonical JSON
/// (RFC 8785) unless it holds an integer beyond 2^53 (a large seed in the manifest): then it is compact
/// JSON with every number exact.
///
/// A run that ends failed, errored or cancelled is still `TORON_OK`: the state says how it ended. Fails
/// with `TORON_RUN_ERROR` when the run has no result (its thread failed: a bug), `TORON_INVALID_ARGUMENT`
/// when called from the run's own event callback, or `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_run_wait(run: *mut toron_run, result_json_out: *mut *mut c_char) -> toron_status {
    boundary(|| {
        // SAFETY: `run` is NULL or a live run (the header's pointer rules); it is only read.
        let run = unsafe { borrow(run.cast_const(), "run") }?;
        check_out(result_json_out, "result_json_out")?;
        if run.in_callback() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "run {}: toron_run_wait called from the run's own event callback (it would wait for itself)",
                    run.handle.id()
                ),
            )
            .into());
        }
        let result = run.handle.wait_shared()?;
        run.join_delivery();
        let json = result_json(&result)?;
        // SAFETY: `result_json_out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give_string(result_json_out, json) }
    })
}

/// The run id, e.g. `"run-2.5.0-20261124T101530Z"` (also the archive tag of the run, and the name of
/// its events file and report directory). Owned by the run: valid until `toron_run_free`, do not free it.
/// NULL when `run` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_run_id(run: *const toron_run) -> *const c_char {
    or_default(ptr::null(), || {
        // SAFETY: `run` is NULL or a live run (the header's pointer rules).
        unsafe { borrow(run, "run") }.map_or(ptr::null(), |r| r.id.as_ptr())
    })
}

/// Free a run. A run still going on is cancelled first and waited for: this returns after the run has
/// ended (its archive and events complete) and after its last callback returned. `toron_run_free(NULL)`
/// does nothing. Strings it returned through `char **` outputs stay valid (free them with
/// `toron_string_free`); the id from `toron_run_id` does not.
#[no_mangle]
pub unsafe extern "C" fn toron_run_free(run: *mut toron_run) {
    // SAFETY: `run` is NULL or came from `toron_run_start*` and is freed once, with no call in progress.
    or_default((), || unsafe { take(run) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> FfiError {
        parse_options(&v).unwrap_err()
    }

    #[test]
    fn options_take_the_python_keywords() {
        let o = parse_options(&json!({"profile": "offline", "seed": 42, "jobs": 2, "retries": 1,
            "suites": ["sim", "unit"], "check": true, "archive": ".toron"}))
        .unwrap();
        assert_eq!(o.profile.as_deref(), Some("offline"));
        assert_eq!(o.suites, ["sim", "unit"]);
        assert_eq!((o.seed, o.jobs, o.retries, o.check), (Some(42), Some(2), Some(1), true));
        assert_eq!(o.archive, Some(PathBuf::from(".toron")));

        let d = parse_options(&json!({})).unwrap();
        let n = parse_options(&json!({"profile": null, "seed": null, "jobs": null, "retries": null,
            "suites": null, "check": null, "archive": null}))
        .unwrap();
        for o in [d, n] {
            assert_eq!(
                (o.profile, o.seed, o.jobs, o.retries, o.check, o.archive),
                (None, None, None, None, false, None)
            );
            assert!(o.suites.is_empty());
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key_and_what_was_expected() {
        let e = err(json!({"sede": 1}));
        assert_eq!(e.status, toron_status::TORON_INVALID_ARGUMENT);
        assert_eq!(
            e.message,
            "options_json: field sede: unknown key (expected one of: profile, suites, seed, jobs, retries, check, archive, worker)"
        );
        assert_eq!(e.core.unwrap().field(), Some("sede"));
        for (bad, key, expected) in [
            (json!({"seed": -1}), "seed", "an integer"),
            (json!({"seed": "1"}), "seed", "an integer"),
            (json!({"jobs": 0}), "jobs", "a positive integer"),
            (json!({"jobs": 1.5}), "jobs", "a positive integer"),
            (
                json!({"retries": 4294967296_u64}),
                "retries",
                "an integer from 0 to 4294967295",
            ),
            (json!({"suites": "sim"}), "suites", "a list of suite names"),
            (json!({"suites": ["sim", 3]}), "suites", "a list of suite names"),
            (json!({"suites": [""]}), "suites", "a list of suite names"),
            (json!({"profile": 1}), "profile", "a profile name"),
            (json!({"check": "yes"}), "check", "true or false"),
            (json!({"archive": ""}), "archive", "a directory path"),
        ] {
            let e = err(bad.clone());
            assert_eq!(e.status, toron_status::TORON_INVALID_ARGUMENT, "{bad}");
            assert!(
                e.message
                    .starts_with(&format!("options_json: field {key}: expected {expected}")),
                "{bad}: {}",
                e.message
            );
            assert_eq!(e.core.unwrap().field(), Some(key), "{bad}");
        }
        assert_eq!(err(json!([])).status, toron_status::TORON_INVALID_ARGUMENT);
    }

    #[test]
    fn the_result_is_canonical_unless_a_number_is_too_big() {
        let dir = tempfile_dir();
        let m = toron_core::runner::Manifest::from_str(
            "[[suite]]\nname = \"u\"\n[[suite.case]]\nname = \"ok\"\nkind = \"command\"\nargv = [\"true\"]\n",
            &dir,
        )
        .unwrap();
        let mut r = Run::start(&m, RunOptions::default()).unwrap().wait().unwrap();
        let text = result_json(&r).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canon::canonical_string(&value).unwrap(), text);
        r.seed = Some(u64::MAX);
        let text = result_json(&r).unwrap();
        assert!(text.contains("\"seed\":18446744073709551615"), "{text}");
        let _ = std::fs::remove_dir_all(dir);
    }

    use crate::error::{
        toron_last_error_field, toron_last_error_file, toron_last_error_line, toron_last_error_message,
    };
    use crate::handle::toron_string_free;
    use crate::manifest::{toron_manifest_free, toron_manifest_from_path};
    use std::ffi::CStr;
    use std::sync::atomic::{AtomicPtr, AtomicUsize};

    fn text(p: *const c_char) -> String {
        assert!(!p.is_null());
        // SAFETY: non-NULL and NUL-terminated (from the library), alive for the statement.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// Take a string returned through a `char **` output.
    fn take_string(p: *mut c_char) -> String {
        let s = text(p);
        // SAFETY: from a `char **` output of the library, freed once.
        unsafe { toron_string_free(p) };
        s
    }

    /// `testops.toml` with `body` in a fresh directory, read through `toron_manifest_from_path`.
    fn manifest(body: &str) -> (PathBuf, *mut toron_manifest) {
        let dir = tempfile_dir();
        let path = dir.join("testops.toml");
        std::fs::write(&path, body).unwrap();
        let c = CString::new(path.to_str().unwrap()).unwrap();
        let mut m = ptr::null_mut();
        // SAFETY: a NUL-terminated path and a writable local.
        let status = unsafe { toron_manifest_from_path(c.as_ptr(), &mut m) };
        assert_eq!(status, toron_status::TORON_OK, "{}", text(toron_last_error_message()));
        (dir, m)
    }

    fn command_case(name: &str, script: &str) -> String {
        format!("[[suite.case]]\nname = \"{name}\"\nkind = \"command\"\nargv = [\"sh\", \"-c\", \"{script}\"]\n")
    }

    fn suite(cases: &str) -> String {
        format!("[[suite]]\nname = \"unit\"\n{cases}[[gate]]\nrule = \"failed == 0\"\n")
    }

    fn start_run(m: *const toron_manifest, options: &CStr) -> *mut toron_run {
        let mut run = ptr::null_mut();
        // SAFETY: a live manifest, a NUL-terminated string and a writable local.
        let status = unsafe { toron_run_start(m, options.as_ptr(), &mut run) };
        assert_eq!(status, toron_status::TORON_OK, "{}", text(toron_last_error_message()));
        run
    }

    /// Poll to the end of the stream.
    fn poll_all(run: *mut toron_run) -> Vec<String> {
        let mut events = Vec::new();
        loop {
            let mut e = ptr::null_mut();
            // SAFETY: a live run and a writable local.
            match unsafe { toron_run_next_event(run, -1, &mut e) } {
                toron_status::TORON_OK => events.push(take_string(e)),
                toron_status::TORON_END_OF_STREAM => return events,
                other => panic!("{other:?}: {}", text(toron_last_error_message())),
            }
        }
    }

    fn wait(run: *mut toron_run) -> Value {
        let mut json = ptr::null_mut();
        // SAFETY: a live run and a writable local.
        assert_eq!(unsafe { toron_run_wait(run, &mut json) }, toron_status::TORON_OK);
        serde_json::from_str(&take_string(json)).unwrap()
    }

    /// What a test callback sees: the events, and a gate it may wait on before returning from the first.
    #[derive(Default)]
    struct Seen {
        events: Mutex<Vec<String>>,
        hold_first: AtomicBool,
        release: Mutex<bool>,
        released: std::sync::Condvar,
        run: AtomicPtr<toron_run>,
        wait_status: Mutex<Option<toron_status>>,
        free_at: Option<&'static str>,
        after_free: AtomicUsize,
        freed: AtomicBool,
    }

    unsafe extern "C" fn collect(userdata: *mut c_void, event_json: *const c_char) {
        // A panic must not unwind into the caller of a C callback: the test would abort, not fail.
        or_default((), || {
            // SAFETY: the tests pass a `Seen` that outlives the run.
            let seen = unsafe { &*userdata.cast::<Seen>() };
            if seen.freed.load(Ordering::SeqCst) {
                seen.after_free.fetch_add(1, Ordering::SeqCst);
            }
            let json = text(event_json);
            let first = seen.events.lock().unwrap().is_empty();
            seen.events.lock().unwrap().push(json.clone());
            if first && seen.hold_first.load(Ordering::SeqCst) {
                let mut go = seen.release.lock().unwrap();
                while !*go {
                    go = seen.released.wait(go).unwrap();
                }
            }
            if let Some(kind) = seen.free_at {
                if json.contains(&format!("\"type\":\"{kind}\"")) && !seen.freed.load(Ordering::SeqCst) {
                    // The run pointer is written when toron_run_start_with_callback returns: wait for it.
                    let run = loop {
                        let r = seen.run.load(Ordering::SeqCst);
                        if !r.is_null() {
                            break r;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    };
                    let mut out = ptr::null_mut();
                    // SAFETY: a live run; the call is refused before it writes `out`.
                    *seen.wait_status.lock().unwrap() = Some(unsafe { toron_run_wait(run, &mut out) });
                    seen.freed.store(true, Ordering::SeqCst);
                    // SAFETY: the run is live and freed once, here.
                    unsafe { toron_run_free(run) };
                }
            }
        })
    }

    fn start_with(m: *const toron_manifest, seen: &Seen) -> *mut toron_run {
        let mut run = ptr::null_mut();
        let userdata = ptr::from_ref(seen).cast_mut().cast::<c_void>();
        // SAFETY: a live manifest, NULL options, a callback with its userdata, and a writable local.
        let status = unsafe { toron_run_start_with_callback(m, ptr::null(), Some(collect), userdata, &mut run) };
        assert_eq!(status, toron_status::TORON_OK, "{}", text(toron_last_error_message()));
        seen.run.store(run, Ordering::SeqCst);
        run
    }

    #[test]
    fn null_arguments_are_statuses() {
        let (dir, m) = manifest(&suite(&command_case("ok", "true")));
        let sentinel = 0x10 as *mut toron_run;
        let mut run = sentinel;
        let mut s = ptr::null_mut();
        // SAFETY: NULL is always allowed; the rest are live objects and writable locals.
        unsafe {
            assert_eq!(
                toron_manifest_from_path(ptr::null(), &mut ptr::null_mut()),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_run_start(ptr::null(), ptr::null(), &mut run),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_run_start(m, ptr::null(), ptr::null_mut()),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_run_start_with_callback(m, ptr::null(), None, ptr::null_mut(), &mut run),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(
                text(toron_last_error_message()),
                "argument callback is NULL (expected a valid pointer)"
            );
            assert_eq!(run, sentinel, "output written on failure");
            assert_eq!(
                toron_run_next_event(ptr::null_mut(), 0, &mut s),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(toron_run_cancel(ptr::null_mut()), toron_status::TORON_NULL_ARGUMENT);
            assert_eq!(
                toron_run_wait(ptr::null_mut(), &mut s),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert!(s.is_null());
            assert!(toron_run_id(ptr::null()).is_null());
            toron_run_free(ptr::null_mut());
            toron_manifest_free(ptr::null_mut());

            let run = start_run(m, c"{}");
            assert_eq!(
                toron_run_next_event(run, 0, ptr::null_mut()),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(toron_run_wait(run, ptr::null_mut()), toron_status::TORON_NULL_ARGUMENT);
            toron_run_free(run);
            toron_manifest_free(m);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_manifest_names_file_line_and_field() {
        let dir = tempfile_dir();
        let path = dir.join("testops.toml");
        std::fs::write(&path, "[[suite]]\nname = \"unit\"\nflavour = 1\n").unwrap();
        let c = CString::new(path.to_str().unwrap()).unwrap();
        let mut m = ptr::null_mut();
        // SAFETY: a NUL-terminated path and a writable local.
        let status = unsafe { toron_manifest_from_path(c.as_ptr(), &mut m) };
        assert_eq!(status, toron_status::TORON_MANIFEST_ERROR);
        assert!(m.is_null());
        assert_eq!(text(toron_last_error_file()), path.to_str().unwrap());
        assert_eq!(toron_last_error_line(), 3);
        assert_eq!(text(toron_last_error_field()), "suite[0].flavour");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_options_fail_before_anything_runs() {
        let (dir, m) = manifest(&suite(&command_case("ok", "true")));
        for (options, status, field) in [
            (c"{\"sede\": 1}", toron_status::TORON_INVALID_ARGUMENT, Some("sede")),
            (c"{\"jobs\": 0}", toron_status::TORON_INVALID_ARGUMENT, Some("jobs")),
            (
                c"{\"profile\": \"nope\"}",
                toron_status::TORON_INVALID_ARGUMENT,
                Some("profile"),
            ),
            (
                c"{\"suites\": [\"nope\"]}",
                toron_status::TORON_INVALID_ARGUMENT,
                Some("suites"),
            ),
            (c"{\"seed\": 1, \"seed\": 2}", toron_status::TORON_JSON_ERROR, None),
            (
                c"{\"seed\": 9007199254740993}",
                toron_status::TORON_CANONICAL_ERROR,
                None,
            ),
            (c"not json", toron_status::TORON_JSON_ERROR, None),
        ] {
            let mut run = ptr::null_mut();
            // SAFETY: a live manifest, a NUL-terminated string and a writable local.
            assert_eq!(
                unsafe { toron_run_start(m, options.as_ptr(), &mut run) },
                status,
                "{options:?}"
            );
            assert!(run.is_null());
            if let Some(field) = field {
                assert_eq!(text(toron_last_error_field()), field);
            }
        }
        assert!(!dir.join(".toron").join("events").exists(), "a run started");
        // SAFETY: freed once.
        unsafe { toron_manifest_free(m) };
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn callback_poll_and_file_see_the_same_events() {
        let (dir, m) = manifest(&suite(
            &(command_case("hi", "echo hi") + &command_case("two", "echo two")),
        ));
        let seen = Seen::default();
        let run = start_with(m, &seen);
        // SAFETY: the manifest is freed once; the run keeps its own copy.
        unsafe { toron_manifest_free(m) };
        let polled = poll_all(run);
        let result = wait(run);
        let delivered = seen.events.lock().unwrap().clone();
        assert_eq!(result["state"], "passed", "{result}");
        assert_eq!(result["cases"][0]["outcome"], "passed");
        assert_eq!(result["cases"][0]["attempts"][0]["stdout"], "hi\n");
        let id = text(unsafe { toron_run_id(run) });
        assert_eq!(result["id"], id.as_str());
        let file = std::fs::read_to_string(toron_core::runner::events_path(&dir.join(".toron"), &id)).unwrap();
        let lines: Vec<String> = file.lines().map(str::to_string).collect();
        assert_eq!(delivered, lines);
        assert_eq!(polled, lines);
        for (i, line) in lines.iter().enumerate() {
            let e: Value = serde_json::from_str(line).unwrap();
            assert_eq!(e["seq"], i as u64 + 1);
        }
        assert!(lines[0].contains("\"type\":\"run.scheduled\""));
        assert!(lines.last().unwrap().contains("\"type\":\"run.finished\""));
        let mut e = ptr::null_mut();
        // SAFETY: a live run and a writable local; freed once.
        unsafe {
            assert_eq!(toron_run_next_event(run, 0, &mut e), toron_status::TORON_END_OF_STREAM);
            assert_eq!(
                toron_run_next_event(run, 100, &mut e),
                toron_status::TORON_END_OF_STREAM
            );
            assert!(e.is_null());
            assert_eq!(wait(run), result, "wait gives the same result every time");
            toron_run_free(run);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_stalled_callback_never_slows_the_run() {
        let (dir, m) = manifest(&suite(&command_case("ok", "true")));
        let seen = Seen::default();
        seen.hold_first.store(true, Ordering::SeqCst);
        let run = start_with(m, &seen);
        // The callback is stuck in its first call, and the run still finishes: the poll stream ends.
        let polled = poll_all(run);
        assert_eq!(seen.events.lock().unwrap().len(), 1);
        *seen.release.lock().unwrap() = true;
        seen.released.notify_all();
        assert_eq!(wait(run)["state"], "passed");
        assert_eq!(
            *seen.events.lock().unwrap(),
            polled,
            "wait returns after the last callback"
        );
        // SAFETY: freed once.
        unsafe {
            toron_run_free(run);
            toron_manifest_free(m);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn timeout_cancel_and_free_while_running() {
        let (dir, m) = manifest(&suite(&command_case("sleeper", "sleep 30")));
        let run = start_run(m, c"{\"jobs\": 1}");
        let mut e = ptr::null_mut();
        // SAFETY: a live run and writable locals; freed once.
        unsafe {
            loop {
                assert_eq!(toron_run_next_event(run, 10_000, &mut e), toron_status::TORON_OK);
                let event = take_string(e);
                if event.contains("\"type\":\"case.started\"") {
                    break;
                }
            }
            e = ptr::null_mut();
            assert_eq!(toron_run_next_event(run, 0, &mut e), toron_status::TORON_TIMEOUT);
            let clock = std::time::Instant::now();
            assert_eq!(toron_run_next_event(run, 50, &mut e), toron_status::TORON_TIMEOUT);
            assert!(clock.elapsed() >= Duration::from_millis(50));
            assert!(text(toron_last_error_message()).contains("no event within 50 ms"));
            assert!(e.is_null());
            assert_eq!(toron_run_cancel(run), toron_status::TORON_OK);
            let rest = poll_all(run);
            assert!(rest.last().unwrap().contains("\"state\":\"cancelled\""), "{rest:?}");
            assert!(clock.elapsed() < Duration::from_secs(10));
            let result = wait(run);
            assert_eq!(result["state"], "cancelled");
            assert_eq!(result["cases"][0]["outcome"], "cancelled");
            assert_eq!(
                toron_run_cancel(run),
                toron_status::TORON_OK,
                "cancel after the end does nothing"
            );
            toron_run_free(run);

            // Freed while running: cancelled and waited for, with its poll stream's thread.
            let run = start_run(m, c"{}");
            assert_eq!(toron_run_next_event(run, 10_000, &mut e), toron_status::TORON_OK);
            toron_string_free(e);
            let clock = std::time::Instant::now();
            toron_run_free(run);
            assert!(clock.elapsed() < Duration::from_secs(10));
            toron_manifest_free(m);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn wait_and_free_inside_the_callback() {
        let (dir, m) = manifest(&suite(&command_case("sleeper", "sleep 30")));
        let seen = Seen {
            free_at: Some("case.started"),
            ..Seen::default()
        };
        let _run = start_with(m, &seen);
        // The callback refuses to wait for itself, then frees the run (cancelling it): no call follows.
        let clock = std::time::Instant::now();
        while !seen.freed.load(Ordering::SeqCst) {
            assert!(
                clock.elapsed() < Duration::from_secs(20),
                "the callback did not free the run"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            *seen.wait_status.lock().unwrap(),
            Some(toron_status::TORON_INVALID_ARGUMENT)
        );
        assert_eq!(seen.after_free.load(Ordering::SeqCst), 0);
        // SAFETY: freed once.
        unsafe { toron_manifest_free(m) };
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_poisoned_lock_does_not_break_the_run() {
        let (dir, m) = manifest(&suite(&command_case("ok", "true")));
        let run = start_run(m, c"{}");
        // SAFETY: a live run, only read.
        let r = unsafe { &*run };
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = r.poll.lock();
            panic!("a panic while the poll stream is locked");
        }));
        assert!(poisoned.is_err() && r.poll.is_poisoned());
        assert_eq!(poll_all(run).len(), 7);
        assert_eq!(wait(run)["state"], "passed");
        // SAFETY: freed once.
        unsafe {
            toron_run_free(run);
            toron_manifest_free(m);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A fresh directory under the system's temporary directory.
    pub(crate) fn tempfile_dir() -> PathBuf {
        use std::sync::atomic::AtomicU64;
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "toron-ffi-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
