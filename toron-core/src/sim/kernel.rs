//! The kernel: the virtual clock, the event queue ordered by (time, scheduling sequence), the network and
//! the run loop that dispatches events to nodes, the load generator and the fault plan.

use super::faults::{self, Fault};
use super::load::Load;
use super::node::{Body, Ctx, Message, Node, NodeFactory, NodeId, Time, TimerId};
use super::outcome::{Outcome, Stats, Violation};
use super::trace::{Trace, TraceRecord};
use crate::rng::Stream;
use crate::scenario::{Dist, FaultKind, Scenario};
use crate::{Error, ErrorKind, Result};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;

/// How often (in events) the loop looks at the cancel flag.
const CANCEL_CHECK_EVERY: u64 = 1 << 16;

pub(crate) enum EventKind {
    /// A message in flight, by its slot in [`Core::in_flight`].
    Deliver(u32),
    /// A message sent with no delay: it is the front of [`Core::ready_msgs`] (only ever in `ready`).
    DeliverNow,
    Timer {
        node: u32,
        incarnation: u32,
        timer: u64,
        tag: u64,
    },
    Arrival,
    ClientNext {
        client: u32,
    },
    ClientCheck {
        client: u32,
    },
    Fault {
        index: u32,
        start: bool,
    },
    Deadline,
}

pub(crate) struct Event {
    /// `time << 64 | seq`: one comparison orders by (time, scheduling sequence).
    key: u128,
    kind: EventKind,
}

impl Event {
    #[inline]
    fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

/// A binary min-heap of events on their keys. Written out rather than `BinaryHeap` (with a reversed `Ord`):
/// the kernel's heap is usually tiny (M/M/1 holds the next arrival and the service end), and this inlines
/// into the run loop instead of a call and `Option` shuffles per operation — about 11 % of the time of a
/// queue run went to `BinaryHeap::pop`. Keys are unique (the sequence number), so the order is total.
struct EventHeap {
    v: Vec<Event>,
}

impl EventHeap {
    fn with_capacity(n: usize) -> Self {
        EventHeap {
            v: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn peek_key(&self) -> Option<u128> {
        self.v.first().map(|e| e.key)
    }

    #[inline]
    fn push(&mut self, ev: Event) {
        let mut i = self.v.len();
        self.v.push(ev);
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.v[parent].key < self.v[i].key {
                break;
            }
            self.v.swap(parent, i);
            i = parent;
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Event> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.v[0], last);
        let n = self.v.len();
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.v[right].key < self.v[left].key {
                right
            } else {
                left
            };
            if self.v[i].key < self.v[child].key {
                break;
            }
            self.v.swap(i, child);
            i = child;
        }
        Some(top)
    }
}

#[derive(Clone, Copy)]
struct Link {
    latency: Dist,
    loss: f64,
    duplicate: f64,
}

/// Everything a callback may touch; nodes reach it through [`Ctx`], the load generator directly.
pub(crate) struct Core {
    pub(crate) now: Time,
    seq: u64,
    next_msg_id: u64,
    next_timer_id: u64,
    queue: EventHeap,
    /// Events scheduled for the current instant (zero delay), in scheduling order. Every event in `queue`
    /// for the same instant was scheduled earlier, so the total order is: `queue` entries at `now`, then
    /// these, then later times — the same (time, sequence) order, without a heap operation for each
    /// zero-latency delivery.
    ready: VecDeque<Event>,
    /// The messages of the `DeliverNow` events in `ready`, in the same order: a zero-latency hop needs
    /// neither a slot in `in_flight` nor a heap operation.
    ready_msgs: VecDeque<Message>,
    pub(crate) names: Arc<[String]>,
    n_nodes: u32,
    /// `(n+1)²` links: nodes, then the clients' shared endpoint.
    links: Vec<Link>,
    net_rng: Stream,
    reorder: f64,
    reorder_window: u64,
    burst_loss: f64,
    /// Partition group per endpoint, when partitioned.
    partition: Option<Vec<u16>>,
    cancelled: BTreeSet<u64>,
    /// Messages in flight, referenced by `Deliver` events (keeps queue entries at 32 bytes).
    in_flight: Vec<Option<Message>>,
    free_slots: Vec<u32>,
    pub(crate) stats: Stats,
    violations: Vec<Violation>,
    coverage: BTreeMap<String, u64>,
    /// Set by [`Ctx::log`] and [`Ctx::fail`]: the loop looks at `logs` and `failure` only when it is set,
    /// so the built-in models pay one test of a bool per event.
    attention: bool,
    /// Lines written with [`Ctx::log`] during the current event, recorded into the trace after it.
    logs: Vec<(u32, String)>,
    /// The first failure a node reported ([`Ctx::fail`]) or its factory returned: ends the run with it.
    failure: Option<Error>,
}

impl Core {
    #[inline(always)]
    fn push(&mut self, time: Time, kind: EventKind) {
        let seq = self.seq;
        self.seq += 1;
        let ev = Event {
            key: (time as u128) << 64 | seq as u128,
            kind,
        };
        if time == self.now {
            self.ready.push_back(ev);
        } else {
            self.queue.push(ev);
        }
    }

    /// The next event in (time, sequence) order.
    #[inline]
    fn pop(&mut self) -> Option<Event> {
        if let Some(first) = self.ready.front() {
            // Heap entries at the current instant precede the ready ones (scheduled earlier).
            match self.queue.peek_key() {
                Some(k) if k < first.key => self.queue.pop(),
                _ => self.ready.pop_front(),
            }
        } else {
            self.queue.pop()
        }
    }

    #[inline(always)]
    fn park(&mut self, msg: Message) -> u32 {
        match self.free_slots.pop() {
            Some(i) => {
                self.in_flight[i as usize] = Some(msg);
                i
            }
            None => {
                self.in_flight.push(Some(msg));
                (self.in_flight.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn unpark(&mut self, slot: u32) -> Option<Message> {
        let msg = self.in_flight.get_mut(slot as usize)?.take();
        self.free_slots.push(slot);
        msg
    }

    #[inline(always)]
    pub(crate) fn schedule(&mut self, delay: Time, kind: EventKind) {
        self.push(self.now.saturating_add(delay), kind);
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or(crate::scenario::CLIENT)
    }

    #[inline]
    fn endpoint(&self, id: u32) -> usize {
        (id.min(self.n_nodes)) as usize
    }

    /// Hand a message to the network: loss, partition, latency, reordering, duplication, in that order of
    /// draws from the network stream. Inlined into its few callers, so the message is built in place:
    /// called, its 56 bytes went through the stack twice (a time profile showed store-forwarding stalls on
    /// those copies in `send`, `deliver_after` and `push`).
    #[inline(always)]
    pub(crate) fn send(&mut self, src: u32, dst: u32, in_reply_to: u64, body: Body) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        self.stats.messages_sent += 1;
        let (a, b) = (self.endpoint(src), self.endpoint(dst));
        if let Some(groups) = &self.partition {
            if groups[a] != groups[b] {
                self.stats.messages_dropped += 1;
                return msg_id;
            }
        }
        let width = self.n_nodes as usize + 1;
        let link = self.links[a * width + b];
        let loss = if self.burst_loss > link.loss {
            self.burst_loss
        } else {
            link.loss
        };
        if self.net_rng.chance(loss) {
            self.stats.messages_dropped += 1;
            return msg_id;
        }
        let msg = Message {
            msg_id,
            in_reply_to,
            src: NodeId(src),
            dst: NodeId(dst),
            body,
        };
        let delay = self.delay(&link.latency);
        if self.net_rng.chance(link.duplicate) {
            self.stats.messages_duplicated += 1;
            let delay2 = self.delay(&link.latency);
            self.deliver_after(delay, msg.clone());
            self.deliver_after(delay2, msg);
        } else {
            self.deliver_after(delay, msg);
        }
        msg_id
    }

    /// Schedule the delivery of `msg` in `delay` nanoseconds.
    #[inline(always)]
    fn deliver_after(&mut self, delay: Time, msg: Message) {
        if delay == 0 {
            // What `push` does for the current instant, with the message kept beside the event.
            let seq = self.seq;
            self.seq += 1;
            self.ready.push_back(Event {
                key: (self.now as u128) << 64 | seq as u128,
                kind: EventKind::DeliverNow,
            });
            self.ready_msgs.push_back(msg);
        } else {
            let slot = self.park(msg);
            self.schedule(delay, EventKind::Deliver(slot));
        }
    }

    #[inline(always)]
    fn delay(&mut self, latency: &Dist) -> Time {
        // A constant draws nothing: skip the sampler's call (the common zero-latency network).
        let mut d = match *latency {
            Dist::Constant { value } => value.0,
            _ => latency.sample(&mut self.net_rng),
        };
        if self.net_rng.chance(self.reorder) {
            d = d.saturating_add(self.net_rng.below(self.reorder_window + 1));
        }
        d
    }

    pub(crate) fn set_timer(&mut self, node: u32, incarnation: u32, delay: Time, tag: u64) -> TimerId {
        let timer = self.next_timer_id;
        self.next_timer_id += 1;
        self.schedule(
            delay,
            EventKind::Timer {
                node,
                incarnation,
                timer,
                tag,
            },
        );
        TimerId(timer)
    }

    pub(crate) fn cancel_timer(&mut self, timer: TimerId) {
        if timer.0 < self.next_timer_id {
            self.cancelled.insert(timer.0);
        }
    }

    pub(crate) fn cover(&mut self, mark: &str) {
        match self.coverage.get_mut(mark) {
            Some(n) => *n += 1,
            None => {
                self.coverage.insert(mark.to_string(), 1);
            }
        }
    }

    pub(crate) fn log(&mut self, node: u32, text: String) {
        self.logs.push((node, text));
        self.attention = true;
    }

    pub(crate) fn fail(&mut self, error: Error) {
        if self.failure.is_none() {
            self.failure = Some(error);
        }
        self.attention = true;
    }

    pub(crate) fn violation(&mut self, node: u32, invariant: &str, message: String) {
        let node = self.name(node).to_string();
        self.violations.push(Violation {
            time: self.now as f64 / 1e9,
            time_ns: self.now,
            node,
            invariant: invariant.to_string(),
            message,
        });
    }
}

struct Slot {
    factory: Arc<dyn NodeFactory>,
    node: Option<Box<dyn Node>>,
    rng: Stream,
    incarnation: u32,
    skew: i64,
    slow: f64,
}

/// Options of one run.
pub(crate) struct RunConfig<'a> {
    pub(crate) seed: u64,
    pub(crate) trace: Option<Box<dyn std::io::Write + Send>>,
    pub(crate) cancel: Option<&'a AtomicBool>,
    pub(crate) factories: Vec<Arc<dyn NodeFactory>>,
    /// Record the load's history into the outcome (also done when the scenario checks linearizability).
    pub(crate) history: bool,
}

/// Run `scenario` to its stop condition.
pub(crate) fn run(scenario: &Scenario, cfg: RunConfig<'_>) -> Result<Outcome> {
    let spec = scenario.spec();
    let seed = cfg.seed;
    let n = spec.nodes.len();
    let names: Arc<[String]> = spec.nodes.iter().map(|node| node.id.clone()).collect::<Vec<_>>().into();

    // Links: the default everywhere, then each override in order (the last match wins).
    let width = n + 1;
    let default = Link {
        latency: spec.network.latency,
        loss: spec.network.loss.0,
        duplicate: spec.network.duplicate.0,
    };
    let mut links = vec![default; width * width];
    let endpoint = |id: &str| -> Vec<usize> {
        match id {
            "*" => (0..width).collect(),
            crate::scenario::CLIENT => vec![n],
            id => scenario.node_index(id).into_iter().collect(),
        }
    };
    for l in &spec.network.links {
        for a in endpoint(&l.from) {
            for b in endpoint(&l.to) {
                let link = &mut links[a * width + b];
                if let Some(d) = l.latency {
                    link.latency = d;
                }
                if let Some(p) = l.loss {
                    link.loss = p.0;
                }
                if let Some(p) = l.duplicate {
                    link.duplicate = p.0;
                }
            }
        }
    }

    let mut core = Core {
        now: 0,
        seq: 0,
        next_msg_id: 1,
        next_timer_id: 1,
        queue: EventHeap::with_capacity(1024),
        ready: VecDeque::with_capacity(64),
        ready_msgs: VecDeque::with_capacity(64),
        names: names.clone(),
        n_nodes: n as u32,
        links,
        net_rng: Stream::new(seed, "network"),
        reorder: spec.network.reorder.0,
        reorder_window: spec.network.reorder_window.0,
        burst_loss: 0.0,
        partition: None,
        cancelled: BTreeSet::new(),
        in_flight: Vec::with_capacity(64),
        free_slots: Vec::with_capacity(64),
        stats: Stats::default(),
        violations: Vec::new(),
        coverage: BTreeMap::new(),
        attention: false,
        logs: Vec::new(),
        failure: None,
    };
    let mut trace = Trace::new(seed, cfg.trace.map(|w| (w, names.clone())));

    let mut slots: Vec<Slot> = cfg
        .factories
        .into_iter()
        .zip(spec.nodes.iter())
        .map(|(factory, node)| {
            Ok(Slot {
                node: Some(factory.create()?),
                factory,
                rng: Stream::new(seed, &format!("node:{}", node.id)),
                incarnation: 0,
                skew: 0,
                slow: 1.0,
            })
        })
        .collect::<Result<_>>()?;

    let plan = faults::plan(scenario);
    for (i, f) in plan.iter().enumerate() {
        core.push(
            f.at,
            EventKind::Fault {
                index: i as u32,
                start: true,
            },
        );
    }

    let linearizable = match &spec.invariants.linearizable {
        Some(name) => Some(crate::check::ModelKind::parse(name)?),
        None => None,
    };
    let record = cfg.history || linearizable.is_some();
    let mut load = spec.load.as_ref().map(|l| Load::new(l, scenario, seed, record));

    // Start every node at time 0, in scenario order, then the load.
    for (i, slot) in slots.iter_mut().enumerate() {
        start_node(&mut core, slot, i as u32);
    }
    if core.attention {
        attend(&mut core, &mut trace)?;
    }
    if let Some(load) = &mut load {
        load.start(&mut core);
    }

    let stop_time = spec.stop.time.map(|d| d.0);
    let stop_events = spec.stop.events;
    let stop_requests = spec.stop.requests;
    let mut stopped_by = "idle";
    let mut until_cancel_check = CANCEL_CHECK_EVERY;

    while let Some(ev) = core.pop() {
        if let Some(t) = stop_time {
            if ev.time() > t {
                core.now = t;
                stopped_by = "time";
                break;
            }
        }
        if let Some(limit) = stop_events {
            if core.stats.events >= limit {
                stopped_by = "events";
                break;
            }
        }
        until_cancel_check -= 1;
        if until_cancel_check == 0 {
            until_cancel_check = CANCEL_CHECK_EVERY;
            if cfg.cancel.is_some_and(|c| c.load(AtomicOrdering::Relaxed)) {
                return Err(Error::new(
                    ErrorKind::Cancelled,
                    format!(
                        "simulation of {:?} cancelled at virtual time {} ns",
                        spec.name,
                        ev.time()
                    ),
                ));
            }
        }
        core.now = ev.time();
        match ev.kind {
            EventKind::Deliver(slot) => {
                let Some(msg) = core.unpark(slot) else { continue };
                deliver(&mut core, &mut slots, &mut trace, &mut load, &msg);
            }
            EventKind::DeliverNow => {
                let msg = core
                    .ready_msgs
                    .pop_front()
                    .expect("each DeliverNow event has its message in ready_msgs");
                deliver(&mut core, &mut slots, &mut trace, &mut load, &msg);
            }
            EventKind::Timer {
                node,
                incarnation,
                timer,
                tag,
            } => {
                if core.cancelled.remove(&timer) {
                    continue;
                }
                let slot = &mut slots[node as usize];
                if slot.incarnation != incarnation || slot.node.is_none() {
                    continue; // a timer of a crashed incarnation: its state is gone
                }
                core.stats.events += 1;
                trace.record(core.now, TraceRecord::Timer { node, timer, tag });
                with_node(&mut core, slot, node, |n, ctx| n.on_timer(ctx, TimerId(timer), tag));
            }
            EventKind::Arrival => {
                core.stats.events += 1;
                trace.record(core.now, TraceRecord::Arrival);
                if let Some(load) = &mut load {
                    load.on_arrival(&mut core);
                }
            }
            EventKind::ClientNext { client } => {
                core.stats.events += 1;
                trace.record(core.now, TraceRecord::Client { client, check: false });
                if let Some(load) = &mut load {
                    load.on_client_next(&mut core, client);
                }
            }
            EventKind::ClientCheck { client } => {
                core.stats.events += 1;
                trace.record(core.now, TraceRecord::Client { client, check: true });
                if let Some(load) = &mut load {
                    load.on_client_check(&mut core, client);
                }
            }
            EventKind::Fault { index, start } => {
                core.stats.events += 1;
                let f = &plan[index as usize];
                trace.record(
                    core.now,
                    TraceRecord::Fault {
                        index,
                        kind: faults::kind_code(f.kind),
                        start,
                        node: f.node,
                    },
                );
                if start {
                    // Each injected fault is a mark (`fault.crash`, ...), for `[expect] sometimes`.
                    core.cover(&format!("fault.{}", f.kind.name()));
                }
                apply_fault(&mut core, &mut slots, f, index, start);
            }
            EventKind::Deadline => {
                core.stats.events += 1;
                trace.record(core.now, TraceRecord::Deadline);
                if let Some(load) = &mut load {
                    load.on_deadline(&mut core);
                }
            }
        }
        if core.attention {
            attend(&mut core, &mut trace)?;
        }
        if let (Some(limit), Some(load)) = (stop_requests, &load) {
            if load.completed() >= limit {
                stopped_by = "requests";
                break;
            }
        }
    }

    if let Some(load) = &mut load {
        load.finish(&mut core);
    }
    let end = core.now;
    core.stats.virtual_time_ns = end;
    core.stats.stopped_by = stopped_by.to_string();
    core.stats.throughput = if end > 0 {
        core.stats.requests_ok as f64 / (end as f64 / 1e9)
    } else {
        0.0
    };

    let mut output = serde_json::Map::new();
    for (slot, node) in slots.iter().zip(spec.nodes.iter()) {
        if let Some(v) = slot.node.as_ref().and_then(|n| n.output(end)) {
            output.insert(node.id.clone(), v);
        }
    }
    let latency = load.as_ref().map(|l| l.latency_summary()).unwrap_or_default();

    let s = &core.stats;
    let summary = [
        s.events,
        s.messages_sent,
        s.messages_delivered,
        s.messages_dropped,
        s.messages_duplicated,
        s.virtual_time_ns,
        s.requests_sent,
        s.requests_ok,
        s.requests_error,
        s.requests_timeout,
        core.violations.len() as u64,
    ];
    let digest = trace
        .finish(&summary)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write the trace file: {e}")))?;
    let history = load.as_mut().and_then(Load::take_history);
    let verdict = match (linearizable, &history) {
        (Some(model), Some(h)) => Some(check_history(&mut core, h, model)?),
        _ => None,
    };

    Ok(Outcome {
        scenario: spec.name.clone(),
        seed,
        engine: crate::VERSION.to_string(),
        digest,
        stats: core.stats,
        latency,
        violations: core.violations,
        coverage: core.coverage,
        output: serde_json::Value::Object(output),
        history,
        linearizable: verdict,
    })
}

/// After an event in which a node logged or failed: its lines go into the trace (in the order written), and
/// a failure ends the run.
#[cold]
fn attend(core: &mut Core, trace: &mut Trace) -> Result<()> {
    core.attention = false;
    for (node, text) in std::mem::take(&mut core.logs) {
        trace.record(core.now, TraceRecord::Log { node, text: &text });
    }
    match core.failure.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `[invariants] linearizable`: check the load's history; a counterexample becomes the violation
/// `linearizable`, at the time of the window's last operation (kept in time order among the others). After the
/// digest on purpose: checking reads the run, it never changes it.
fn check_history(
    core: &mut Core,
    history: &crate::check::History,
    model: crate::check::ModelKind,
) -> Result<crate::check::Verdict> {
    let verdict = crate::check::check(history, model, None).map_err(|e| {
        Error::new(
            ErrorKind::Sim,
            format!("cannot check the load's history for linearizability: {}", e.message()),
        )
    })?;
    if let (Some(false), Some(c)) = (verdict.linearizable, &verdict.counterexample) {
        let at = c
            .ops
            .iter()
            .flat_map(|o| [Some(o.invoke_index), o.complete_index])
            .flatten()
            .filter_map(|i| history.ops.get(i as usize).and_then(|op| op.time))
            .max()
            .unwrap_or(core.now);
        let v = Violation {
            time: at as f64 / 1e9,
            time_ns: at,
            node: crate::scenario::CLIENT.to_string(),
            invariant: "linearizable".to_string(),
            message: format!(
                "the history is not linearizable ({}): {}",
                verdict.model,
                c.text().trim_end()
            ),
        };
        let pos = core.violations.partition_point(|w| w.time_ns <= at);
        core.violations.insert(pos, v);
    }
    Ok(verdict)
}

/// A message reaches its destination: a node (dropped if it is down) or a load client.
#[inline(always)]
fn deliver(core: &mut Core, slots: &mut [Slot], trace: &mut Trace, load: &mut Option<Load>, msg: &Message) {
    let dst = msg.dst.0;
    if dst >= core.n_nodes {
        core.stats.events += 1;
        core.stats.messages_delivered += 1;
        trace.record(core.now, TraceRecord::Deliver { msg, dropped: false });
        if let Some(load) = load {
            load.on_reply(core, msg);
        }
    } else {
        let slot = &mut slots[dst as usize];
        let up = slot.node.is_some();
        core.stats.events += 1;
        trace.record(core.now, TraceRecord::Deliver { msg, dropped: !up });
        if up {
            core.stats.messages_delivered += 1;
            with_node(core, slot, dst, |node, ctx| node.on_message(ctx, msg));
        } else {
            core.stats.messages_dropped += 1;
        }
    }
}

#[inline]
fn with_node(core: &mut Core, slot: &mut Slot, me: u32, f: impl FnOnce(&mut dyn Node, &mut Ctx<'_>)) {
    if let Some(node) = slot.node.as_deref_mut() {
        let mut ctx = Ctx {
            core,
            me,
            rng: &mut slot.rng,
            skew: slot.skew,
            slow: slot.slow,
            incarnation: slot.incarnation,
        };
        f(node, &mut ctx);
    }
}

fn start_node(core: &mut Core, slot: &mut Slot, me: u32) {
    with_node(core, slot, me, |node, ctx| node.on_start(ctx));
}

fn apply_fault(core: &mut Core, slots: &mut [Slot], f: &Fault, index: u32, start: bool) {
    let node = f.node as usize;
    if start {
        if let Some(d) = f.duration {
            core.schedule(d, EventKind::Fault { index, start: false });
        }
    }
    match (f.kind, start) {
        (FaultKind::Crash, _) => {
            let slot = &mut slots[node];
            if let Some(mut n) = slot.node.take() {
                n.on_crash();
                slot.incarnation += 1;
            }
        }
        (FaultKind::Restart, _) => {
            let slot = &mut slots[node];
            if let Some(mut n) = slot.node.take() {
                n.on_crash(); // a restart of a running node is a crash and a start
            }
            slot.incarnation += 1;
            match slot.factory.create() {
                Ok(n) => {
                    slot.node = Some(n);
                    start_node(core, slot, node as u32);
                }
                Err(e) => core.fail(e),
            }
        }
        (FaultKind::Partition, true) => core.partition = Some(f.groups.clone()),
        (FaultKind::Partition, false) | (FaultKind::Heal, _) => core.partition = None,
        (FaultKind::LossBurst, true) => core.burst_loss = f.loss,
        (FaultKind::LossBurst, false) => core.burst_loss = 0.0,
        (FaultKind::ClockSkew, true) => slots[node].skew = f.skew,
        (FaultKind::ClockSkew, false) => slots[node].skew = 0,
        (FaultKind::Slow, true) => slots[node].slow = f.factor,
        (FaultKind::Slow, false) => slots[node].slow = 1.0,
    }
}
