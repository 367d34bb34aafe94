//! A first-in, first-out admission queue for runs, shared by the runs of one process (the server's runner
//! pool): a run started with [`RunOptions::queue`](super::RunOptions::queue) is recorded `scheduled` at once
//! (so it has its id and its events), then waits for its turn and a free runner before it takes the archive's
//! run slot. Without a queue, runs of one archive still take turns through the slot, but in no set order and
//! each for at most `schedule_timeout`; the queue keeps submission order and never gives up, and a run that
//! waits longer than the queue's warning time says so with a `run.waiting` event instead of staying silent.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often a waiting run looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

#[derive(Debug)]
struct State {
    runners: usize,
    running: usize,
    next_ticket: u64,
    /// Tickets of runs waiting, in submission order.
    waiting: BTreeSet<u64>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    cond: Condvar,
    warn_after: Duration,
}

/// The queue: `runners` runs at a time, the others wait in submission order. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Queue(Arc<Shared>);

/// What a queue holds now, for a health page or metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    /// Runs that may run at once.
    pub runners: usize,
    /// Runs running now.
    pub running: usize,
    /// Runs waiting for their turn.
    pub waiting: usize,
}

/// Why a run stopped waiting without its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Cancelled,
}

/// A run's turn; the runner is free again when it is dropped.
#[derive(Debug)]
pub(crate) struct Turn(Arc<Shared>);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut st = lock(&self.0);
        st.running = st.running.saturating_sub(1);
        drop(st);
        self.0.cond.notify_all();
    }
}

/// A place in the queue, taken when the run is started (so submission order is start order).
#[derive(Debug)]
pub(crate) struct Place {
    shared: Arc<Shared>,
    ticket: u64,
    done: bool,
}

impl Drop for Place {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.shared).waiting.remove(&self.ticket);
            self.shared.cond.notify_all();
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Queue {
    /// A queue running `runners` runs at a time (at least one); a run that waits longer than `warn_after`
    /// emits `run.waiting` (again every `warn_after`).
    pub fn new(runners: usize, warn_after: Duration) -> Queue {
        Queue(Arc::new(Shared {
            state: Mutex::new(State {
                runners: runners.max(1),
                running: 0,
                next_ticket: 0,
                waiting: BTreeSet::new(),
            }),
            cond: Condvar::new(),
            warn_after: warn_after.max(Duration::from_millis(1)),
        }))
    }

    /// Runs running and waiting now.
    pub fn stats(&self) -> QueueStats {
        let st = lock(&self.0);
        QueueStats {
            runners: st.runners,
            running: st.running,
            waiting: st.waiting.len(),
        }
    }

    pub(crate) fn enter(&self) -> Place {
        let mut st = lock(&self.0);
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.waiting.insert(ticket);
        Place {
            shared: self.0.clone(),
            ticket,
            done: false,
        }
    }
}

impl Place {
    /// Wait until this run is first in the queue and a runner is free. `waiting(position, runners, waited)`
    /// is called each time the run has waited another `warn_after`.
    pub(crate) fn wait(
        mut self,
        cancel: &AtomicBool,
        mut waiting: impl FnMut(usize, usize, Duration),
    ) -> Result<Turn, Refused> {
        let start = Instant::now();
        let mut next_warning = self.shared.warn_after;
        let mut st = lock(&self.shared);
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err(Refused::Cancelled);
            }
            let first = st.waiting.first() == Some(&self.ticket);
            if first && st.running < st.runners {
                st.waiting.remove(&self.ticket);
                st.running += 1;
                self.done = true;
                drop(st);
                // The next in line may have a runner too.
                self.shared.cond.notify_all();
                return Ok(Turn(self.shared.clone()));
            }
            let waited = start.elapsed();
            if waited >= next_warning {
                let position = st.waiting.range(..self.ticket).count();
                let runners = st.runners;
                drop(st);
                waiting(position, runners, waited);
                next_warning += self.shared.warn_after;
                st = lock(&self.shared);
                continue;
            }
            let timeout = CANCEL_POLL.min(next_warning - waited);
            st = self
                .shared
                .cond
                .wait_timeout(st, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_take_turns_in_submission_order() {
        let q = Queue::new(1, Duration::from_secs(60));
        let no = AtomicBool::new(false);
        let (a, b) = (q.enter(), q.enter());
        let turn_a = a.wait(&no, |_, _, _| {}).unwrap();
        assert_eq!(
            q.stats(),
            QueueStats {
                runners: 1,
                running: 1,
                waiting: 1
            }
        );
        let q2 = q.clone();
        let waiter = std::thread::spawn(move || {
            let no = AtomicBool::new(false);
            let mut warnings = Vec::new();
            let turn = b.wait(&no, |pos, runners, _| warnings.push((pos, runners)));
            (turn.is_ok(), q2.stats().running)
        });
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(q.stats().waiting, 1, "b waits while a runs");
        drop(turn_a);
        assert_eq!(waiter.join().unwrap(), (true, 1));
        assert_eq!(
            q.stats(),
            QueueStats {
                runners: 1,
                running: 0,
                waiting: 0
            }
        );
    }

    #[test]
    fn a_later_run_never_overtakes() {
        let q = Queue::new(1, Duration::from_secs(60));
        let no = AtomicBool::new(false);
        let running = q.enter().wait(&no, |_, _, _| {}).unwrap();
        let _first = q.enter();
        let second = q.enter();
        drop(running);
        // A runner is free, but `first` is ahead: `second` waits (and says so) until cancelled.
        let cancel = AtomicBool::new(false);
        let mut warned = 0;
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(150));
                cancel.store(true, Ordering::SeqCst);
            });
            assert_eq!(
                second.wait(&cancel, |_, _, _| warned += 1).unwrap_err(),
                Refused::Cancelled
            );
        });
        assert_eq!(warned, 0, "warn_after is a minute");
        assert_eq!(
            q.stats().waiting,
            1,
            "the cancelled run left the queue, the first is still there"
        );
    }

    #[test]
    fn a_long_wait_is_reported_with_the_position() {
        let q = Queue::new(1, Duration::from_millis(30));
        let no = AtomicBool::new(false);
        let _running = q.enter().wait(&no, |_, _, _| {}).unwrap();
        let _ahead = q.enter();
        let me = q.enter();
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(200));
                cancel.store(true, Ordering::SeqCst);
            });
            let _ = me.wait(&cancel, |pos, runners, waited| seen.push((pos, runners, waited)));
        });
        assert!(seen.len() >= 2, "{seen:?}");
        assert!(
            seen.iter().all(|&(pos, runners, _)| pos == 1 && runners == 1),
            "{seen:?}"
        );
        assert!(seen.windows(2).all(|w| w[0].2 < w[1].2));
    }
}
