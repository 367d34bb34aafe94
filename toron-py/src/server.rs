//! `toron serve`: the TestOps server of `toron-server`, run from Python's command line. The server runs on
//! threads of its own; this thread waits detached from the interpreter and polls for Ctrl-C, which stops
//! the server (runs in flight are cancelled and recorded so) before `KeyboardInterrupt` propagates.

use crate::doorway::POLL;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// Run `toron-server`'s command line with `argv` (the first item is the program name shown in help and
/// errors); returns its exit code.
#[pyfunction]
#[pyo3(name = "_serve")]
pub(crate) fn serve(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::sync_channel(1);
    let s = stop.clone();
    let server = std::thread::Builder::new()
        .name("toron-serve".into())
        .spawn(move || {
            let _ = tx.send(toron_server::main_with_args(argv, s, None));
        })
        .map_err(|e| PyOSError::new_err(format!("cannot start the server's thread: {e}")))?;
    let (code, interrupted) = py.detach(move || {
        let mut interrupted: Option<PyErr> = None;
        loop {
            match rx.recv_timeout(POLL) {
                Ok(code) => return (Some(code), interrupted),
                Err(mpsc::RecvTimeoutError::Disconnected) => return (None, interrupted),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupted.is_none() {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            stop.store(true, Ordering::SeqCst);
                            interrupted = Some(e);
                        }
                    }
                }
            }
        }
    });
    let _ = server.join();
    if let Some(e) = interrupted {
        return Err(e);
    }
    code.ok_or_else(|| PyOSError::new_err("the server's thread stopped without an exit code (a bug)"))
}
