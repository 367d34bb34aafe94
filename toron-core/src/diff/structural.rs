//! The structural diff engine: walks two values and records RFC 6902 operations.
//!
//! Objects are compared member by member. Arrays are aligned by a sequence diff (Myers, from `similar`) over
//! element identities (a 128-bit blake3 hash of each element, computed once per array), or by a key member
//! for keyed arrays; aligned pairs that differ are compared recursively, the rest become `remove`, `move`
//! and `add` operations whose indices account for the operations before them.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value};
use similar::{Algorithm, DiffOp};

use super::options::{Action, Rules, Tolerance};
use super::pointer::push_pointer_token;
use super::value::{num_key, NumKey};
use super::{Op, OpKind, REDACTED};

pub(crate) struct Engine<'r> {
    rules: &'r Rules,
    budget: Option<u64>,
    pub(crate) steps: u64,
    pub(crate) coarse: bool,
    pub(crate) ops: Vec<Op>,
    path: String,
    buf: Vec<u8>,
}

/// What the options say about one node.
struct Here<'a> {
    ignore: bool,
    redact: bool,
    key: Option<&'a str>,
    tolerance: Option<Tolerance>,
}

impl<'r> Engine<'r> {
    pub(crate) fn new(rules: &'r Rules, budget: Option<u64>) -> Self {
        Engine {
            rules,
            budget,
            steps: 0,
            coarse: false,
            ops: Vec::new(),
            path: String::new(),
            buf: Vec::new(),
        }
    }

    fn here(&self, live: &[u32], depth: usize, inherited: Option<Tolerance>) -> Here<'r> {
        let mut h = Here {
            ignore: false,
            redact: false,
            key: None,
            tolerance: inherited,
        };
        if live.is_empty() {
            return h;
        }
        let rules: &'r Rules = self.rules;
        for action in rules.here(live, depth) {
            match action {
                Action::Ignore => h.ignore = true,
                Action::Redact => h.redact = true,
                Action::Key(k) => h.key = h.key.or(Some(k.as_str())),
                Action::Tolerance(t) => h.tolerance = Some(*t),
            }
        }
        h
    }

    fn over_budget(&self) -> bool {
        self.budget.is_some_and(|b| self.steps > b)
    }

    fn push(&mut self, kind: OpKind, from: Option<String>, value: Option<Value>, old: Option<Value>) {
        self.ops.push(Op {
            kind,
            path: self.path.clone(),
            from,
            value,
            old,
        });
    }

    /// A copy of `v` with every redacted path below it replaced by the marker.
    fn shown(&self, v: &Value, live: &[u32], depth: usize) -> Value {
        if !self.rules.has_redact || live.is_empty() {
            return v.clone();
        }
        if self.rules.here(live, depth).any(|a| matches!(a, Action::Redact)) {
            return Value::String(REDACTED.to_string());
        }
        match v {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.shown(x, &self.rules.step_index(live, depth, i), depth + 1))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, x)| (k.clone(), self.shown(x, &self.rules.step(live, depth, k), depth + 1)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// `v` with redacted paths replaced by the marker (for storing redacted values).
    pub(crate) fn redacted(&self, v: &Value, live: &[u32]) -> Value {
        self.shown(v, live, 0)
    }

    fn replace(&mut self, old: &Value, new: &Value, live: &[u32], depth: usize) {
        let value = self.shown(new, live, depth);
        let old = self.shown(old, live, depth);
        self.push(OpKind::Replace, None, Some(value), Some(old));
    }

    /// Compare `old` and `new` at the current path.
    pub(crate) fn node(&mut self, old: &Value, new: &Value, live: &[u32], depth: usize, tol: Option<Tolerance>) {
        self.steps += 1;
        let here = self.here(live, depth, tol);
        if here.ignore || here.redact {
            return;
        }
        if self.over_budget() {
            if !self.equivalent(old, new, live, depth, here.tolerance) {
                self.coarse = true;
                self.replace(old, new, live, depth);
            }
            return;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => self.object(a, b, live, depth, here.tolerance),
            (Value::Array(a), Value::Array(b)) => self.array(a, b, live, depth, here.tolerance, here.key),
            _ => {
                if !scalar_equal(old, new, here.tolerance) {
                    self.replace(old, new, live, depth);
                }
            }
        }
    }

    /// Equality under the options, without alignment (used past the budget).
    fn equivalent(&self, old: &Value, new: &Value, live: &[u32], depth: usize, tol: Option<Tolerance>) -> bool {
        let here = self.here(live, depth, tol);
        if here.ignore || here.redact {
            return true;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => merge(a, b).all(|(k, x, y)| match (x, y) {
                (Some(x), Some(y)) => {
                    self.equivalent(x, y, &self.rules.step(live, depth, k), depth + 1, here.tolerance)
                }
                _ => self.child_ignored(live, depth, k),
            }),
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).enumerate().all(|(i, (x, y))| {
                        self.equivalent(x, y, &self.rules.step_index(live, depth, i), depth + 1, here.tolerance)
                    })
            }
            _ => scalar_equal(old, new, here.tolerance),
        }
    }

    fn child_ignored(&self, live: &[u32], depth: usize, key: &str) -> bool {
        if live.is_empty() {
            return false;
        }
        let child = self.rules.step(live, depth, key);
        let ignored = self.rules.here(&child, depth + 1).any(|a| matches!(a, Action::Ignore));
        ignored
    }

    fn object(
        &mut self,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        live: &[u32],
        depth: usize,
        tol: Option<Tolerance>,
    ) {
        let base = self.path.len();
        for (key, a, b) in merge(old, new) {
            push_pointer_token(&mut self.path, key);
            let child = self.rules.step(live, depth, key);
            match (a, b) {
                (Some(a), Some(b)) => self.node(a, b, &child, depth + 1, tol),
                (Some(a), None) => {
                    self.steps += 1;
                    if !self.ignored(&child, depth + 1) {
                        let old = self.shown(a, &child, depth + 1);
                        self.push(OpKind::Remove, None, None, Some(old));
                    }
                }
                (None, Some(b)) => {
                    self.steps += 1;
                    if !self.ignored(&child, depth + 1) {
                        let value = self.shown(b, &child, depth + 1);
                        self.push(OpKind::Add, None, Some(value), None);
                    }
                }
                (None, None) => {}
            }
            self.path.truncate(base);
        }
    }

    fn ignored(&self, live: &[u32], depth: usize) -> bool {
        !live.is_empty() && self.rules.here(live, depth).any(|a| matches!(a, Action::Ignore))
    }

    /// 128-bit identity of an element under the options (ignored parts left out, redacted ones as the marker).
    fn identity(&mut self, v: &Value, live: &[u32], depth: usize, prefix: u8) -> u128 {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.push(prefix);
        encode(self.rules, &mut buf, v, live, depth);
        let hash = blake3::hash(&buf);
        self.buf = buf;
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash.as_bytes()[..16]);
        u128::from_le_bytes(first)
    }

    fn array(
        &mut self,
        old: &[Value],
        new: &[Value],
        live: &[u32],
        depth: usize,
        tol: Option<Tolerance>,
        key: Option<&str>,
    ) {
        self.steps += (old.len() + new.len()) as u64;
        let old_live: Vec<Vec<u32>> = (0..old.len()).map(|i| self.rules.step_index(live, depth, i)).collect();
        let new_live: Vec<Vec<u32>> = (0..new.len()).map(|j| self.rules.step_index(live, depth, j)).collect();

        // pairs: (old index, new index, whether the elements are known to be identical)
        let mut pairs: Vec<(usize, usize, bool)> = Vec::new();
        if let Some(field) = key {
            let key_of = |engine: &mut Self, v: &Value, l: &[u32]| match v.as_object().and_then(|m| m.get(field)) {
                Some(k) => {
                    let child = engine.rules.step(l, depth + 1, field);
                    engine.identity(k, &child, depth + 2, b'K')
                }
                None => engine.identity(v, l, depth + 1, b'V'),
            };
            let mut by_key: BTreeMap<u128, VecDeque<usize>> = BTreeMap::new();
            for (i, v) in old.iter().enumerate() {
                let k = key_of(self, v, &old_live[i]);
                by_key.entry(k).or_default().push_back(i);
            }
            for (j, v) in new.iter().enumerate() {
                let k = key_of(self, v, &new_live[j]);
                if let Some(i) = by_key.get_mut(&k).and_then(VecDeque::pop_front) {
                    pairs.push((i, j, false));
                }
            }
        } else {
            let old_ids: Vec<u128> = old
                .iter()
                .enumerate()
                .map(|(i, v)| self.identity(v, &old_live[i], depth + 1, 0))
                .collect();
            let new_ids: Vec<u128> = new
                .iter()
                .enumerate()
                .map(|(j, v)| self.identity(v, &new_live[j], depth + 1, 0))
                .collect();
            let ops = similar::capture_diff_slices(Algorithm::Myers, &old_ids, &new_ids);
            let mut segments = Vec::new();
            let mut loose_old: BTreeMap<u128, VecDeque<usize>> = BTreeMap::new();
            let mut loose_new = Vec::new();
            for op in &ops {
                match *op {
                    DiffOp::Equal {
                        old_index,
                        new_index,
                        len,
                    } => {
                        pairs.extend((0..len).map(|k| (old_index + k, new_index + k, true)));
                    }
                    DiffOp::Delete { old_index, old_len, .. } => {
                        for (i, id) in old_ids.iter().enumerate().skip(old_index).take(old_len) {
                            loose_old.entry(*id).or_default().push_back(i);
                        }
                    }
                    DiffOp::Insert { new_index, new_len, .. } => loose_new.extend(new_index..new_index + new_len),
                    DiffOp::Replace {
                        old_index,
                        old_len,
                        new_index,
                        new_len,
                    } => {
                        for (i, id) in old_ids.iter().enumerate().skip(old_index).take(old_len) {
                            loose_old.entry(*id).or_default().push_back(i);
                        }
                        loose_new.extend(new_index..new_index + new_len);
                        segments.push((old_index..old_index + old_len, new_index..new_index + new_len));
                    }
                }
            }
            // Elements that left one place and reappear in another are moves.
            let mut old_taken = vec![false; old.len()];
            let mut new_taken = vec![false; new.len()];
            for &j in &loose_new {
                if let Some(i) = loose_old.get_mut(&new_ids[j]).and_then(VecDeque::pop_front) {
                    pairs.push((i, j, true));
                    old_taken[i] = true;
                    new_taken[j] = true;
                }
            }
            // What is left of a replaced segment is compared in place, in order. When more came than went (or
            // the reverse), each old element pairs with the first of the next few new ones that resembles it
            // (records sharing at least half their members; anything else pairs freely), so an insertion next
            // to a changed record stays one `add` and one `replace`.
            for (olds, news) in segments {
                let left_new: Vec<usize> = news.filter(|&j| !new_taken[j]).collect();
                let left_old: Vec<usize> = olds.filter(|&i| !old_taken[i]).collect();
                if left_old.len() == left_new.len() {
                    // As many went as came: a replacement, position by position.
                    pairs.extend(left_old.into_iter().zip(left_new).map(|(i, j)| (i, j, false)));
                    continue;
                }
                let mut cursor = 0;
                for i in left_old {
                    let window = left_new[cursor.min(left_new.len())..].iter().take(PAIR_WINDOW);
                    self.steps += PAIR_WINDOW as u64;
                    if let Some(pos) = window.clone().position(|&j| resembles(&old[i], &new[j])) {
                        pairs.push((i, left_new[cursor + pos], false));
                        cursor += pos + 1;
                    }
                }
            }
        }
        self.emit_array(old, new, live, depth, tol, pairs, &new_live);
    }

    #[allow(clippy::too_many_arguments, reason = "the array walk's whole state, passed once")]
    fn emit_array(
        &mut self,
        old: &[Value],
        new: &[Value],
        live: &[u32],
        depth: usize,
        tol: Option<Tolerance>,
        mut pairs: Vec<(usize, usize, bool)>,
        new_live: &[Vec<u32>],
    ) {
        let base = self.path.len();
        let mut old_to_new: Vec<Option<usize>> = vec![None; old.len()];
        let mut new_matched = vec![false; new.len()];
        for &(i, j, _) in &pairs {
            old_to_new[i] = Some(j);
            new_matched[j] = true;
        }
        // Kept elements outside a longest increasing run (in old order, by new index) have to move.
        let kept: Vec<usize> = old_to_new.iter().flatten().copied().collect();
        let mut ranks: Vec<usize> = kept.clone();
        ranks.sort_unstable();
        let rank_of = |j: usize| ranks.binary_search(&j).unwrap_or(0);
        let stay = longest_increasing(&kept.iter().map(|&j| rank_of(j)).collect::<Vec<_>>());
        let mut stays = vec![false; kept.len()];
        for &r in &stay {
            stays[r] = true;
        }
        let moves = kept.len() - stay.len();
        // Each move costs a scan of the array; past a fixed amount of work (or the budget), the elements that
        // would move are removed and added instead: more operations, same result, linear work.
        if moves > 0 && (moves.saturating_mul(kept.len()) > MOVE_WORK || self.over_budget()) {
            self.coarse |= self.over_budget();
            pairs.retain(|&(i, j, _)| {
                let keep = stays[rank_of(j)];
                if !keep {
                    old_to_new[i] = None;
                    new_matched[j] = false;
                }
                keep
            });
        }
        // 1. Remove what is not kept, from the end so that each index is still the original one.
        for i in (0..old.len()).rev() {
            if old_to_new[i].is_none() {
                self.steps += 1;
                self.path.push('/');
                self.path.push_str(&i.to_string());
                let l = self.rules.step_index(live, depth, i);
                let shown = self.shown(&old[i], &l, depth + 1);
                self.push(OpKind::Remove, None, None, Some(shown));
                self.path.truncate(base);
            }
        }
        // 2. Reorder what is kept: in target order, each element outside the run moves to just after its
        //    predecessor.
        let current: Vec<usize> = old_to_new.iter().flatten().copied().collect();
        let mut ranks: Vec<usize> = current.clone();
        ranks.sort_unstable();
        let mut cur_ranks: Vec<usize> = current.iter().map(|j| ranks.binary_search(j).unwrap_or(0)).collect();
        let mut stays = vec![false; cur_ranks.len()];
        for r in longest_increasing(&cur_ranks) {
            stays[r] = true;
        }
        for (r, &stay) in stays.iter().enumerate() {
            if stay {
                continue;
            }
            self.steps += cur_ranks.len() as u64;
            let Some(q) = cur_ranks.iter().position(|&x| x == r) else {
                continue;
            };
            cur_ranks.remove(q);
            let p = if r == 0 {
                0
            } else {
                cur_ranks.iter().position(|&x| x == r - 1).map_or(0, |x| x + 1)
            };
            cur_ranks.insert(p, r);
            if p != q {
                let mut from = self.path.clone();
                from.push('/');
                from.push_str(&q.to_string());
                self.path.push('/');
                self.path.push_str(&p.to_string());
                self.push(OpKind::Move, Some(from), None, None);
                self.path.truncate(base);
            }
        }
        // 3. Add what is new, in ascending order: everything before each index is then in place.
        for (j, v) in new.iter().enumerate() {
            if !new_matched[j] {
                self.steps += 1;
                self.path.push('/');
                self.path.push_str(&j.to_string());
                let shown = self.shown(v, &new_live[j], depth + 1);
                self.push(OpKind::Add, None, Some(shown), None);
                self.path.truncate(base);
            }
        }
        // 4. Compare the kept pairs at their final indices.
        pairs.sort_unstable_by_key(|&(_, j, _)| j);
        for (i, j, same) in pairs {
            if same {
                continue;
            }
            self.path.push('/');
            self.path.push_str(&j.to_string());
            self.node(&old[i], &new[j], &new_live[j], depth + 1, tol);
            self.path.truncate(base);
        }
    }
}

/// The members of two objects side by side, in key order: (key, old value, new value).
fn merge<'a>(
    a: &'a Map<String, Value>,
    b: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'a String, Option<&'a Value>, Option<&'a Value>)> {
    let mut ia = a.iter().peekable();
    let mut ib = b.iter().peekable();
    std::iter::from_fn(move || match (ia.peek(), ib.peek()) {
        (None, None) => None,
        (Some((ka, _)), Some((kb, _))) if ka == kb => {
            let (k, x) = ia.next()?;
            let (_, y) = ib.next()?;
            Some((k, Some(x), Some(y)))
        }
        (Some((ka, _)), Some((kb, _))) if ka > kb => ib.next().map(|(k, y)| (k, None, Some(y))),
        (Some(_), _) => ia.next().map(|(k, x)| (k, Some(x), None)),
        (None, Some(_)) => ib.next().map(|(k, y)| (k, None, Some(y))),
    })
}

/// How much scanning (moves x kept elements) an array's moves may cost before they become removes and adds.
const MOVE_WORK: usize = 20_000_000;

/// How many following new elements a leftover old element may pair with.
const PAIR_WINDOW: usize = 8;

/// Whether two array elements are alike enough to be compared in place rather than removed and added:
/// objects when at least half of their members are equal; anything else always.
fn resembles(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let most = x.len().max(y.len());
            let same = x
                .iter()
                .filter(|(k, v)| y.get(*k).is_some_and(|w| super::values_equal(v, w)))
                .count();
            most == 0 || 2 * same >= most
        }
        _ => true,
    }
}

fn scalar_equal(a: &Value, b: &Value, tol: Option<Tolerance>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => {
            num_key(x) == num_key(y)
                || tol.is_some_and(|t| t.accepts(x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0)))
        }
        _ => false,
    }
}

/// Positions (into `seq`, whose values are distinct) of the values of one longest strictly increasing
/// subsequence, returned as the values themselves.
fn longest_increasing(seq: &[usize]) -> Vec<usize> {
    let mut tails: Vec<usize> = Vec::new(); // index into seq of the smallest tail of each length
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &x) in seq.iter().enumerate() {
        let len = tails.partition_point(|&t| seq[t] < x);
        prev[i] = len.checked_sub(1).map(|l| tails[l]);
        if len == tails.len() {
            tails.push(i);
        } else {
            tails[len] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        out.push(seq[i]);
        cur = prev[i];
    }
    out.reverse();
    out
}

/// A compact, unambiguous encoding of a value for hashing: numbers by value, objects in key order.
fn encode(rules: &Rules, buf: &mut Vec<u8>, v: &Value, live: &[u32], depth: usize) {
    if !live.is_empty() {
        for a in rules.here(live, depth) {
            match a {
                Action::Ignore => {
                    buf.push(b'I');
                    return;
                }
                Action::Redact => {
                    buf.push(b'R');
                    return;
                }
                _ => {}
            }
        }
    }
    match v {
        Value::Null => buf.push(b'n'),
        Value::Bool(true) => buf.push(b't'),
        Value::Bool(false) => buf.push(b'f'),
        Value::Number(n) => match num_key(n) {
            NumKey::Int(i) => {
                buf.push(b'i');
                buf.extend_from_slice(&i.to_le_bytes());
            }
            NumKey::Float(bits) => {
                buf.push(b'd');
                buf.extend_from_slice(&bits.to_le_bytes());
            }
        },
        Value::String(s) => {
            buf.push(b's');
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            buf.push(b'[');
            buf.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for (i, x) in items.iter().enumerate() {
                if live.is_empty() {
                    encode(rules, buf, x, live, depth + 1);
                } else {
                    encode(rules, buf, x, &rules.step_index(live, depth, i), depth + 1);
                }
            }
        }
        Value::Object(map) => {
            buf.push(b'{');
            buf.extend_from_slice(&(map.len() as u64).to_le_bytes());
            for (k, x) in map {
                buf.extend_from_slice(&(k.len() as u64).to_le_bytes());
                buf.extend_from_slice(k.as_bytes());
                if live.is_empty() {
                    encode(rules, buf, x, live, depth + 1);
                } else {
                    encode(rules, buf, x, &rules.step(live, depth, k), depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::longest_increasing;

    #[test]
    fn lis() {
        assert_eq!(longest_increasing(&[3, 0, 1, 4, 2]), [0, 1, 2]);
        assert_eq!(longest_increasing(&[]), Vec::<usize>::new());
        assert_eq!(longest_increasing(&[2, 1, 0]).len(), 1);
    }
}
