//! Who runs what when runs run on remote runners (`toron serve --runners 0` and `toron runner`): the queue of
//! scheduled runs, the runners with their last heartbeat, and the lease each claimed run is held by.
//!
//! A lease lasts `lease` from the runner's last sign of life (a claim, a heartbeat, a batch of events). A
//! runner that stops (kill -9, a lost node) lets its leases expire: [`Leases::expire`] hands those runs back to
//! the server, which records them `errored (interrupted)`, and marks the runner `lost`. A run nobody claims
//! for `deadline` is reported by [`Leases::overdue`] (and again every `deadline`), so it is never silently
//! stuck. Everything here takes `now` as an argument: the lease logic is tested without waiting.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

/// A registered runner.
#[derive(Debug, Clone)]
pub struct RunnerEntry {
    /// The id the server gave it (`<name>-<n>`).
    pub id: String,
    /// The token name it registered with: only that token may act as this runner.
    pub token: String,
    /// The name it gave (its host name, by default).
    pub name: String,
    /// Runs it runs at once.
    pub jobs: usize,
    /// When it registered (RFC 3339 UTC).
    pub registered: String,
    /// Its last sign of life.
    pub seen: Instant,
    /// The same, as wall-clock time (RFC 3339 UTC), for people.
    pub heartbeat: String,
    /// Its leases expired without a heartbeat: it is presumed dead until it shows up again.
    pub lost: bool,
    /// The runs it holds.
    pub runs: BTreeSet<String>,
}

/// A claimed run's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The runner holding it.
    pub runner: String,
    /// When it expires unless renewed.
    pub expires: Instant,
}

#[derive(Debug, Clone)]
struct Slot {
    queued: Instant,
    lease: Option<Lease>,
    /// How many `run.waiting` warnings it had.
    warned: u32,
}

/// Why a runner's request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseError {
    /// No runner with this id (the server restarted, or it never registered): register again.
    UnknownRunner(String),
    /// The runner belongs to another token.
    NotYours(String),
    /// The run is not (or no longer) leased to this runner.
    NotLeased {
        /// The run.
        run: String,
        /// The runner that asked.
        runner: String,
    },
}

impl std::fmt::Display for LeaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaseError::UnknownRunner(id) => write!(
                f,
                "no runner {id:?} is registered (the server may have restarted): register again with POST \
                 /v1/runners/register"
            ),
            LeaseError::NotYours(id) => write!(f, "runner {id:?} was registered with another token"),
            LeaseError::NotLeased { run, runner } => write!(
                f,
                "run {run} is not leased to runner {runner:?} (its lease expired and it was recorded errored \
                 (interrupted), or it was never claimed by it)"
            ),
        }
    }
}

/// A run whose lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// The run.
    pub run: String,
    /// The runner that held it.
    pub runner: String,
}

/// The queue, the runners and the leases.
#[derive(Debug)]
pub struct Leases {
    lease: Duration,
    runners: BTreeMap<String, RunnerEntry>,
    queue: VecDeque<String>,
    runs: BTreeMap<String, Slot>,
    next_runner: u64,
}

impl Leases {
    /// Leases of `lease` (at least 1 ms).
    pub fn new(lease: Duration) -> Leases {
        Leases {
            lease: lease.max(Duration::from_millis(1)),
            runners: BTreeMap::new(),
            queue: VecDeque::new(),
            runs: BTreeMap::new(),
            next_runner: 0,
        }
    }

    /// The lease duration.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Register a runner for `token`; returns its id.
    pub fn register(&mut self, token: &str, name: &str, jobs: usize, now: Instant, wall: &str) -> String {
        self.next_runner += 1;
        let id = format!("{name}-{}", self.next_runner);
        self.runners.insert(
            id.clone(),
            RunnerEntry {
                id: id.clone(),
                token: token.to_string(),
                name: name.to_string(),
                jobs: jobs.max(1),
                registered: wall.to_string(),
                seen: now,
                heartbeat: wall.to_string(),
                lost: false,
                runs: BTreeSet::new(),
            },
        );
        id
    }

    fn runner_mut(&mut self, id: &str, token: &str) -> Result<&mut RunnerEntry, LeaseError> {
        let r = self
            .runners
            .get_mut(id)
            .ok_or_else(|| LeaseError::UnknownRunner(id.to_string()))?;
        if r.token != token {
            return Err(LeaseError::NotYours(id.to_string()));
        }
        Ok(r)
    }

    /// A sign of life of runner `id`: it and every lease it holds are renewed. A lost runner that comes back
    /// is live again (its expired runs stay interrupted). Returns the runs it still holds.
    pub fn heartbeat(&mut self, id: &str, token: &str, now: Instant, wall: &str) -> Result<Vec<String>, LeaseError> {
        let lease = self.lease;
        let r = self.runner_mut(id, token)?;
        r.seen = now;
        r.heartbeat = wall.to_string();
        r.lost = false;
        let held: Vec<String> = r.runs.iter().cloned().collect();
        for run in &held {
            if let Some(l) = self.runs.get_mut(run).and_then(|s| s.lease.as_mut()) {
                l.expires = now + lease;
            }
        }
        Ok(held)
    }

    /// Queue a run (first in, first out).
    pub fn enqueue(&mut self, run: &str, now: Instant) {
        self.runs.insert(
            run.to_string(),
            Slot {
                queued: now,
                lease: None,
                warned: 0,
            },
        );
        self.queue.push_back(run.to_string());
    }

    /// The next queued run for runner `id`, leased to it, if it has a free job; the claim is also a heartbeat.
    pub fn claim(&mut self, id: &str, token: &str, now: Instant, wall: &str) -> Result<Option<String>, LeaseError> {
        self.heartbeat(id, token, now, wall)?;
        let lease = self.lease;
        let r = self.runner_mut(id, token)?;
        if r.runs.len() >= r.jobs {
            return Ok(None);
        }
        let Some(run) = self.queue.pop_front() else {
            return Ok(None);
        };
        if let Some(r) = self.runners.get_mut(id) {
            r.runs.insert(run.clone());
        }
        if let Some(s) = self.runs.get_mut(&run) {
            s.lease = Some(Lease {
                runner: id.to_string(),
                expires: now + lease,
            });
        }
        Ok(Some(run))
    }

    /// Refuse unless `run` is leased to runner `id` of `token` (and renew the runner: it is alive).
    pub fn check(&mut self, run: &str, id: &str, token: &str, now: Instant, wall: &str) -> Result<(), LeaseError> {
        let holds = self
            .runs
            .get(run)
            .and_then(|s| s.lease.as_ref())
            .is_some_and(|l| l.runner == id);
        self.runner_mut(id, token)?;
        if !holds {
            return Err(LeaseError::NotLeased {
                run: run.to_string(),
                runner: id.to_string(),
            });
        }
        self.heartbeat(id, token, now, wall).map(|_| ())
    }

    /// Forget a run (finished, cancelled while queued, or expired): its runner's job is free again.
    pub fn release(&mut self, run: &str) {
        if let Some(slot) = self.runs.remove(run) {
            if let Some(l) = slot.lease {
                if let Some(r) = self.runners.get_mut(&l.runner) {
                    r.runs.remove(run);
                }
            }
        }
        self.queue.retain(|r| r != run);
    }

    /// Whether `run` is queued, not claimed yet.
    pub fn is_queued(&self, run: &str) -> bool {
        self.runs.get(run).is_some_and(|s| s.lease.is_none())
    }

    /// Whether the server tracks `run` (queued or leased).
    pub fn tracks(&self, run: &str) -> bool {
        self.runs.contains_key(run)
    }

    /// The lease of `run`, if it is claimed.
    pub fn lease_of(&self, run: &str) -> Option<&Lease> {
        self.runs.get(run).and_then(|s| s.lease.as_ref())
    }

    /// Runs whose lease has expired by `now`, released (in run-id order); runners not heard of for a lease are
    /// marked lost.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let expired: Vec<Expired> = self
            .runs
            .iter()
            .filter_map(|(run, s)| {
                s.lease.as_ref().filter(|l| l.expires <= now).map(|l| Expired {
                    run: run.clone(),
                    runner: l.runner.clone(),
                })
            })
            .collect();
        for e in &expired {
            self.release(&e.run);
        }
        let lease = self.lease;
        for r in self.runners.values_mut() {
            if now.saturating_duration_since(r.seen) >= lease {
                r.lost = true;
            }
        }
        expired
    }

    /// Queued runs that have waited another `deadline` since their last warning, with how long they waited
    /// (in queue order).
    pub fn overdue(&mut self, now: Instant, deadline: Duration) -> Vec<(String, Duration)> {
        let deadline = deadline.max(Duration::from_millis(1));
        let mut out = Vec::new();
        for run in &self.queue {
            if let Some(s) = self.runs.get_mut(run) {
                let waited = now.saturating_duration_since(s.queued);
                if waited >= deadline * (s.warned + 1) {
                    s.warned += 1;
                    out.push((run.clone(), waited));
                }
            }
        }
        out
    }

    /// The runners, by id.
    pub fn runners(&self) -> impl Iterator<Item = &RunnerEntry> {
        self.runners.values()
    }

    /// Runs queued, not claimed.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Runs leased to a runner.
    pub fn leased(&self) -> usize {
        self.runs.values().filter(|s| s.lease.is_some()).count()
    }

    /// Runners not lost.
    pub fn live_runners(&self) -> usize {
        self.runners.values().filter(|r| !r.lost).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(10);

    #[test]
    fn a_claimed_run_is_leased_and_heartbeats_keep_the_lease() {
        let t0 = Instant::now();
        let mut l = Leases::new(LEASE);
        let a = l.register("tok", "a", 1, t0, "w");
        l.enqueue("run-1", t0);
        assert!(l.is_queued("run-1"));
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap().as_deref(), Some("run-1"));
        assert_eq!(l.lease_of("run-1").unwrap().expires, t0 + LEASE);
        // Heartbeats at 8 s and 16 s renew it: at 20 s it is still held.
        l.heartbeat(&a, "tok", t0 + Duration::from_secs(8), "w").unwrap();
        l.heartbeat(&a, "tok", t0 + Duration::from_secs(16), "w").unwrap();
        assert!(l.expire(t0 + Duration::from_secs(20)).is_empty());
        assert_eq!(l.lease_of("run-1").unwrap().expires, t0 + Duration::from_secs(26));
        l.check("run-1", &a, "tok", t0 + Duration::from_secs(21), "w").unwrap();
    }

    #[test]
    fn without_heartbeats_the_lease_expires_and_the_next_run_goes_to_a_live_runner() {
        let t0 = Instant::now();
        let mut l = Leases::new(LEASE);
        let a = l.register("tok", "a", 1, t0, "w");
        let b = l.register("tok", "b", 1, t0, "w");
        l.enqueue("run-1", t0);
        l.enqueue("run-2", t0);
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap().as_deref(), Some("run-1"));
        // `a` has one job and holds a run: nothing more for it.
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap(), None);
        // `a` dies; `b` keeps beating, then claims run-2.
        let t9 = t0 + Duration::from_secs(9);
        l.heartbeat(&b, "tok", t9, "w").unwrap();
        assert!(l.expire(t9).is_empty(), "not yet");
        let t10 = t0 + LEASE;
        assert_eq!(
            l.expire(t10),
            vec![Expired {
                run: "run-1".into(),
                runner: a.clone()
            }]
        );
        assert!(!l.tracks("run-1"));
        let lost: Vec<(&str, bool)> = l.runners().map(|r| (r.name.as_str(), r.lost)).collect();
        assert_eq!(lost, vec![("a", true), ("b", false)]);
        assert_eq!(l.live_runners(), 1);
        assert_eq!(l.claim(&b, "tok", t10, "w").unwrap().as_deref(), Some("run-2"));
        // The dead runner's late report is refused: its run was recorded interrupted.
        assert_eq!(
            l.check("run-1", &a, "tok", t10, "w"),
            Err(LeaseError::NotLeased {
                run: "run-1".into(),
                runner: a.clone()
            })
        );
        // It may come back and claim again: not the expired run, the next queued one.
        l.heartbeat(&a, "tok", t10, "w").unwrap();
        assert_eq!(l.live_runners(), 2);
        assert_eq!(l.claim(&a, "tok", t10, "w").unwrap(), None, "the queue is empty");
        l.enqueue("run-3", t10);
        assert_eq!(l.claim(&a, "tok", t10, "w").unwrap().as_deref(), Some("run-3"));
        assert_eq!(l.lease_of("run-3").map(|x| x.runner.as_str()), Some(a.as_str()));
    }

    #[test]
    fn a_released_run_frees_its_runner_and_queued_runs_are_claimed_in_order() {
        let t0 = Instant::now();
        let mut l = Leases::new(LEASE);
        let a = l.register("tok", "a", 2, t0, "w");
        for r in ["run-1", "run-2", "run-3"] {
            l.enqueue(r, t0);
        }
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap().as_deref(), Some("run-1"));
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap().as_deref(), Some("run-2"));
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap(), None, "two jobs");
        assert_eq!((l.queued(), l.leased()), (1, 2));
        l.release("run-1");
        assert_eq!(l.claim(&a, "tok", t0, "w").unwrap().as_deref(), Some("run-3"));
    }

    #[test]
    fn runners_are_bound_to_their_token_and_unknown_ones_must_register() {
        let t0 = Instant::now();
        let mut l = Leases::new(LEASE);
        let a = l.register("tok", "a", 1, t0, "w");
        assert_eq!(l.heartbeat(&a, "other", t0, "w"), Err(LeaseError::NotYours(a.clone())));
        assert_eq!(
            l.claim("ghost-9", "tok", t0, "w"),
            Err(LeaseError::UnknownRunner("ghost-9".into()))
        );
        assert!(LeaseError::UnknownRunner("ghost-9".into())
            .to_string()
            .contains("register again"));
    }

    #[test]
    fn a_run_nobody_claims_is_reported_once_per_deadline() {
        let t0 = Instant::now();
        let mut l = Leases::new(LEASE);
        l.enqueue("run-1", t0);
        let d = Duration::from_secs(5);
        assert!(l.overdue(t0 + Duration::from_secs(4), d).is_empty());
        let at5 = l.overdue(t0 + d, d);
        assert_eq!(at5, vec![("run-1".to_string(), d)]);
        assert!(l.overdue(t0 + Duration::from_secs(7), d).is_empty(), "warned already");
        assert_eq!(
            l.overdue(t0 + Duration::from_secs(10), d).len(),
            1,
            "again after another deadline"
        );
        // Claimed runs are not overdue.
        let a = l.register("tok", "a", 1, t0, "w");
        l.claim(&a, "tok", t0 + Duration::from_secs(11), "w").unwrap();
        assert!(l.overdue(t0 + Duration::from_secs(60), d).is_empty());
    }
}
