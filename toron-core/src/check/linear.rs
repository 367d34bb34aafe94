//! The Wing & Gong / Lowe search (WGL), as Porcupine implements it, with P-compositionality done by the caller.
//!
//! Calls and returns sit in one doubly linked list in real-time order. The search walks it: at a call, it tries
//! to linearize that op now (the model accepts it, and the pair (set of linearized ops, model state) was never
//! seen before — the memoisation that makes WGL fast); at a return whose call is not linearized yet, it
//! backtracks to the last choice. An indeterminate call has no return entry: it may be linearized at any point
//! after its invocation or never, so the history is linearizable once every completed call is.
//!
//! The memo table is keyed by an incremental (Zobrist) hash of the linearized set and the state's hash, and
//! compares the full bitset, so a collision can cost time but never a verdict. Nothing is iterated in hash
//! order: the verdict and the counterexample depend only on the input.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};

use super::models::{MOp, Model};

/// What one search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Linearizable,
    NotLinearizable,
    /// The step budget ran out first.
    Unknown,
}

const NIL: u32 = u32::MAX;

struct Node {
    /// The call (index into `ops`).
    call: u32,
    /// For a call node, its return node (NIL when indeterminate).
    ret: u32,
    is_call: bool,
    prev: u32,
    next: u32,
}

fn zobrist(i: usize) -> u64 {
    // splitmix64 of the index: distinct, well-mixed, and fixed.
    let mut z = (i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One call for the search: the op, its invocation time and its return time (`None`: no return bound).
pub(crate) struct SCall<'a> {
    pub(crate) op: &'a MOp,
    pub(crate) invoke: usize,
    pub(crate) complete: Option<usize>,
}

/// Where the walk is: in the list of completed calls and returns, or in the list of indeterminate calls
/// (tried only once the first list is stuck at a return, and only those invoked before that return).
#[derive(Clone, Copy)]
enum Cursor {
    Main(u32),
    Info(u32),
}

/// What bounds one search: the step budget, and a cancel flag (Ctrl-C) looked at every [`CANCEL_EVERY`] steps.
#[derive(Clone, Copy)]
pub(crate) struct Limit<'a> {
    pub(crate) budget: u64,
    pub(crate) cancel: Option<&'a AtomicBool>,
}

/// How many steps pass between two looks at the cancel flag: a few microseconds of search.
const CANCEL_EVERY: u64 = 1 << 12;

impl Limit<'_> {
    /// Past the budget, or cancelled: the search stops with [`Found::Unknown`] (the caller tells the two apart).
    fn reached(&self, steps: u64) -> bool {
        steps > self.budget
            || (steps.is_multiple_of(CANCEL_EVERY) && self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)))
    }
}

/// Is this history linearizable? `steps` counts model steps tried, across calls; past the budget (or once
/// cancelled) the answer is [`Found::Unknown`].
///
/// Indeterminate calls are kept apart: at each point the search first tries the completed calls, and an
/// indeterminate one only when no completed call fits before the next return. The memo is keyed by the
/// completed calls linearized and the state; a configuration is skipped when one with the same completed
/// calls and state, and a *subset* of its indeterminate calls, was explored already (having applied fewer of
/// them leaves every option open: any way on from the bigger set is a way on from the smaller one).
pub(crate) fn search<M: Model>(calls: &[SCall<'_>], limit: Limit<'_>, steps: &mut u64) -> Found {
    let n = calls.len();
    let must = calls.iter().filter(|c| c.complete.is_some()).count();
    if must == 0 {
        return Found::Linearizable;
    }
    // Completed calls: call and return events in time order (a return first at an equal time, which
    // distinct positions never give). Indeterminate calls: their call events, in invocation order.
    let mut events: Vec<(usize, bool, u32)> = Vec::with_capacity(n * 2);
    let mut infos: Vec<(usize, u32)> = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        match c.complete {
            Some(t) => {
                events.push((c.invoke, true, i as u32));
                events.push((t, false, i as u32));
            }
            None => infos.push((c.invoke, i as u32)),
        }
    }
    events.sort_unstable_by_key(|&(t, is_call, i)| (t, is_call, i));
    infos.sort_unstable();
    // Node 0 heads the main list, node 1 the list of indeterminate calls.
    let mut nodes: Vec<Node> = Vec::with_capacity(events.len() + infos.len() + 2);
    nodes.push(Node {
        call: NIL,
        ret: NIL,
        is_call: false,
        prev: NIL,
        next: NIL,
    });
    nodes.push(Node {
        call: NIL,
        ret: NIL,
        is_call: false,
        prev: NIL,
        next: NIL,
    });
    let mut call_node = vec![NIL; n];
    let mut time = vec![0usize; events.len() + infos.len() + 2];
    let mut prev = 0u32;
    for &(t, is_call, i) in &events {
        let id = nodes.len() as u32;
        nodes[prev as usize].next = id;
        nodes.push(Node {
            call: i,
            ret: NIL,
            is_call,
            prev,
            next: NIL,
        });
        time[id as usize] = t;
        if is_call {
            call_node[i as usize] = id;
        } else {
            nodes[call_node[i as usize] as usize].ret = id;
        }
        prev = id;
    }
    let mut prev = 1u32;
    for &(t, i) in &infos {
        let id = nodes.len() as u32;
        nodes[prev as usize].next = id;
        nodes.push(Node {
            call: i,
            ret: NIL,
            is_call: true,
            prev,
            next: NIL,
        });
        time[id as usize] = t;
        prev = id;
    }

    // Bit positions: completed calls and indeterminate calls numbered apart, so both sets stay small.
    let mut slot = vec![0usize; n];
    let (mut nd, mut ni) = (0usize, 0usize);
    for (i, c) in calls.iter().enumerate() {
        if c.complete.is_some() {
            slot[i] = nd;
            nd += 1;
        } else {
            slot[i] = ni;
            ni += 1;
        }
    }
    let mut done_bits = vec![0u64; nd.div_ceil(64)];
    let mut info_bits = vec![0u64; ni.div_ceil(64).max(1)];
    let mut zob = 0u64;
    let hasher = foldhash::fast::FixedState::with_seed(0x74_6f72_6f6e);
    // Per (completed calls, state): the minimal sets of indeterminate calls it was reached with.
    type Entry<S> = (u64, Box<[u64]>, S, Vec<Box<[u64]>>);
    let mut cache: hashbrown::HashTable<Entry<M::State>> = hashbrown::HashTable::new();
    let hash_of = |zob: u64, state: &M::State| -> u64 {
        let mut h = hasher.build_hasher();
        zob.hash(&mut h);
        state.hash(&mut h);
        std::hash::Hasher::finish(&h)
    };
    let subset = |a: &[u64], b: &[u64]| a.iter().zip(b).all(|(x, y)| x & !y == 0);
    let mut state = M::init();
    // (the node applied, the state before it, for an indeterminate call the return bound it was tried under)
    let mut stack: Vec<(u32, M::State, usize)> = Vec::new();
    let mut done = 0usize;
    let mut cursor = Cursor::Main(nodes[0].next);
    // The time of the return the main list is stuck at, while the walk is in the indeterminate calls.
    let mut bound = 0usize;

    loop {
        let (entry, info) = match cursor {
            Cursor::Main(e) => {
                if nodes[e as usize].is_call {
                    (e, false)
                } else {
                    // Stuck at a return: try the indeterminate calls invoked before it.
                    bound = time[e as usize];
                    cursor = Cursor::Info(nodes[1].next);
                    continue;
                }
            }
            Cursor::Info(e) => {
                if e != NIL && time[e as usize] < bound {
                    (e, true)
                } else {
                    // Nothing fits: undo the last choice and try the next one after it.
                    let Some((back, prev_state, back_bound)) = stack.pop() else {
                        return Found::NotLinearizable;
                    };
                    let i = nodes[back as usize].call as usize;
                    state = prev_state;
                    let b = slot[i];
                    if calls[i].complete.is_some() {
                        done_bits[b / 64] &= !(1 << (b % 64));
                        zob ^= zobrist(i);
                        done -= 1;
                        unlift(&mut nodes, back);
                        cursor = Cursor::Main(nodes[back as usize].next);
                    } else {
                        info_bits[b / 64] &= !(1 << (b % 64));
                        relink(&mut nodes, back);
                        bound = back_bound;
                        cursor = Cursor::Info(nodes[back as usize].next);
                    }
                    continue;
                }
            }
        };
        let i = nodes[entry as usize].call as usize;
        *steps += 1;
        if limit.reached(*steps) {
            return Found::Unknown;
        }
        let next_cursor = |nodes: &[Node]| {
            if info {
                Cursor::Info(nodes[entry as usize].next)
            } else {
                Cursor::Main(nodes[entry as usize].next)
            }
        };
        let Some(next) = M::step(&state, calls[i].op) else {
            cursor = next_cursor(&nodes);
            continue;
        };
        let z = if info { zob } else { zob ^ zobrist(i) };
        let b = slot[i];
        let bits = if info { &mut info_bits } else { &mut done_bits };
        bits[b / 64] |= 1 << (b % 64);
        let h = hash_of(z, &next);
        let mut seen = false;
        match cache.find_mut(h, |(cz, cd, cs, _)| *cz == z && **cd == *done_bits && *cs == next) {
            Some((_, _, _, sets)) => {
                // The scan is work too: it counts against the budget.
                *steps += sets.len() as u64 / 4;
                if sets.iter().any(|set| subset(set, &info_bits)) {
                    seen = true;
                } else {
                    sets.retain(|set| !subset(&info_bits, set));
                    sets.push(info_bits.clone().into_boxed_slice());
                }
            }
            None => {
                cache.insert_unique(
                    h,
                    (
                        z,
                        done_bits.clone().into_boxed_slice(),
                        next.clone(),
                        vec![info_bits.clone().into_boxed_slice()],
                    ),
                    |(cz, _, cs, _)| hash_of(*cz, cs),
                );
            }
        }
        if seen {
            let bits = if info { &mut info_bits } else { &mut done_bits };
            bits[b / 64] &= !(1 << (b % 64));
            cursor = next_cursor(&nodes);
            continue;
        }
        stack.push((entry, std::mem::replace(&mut state, next), bound));
        if info {
            unlink(&mut nodes, entry);
        } else {
            zob = z;
            done += 1;
            if done == must {
                return Found::Linearizable;
            }
            lift(&mut nodes, entry);
        }
        cursor = Cursor::Main(nodes[0].next);
    }
}

fn unlink(nodes: &mut [Node], id: u32) {
    let (prev, next) = (nodes[id as usize].prev, nodes[id as usize].next);
    nodes[prev as usize].next = next;
    if next != NIL {
        nodes[next as usize].prev = prev;
    }
}

fn relink(nodes: &mut [Node], id: u32) {
    let (prev, next) = (nodes[id as usize].prev, nodes[id as usize].next);
    nodes[prev as usize].next = id;
    if next != NIL {
        nodes[next as usize].prev = id;
    }
}

fn lift(nodes: &mut [Node], call: u32) {
    unlink(nodes, call);
    let ret = nodes[call as usize].ret;
    if ret != NIL {
        unlink(nodes, ret);
    }
}

fn unlift(nodes: &mut [Node], call: u32) {
    let ret = nodes[call as usize].ret;
    if ret != NIL {
        relink(nodes, ret);
    }
    relink(nodes, call);
}
