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
    /// `bearer` alone: the one keyword whose value follows a blank rather than `=` or `:`.
    bearer: AhoCorasick,
}

impl Detectors {
    pub(crate) fn new(kinds: &[Kind]) -> Detectors {
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(keyed::KEYWORDS)
            .expect("the keyword automaton is small and fixed");
        let bearer = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(["bearer"])
            .expect("one fixed keyword");
        Detectors {
            kinds: kinds.to_vec(),
            patterns: patterns::Patterns::new(kinds),
            keywords,
            bearer,
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
            for (s, e) in self.key_runs(text) {
                keyed::in_text(text, s, e, out);
            }
        }
        out.retain(|c| self.wants(c.kind));
        open
    }

    /// The keys [`keyed::in_text`] can find a value after: the maximal runs of key bytes holding a keyword
    /// that a `=` or `:` follows (after a closing quote and blanks, as `in_text` reads them), and the runs
    /// that are `bearer` (a value after a blank), in order, each once.
    ///
    /// `in_text` of a run holding a keyword finds nothing unless one of the two holds, and its result
    /// depends on the run only, not on where the keyword is in it: this finds what searching the whole text
    /// for keywords and reading the key around each did (`key_runs_reference` in the tests), but from the
    /// separators (memchr) and the few `b`s of `bearer` instead of an automaton over every byte (the
    /// keyword search took ~13 % of a scrub of the benchmark corpus).
    fn key_runs(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        for p in memchr::memchr2_iter(b'=', b':', text) {
            let mut q = p;
            while q > 0 && matches!(text[q - 1], b' ' | b'\t') {
                q -= 1;
            }
            let re = match q.checked_sub(1).map(|i| text[i]) {
                None => continue,
                Some(b'"') if q >= 2 && text[q - 2] == b'\\' => q - 2,
                Some(b'"' | b'\'') => q - 1,
                Some(_) => q,
            };
            let mut rs = re;
            while rs > 0 && keyed::is_key_byte(text[rs - 1]) {
                rs -= 1;
            }
            if re - rs >= keyed::KEYWORD_MIN_LEN && self.keywords.is_match(&text[rs..re]) {
                runs.push((rs, re));
            }
        }
        for m in self.bearer.find_iter(text) {
            let (mut rs, mut re) = (m.start(), m.end());
            while rs > 0 && keyed::is_key_byte(text[rs - 1]) {
                rs -= 1;
            }
            while re < text.len() && keyed::is_key_byte(text[re]) {
                re += 1;
            }
            if keyed::key_of(text, rs, re).eq_ignore_ascii_case(b"bearer") {
                runs.push((rs, re));
            }
        }
        runs.sort_unstable();
        runs.dedup();
        runs
    }
}

/// Choose non-overlapping candidates: the longest first, then the most specific kind
/// ([`Kind::specificity`]), then the earliest; the result sorted by position. Deterministic: the order of
/// the input does not matter.
///
/// A candidate's fate depends only on the candidates it overlaps, and theirs on the ones they overlap: each
/// group of candidates linked by overlaps (found in one sweep by position) is decided alone. Most
/// candidates overlap nothing and are kept as they are; only the groups go through the ordering by
/// priority ([`resolve_group`]).
pub(crate) fn resolve(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    cands.retain(|c| c.end > c.start);
    cands.sort_unstable_by_key(|c| (c.start, c.end, c.kind, c.ctx));
    let mut out = Vec::with_capacity(cands.len());
    let mut i = 0;
    while i < cands.len() {
        let mut j = i + 1;
        let mut end = cands[i].end;
        while j < cands.len() && cands[j].start < end {
            end = end.max(cands[j].end);
            j += 1;
        }
        if j == i + 1 {
            out.push(cands[i]);
        } else {
            resolve_group(&mut cands[i..j], &mut out);
        }
        i = j;
    }
    out
}

/// The order in which overlapping candidates are kept: longest first, then the more specific kind, then the
/// earlier start (the rest only makes the order total).
fn by_priority(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    (b.end - b.start)
        .cmp(&(a.end - a.start))
        .then(b.kind.specificity().cmp(&a.kind.specificity()))
        .then(a.start.cmp(&b.start))
        .then(a.kind.cmp(&b.kind))
        .then(a.ctx.cmp(&b.ctx))
}

/// [`resolve`] for one group of overlapping candidates: by priority, each kept unless it overlaps one kept
/// before it; pushed to `out` by position.
fn resolve_group(group: &mut [Candidate], out: &mut Vec<Candidate>) {
    group.sort_unstable_by(by_priority);
    // Chosen intervals by start.
    let mut chosen: BTreeMap<usize, Candidate> = BTreeMap::new();
    for c in group.iter() {
        let clash_before = chosen.range(..c.end).next_back().is_some_and(|(_, p)| p.end > c.start);
        if !clash_before {
            chosen.insert(c.start, *c);
        }
    }
    out.extend(chosen.into_values());
}

/// The resolution [`resolve`] replaced, over all candidates at once: the reference it must agree with.
#[cfg(test)]
fn resolve_reference(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    cands.sort_by(by_priority);
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

    impl Detectors {
        /// The keyword search `key_runs` replaced: every keyword, leftmost first, and the key run around it,
        /// the search going on after the run.
        fn key_runs_reference(&self, text: &[u8]) -> Vec<(usize, usize)> {
            let mut runs = Vec::new();
            let mut from = 0;
            while let Some(m) = self.keywords.find(&text[from..]) {
                let (mut ks, mut ke) = (from + m.start(), from + m.end());
                while ks > 0 && keyed::is_key_byte(text[ks - 1]) {
                    ks -= 1;
                }
                while ke < text.len() && keyed::is_key_byte(text[ke]) {
                    ke += 1;
                }
                runs.push((ks, ke));
                from = ke;
            }
            runs
        }
    }

    fn keyed_candidates(text: &[u8], runs: &[(usize, usize)]) -> Vec<Candidate> {
        let mut out = Vec::new();
        for &(s, e) in runs {
            keyed::in_text(text, s, e, &mut out);
        }
        out
    }

    /// The key runs found from the separators give every candidate the keyword search gave, on key=value
    /// logs, JSON, escaped JSON, headers and pseudo-random mixes of key bytes, quotes, blanks and separators.
    #[test]
    fn key_runs_find_what_the_keyword_search_does() {
        let d = Detectors::new(&Kind::ALL);
        let sample = br#"password=hunter2hunter2 "api_key": "9f8e7d6c5b4a3f2e1d0c" Authorization: Bearer abcdef123456
            {\"secret\":\"Zx9$kq2LmN0pQr\"} token = 'ghp_abcdefghijklmnop' ssn:123456789 card_number=4111111111111111
            phone: +44 20 7946 0958 \npassword=abc12345 bearer  xyz123abc456 BEARER:tok123tok456 <TOKEN:1a2b3c4d>=x
            client_secret := s3cr3tV4lu3xx mobile=>4158675309 tel	: 415-867-5309 pan: 4111 1111 1111 1111 x:=y
            key"=v key'=v key\"=v \tel=5 cc_num=4111111111111111 cc-n: 1 Credential = AKIAxx"#;
        let pieces: [&[u8]; 34] = [
            b"key",
            b"pass",
            b"password",
            b"API_KEY",
            b"bearer",
            b"Bearer",
            b"ssn",
            b"card_number",
            b"tel",
            b"phone",
            b"token",
            b"\"",
            b"'",
            b"\\",
            b" ",
            b"\t",
            b"=",
            b":",
            b":=",
            b"=>",
            b"\\n",
            b"\n",
            b"<",
            b"Zx9kq2LmN0pQrT",
            b"4111111111111111",
            b"123456789",
            b"+44 20 7946 0958",
            b"x",
            b"-",
            b".",
            b"_",
            b"n",
            b"Authorization",
            b"${X}",
        ];
        let mut texts = vec![
            sample.to_vec(),
            Vec::new(),
            b"=".to_vec(),
            b"bearer".to_vec(),
            b"\"k\"".to_vec(),
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..8 {
            let mut t = Vec::new();
            while t.len() < 20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.extend_from_slice(pieces[(x % pieces.len() as u64) as usize]);
            }
            texts.push(t);
        }
        for t in &texts {
            let mut got = keyed_candidates(t, &d.key_runs(t));
            let mut want = keyed_candidates(t, &d.key_runs_reference(t));
            assert!(t.len() < 1000 || want.len() > 20, "{}", want.len());
            let key = |c: &Candidate| (c.start, c.end, c.kind, c.ctx);
            got.sort_by_key(key);
            want.sort_by_key(key);
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&t[..t.len().min(200)]));
        }
    }

    /// Group by group, the same choice as over all candidates at once, on pseudo-random overlapping sets
    /// (chains, nesting, ties in length and kind, empty and duplicate candidates).
    #[test]
    fn groups_resolve_as_the_whole_set_does() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as usize
        };
        for round in 0..2000 {
            let n = 1 + next(40);
            let span = 10 + next(if round % 2 == 0 { 60 } else { 400 });
            let mut cands: Vec<Candidate> = (0..n)
                .map(|_| {
                    let start = next(span as u64);
                    let end = start + next(25);
                    Candidate {
                        kind: Kind::ALL[next(Kind::ALL.len() as u64)],
                        start,
                        end,
                        ctx: start.saturating_sub(next(3)),
                    }
                })
                .collect();
            if round % 5 == 0 {
                let dup = cands[0];
                cands.push(dup);
            }
            let expected = resolve_reference(cands.clone());
            cands.reverse();
            assert_eq!(resolve(cands), expected, "round {round}");
        }
    }
}
