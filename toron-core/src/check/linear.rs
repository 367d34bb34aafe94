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

/// Is this history linearizable? `steps` counts model steps tried, across calls; past `budget` the answer is
/// [`Found::Unknown`].
pub(crate) fn search<M: Model>(calls: &[SCall<'_>], budget: u64, steps: &mut u64) -> Found {
    let n = calls.len();
    let must = calls.iter().filter(|c| c.complete.is_some()).count();
    if must == 0 {
        return Found::Linearizable;
    }
    // Events in time order: (time, is_return, call). A return at the same time as a call never happens (times
    // are distinct positions), but returns first would be the safe order.
    let mut events: Vec<(usize, bool, u32)> = Vec::with_capacity(n * 2);
    for (i, c) in calls.iter().enumerate() {
        events.push((c.invoke, true, i as u32));
        if let Some(t) = c.complete {
            events.push((t, false, i as u32));
        }
    }
    events.sort_unstable_by_key(|&(t, is_call, i)| (t, is_call, i));
    // Node 0 is the head sentinel.
    let mut nodes: Vec<Node> = Vec::with_capacity(events.len() + 1);
    nodes.push(Node {
        call: NIL,
        ret: NIL,
        is_call: false,
        prev: NIL,
        next: NIL,
    });
    let mut call_node = vec![NIL; n];
    for &(_, is_call, i) in &events {
        let id = nodes.len() as u32;
        let prev = id - 1;
        nodes[prev as usize].next = id;
        nodes.push(Node {
            call: i,
            ret: NIL,
            is_call,
            prev,
            next: NIL,
        });
        if is_call {
            call_node[i as usize] = id;
        } else {
            nodes[call_node[i as usize] as usize].ret = id;
        }
    }

    let words = n.div_ceil(64);
    let mut bits = vec![0u64; words];
    let mut zob = 0u64;
    let hasher = foldhash::fast::FixedState::with_seed(0x74_6f72_6f6e);
    let mut cache: hashbrown::HashTable<(u64, Box<[u64]>, M::State)> = hashbrown::HashTable::new();
    let hash_of = |zob: u64, state: &M::State| -> u64 {
        let mut h = hasher.build_hasher();
        zob.hash(&mut h);
        state.hash(&mut h);
        std::hash::Hasher::finish(&h)
    };
    let mut state = M::init();
    let mut stack: Vec<(u32, M::State)> = Vec::new();
    let mut done = 0usize;
    let mut entry = nodes[0].next;

    while entry != NIL {
        let node = &nodes[entry as usize];
        if node.is_call {
            let i = node.call as usize;
            *steps += 1;
            if *steps > budget {
                return Found::Unknown;
            }
            if let Some(next) = M::step(&state, calls[i].op) {
                bits[i / 64] |= 1 << (i % 64);
                let z = zob ^ zobrist(i);
                let h = hash_of(z, &next);
                let seen = cache
                    .find(h, |(cz, cb, cs)| *cz == z && **cb == *bits && *cs == next)
                    .is_some();
                if !seen {
                    cache.insert_unique(h, (z, bits.clone().into_boxed_slice(), next.clone()), |(cz, _, cs)| {
                        hash_of(*cz, cs)
                    });
                    zob = z;
                    stack.push((entry, std::mem::replace(&mut state, next)));
                    if calls[i].complete.is_some() {
                        done += 1;
                        if done == must {
                            return Found::Linearizable;
                        }
                    }
                    lift(&mut nodes, entry);
                    entry = nodes[0].next;
                    continue;
                }
                bits[i / 64] &= !(1 << (i % 64));
            }
            entry = nodes[entry as usize].next;
        } else {
            // A return whose call is not linearized: undo the last choice and try the next call after it.
            let Some((call_entry, prev)) = stack.pop() else {
                return Found::NotLinearizable;
            };
            let i = nodes[call_entry as usize].call as usize;
            bits[i / 64] &= !(1 << (i % 64));
            zob ^= zobrist(i);
            if calls[i].complete.is_some() {
                done -= 1;
            }
            state = prev;
            unlift(&mut nodes, call_entry);
            entry = nodes[call_entry as usize].next;
        }
    }
    // Only indeterminate calls were left and none could be applied: with no return left to reach, the
    // completed calls were all linearized above. Reaching here means a return was never met, which cannot be.
    Found::NotLinearizable
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
