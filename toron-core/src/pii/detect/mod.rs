//! The detectors: one per kind, each a pattern that finds candidates and a check that throws look-alikes
//! out, plus the key-context detector ([`keyed`]) and the PEM block finder ([`pem`]). Candidates of all
//! detectors are then resolved into non-overlapping findings ([`resolve`]).
//!
//! Patterns run on bytes with ASCII classes (`regex::bytes`, Unicode off): linear time on any input, and
//! text that is not UTF-8 (a stream) is scanned as it is. Word boundaries are checked in code, not in the
//! patterns, so that a `\n` escape before a value counts as a boundary (`"a\nbob@example.com"`).

mod keyed;
mod patterns;
pub(crate) mod pem;

pub(crate) use keyed::{check_value, classify, KeyClass};

use super::Kind;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::BTreeMap;

/// A candidate finding: `kind` at `start..end`, whose evidence (a key before the value) starts at `ctx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) ctx: usize,
}

/// A word byte (ASCII letter, digit or `_`).
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// True when the two bytes before `i` are a `\n`, `\r` or `\t` escape.
pub(crate) fn escape_before(text: &[u8], i: usize) -> bool {
    i >= 2 && text[i - 2] == b'\\' && matches!(text[i - 1], b'n' | b'r' | b't')
}

/// The byte before `i`, or a space at the start (or after an escape).
pub(crate) fn before(text: &[u8], i: usize) -> u8 {
    if i == 0 || escape_before(text, i) {
        b' '
    } else {
        text[i - 1]
    }
}

/// The byte at `i`, or a space past the end.
pub(crate) fn at(text: &[u8], i: usize) -> u8 {
    text.get(i).copied().unwrap_or(b' ')
}

/// Every detector of a policy, compiled once.
pub(crate) struct Detectors {
    kinds: Vec<Kind>,
    patterns: patterns::Patterns,
    keywords: AhoCorasick,
}

impl Detectors {
    pub(crate) fn new(kinds: &[Kind]) -> Detectors {
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(keyed::KEYWORDS)
            .expect("the keyword automaton is small and fixed");
        Detectors {
            kinds: kinds.to_vec(),
            patterns: patterns::Patterns::new(kinds),
            keywords,
        }
    }

    fn wants(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    /// All candidates of `text`, unresolved. Returns the start of an unterminated private key block.
    pub(crate) fn candidates(&self, text: &[u8], out: &mut Vec<Candidate>) -> Option<usize> {
        let mut open = None;
        if self.wants(Kind::PrivateKey) {
            open = pem::find(text, out);
        }
        self.patterns.find(text, out);
        let keyed_kinds = [Kind::Token, Kind::Ssn, Kind::Card, Kind::Phone];
        if keyed_kinds.iter().any(|k| self.wants(*k)) {
            let mut from = 0;
            while from < text.len() {
                let Some(m) = self.keywords.find(&text[from..]) else {
                    break;
                };
                let (s, e) = (from + m.start(), from + m.end());
                let next = keyed::in_text(text, s, e, out);
                from = next.max(e);
            }
        }
        out.retain(|c| self.wants(c.kind));
        open
    }
}

/// Choose non-overlapping candidates: the longest first, then the most specific kind
/// ([`Kind::specificity`]), then the earliest; the result sorted by position. Deterministic: the order of
/// the input does not matter.
pub(crate) fn resolve(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    cands.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.kind.specificity().cmp(&a.kind.specificity()))
            .then(a.start.cmp(&b.start))
            .then(a.kind.cmp(&b.kind))
            .then(a.ctx.cmp(&b.ctx))
    });
    // Chosen intervals by start.
    let mut chosen: BTreeMap<usize, Candidate> = BTreeMap::new();
    for c in cands {
        if c.end <= c.start {
            continue;
        }
        let clash_before = chosen.range(..c.end).next_back().is_some_and(|(_, p)| p.end > c.start);
        if !clash_before {
            chosen.insert(c.start, c);
        }
    }
    chosen.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(kind: Kind, start: usize, end: usize) -> Candidate {
        Candidate {
            kind,
            start,
            end,
            ctx: start,
        }
    }

    #[test]
    fn longest_then_most_specific_wins() {
        let r = resolve(vec![c(Kind::Ipv4, 5, 12), c(Kind::Ipv6, 0, 20), c(Kind::Email, 30, 40)]);
        assert_eq!(r, vec![c(Kind::Ipv6, 0, 20), c(Kind::Email, 30, 40)]);
        let r = resolve(vec![c(Kind::Token, 7, 30), c(Kind::Jwt, 7, 30)]);
        assert_eq!(r, vec![c(Kind::Jwt, 7, 30)]);
        let r = resolve(vec![
            c(Kind::Token, 0, 10),
            c(Kind::Phone, 5, 15),
            c(Kind::Card, 10, 20),
        ]);
        assert_eq!(r, vec![c(Kind::Token, 0, 10), c(Kind::Card, 10, 20)]);
    }
}
