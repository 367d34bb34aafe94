//! The node interface: state machines that react to a start, a message or a timer, and act only through
//! their [`Ctx`]. Built-in models implement [`Node`] directly; a node written in Python or C plugs in the
//! same way through an adapter that implements [`Node`] and creates instances with a [`NodeFactory`].

use super::kernel::Core;
use crate::rng::Stream;
use std::sync::Arc;

/// Virtual time in integer nanoseconds since the start of the simulation.
pub type Time = u64;

/// A node or a load client, by index: nodes are `0..n` in scenario order, load clients follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// A timer handle, for [`Ctx::cancel_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// A client operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Echo / queue request: answer it.
    Echo,
    /// Read `key`.
    Get {
        /// The key.
        key: u64,
    },
    /// Write `value` under `key`.
    Put {
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
}

/// A reply to a client operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Done (echo, put).
    Ok,
    /// The value read (none: the key is absent).
    Value(Option<u64>),
    /// This node does not serve clients now; try another target.
    NotPrimary,
    /// The operation failed.
    Error,
}

/// A message body. The built-in variants are typed so the hot path never allocates; `Custom` carries the
/// encoded payload of nodes written outside Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A client request.
    Request(Op),
    /// A reply to a client request.
    Reply(Reply),
    /// Primary → backup: apply this write.
    Replicate {
        /// The key.
        key: u64,
        /// The value.
        value: u64,
        /// The primary's write sequence number.
        seq: u64,
    },
    /// Backup → primary: the write `seq` is applied.
    ReplicateAck {
        /// The acknowledged sequence number.
        seq: u64,
    },
    /// Primary → backup: I am alive.
    Heartbeat {
        /// The sender's epoch.
        epoch: u64,
    },
    /// A restarted node asks its peer for the current state.
    Join,
    /// The full state, for a node that joins.
    StateTransfer {
        /// Every (key, value), sorted by key.
        entries: Arc<[(u64, u64)]>,
        /// The sender's epoch.
        epoch: u64,
    },
    /// Opaque bytes (nodes written in Python or C).
    Custom(Arc<[u8]>),
}

/// A message in flight: ids as in Maelstrom (`msg_id`, `in_reply_to`; 0 means none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique per simulation, from 1.
    pub msg_id: u64,
    /// The `msg_id` this answers, or 0.
    pub in_reply_to: u64,
    /// The sender.
    pub src: NodeId,
    /// The receiver.
    pub dst: NodeId,
    /// The body.
    pub body: Body,
}

/// A simulated process. Every callback runs at one instant of virtual time and acts through `ctx`.
pub trait Node: Send {
    /// Called once when the node starts, and again (on a fresh instance) after each restart.
    fn on_start(&mut self, ctx: &mut Ctx<'_>);
    /// A message arrived.
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message);
    /// A timer set with [`Ctx::set_timer`] fired; `tag` is the value given then.
    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: TimerId, tag: u64);
    /// The node's contribution to the outcome's output document, computed at the end (`end` = final time).
    fn output(&self, _end: Time) -> Option<serde_json::Value> {
        None
    }
    /// The node crashes: called just before the instance is dropped, so that a node written outside Rust
    /// can hand what it declared durable to its factory (the next instance starts from it). Built-in
    /// models lose everything.
    fn on_crash(&mut self) {}
}

/// Creates the instances of one node: at the start and after each restart (a crash loses all state).
/// Creating can fail for nodes written outside Rust (a constructor that raises): the simulation then stops
/// with that error.
pub trait NodeFactory: Send + Sync {
    /// A fresh instance.
    fn create(&self) -> crate::Result<Box<dyn Node>>;
}

impl<F: Fn() -> Box<dyn Node> + Send + Sync> NodeFactory for F {
    fn create(&self) -> crate::Result<Box<dyn Node>> {
        Ok(self())
    }
}

/// What a node may do during a callback.
pub struct Ctx<'a> {
    pub(super) core: &'a mut Core,
    pub(super) me: u32,
    pub(super) rng: &'a mut Stream,
    pub(super) skew: i64,
    pub(super) slow: f64,
    pub(super) incarnation: u32,
}

impl Ctx<'_> {
    /// This node.
    #[inline]
    pub fn id(&self) -> NodeId {
        NodeId(self.me)
    }

    /// The node's local clock: virtual time plus any injected clock skew.
    #[inline]
    pub fn now(&self) -> Time {
        self.core.now.saturating_add_signed(self.skew)
    }

    /// How many times this node has been restarted (0 on the first start).
    pub fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// The node with this scenario id.
    pub fn node(&self, id: &str) -> Option<NodeId> {
        self.core.names.iter().position(|n| n == id).map(|i| NodeId(i as u32))
    }

    /// The scenario id of a node (`client` for load clients).
    pub fn name(&self, node: NodeId) -> &str {
        self.core.name(node.0)
    }

    /// Send `body` to `dst` through the simulated network; returns the new message's `msg_id`.
    #[inline]
    pub fn send(&mut self, dst: NodeId, body: Body) -> u64 {
        self.core.send(self.me, dst.0, 0, body)
    }

    /// Answer `request` (sets `in_reply_to`); returns the new message's `msg_id`.
    #[inline]
    pub fn reply(&mut self, request: &Message, body: Body) -> u64 {
        self.core.send(self.me, request.src.0, request.msg_id, body)
    }

    /// Call [`Node::on_timer`] with `tag` after `delay` nanoseconds (longer on a slowed node).
    #[inline]
    pub fn set_timer(&mut self, delay: Time, tag: u64) -> TimerId {
        let delay = if self.slow == 1.0 {
            delay
        } else {
            (delay as f64 * self.slow).round() as u64
        };
        self.core.set_timer(self.me, self.incarnation, delay, tag)
    }

    /// Cancel a timer that has not fired yet (a fired or unknown timer is ignored).
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.core.cancel_timer(timer);
    }

    /// The node's own random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut Stream {
        self.rng
    }

    /// Mark a point as reached: counted per name in the outcome's `coverage`, and what a scenario's
    /// `[expect] sometimes` asks a sweep to reach on at least one seed.
    pub fn mark(&mut self, mark: &str) {
        self.core.cover(mark);
    }

    /// [`Ctx::mark`], by its older name.
    pub fn cover(&mut self, mark: &str) {
        self.core.cover(mark);
    }

    /// Report that an invariant does not hold.
    pub fn violation(&mut self, invariant: &str, message: impl Into<String>) {
        self.core.violation(self.me, invariant, message.into());
    }

    /// Write a line into the trace (a `log` record, part of the digest like every other record).
    pub fn log(&mut self, text: impl Into<String>) {
        self.core.log(self.me, text.into());
    }

    /// Stop the simulation with `error` once this callback returns (the first failure wins): how a node
    /// written outside Rust reports an exception or an error status instead of panicking.
    pub fn fail(&mut self, error: crate::Error) {
        self.core.fail(error);
    }
}
