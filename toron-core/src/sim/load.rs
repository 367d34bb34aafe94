//! The load generator: open loop (Poisson or constant arrivals) or closed loop (N clients with think
//! time). Requests and replies are matched by `msg_id` / `in_reply_to`; each answered request's latency goes
//! into an HDR histogram. For key-value targets it also checks that no acknowledged write is lost. When asked
//! (a scenario's `[invariants] linearizable`, or [`super::SimOptions::history`]) it records every operation
//! as a Jepsen-style history: invoke, then ok / fail / info (a timeout: it may or may not have happened).

use super::kernel::{Core, EventKind};
use super::node::{Body, Message, Op, Reply, Time};
use super::outcome::LatencySummary;
use crate::check::{self, OpType};
use crate::rng::Stream;
use crate::scenario::{Arrivals, Dist, LoadMode, LoadSpec, Scenario};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, VecDeque};

const DEFAULT_TIMEOUT: Time = 1_000_000_000;
/// Reads pick among this many most recently acknowledged keys, so a lost write is likely to be read.
const RECENT_KEYS: usize = 64;

struct Pending {
    sent: Time,
    client: u32,
    /// For a read: the value acknowledged for its key before the read was sent.
    expect: Option<u64>,
    op: Op,
    /// The history's process that invoked it (0 when no history is recorded).
    process: u64,
}

/// The load's operations as a history. A closed-loop client is one process until an operation of it times
/// out; it then continues as a new process (`+ clients`), as Jepsen does, since a process runs one operation
/// at a time and the timed-out one may still take effect. In an open loop each request is its own process.
struct Recorder {
    ops: Vec<check::Op>,
    /// Closed loop: each client's current process.
    process: Vec<u64>,
    /// Open loop: the next request's process.
    next: u64,
}

/// A written value as the history records it: its top 53 bits. The load writes 64-bit values, which JSON
/// readers that keep integers exact (RFC 8785, I-JSON, JavaScript) and EDN's 64-bit longs cannot all carry;
/// each key is written once, so any value mapping the same way on writes and reads keeps the checker's answer
/// (a read of another key's record still reads a value never written under this key).
fn recorded(value: u64) -> serde_json::Value {
    serde_json::Value::from(value >> 11)
}

impl Recorder {
    fn record(&mut self, process: u64, r#type: OpType, op: Op, value: Option<serde_json::Value>, time: Time) {
        let (f, key) = match op {
            Op::Echo => ("echo", None),
            Op::Get { key } => ("read", Some(key)),
            Op::Put { key, .. } => ("write", Some(key)),
        };
        let index = self.ops.len() as u64;
        self.ops.push(check::Op {
            process,
            r#type,
            f: f.to_string(),
            key: key.map(serde_json::Value::from),
            value,
            time: Some(time),
            index,
        });
    }

    fn invoke(&mut self, process: u64, op: Op, time: Time) {
        let value = match op {
            Op::Put { value, .. } => Some(recorded(value)),
            _ => None,
        };
        self.record(process, OpType::Invoke, op, value, time);
    }

    /// The operation may or may not have happened: `info`, and a closed-loop client moves on to a new process.
    fn info(&mut self, p: &Pending, closed: bool, time: Time) {
        let value = match p.op {
            Op::Put { value, .. } => Some(recorded(value)),
            _ => None,
        };
        self.record(p.process, OpType::Info, p.op, value, time);
        if closed {
            let n = self.process.len() as u64;
            self.process[p.client as usize] += n;
        }
    }
}

/// Requests in flight in `msg_id` order. Ids grow with time, so an insert is an append, a lookup a binary
/// search, and the oldest request is at the front (replies mostly arrive oldest first).
#[derive(Default)]
struct PendingWindow {
    entries: VecDeque<(u64, Option<Pending>)>,
    live: usize,
}

impl PendingWindow {
    fn insert(&mut self, id: u64, p: Pending) {
        debug_assert!(self.entries.back().is_none_or(|(last, _)| *last < id));
        self.entries.push_back((id, Some(p)));
        self.live += 1;
    }

    fn index(&self, id: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |(k, _)| *k).ok()
    }

    fn get(&self, id: u64) -> Option<&Pending> {
        self.entries[self.index(id)?].1.as_ref()
    }

    fn remove(&mut self, id: u64) -> Option<Pending> {
        // Fast path: replies mostly come back oldest first. The front entry is always live (removed entries
        // at the front are dropped at once), so it pops straight off.
        if self.entries.front().is_some_and(|(front, _)| *front == id) {
            let p = self.entries.pop_front().and_then(|(_, p)| p)?;
            self.live -= 1;
            while matches!(self.entries.front(), Some((_, None))) {
                self.entries.pop_front();
            }
            return Some(p);
        }
        let i = self.index(id)?;
        let p = self.entries[i].1.take()?;
        self.live -= 1;
        // Not the front (that was checked above), so the front stays live.
        Some(p)
    }

    /// The oldest request still in flight.
    fn first(&self) -> Option<(u64, &Pending)> {
        self.entries.front().and_then(|(id, p)| p.as_ref().map(|p| (*id, p)))
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &Pending)> {
        self.entries.iter().filter_map(|(id, p)| p.as_ref().map(|p| (*id, p)))
    }

    fn is_empty(&self) -> bool {
        self.live == 0
    }
}

/// `x.round() as Time` (halves away from zero, saturating), without the call to the software `round` that
/// `f64::round` becomes on a baseline x86-64 target. Bit for bit the same: for `x >= 0`, adding the largest
/// double below 0.5 and truncating is how LLVM itself lowers `round` when it has an instruction to truncate
/// (the sum rounds up to the next integer exactly when the fraction is at least one half); negative values,
/// NaN and values past `u64::MAX` saturate the same way through `as`.
#[inline]
fn round_to_time(x: f64) -> Time {
    if x >= 0.0 {
        (x + 0.499_999_999_999_999_94) as Time
    } else {
        x.round() as Time
    }
}

struct Client {
    /// The outstanding request's msg_id, if any.
    outstanding: Option<u64>,
    /// Index into the target list.
    target: usize,
    /// A timeout check is scheduled.
    check_scheduled: bool,
}

/// Tracks acknowledged writes and checks reads against them.
struct KvChecker {
    reads: f64,
    next_key: u64,
    acked: BTreeMap<u64, u64>,
    recent: VecDeque<u64>,
}

pub(crate) struct Load {
    mode: LoadMode,
    targets: Vec<u32>,
    /// Open loop: the shared target index.
    open_target: usize,
    arrivals: Arrivals,
    mean_gap_ns: f64,
    think: Option<Dist>,
    timeout: Time,
    limit: Option<u64>,
    rng: Stream,
    first_client: u32,
    clients: Vec<Client>,
    pending: PendingWindow,
    issued: u64,
    completed: u64,
    kv: Option<KvChecker>,
    history: Option<Recorder>,
    /// Made at the second latency: percentiles are clamped to [min, max], so with one sample they are that
    /// sample, and a run of one request never pays for a histogram (about 100 kB to allocate and zero).
    hist: Option<Histogram<u64>>,
    /// Latencies recorded.
    samples: u64,
    lat_min: Time,
    lat_max: Time,
    lat_sum: u128,
}

impl Load {
    pub(crate) fn new(spec: &LoadSpec, scenario: &Scenario, seed: u64, history: bool) -> Self {
        let targets: Vec<u32> = spec
            .target
            .ids()
            .iter()
            .filter_map(|id| scenario.node_index(id))
            .map(|i| i as u32)
            .collect();
        let kv = targets
            .first()
            .filter(|&&t| scenario.models()[t as usize].speaks_kv(spec))
            .map(|_| KvChecker {
                reads: spec.reads.map_or(0.5, |p| p.0),
                next_key: 1,
                acked: BTreeMap::new(),
                recent: VecDeque::with_capacity(RECENT_KEYS),
            });
        let n_clients = match spec.mode {
            LoadMode::Open => 1,
            LoadMode::Closed => spec.clients.unwrap_or(1),
        };
        let first_client = scenario.spec().nodes.len() as u32;
        Load {
            mode: spec.mode,
            targets,
            open_target: 0,
            arrivals: spec.arrivals.unwrap_or_default(),
            mean_gap_ns: spec.rate.map_or(1e9, |r| 1e9 / r.0),
            think: spec.think,
            timeout: spec.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0),
            limit: scenario.spec().stop.requests,
            rng: Stream::new(seed, "load"),
            first_client,
            clients: (0..n_clients)
                .map(|_| Client {
                    outstanding: None,
                    target: 0,
                    check_scheduled: false,
                })
                .collect(),
            pending: PendingWindow::default(),
            issued: 0,
            completed: 0,
            kv,
            history: history.then(|| Recorder {
                ops: Vec::new(),
                process: (0..n_clients as u64).collect(),
                next: 0,
            }),
            hist: None,
            samples: 0,
            lat_min: Time::MAX,
            lat_max: 0,
            lat_sum: 0,
        }
    }

    pub(crate) fn completed(&self) -> u64 {
        self.completed
    }

    /// The recorded history, if one was asked for.
    pub(crate) fn take_history(&mut self) -> Option<check::History> {
        self.history.take().map(|r| check::History::new(r.ops))
    }

    fn record_info(&mut self, p: &Pending, now: Time) {
        let closed = self.mode == LoadMode::Closed;
        if let Some(h) = &mut self.history {
            h.info(p, closed, now);
        }
    }

    fn may_issue(&self) -> bool {
        self.limit.is_none_or(|l| self.issued < l)
    }

    pub(crate) fn start(&mut self, core: &mut Core) {
        match self.mode {
            LoadMode::Open => {
                let gap = self.gap();
                core.schedule(gap, EventKind::Arrival);
            }
            LoadMode::Closed => {
                for c in 0..self.clients.len() as u32 {
                    self.issue(core, c);
                }
            }
        }
    }

    fn gap(&mut self) -> Time {
        match self.arrivals {
            Arrivals::Poisson => round_to_time(self.rng.exponential(self.mean_gap_ns)),
            Arrivals::Constant => self.mean_gap_ns.round() as Time,
        }
    }

    fn next_op(&mut self) -> (Op, Option<u64>) {
        let Some(kv) = &mut self.kv else {
            return (Op::Echo, None);
        };
        if !kv.recent.is_empty() && self.rng.chance(kv.reads) {
            let key = kv.recent[self.rng.below(kv.recent.len() as u64) as usize];
            (Op::Get { key }, kv.acked.get(&key).copied())
        } else {
            let key = kv.next_key;
            kv.next_key += 1;
            // Values differ from keys so a read that returns the wrong record is caught too.
            (
                Op::Put {
                    key,
                    value: key.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
                },
                None,
            )
        }
    }

    fn issue(&mut self, core: &mut Core, client: u32) {
        if !self.may_issue() {
            return;
        }
        let (op, expect) = self.next_op();
        let target = match self.mode {
            LoadMode::Open => self.targets[self.open_target],
            LoadMode::Closed => self.targets[self.clients[client as usize].target],
        };
        let msg_id = core.send(self.first_client + client, target, 0, Body::Request(op));
        core.stats.requests_sent += 1;
        self.issued += 1;
        let now = core.now;
        let process = match &mut self.history {
            None => 0,
            Some(h) => {
                let process = match self.mode {
                    LoadMode::Closed => h.process[client as usize],
                    LoadMode::Open => {
                        h.next += 1;
                        h.next - 1
                    }
                };
                h.invoke(process, op, now);
                process
            }
        };
        self.pending.insert(
            msg_id,
            Pending {
                sent: now,
                client,
                expect,
                op,
                process,
            },
        );
        if self.mode == LoadMode::Closed {
            let c = &mut self.clients[client as usize];
            c.outstanding = Some(msg_id);
            if !c.check_scheduled {
                c.check_scheduled = true;
                core.schedule(self.timeout, EventKind::ClientCheck { client });
            }
        }
        if !self.may_issue() && self.limit.is_some() {
            // The last request: make sure the run ends even if replies never come.
            core.schedule(self.timeout, EventKind::Deadline);
        }
    }

    pub(crate) fn on_arrival(&mut self, core: &mut Core) {
        self.expire_open(core);
        self.issue(core, 0);
        if self.may_issue() {
            let gap = self.gap();
            core.schedule(gap, EventKind::Arrival);
        }
    }

    /// Open loop: requests older than the timeout are timed out (oldest first: msg_ids grow with time).
    fn expire_open(&mut self, core: &mut Core) {
        while let Some((id, p)) = self.pending.first() {
            if core.now.saturating_sub(p.sent) < self.timeout {
                break;
            }
            if let Some(p) = self.pending.remove(id) {
                self.record_info(&p, core.now);
            }
            self.timed_out(core);
        }
    }

    fn timed_out(&mut self, core: &mut Core) {
        core.stats.requests_timeout += 1;
        self.completed += 1;
        self.rotate(None);
    }

    fn rotate(&mut self, client: Option<u32>) {
        let n = self.targets.len();
        match client {
            Some(c) => {
                let t = &mut self.clients[c as usize].target;
                *t = (*t + 1) % n;
            }
            None => self.open_target = (self.open_target + 1) % n,
        }
    }

    pub(crate) fn on_reply(&mut self, core: &mut Core, msg: &Message) {
        let Some(p) = self.pending.remove(msg.in_reply_to) else {
            return; // a duplicate, or a reply to a request already timed out
        };
        let latency = core.now - p.sent;
        self.completed += 1;
        let rotate_client = if self.mode == LoadMode::Closed {
            Some(p.client)
        } else {
            None
        };
        if latency >= self.timeout {
            core.stats.requests_timeout += 1;
            self.record_info(&p, core.now);
            self.rotate(rotate_client);
        } else {
            match msg.body {
                Body::Reply(Reply::NotPrimary) | Body::Reply(Reply::Error) => {
                    core.stats.requests_error += 1;
                    if let Some(h) = &mut self.history {
                        h.record(p.process, OpType::Fail, p.op, None, core.now);
                    }
                    self.rotate(rotate_client);
                }
                Body::Reply(reply) => {
                    core.stats.requests_ok += 1;
                    self.record_latency(latency);
                    if let Some(h) = &mut self.history {
                        let value = match (p.op, reply) {
                            // A read of nothing is `value: null`, which JSON gives back as no value.
                            (Op::Get { .. }, Reply::Value(v)) => v.map(recorded),
                            (Op::Put { value, .. }, _) => Some(recorded(value)),
                            _ => None,
                        };
                        h.record(p.process, OpType::Ok, p.op, value, core.now);
                    }
                    self.check_kv(core, &p, reply, msg.src.0);
                }
                _ => {
                    core.stats.requests_error += 1;
                    if let Some(h) = &mut self.history {
                        h.record(p.process, OpType::Fail, p.op, None, core.now);
                    }
                }
            }
        }
        if self.mode == LoadMode::Closed {
            let c = p.client;
            self.clients[c as usize].outstanding = None;
            self.next_after_think(core, c);
        }
    }

    fn check_kv(&mut self, core: &mut Core, p: &Pending, reply: Reply, from: u32) {
        let Some(kv) = &mut self.kv else { return };
        match (p.op, reply) {
            (Op::Put { key, value }, Reply::Ok) => {
                kv.acked.insert(key, value);
                if kv.recent.len() == RECENT_KEYS {
                    kv.recent.pop_front();
                }
                kv.recent.push_back(key);
            }
            (Op::Get { key }, Reply::Value(got)) => {
                if let Some(want) = p.expect {
                    if got != Some(want) {
                        let got = got.map_or("nothing".to_string(), |v| v.to_string());
                        core.violation(
                            from,
                            "acknowledged_write_lost",
                            format!("read of key {key} returned {got}; the write of {want} was acknowledged before the read was sent"),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn next_after_think(&mut self, core: &mut Core, client: u32) {
        match self.think {
            Some(d) => {
                let t = d.sample(&mut self.rng);
                core.schedule(t, EventKind::ClientNext { client });
            }
            None => self.issue(core, client),
        }
    }

    pub(crate) fn on_client_next(&mut self, core: &mut Core, client: u32) {
        self.issue(core, client);
    }

    /// Closed loop: one lazy timeout check per client, re-armed for the outstanding request.
    pub(crate) fn on_client_check(&mut self, core: &mut Core, client: u32) {
        let c = &mut self.clients[client as usize];
        c.check_scheduled = false;
        let Some(id) = c.outstanding else { return };
        let Some(sent) = self.pending.get(id).map(|p| p.sent) else {
            return;
        };
        let deadline = sent + self.timeout;
        if core.now >= deadline {
            if let Some(p) = self.pending.remove(id) {
                self.record_info(&p, core.now);
            }
            self.clients[client as usize].outstanding = None;
            self.timed_out_closed(core, client);
            self.next_after_think(core, client);
        } else {
            self.clients[client as usize].check_scheduled = true;
            core.schedule(deadline - core.now, EventKind::ClientCheck { client });
        }
    }

    fn timed_out_closed(&mut self, core: &mut Core, client: u32) {
        core.stats.requests_timeout += 1;
        self.completed += 1;
        self.rotate(Some(client));
    }

    pub(crate) fn on_deadline(&mut self, core: &mut Core) {
        let now = core.now;
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.sent) >= self.timeout)
            .map(|(id, _)| id)
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(id) {
                self.record_info(&p, now);
            }
            core.stats.requests_timeout += 1;
            self.completed += 1;
        }
        if !self.pending.is_empty() {
            core.schedule(self.timeout, EventKind::Deadline);
        }
    }

    /// At the end: requests still pending past their timeout count as timed out.
    pub(crate) fn finish(&mut self, core: &mut Core) {
        let now = core.now;
        let timeout = self.timeout;
        let expired = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.sent) >= timeout)
            .count() as u64;
        core.stats.requests_timeout += expired;
    }

    fn record_latency(&mut self, latency: Time) {
        if self.samples > 0 {
            let first = self.lat_min;
            let hist = self.hist.get_or_insert_with(|| {
                // Three significant digits, auto-resizing: any latency fits.
                let mut h = Histogram::new(3).expect("3 significant figures is within hdrhistogram's 0..=5");
                let _ = h.record(first.max(1));
                h
            });
            // Auto-resizing histogram: recording cannot fail for any u64 below its growth limit.
            let _ = hist.record(latency.max(1));
        }
        self.samples += 1;
        self.lat_min = self.lat_min.min(latency);
        self.lat_max = self.lat_max.max(latency);
        self.lat_sum += latency as u128;
    }

    pub(crate) fn latency_summary(&self) -> LatencySummary {
        let count = self.samples;
        if count == 0 {
            return LatencySummary::default();
        }
        let s = |ns: f64| ns / 1e9;
        let clamp = |q: f64| -> f64 {
            // No histogram: one sample, every percentile is it.
            let v = self.hist.as_ref().map_or(self.lat_min, |h| h.value_at_quantile(q));
            s(v.clamp(self.lat_min, self.lat_max) as f64)
        };
        LatencySummary {
            count,
            min: s(self.lat_min as f64),
            mean: s(self.lat_sum as f64 / count as f64),
            p50: clamp(0.5),
            p90: clamp(0.9),
            p99: clamp(0.99),
            p999: clamp(0.999),
            max: s(self.lat_max as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::round_to_time;

    #[test]
    fn round_to_time_is_round() {
        let half_below = 0.499_999_999_999_999_94_f64;
        let mut cases = vec![
            0.0,
            -0.0,
            half_below,
            0.5,
            1.5,
            2.5,
            -0.4,
            -0.5,
            -2.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            u64::MAX as f64,
            1e300,
            4_503_599_627_370_495.5,
            4_503_599_627_370_497.0,
            9_007_199_254_740_993.0,
        ];
        // Around every power of two and many halves, and a spread of random magnitudes.
        for e in 0..64 {
            let p = 2f64.powi(e);
            for x in [p, p + 0.5, p - 0.5, p + half_below, p * 1.5] {
                cases.push(x);
                cases.push(f64::from_bits(x.to_bits() + 1));
                cases.push(f64::from_bits(x.to_bits() - 1));
            }
        }
        let mut s = crate::rng::Stream::new(3, "round");
        for _ in 0..200_000 {
            cases.push(s.exponential(1e9));
            cases.push(s.unit() * 1e3);
        }
        for x in cases {
            assert_eq!(round_to_time(x), x.round() as u64, "{x:e}");
        }
    }
}
