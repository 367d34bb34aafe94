//! `queue`: `servers` identical servers fed by one FIFO queue. With Poisson arrivals and exponential
//! service this is the M/M/c queue, so its measured means must match Erlang C (see the tests).

use crate::scenario::Dist;
use crate::sim::{Body, Ctx, Message, Node, NodeId, Op, Reply, Time, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Parameters of `queue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// Number of servers (at least 1).
    pub servers: u32,
    /// Service time distribution.
    pub service: Dist,
}

#[derive(Clone, Copy)]
struct Customer {
    arrived: Time,
    src: NodeId,
    msg_id: u64,
}

/// The queue node.
pub struct Queue {
    params: QueueParams,
    waiting: VecDeque<Customer>,
    /// Per server: the customer in service and when service started.
    serving: Vec<Option<(Customer, Time)>>,
    free: Vec<u32>,
    customers: u64,
    total_wait: u128,
    total_sojourn: u128,
    busy: u128,
}

impl Queue {
    /// A fresh, empty queue.
    pub fn new(params: QueueParams) -> Self {
        let c = params.servers;
        Queue {
            params,
            waiting: VecDeque::new(),
            serving: vec![None; c as usize],
            // Lowest-numbered free server first: pop from the back.
            free: (0..c).rev().collect(),
            customers: 0,
            total_wait: 0,
            total_sojourn: 0,
            busy: 0,
        }
    }

    fn start_service(&mut self, ctx: &mut Ctx<'_>, server: u32, c: Customer) {
        let now = ctx.now();
        self.total_wait += now.saturating_sub(c.arrived) as u128;
        self.serving[server as usize] = Some((c, now));
        let t = self.params.service.sample(ctx.rng());
        ctx.set_timer(t, server as u64);
    }
}

impl Node for Queue {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        if !matches!(msg.body, Body::Request(_)) {
            return;
        }
        let c = Customer {
            arrived: ctx.now(),
            src: msg.src,
            msg_id: msg.msg_id,
        };
        match self.free.pop() {
            Some(server) => self.start_service(ctx, server, c),
            None => self.waiting.push_back(c),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, _timer: TimerId, tag: u64) {
        let server = tag as u32;
        let Some((c, started)) = self.serving.get_mut(server as usize).and_then(Option::take) else {
            return;
        };
        // The node's clock is skewed by clock_skew faults, and a skew set between a customer's arrival and its
        // departure can put the departure earlier on that clock: such a span counts as zero, never wraps.
        let now = ctx.now();
        self.customers += 1;
        self.busy += now.saturating_sub(started) as u128;
        self.total_sojourn += now.saturating_sub(c.arrived) as u128;
        let req = Message {
            msg_id: c.msg_id,
            in_reply_to: 0,
            src: c.src,
            dst: ctx.id(),
            body: Body::Request(Op::Echo),
        };
        ctx.reply(&req, Body::Reply(Reply::Ok));
        match self.waiting.pop_front() {
            Some(next) => self.start_service(ctx, server, next),
            None => self.free.push(server),
        }
    }

    fn output(&self, end: Time) -> Option<serde_json::Value> {
        let n = self.customers.max(1) as f64;
        let elapsed = end as f64 * self.params.servers as f64;
        Some(serde_json::json!({
            "customers": self.customers,
            "mean_wait": self.total_wait as f64 / n / 1e9,
            "mean_sojourn": self.total_sojourn as f64 / n / 1e9,
            "utilization": if elapsed > 0.0 { self.busy as f64 / elapsed } else { 0.0 },
            "servers": self.params.servers,
            "in_queue": self.waiting.len(),
        }))
    }
}
