//! File locks that make a run's state trustworthy across processes.
//!
//! - The archive's run slot (`<archive>/events/run.lock`): one run at a time writes an archive (and the goldens
//!   beside it). A run waits for the slot in state `scheduled`; when it does not get it within the manifest's
//!   `schedule_timeout`, it ends `errored` with the reason — never stuck.
//! - A run's liveness lock (`<archive>/events/<run id>.lock`), held while the run is not finished. The
//!   operating system releases it when the process dies (even on `kill -9`), so a run whose manifest says
//!   `scheduled` or `running` but whose lock is free was interrupted.
//!
//! Both are `flock` locks (`std::fs::File::try_lock`): separate opens conflict even within one process.

use crate::{Error, ErrorKind, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A held lock; released on drop.
#[derive(Debug)]
pub(crate) struct Held {
    file: File,
    path: PathBuf,
    remove_on_drop: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.remove_on_drop {
            // Remove first, then unlock: another process never sees an unlocked liveness file of a live run.
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

fn open(path: &Path) -> Result<File> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::write(&e, d))?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(&e, path))
}

/// The archive's run slot.
pub(crate) fn slot_path(archive_root: &Path) -> PathBuf {
    archive_root.join("events").join("run.lock")
}

/// A run's liveness lock.
pub(crate) fn liveness_path(archive_root: &Path, run_id: &str) -> PathBuf {
    archive_root.join("events").join(format!("{run_id}.lock"))
}

/// Take a run's liveness lock (it is new, so it is free).
pub(crate) fn hold_liveness(archive_root: &Path, run_id: &str) -> Result<Held> {
    let path = liveness_path(archive_root, run_id);
    let file = open(&path)?;
    file.try_lock().map_err(|e| {
        Error::new(ErrorKind::Run, format!("cannot lock the run's liveness file: {e}")).with_file(&path)
    })?;
    Ok(Held {
        file,
        path,
        remove_on_drop: true,
    })
}

/// Whether a run's process is alive: its liveness file exists and is locked by someone.
pub(crate) fn is_alive(archive_root: &Path, run_id: &str) -> bool {
    let path = liveness_path(archive_root, run_id);
    let Ok(file) = OpenOptions::new().read(true).open(&path) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// Why a run could not get the archive's run slot.
#[derive(Debug)]
pub(crate) enum SlotError {
    /// Still held by another run after the timeout.
    TimedOut(Duration),
    /// The run was cancelled while waiting.
    Cancelled,
    /// The lock file could not be opened or locked.
    Failed(Error),
}

/// Wait up to `timeout` for the archive's run slot, polling every 20 ms; `cancel` stops the wait.
pub(crate) fn acquire_slot(
    archive_root: &Path,
    timeout: Duration,
    cancel: &AtomicBool,
) -> std::result::Result<Held, SlotError> {
    let path = slot_path(archive_root);
    let file = open(&path).map_err(SlotError::Failed)?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(Held {
                    file,
                    path,
                    remove_on_drop: false,
                })
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(SlotError::Failed(Error::io(&e, &path))),
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(SlotError::Cancelled);
        }
        if start.elapsed() >= timeout {
            return Err(SlotError::TimedOut(timeout));
        }
        std::thread::sleep(Duration::from_millis(20).min(timeout.saturating_sub(start.elapsed())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_is_seen_by_another_open_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_alive(dir.path(), "run-2.5.0-20261125T000000Z"));
        let held = hold_liveness(dir.path(), "run-2.5.0-20261125T000000Z").unwrap();
        assert!(is_alive(dir.path(), "run-2.5.0-20261125T000000Z"));
        drop(held);
        assert!(!is_alive(dir.path(), "run-2.5.0-20261125T000000Z"));
        assert!(!liveness_path(dir.path(), "run-2.5.0-20261125T000000Z").exists());
    }

    #[test]
    fn a_second_run_waits_for_the_slot_then_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let first = acquire_slot(dir.path(), Duration::from_secs(1), &stop).unwrap();
        match acquire_slot(dir.path(), Duration::from_millis(60), &stop) {
            Err(SlotError::TimedOut(t)) => assert_eq!(t, Duration::from_millis(60)),
            other => panic!("expected a timeout, got {other:?}"),
        }
        drop(first);
        assert!(acquire_slot(dir.path(), Duration::from_millis(60), &stop).is_ok());
    }

    #[test]
    fn cancel_stops_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let _first = acquire_slot(dir.path(), Duration::from_secs(1), &stop).unwrap();
        stop.store(true, Ordering::SeqCst);
        assert!(matches!(
            acquire_slot(dir.path(), Duration::from_secs(10), &stop),
            Err(SlotError::Cancelled)
        ));
    }
}
