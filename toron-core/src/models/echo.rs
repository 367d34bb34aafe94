//! `echo`: answers every request with `Ok`, at once or after a service time (infinitely many servers).

use crate::scenario::Dist;
use crate::sim::{Body, Ctx, Message, Node, NodeId, Op, Reply, Time, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Parameters of `echo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EchoParams {
    /// Time to answer each request (none: at once).
    #[serde(default)]
    pub service: Option<Dist>,
}

/// The echo node.
pub struct Echo {
    params: EchoParams,
    waiting: BTreeMap<u64, (NodeId, u64)>,
    next_tag: u64,
    answered: u64,
}

impl Echo {
    /// A fresh echo node.
    pub fn new(params: EchoParams) -> Self {
        Echo {
            params,
            waiting: BTreeMap::new(),
            next_tag: 0,
            answered: 0,
        }
    }
}

impl Node for Echo {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        if !matches!(msg.body, Body::Request(Op::Echo)) {
            ctx.reply(msg, Body::Reply(Reply::Error));
            return;
        }
        match self.params.service {
            None => {
                self.answered += 1;
                ctx.reply(msg, Body::Reply(Reply::Ok));
            }
            Some(d) => {
                let tag = self.next_tag;
                self.next_tag += 1;
                self.waiting.insert(tag, (msg.src, msg.msg_id));
                let delay = d.sample(ctx.rng());
                ctx.set_timer(delay, tag);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, _timer: TimerId, tag: u64) {
        if let Some((src, msg_id)) = self.waiting.remove(&tag) {
            self.answered += 1;
            let req = Message {
                msg_id,
                in_reply_to: 0,
                src,
                dst: ctx.id(),
                body: Body::Request(Op::Echo),
            };
            ctx.reply(&req, Body::Reply(Reply::Ok));
        }
    }

    fn output(&self, _end: Time) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "answered": self.answered }))
    }
}
