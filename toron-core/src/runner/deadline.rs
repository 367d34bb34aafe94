//! Attempt deadlines and run cancels, watched by one process-wide thread.
//!
//! Each running attempt registers its deadline and its run's cancel flag and gets a stop flag, which the work
//! polls (the simulation kernel every 65 536 events, a command's wait loop every few milliseconds). The
//! watcher sets it when the deadline passes (and marks the attempt timed out) or when the run is cancelled.
//! One thread for every attempt of every run, instead of one per attempt: a run of a thousand small cases
//! spawned a thousand threads before, most of its per-case cost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How often the watcher looks at cancel flags while attempts are registered.
const CANCEL_POLL: Duration = Duration::from_millis(10);

struct Entry {
    deadline: Instant,
    cancel: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    timed_out: Arc<AtomicBool>,
}

#[derive(Default)]
struct Watched {
    next: u64,
    entries: BTreeMap<u64, Entry>,
}

struct Watcher {
    watched: Mutex<Watched>,
    cond: Condvar,
}

impl Watcher {
    fn lock(&self) -> MutexGuard<'_, Watched> {
        self.watched.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(&self) {
        let mut w = self.lock();
        loop {
            let now = Instant::now();
            for e in w.entries.values() {
                if e.cancel.load(Ordering::SeqCst) {
                    e.stop.store(true, Ordering::SeqCst);
                } else if now >= e.deadline {
                    e.timed_out.store(true, Ordering::SeqCst);
                    e.stop.store(true, Ordering::SeqCst);
                }
            }
            let next = w
                .entries
                .values()
                .filter(|e| !e.stop.load(Ordering::SeqCst))
                .map(|e| e.deadline.saturating_duration_since(now))
                .min();
            w = match next {
                None if w.entries.is_empty() => self.cond.wait(w).unwrap_or_else(|p| p.into_inner()),
                next => {
                    let wait = next.unwrap_or(CANCEL_POLL).min(CANCEL_POLL);
                    self.cond
                        .wait_timeout(w, wait)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0)
                }
            };
        }
    }
}

fn watcher() -> Option<&'static Watcher> {
    static WATCHER: OnceLock<Option<&'static Watcher>> = OnceLock::new();
    *WATCHER.get_or_init(|| {
        let w: &'static Watcher = Box::leak(Box::new(Watcher {
            watched: Mutex::new(Watched::default()),
            cond: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("toron-deadlines".into())
            .spawn(move || w.run())
            .ok()
            .map(|_| w)
    })
}

/// A registered attempt; unregistered on drop.
pub(crate) struct Deadline {
    id: u64,
    stop: Arc<AtomicBool>,
    timed_out: Arc<AtomicBool>,
}

impl Deadline {
    /// Watch `timeout` from now and the run's `cancel`.
    pub(crate) fn start(cancel: &Arc<AtomicBool>, timeout: Duration) -> Deadline {
        let stop = Arc::new(AtomicBool::new(cancel.load(Ordering::SeqCst)));
        let timed_out = Arc::new(AtomicBool::new(false));
        let Some(w) = watcher() else {
            // No thread could be started: the attempt runs unwatched (its run's cancel still reaches commands).
            return Deadline {
                id: u64::MAX,
                stop,
                timed_out,
            };
        };
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        let mut g = w.lock();
        // The watcher sleeps without a timeout only when it watches nothing; otherwise it looks again within
        // CANCEL_POLL, and a new deadline is never due sooner than that in practice (timeouts are seconds).
        let wake = g.entries.is_empty() || timeout < CANCEL_POLL;
        g.next += 1;
        let id = g.next;
        g.entries.insert(
            id,
            Entry {
                deadline,
                cancel: cancel.clone(),
                stop: stop.clone(),
                timed_out: timed_out.clone(),
            },
        );
        drop(g);
        if wake {
            w.cond.notify_all();
        }
        Deadline { id, stop, timed_out }
    }

    /// The flag the work polls: set on timeout or cancel.
    pub(crate) fn stop(&self) -> &AtomicBool {
        &self.stop
    }

    /// Whether the deadline passed.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(w) = watcher() {
            w.lock().entries.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_sets_stop_and_timed_out() {
        let cancel = Arc::new(AtomicBool::new(false));
        let d = Deadline::start(&cancel, Duration::from_millis(30));
        let long = Deadline::start(&cancel, Duration::from_secs(60));
        let t = Instant::now();
        while !d.stop().load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(d.timed_out());
        assert!(!long.stop().load(Ordering::SeqCst) && !long.timed_out());
    }

    #[test]
    fn a_cancel_sets_stop_but_not_timed_out() {
        let cancel = Arc::new(AtomicBool::new(false));
        let d = Deadline::start(&cancel, Duration::from_secs(60));
        cancel.store(true, Ordering::SeqCst);
        let t = Instant::now();
        while !d.stop().load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(d.stop().load(Ordering::SeqCst));
        assert!(!d.timed_out());
        // Already cancelled: stopped from the start.
        assert!(Deadline::start(&cancel, Duration::from_secs(60))
            .stop()
            .load(Ordering::SeqCst));
    }
}
