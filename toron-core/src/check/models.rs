//! Sequential models: what one operation does to the state, and which results it may return.
//!
//! | model | `f` | value |
//! | --- | --- | --- |
//! | `register` | `read`, `write` | read: the value read (null = never written); write: the value |
//! | `cas-register` | `read`, `write`, `cas` | cas: `[old, new]`, `ok` when the register held `old` |
//! | `kv` | as `cas-register`, per key | `key` field, or Jepsen's independent form `value: [k, v]` |
//! | `set` | `add`, `read` | add: the element; read: the whole set (an array, any order) |
//! | `queue` | `enqueue`, `dequeue` | enqueue: the element; dequeue: the element (null = the queue was empty) |
//!
//! Every model starts empty (a register holds null). Values are interned to small integers first, so a step
//! compares integers, never JSON.

use serde_json::Value;

use super::history::Call;
use crate::{Error, ErrorKind, Result};

/// The sequential models the checker knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    /// A read/write register.
    Register,
    /// A register with compare-and-set.
    CasRegister,
    /// A map of independent compare-and-set registers, checked key by key (P-compositionality).
    Kv,
    /// A grow-only set with reads of the whole set.
    Set,
    /// A FIFO queue.
    Queue,
}

impl ModelKind {
    /// Every model, in the order the docs list them.
    pub const ALL: &'static [ModelKind] = &[
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::Set,
        ModelKind::Queue,
    ];

    /// The model's name (`register`, `cas-register`, `kv`, `set`, `queue`).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::Set => "set",
            ModelKind::Queue => "queue",
        }
    }

    /// The model named `name`; an `InvalidArgument` error listing the known ones otherwise.
    pub fn parse(name: &str) -> Result<ModelKind> {
        ModelKind::ALL
            .iter()
            .copied()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown model \"{name}\" (expected one of: register, cas-register, kv, set, queue)"),
                )
                .with_field("model")
            })
    }

    fn fs(self) -> &'static str {
        match self {
            ModelKind::Register => "read, write",
            ModelKind::CasRegister | ModelKind::Kv => "read, write, cas",
            ModelKind::Set => "add, read",
            ModelKind::Queue => "enqueue, dequeue",
        }
    }
}

/// One operation as the model sees it, values interned (0 is null).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MOp {
    Read(u32),
    Write(u32),
    Cas(u32, u32),
    Add(u32),
    ReadSet(Box<[u32]>),
    Enqueue(u32),
    /// A dequeue that returned this element (0: the queue was empty).
    Dequeue(u32),
    /// A dequeue whose result is unknown.
    DequeueAny,
}

impl MOp {
    /// The same op when it is indeterminate: reads constrain nothing then and are dropped.
    pub(crate) fn indeterminate(&self) -> Option<MOp> {
        match self {
            MOp::Read(_) | MOp::ReadSet(_) => None,
            MOp::Dequeue(_) => Some(MOp::DequeueAny),
            other => Some(other.clone()),
        }
    }

    /// The value this op puts into the state, if any.
    pub(crate) fn produces(&self) -> Option<u32> {
        match self {
            MOp::Write(v) | MOp::Cas(_, v) | MOp::Add(v) | MOp::Enqueue(v) => Some(*v),
            _ => None,
        }
    }

    /// The values this op saw in the state (null never counts).
    pub(crate) fn observes(&self) -> Vec<u32> {
        let mut out = match self {
            MOp::Read(v) | MOp::Cas(v, _) | MOp::Dequeue(v) => vec![*v],
            MOp::ReadSet(s) => s.to_vec(),
            _ => Vec::new(),
        };
        out.retain(|v| *v != 0);
        out
    }
}

/// Values to small integers, in order of first appearance (so ids never depend on a hash).
#[derive(Debug)]
pub(crate) struct Interner {
    ids: hashbrown::HashMap<String, u32, foldhash::fast::FixedState>,
    values: Vec<Value>,
}

impl Interner {
    pub(crate) fn new() -> Self {
        Interner {
            ids: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0)),
            values: vec![Value::Null],
        }
    }

    pub(crate) fn id(&mut self, v: Option<&Value>) -> u32 {
        let v = match v {
            None | Some(Value::Null) => return 0,
            Some(v) => v,
        };
        let text = crate::canon::canonical_string(v).unwrap_or_else(|_| v.to_string());
        if let Some(&id) = self.ids.get(&text) {
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(text, id);
        self.values.push(v.clone());
        id
    }
}

/// A call of one partition, ready for the search.
#[derive(Debug, Clone)]
pub(crate) struct PCall {
    pub(crate) op: MOp,
    /// Invocation position (real-time order).
    pub(crate) invoke: usize,
    /// `ok` completion position; `None`: indeterminate, no return bound.
    pub(crate) complete: Option<usize>,
    /// Index into the history's calls.
    pub(crate) call: usize,
    /// The value as the model read it (the `v` of a `[k v]` tuple) and the result.
    pub(crate) value: Option<Value>,
    pub(crate) result: Option<Value>,
}

/// A partition: the calls on one key (or the whole history).
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    pub(crate) key: Option<Value>,
    pub(crate) calls: Vec<PCall>,
}

fn call_error(call: &Call, field: &str, message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
        .with_op_index(call.indices.0 as usize)
        .with_field(field)
}

fn pair(call: &Call, v: Option<&Value>, what: &str) -> Result<(u32, u32), Error> {
    Err(call_error(
        call,
        "value",
        format!("{what} must be a pair [old, new], got {}", show(v)),
    ))
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "nothing".to_string(), |v| v.to_string())
}

/// Split the calls into partitions and translate each to the model's ops.
pub(crate) fn partition(model: ModelKind, calls: &[Call]) -> Result<Vec<Partition>> {
    let mut interner = Interner::new();
    let mut parts: Vec<Partition> = Vec::new();
    let mut key_ids: hashbrown::HashMap<u32, usize, foldhash::fast::FixedState> =
        hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0));
    if model != ModelKind::Kv {
        parts.push(Partition {
            key: None,
            calls: Vec::new(),
        });
    }
    let mut keys = Interner::new();
    for (ci, call) in calls.iter().enumerate() {
        let (mut value, mut result) = (call.value.clone(), call.result.clone());
        let mut part = 0;
        if model == ModelKind::Kv {
            let key = match &call.key {
                Some(k) => k.clone(),
                None => match &value {
                    Some(Value::Array(kv)) if kv.len() == 2 => {
                        let k = kv[0].clone();
                        value = Some(kv[1].clone()).filter(|v| !v.is_null());
                        if let Some(Value::Array(r)) = &result {
                            if r.len() == 2 {
                                result = Some(r[1].clone());
                            }
                        }
                        k
                    }
                    _ => {
                        return Err(call_error(
                            call,
                            "key",
                            format!(
                                "the kv model needs a key: a `key` field or a value [key, value], got value {}",
                                show(value.as_ref())
                            ),
                        ))
                    }
                },
            };
            let kid = keys.id(Some(&key));
            part = *key_ids.entry(kid).or_insert_with(|| {
                parts.push(Partition {
                    key: Some(key.clone()),
                    calls: Vec::new(),
                });
                parts.len() - 1
            });
        }
        let done = call.complete.is_some();
        let arg = value.as_ref().or(result.as_ref());
        let op = match (model, call.f.as_str()) {
            (ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv, "read") => {
                if !done {
                    continue;
                }
                MOp::Read(interner.id(result.as_ref()))
            }
            (ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv, "write") => {
                if arg.is_none() {
                    return Err(call_error(call, "value", "a write needs a value".to_string()));
                }
                MOp::Write(interner.id(arg))
            }
            (ModelKind::CasRegister | ModelKind::Kv, "cas") => {
                let (old, new) = match arg {
                    Some(Value::Array(p)) if p.len() == 2 => (interner.id(Some(&p[0])), interner.id(Some(&p[1]))),
                    other => pair(call, other, "a cas value")?,
                };
                MOp::Cas(old, new)
            }
            (ModelKind::Set, "add") => {
                if arg.is_none() {
                    return Err(call_error(call, "value", "an add needs a value".to_string()));
                }
                MOp::Add(interner.id(arg))
            }
            (ModelKind::Set, "read") => {
                if !done {
                    continue;
                }
                let mut ids: Vec<u32> = match &result {
                    None => Vec::new(),
                    Some(Value::Array(items)) => items.iter().map(|v| interner.id(Some(v))).collect(),
                    Some(other) => {
                        return Err(call_error(
                            call,
                            "value",
                            format!("a set read's result must be an array, got {other}"),
                        ))
                    }
                };
                ids.sort_unstable();
                ids.dedup();
                MOp::ReadSet(ids.into_boxed_slice())
            }
            (ModelKind::Queue, "enqueue") => {
                if arg.is_none() {
                    return Err(call_error(call, "value", "an enqueue needs a value".to_string()));
                }
                MOp::Enqueue(interner.id(arg))
            }
            (ModelKind::Queue, "dequeue") => {
                if done {
                    MOp::Dequeue(interner.id(result.as_ref()))
                } else {
                    MOp::DequeueAny
                }
            }
            (m, f) => {
                return Err(call_error(
                    call,
                    "f",
                    format!(
                        "the {} model has no function \"{f}\" (expected one of: {})",
                        m.name(),
                        m.fs()
                    ),
                ))
            }
        };
        parts[part].calls.push(PCall {
            op,
            invoke: call.invoke,
            complete: call.complete,
            call: ci,
            value,
            result,
        });
    }
    Ok(parts)
}

/// A sequential specification: a state and how each op moves it (`None`: the op cannot happen here).
pub(crate) trait Model {
    type State: Clone + Eq + std::hash::Hash;
    fn init() -> Self::State;
    fn step(state: &Self::State, op: &MOp) -> Option<Self::State>;
}

/// Registers (plain, cas and each key of kv): the state is the value's id.
pub(crate) struct RegisterModel;

impl Model for RegisterModel {
    type State = u32;
    fn init() -> u32 {
        0
    }
    #[inline]
    fn step(s: &u32, op: &MOp) -> Option<u32> {
        match op {
            MOp::Read(v) => (*s == *v).then_some(*s),
            MOp::Write(v) => Some(*v),
            MOp::Cas(old, new) => (*s == *old).then_some(*new),
            _ => None,
        }
    }
}

/// Sets: the sorted ids of the elements added.
pub(crate) struct SetModel;

impl Model for SetModel {
    type State = Box<[u32]>;
    fn init() -> Box<[u32]> {
        Box::new([])
    }
    fn step(s: &Box<[u32]>, op: &MOp) -> Option<Box<[u32]>> {
        match op {
            MOp::Add(v) => match s.binary_search(v) {
                Ok(_) => Some(s.clone()),
                Err(at) => {
                    let mut next = Vec::with_capacity(s.len() + 1);
                    next.extend_from_slice(&s[..at]);
                    next.push(*v);
                    next.extend_from_slice(&s[at..]);
                    Some(next.into_boxed_slice())
                }
            },
            MOp::ReadSet(seen) => (**s == **seen).then(|| s.clone()),
            _ => None,
        }
    }
}

/// Queues: the ids of the elements, head first.
pub(crate) struct QueueModel;

impl Model for QueueModel {
    type State = Box<[u32]>;
    fn init() -> Box<[u32]> {
        Box::new([])
    }
    fn step(s: &Box<[u32]>, op: &MOp) -> Option<Box<[u32]>> {
        match op {
            MOp::Enqueue(v) => {
                let mut next = Vec::with_capacity(s.len() + 1);
                next.extend_from_slice(s);
                next.push(*v);
                Some(next.into_boxed_slice())
            }
            MOp::Dequeue(0) => s.is_empty().then(|| s.clone()),
            MOp::Dequeue(v) => (s.first() == Some(v)).then(|| s[1..].into()),
            MOp::DequeueAny => Some(if s.is_empty() { s.clone() } else { s[1..].into() }),
            _ => None,
        }
    }
}
