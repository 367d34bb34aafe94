//! The one doorway into long core calls: release the GIL, run the work on a worker thread with a cancel
//! flag, and poll for Ctrl-C on the calling thread.
//!
//! The calling thread, detached from the interpreter, waits on a channel with a short timeout; between
//! waits it re-attaches only to call `check_signals()` (which runs Python's signal handlers on the main
//! thread). On `KeyboardInterrupt` (or any exception a signal handler raises) it sets the cancel flag, waits
//! for the worker to stop — the core checks the flag every 65 536 events — and propagates the exception.
//! A panic in the worker is resumed on the calling thread, where PyO3 turns it into `PanicException`.
//!
//! Work that already runs on threads of its own (a run of a manifest) is waited for with [`recv`] instead:
//! the same detached wait and signal poll, on a channel the work reports through.

use crate::errors;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How often the waiting thread looks for signals: the bound on Ctrl-C latency (plus the core's check).
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// Run `work` with the GIL released, stopping it promptly on Ctrl-C.
pub(crate) fn enter<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&AtomicBool) -> toron_core::Result<T> + Send,
{
    let cancel = AtomicBool::new(false);
    let result: Result<toron_core::Result<T>, PyErr> = py.detach(|| {
        let cancel = &cancel;
        thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel(1);
            let worker = thread::Builder::new()
                .name("toron-worker".into())
                .spawn_scoped(scope, move || {
                    // Attached once, then detached for the work: the worker keeps one Python thread state for
                    // the whole call, so each callback into Python (a node of a simulation) re-attaches with it
                    // instead of creating and destroying a thread state per call — that cost 3x a Python
                    // node's own work (M/M/1 with a Python server: 28 us per customer before, 7 us after; see
                    // benches/README.md). The GIL stays free between callbacks, for Ctrl-C and other threads.
                    let done = Python::attach(|py| py.detach(|| work(cancel)));
                    // The receiver outlives the worker (it is joined below), so a failed send cannot happen.
                    let _ = tx.send(done);
                })
                .map_err(|e| PyOSError::new_err(format!("cannot start a worker thread: {e}")))?;
            let mut interrupted: Option<PyErr> = None;
            loop {
                match rx.recv_timeout(POLL) {
                    Ok(done) => {
                        let _ = worker.join();
                        return match interrupted {
                            Some(e) => Err(e),
                            None => Ok(done),
                        };
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        if interrupted.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                cancel.store(true, Ordering::Relaxed);
                                interrupted = Some(e);
                            }
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        // The worker ended without sending: it panicked.
                        return match worker.join() {
                            Err(payload) => std::panic::resume_unwind(payload),
                            Ok(()) => Err(PyOSError::new_err("the worker thread stopped without a result")),
                        };
                    }
                }
            }
        })
    });
    result?.map_err(|e| errors::to_pyerr(py, &e))
}

/// What [`recv`] ended with.
pub(crate) enum Waited<T> {
    /// The next value.
    Item(T),
    /// Every sender is gone: no more values will come.
    Closed,
    /// `timeout` passed first.
    TimedOut,
}

/// Wait for the next value of `rx` with the GIL released, polling for Ctrl-C as [`enter`] does: for work that
/// already runs on its own threads (a run) and reports through a channel. `timeout` `None` waits until a value
/// comes or the channel closes. A signal handler's exception (`KeyboardInterrupt`) is returned as is: what
/// to stop is the caller's decision (a run's `wait` leaves the run going, `toron.run` cancels it).
pub(crate) fn recv<T: Send>(py: Python<'_>, rx: &Mutex<Receiver<T>>, timeout: Option<Duration>) -> PyResult<Waited<T>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    py.detach(|| {
        // Another thread iterating the same receiver waits here, detached; only one holds it at a time.
        let rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let step = deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()).min(POLL));
            match rx.recv_timeout(step) {
                Ok(value) => return Ok(Waited::Item(value)),
                Err(RecvTimeoutError::Disconnected) => return Ok(Waited::Closed),
                Err(RecvTimeoutError::Timeout) => {
                    Python::attach(|py| py.check_signals())?;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(Waited::TimedOut);
                    }
                }
            }
        }
    })
}
