//! `kv`: a primary-backup key-value store.
//!
//! Clients put and get through the primary. The primary applies a write, replicates it to the backup and
//! acknowledges the client only once the backup has acknowledged it; it sends heartbeats, and a backup that
//! hears none for `failover_timeout` promotes itself. A restarted node has lost its state: it joins its peer,
//! receives the full state and becomes the backup. Invariant (checked on the clients' side): no
//! acknowledged write is ever lost.
//!
//! `bug = "ack_before_replicate"` acknowledges a write at once and replicates it with the next heartbeat:
//! a primary that crashes in between loses writes it has acknowledged.

use crate::scenario::{Duration, Scenario};
use crate::sim::{Body, Ctx, Message, Node, NodeId, Op, Reply, Time, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which node starts as primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves clients and replicates.
    Primary,
    /// Applies replicated writes; takes over when the primary goes silent.
    Backup,
}

/// A deliberate bug, to check that the chaos scenarios find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvBug {
    /// Acknowledge writes before they are replicated.
    AckBeforeReplicate,
}

/// Parameters of `kv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvParams {
    /// The role at the first start.
    pub role: Role,
    /// The other replica's node id.
    pub peer: String,
    /// Interval of the primary's heartbeats (and of the backup's checks).
    #[serde(default = "default_heartbeat")]
    pub heartbeat: Duration,
    /// Silence after which the backup promotes itself.
    #[serde(default = "default_failover")]
    pub failover_timeout: Duration,
    /// A deliberate bug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bug: Option<KvBug>,
}

fn default_heartbeat() -> Duration {
    Duration(100_000_000)
}
fn default_failover() -> Duration {
    Duration(500_000_000)
}

/// Parameters with the peer resolved, shared by every incarnation of a node.
#[derive(Debug)]
pub struct KvConfig {
    role: Role,
    peer: NodeId,
    heartbeat: Time,
    failover_timeout: Time,
    bug: Option<KvBug>,
}

impl KvConfig {
    pub(crate) fn new(p: &KvParams, scenario: &Scenario) -> Self {
        KvConfig {
            role: p.role,
            peer: NodeId(scenario.node_index(&p.peer).unwrap_or(0) as u32),
            heartbeat: p.heartbeat.0,
            failover_timeout: p.failover_timeout.0,
            bug: p.bug,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Primary,
    Backup,
    /// Restarted, waiting for the peer's state.
    Joining,
}

const TICK: u64 = 0;

/// A kv replica.
pub struct Kv {
    cfg: Arc<KvConfig>,
    state: State,
    epoch: u64,
    store: BTreeMap<u64, u64>,
    next_seq: u64,
    /// Writes waiting for the backup's acknowledgement: seq → (client, msg_id).
    waiting: BTreeMap<u64, (NodeId, u64)>,
    /// Bug mode: acknowledged writes not yet replicated.
    unreplicated: Vec<(u64, u64, u64)>,
    /// Writes up to this seq are in the state transfer sent to a joining peer.
    transfer_seq: u64,
    last_heard: Time,
    failovers: u64,
}

/// The acknowledgement of a state transfer (instead of one write's seq).
const TRANSFER_ACK: u64 = u64::MAX;

impl Kv {
    /// A fresh replica (state empty).
    pub fn new(cfg: Arc<KvConfig>) -> Self {
        Kv {
            cfg,
            state: State::Joining,
            epoch: 0,
            store: BTreeMap::new(),
            next_seq: 1,
            waiting: BTreeMap::new(),
            unreplicated: Vec::new(),
            transfer_seq: 0,
            last_heard: 0,
            failovers: 0,
        }
    }

    fn promote(&mut self, ctx: &mut Ctx<'_>) {
        self.state = State::Primary;
        self.epoch += 1;
        self.failovers += 1;
        ctx.cover("kv.failover");
    }

    fn ack(&mut self, ctx: &mut Ctx<'_>, client: NodeId, msg_id: u64) {
        let req = Message {
            msg_id,
            in_reply_to: 0,
            src: client,
            dst: ctx.id(),
            body: Body::Request(Op::Echo),
        };
        ctx.reply(&req, Body::Reply(Reply::Ok));
    }

    fn client_request(&mut self, ctx: &mut Ctx<'_>, msg: &Message, op: Op) {
        if self.state != State::Primary {
            ctx.cover("kv.redirect");
            ctx.reply(msg, Body::Reply(Reply::NotPrimary));
            return;
        }
        match op {
            Op::Get { key } => {
                ctx.reply(msg, Body::Reply(Reply::Value(self.store.get(&key).copied())));
            }
            Op::Put { key, value } => {
                self.store.insert(key, value);
                let seq = self.next_seq;
                self.next_seq += 1;
                if self.cfg.bug == Some(KvBug::AckBeforeReplicate) {
                    ctx.reply(msg, Body::Reply(Reply::Ok));
                    self.unreplicated.push((key, value, seq));
                } else {
                    self.waiting.insert(seq, (msg.src, msg.msg_id));
                    ctx.send(self.cfg.peer, Body::Replicate { key, value, seq });
                }
            }
            Op::Echo => {
                ctx.reply(msg, Body::Reply(Reply::Error));
            }
        }
    }
}

impl Node for Kv {
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.last_heard = ctx.now();
        if ctx.incarnation() > 0 {
            // State was lost in the crash: ask the peer for it.
            self.state = State::Joining;
            ctx.cover("kv.join");
            ctx.send(self.cfg.peer, Body::Join);
        } else {
            self.state = match self.cfg.role {
                Role::Primary => State::Primary,
                Role::Backup => State::Backup,
            };
        }
        ctx.set_timer(self.cfg.heartbeat, TICK);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        match &msg.body {
            Body::Request(op) => self.client_request(ctx, msg, *op),
            Body::Replicate { key, value, seq } => {
                if self.state == State::Backup {
                    self.store.insert(*key, *value);
                    self.last_heard = ctx.now();
                    ctx.reply(msg, Body::ReplicateAck { seq: *seq });
                }
            }
            Body::ReplicateAck { seq } => {
                if self.state != State::Primary {
                    return;
                }
                if *seq == TRANSFER_ACK {
                    let done: Vec<u64> = self.waiting.range(..=self.transfer_seq).map(|(s, _)| *s).collect();
                    for s in done {
                        if let Some((client, id)) = self.waiting.remove(&s) {
                            self.ack(ctx, client, id);
                        }
                    }
                } else if let Some((client, id)) = self.waiting.remove(seq) {
                    self.ack(ctx, client, id);
                }
            }
            Body::Heartbeat { .. } => {
                if self.state == State::Backup {
                    self.last_heard = ctx.now();
                }
            }
            Body::Join => {
                if self.state == State::Backup {
                    // The primary restarted empty: this replica holds the data, so it takes over now.
                    self.promote(ctx);
                }
                if self.state == State::Primary {
                    let entries: Arc<[(u64, u64)]> = self.store.iter().map(|(k, v)| (*k, *v)).collect();
                    self.transfer_seq = self.next_seq - 1;
                    ctx.reply(
                        msg,
                        Body::StateTransfer {
                            entries,
                            epoch: self.epoch,
                        },
                    );
                }
            }
            Body::StateTransfer { entries, epoch } => {
                if self.state == State::Joining {
                    self.store = entries.iter().copied().collect();
                    self.epoch = *epoch;
                    self.state = State::Backup;
                    self.last_heard = ctx.now();
                    ctx.reply(msg, Body::ReplicateAck { seq: TRANSFER_ACK });
                }
            }
            Body::Reply(_) | Body::Custom(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, _timer: TimerId, _tag: u64) {
        match self.state {
            State::Primary => {
                for (key, value, seq) in std::mem::take(&mut self.unreplicated) {
                    ctx.send(self.cfg.peer, Body::Replicate { key, value, seq });
                }
                ctx.send(self.cfg.peer, Body::Heartbeat { epoch: self.epoch });
            }
            State::Backup => {
                if ctx.now().saturating_sub(self.last_heard) > self.cfg.failover_timeout {
                    self.promote(ctx);
                }
            }
            State::Joining => {
                ctx.send(self.cfg.peer, Body::Join);
            }
        }
        ctx.set_timer(self.cfg.heartbeat, TICK);
    }

    fn output(&self, _end: Time) -> Option<serde_json::Value> {
        let role = match self.state {
            State::Primary => "primary",
            State::Backup => "backup",
            State::Joining => "joining",
        };
        Some(serde_json::json!({
            "role": role,
            "epoch": self.epoch,
            "keys": self.store.len(),
            "failovers": self.failovers,
            "waiting": self.waiting.len(),
        }))
    }
}
