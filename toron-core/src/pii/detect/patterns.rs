//! The pattern detectors: e-mail, phone, card, SSN, IBAN, IPv4, IPv6, JWT, AWS access key ids and provider
//! tokens. Each pattern finds candidates; its check keeps only real values (the look-alikes of each kind are
//! listed in the tests). A rejected candidate resumes the search one byte later, so a look-alike never
//! hides a real value that overlaps it.

use super::{at, before, is_word, Candidate};
use crate::pii::{validate, Kind};
use base64::Engine as _;
use regex::bytes::Regex;

type Check = fn(&[u8], usize, usize) -> Option<(usize, usize)>;

struct Detector {
    kind: Kind,
    re: Regex,
    check: Check,
    /// A byte every match holds, and how many times at least (`@` once for e-mail, `.` three times for
    /// IPv4). The text must hold it for the pattern to be worth running; a numeric pattern runs only on the
    /// runs that hold it that often.
    needs: Option<(u8, usize)>,
    /// For the numeric patterns (phone, card, SSN, IPv4), whose matches hold only digits and
    /// [`NUMERIC_PUNCT`]: the fewest digits a match has. Such a pattern is run only on the runs of those
    /// bytes with that many digits ([`numeric_runs`]), not over the whole text: most of a log is letters,
    /// and timestamps and durations are runs too short to matter.
    min_digits: Option<usize>,
}

/// The bytes besides digits that the numeric patterns (NANP, E.164, card, SSN, IPv4) can match.
const NUMERIC_PUNCT: &[u8] = b" .-()+";

/// A maximal run of digits and [`NUMERIC_PUNCT`] bytes holding at least one digit: `start..end`, `digits`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    digits: usize,
}

/// 1: digit, 2: punctuation of a numeric pattern ([`NUMERIC_PUNCT`]), 0: anything else.
const NUMERIC_CLASS: [u8; 256] = {
    let mut c = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        c[d as usize] = 1;
        d += 1;
    }
    let mut i = 0;
    while i < NUMERIC_PUNCT.len() {
        c[NUMERIC_PUNCT[i] as usize] = 2;
        i += 1;
    }
    c
};

/// The bytes of [`NUMERIC_CLASS`] (digits and [`NUMERIC_PUNCT`]).
const NUMERIC_BYTE: [bool; 256] = {
    let mut c = [false; 256];
    let mut i = 0;
    while i < 256 {
        c[i] = NUMERIC_CLASS[i] != 0;
        i += 1;
    }
    c
};

/// The shortest match of a numeric pattern: IPv4's `1.2.3.4` (NANP takes 12 bytes, E.164 9, SSN 11, cards
/// 13; the test `numeric_patterns_match_nothing_shorter` checks it). Only runs this long are looked at.
const NUMERIC_MIN_LEN: usize = 7;

/// The bytes an IBAN match can hold: `A-Z`, `0-9` and the space of grouped IBANs.
const IBAN_BYTE: [bool; 256] = {
    let mut c = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        c[i] = b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ';
        i += 1;
    }
    c
};

/// The shortest IBAN match: two letters, two check digits and eleven more characters.
const IBAN_MIN_LEN: usize = 15;

/// The maximal runs `start..end` of bytes of `class` at least `min_len` long, found by looking at every
/// `min_len`-th byte only: a run that long holds one of them, so a byte outside the class there rules out
/// every run through the `min_len - 1` bytes before it. Only a byte inside the class is looked around
/// (its run found by walking both ways, then the search goes on `min_len` bytes past the run's end). Most
/// of a log is letters, hex and base64: about one byte in `min_len` is read instead of all of them (the
/// byte-by-byte loop took ~12 % of a scrub of the benchmark corpus).
fn class_runs(text: &[u8], class: &[bool; 256], min_len: usize, mut f: impl FnMut(usize, usize)) {
    debug_assert!(min_len >= 1);
    let n = text.len();
    // No run starts before `low`: text[low - 1] is outside the class (or `low` is 0).
    let mut low = 0usize;
    let mut p = min_len - 1;
    while p < n {
        if !class[text[p] as usize] {
            p += min_len;
            continue;
        }
        let (s, e) = run_around(text, class, low, p, p + 1);
        if e - s >= min_len {
            f(s, e);
        }
        low = e + 1;
        p = e + min_len;
    }
}

/// The maximal run of `class` bytes holding `at..to` (all of the class), not reaching before `low`.
fn run_around(text: &[u8], class: &[bool; 256], low: usize, at: usize, to: usize) -> (usize, usize) {
    let mut s = at;
    while s > low && class[text[s - 1] as usize] {
        s -= 1;
    }
    let mut e = to;
    while e < text.len() && class[text[e] as usize] {
        e += 1;
    }
    (s, e)
}

/// The maximal runs of digits and [`NUMERIC_PUNCT`] of `text` at least [`NUMERIC_MIN_LEN`] long with at
/// least `min` digits (`min` >= 1), in order. Every match of a numeric pattern lies inside one such run (the
/// patterns have no anchors or look-around, and match no other byte), so searching each run finds exactly
/// what searching the whole text would.
fn numeric_runs(text: &[u8], min: usize, mut f: impl FnMut(Run)) {
    debug_assert!(min >= 1);
    class_runs(text, &NUMERIC_BYTE, NUMERIC_MIN_LEN, |start, end| {
        let digits = text[start..end].iter().filter(|b| b.is_ascii_digit()).count();
        if digits >= min {
            f(Run { start, end, digits });
        }
    });
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x7` (bytes under 0x80) whose value is in `lo..hi` (`1 <= lo < hi <= 0x80`):
/// adding `0x80 - n` sets a byte's high bit when it is at least `n`, and never carries into the next byte.
fn in_range(x7: u64, lo: u8, hi: u8) -> u64 {
    let ge = |n: u8| x7.wrapping_add((0x80 - u64::from(n)) * ONES) & HIGH;
    ge(lo) & !ge(hi)
}

/// The high bit of each of the eight bytes of `x` that is an [`IBAN_BYTE`] (`0-9`, `A-Z`, space).
fn iban_bytes(x: u64) -> u64 {
    let x7 = x & !HIGH;
    (in_range(x7, b'0', b'9' + 1) | in_range(x7, b'A', b'Z' + 1) | in_range(x7, b' ', b' ' + 1)) & !(x & HIGH)
}

/// The maximal runs of [`IBAN_BYTE`] bytes of `text` that can hold an IBAN match, in order: at least
/// [`IBAN_MIN_LEN`] long, with two capital letters followed by two digits somewhere (how a match starts).
/// Searching these runs finds exactly what searching the whole text would, without running the pattern
/// over the rest (it cost ~10 % of a scrub of the benchmark corpus).
///
/// A run that long holds eight bytes in a row starting at a multiple of eight from where the last run
/// ended, so only those tiles are tested, eight bytes at once ([`iban_bytes`]); a run is looked for around
/// a tile of eight IBAN bytes only (rare in base64, where a byte-by-byte look at the class took twice as
/// long).
fn iban_runs(text: &[u8], mut f: impl FnMut(usize, usize)) {
    const TILE: usize = 8;
    const _: () = assert!(IBAN_MIN_LEN >= 2 * TILE - 1);
    let n = text.len();
    let mut low = 0usize;
    let mut k = 0usize;
    while k + TILE <= n {
        let mut tile = [0u8; TILE];
        tile.copy_from_slice(&text[k..k + TILE]);
        if iban_bytes(u64::from_le_bytes(tile)) != HIGH {
            k += TILE;
            continue;
        }
        let (s, e) = run_around(text, &IBAN_BYTE, low, k, k + TILE);
        let starts = || {
            text[s..e].windows(4).any(|w| {
                w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase() && w[2].is_ascii_digit() && w[3].is_ascii_digit()
            })
        };
        if e - s >= IBAN_MIN_LEN && starts() {
            f(s, e);
        }
        low = e + 1;
        k = e + 1;
    }
}

/// A byte an IPv6 match can hold: hex digits, `:`, `.` and the brackets.
fn is_ipv6_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'[' | b']')
}

/// The maximal runs of [`is_ipv6_byte`] bytes of `text` holding `::` or at least six `:`, found from the
/// colons (memchr) rather than byte by byte. Every IPv6 match lies inside one such run, and a match the
/// check accepts parses as an address, which either abbreviates with `::` or has all its eight groups (seven
/// colons; six before a dotted quad): searching these runs gives exactly the candidates searching the whole
/// text does, without running the pattern over the prose, hashes and base64 in between (it cost ~15 % of a
/// scrub of the benchmark corpus), nor over each timestamp's `00:26:53.938`.
fn ipv6_runs(text: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut done = 0usize;
    for p in memchr::memchr_iter(b':', text) {
        if p < done {
            continue;
        }
        let mut s = p;
        while s > done && is_ipv6_byte(text[s - 1]) {
            s -= 1;
        }
        let mut e = p;
        let mut colons = 0;
        while e < text.len() && is_ipv6_byte(text[e]) {
            colons += usize::from(text[e] == b':');
            e += 1;
        }
        if colons >= 6 || (colons >= 2 && memchr::memmem::find(&text[s..e], b"::").is_some()) {
            runs.push((s, e));
        }
        done = e;
    }
    runs
}

pub(crate) struct Patterns {
    detectors: Vec<Detector>,
}

const EMAIL: &str = r"(?i-u)[a-z0-9._%+\-]{1,64}@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}";
const NANP: &str = r"(?-u)(?:\+?1[ .\-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}";
const E164: &str = r"(?-u)\+[1-9][0-9](?:[ .\-]?[0-9]){6,13}";
const CARD: &str = r"(?-u)[0-9]{13,19}|[0-9]{4}(?: [0-9]{4}){2,3}(?: [0-9]{1,4})?|[0-9]{4}(?:-[0-9]{4}){2,3}(?:-[0-9]{1,4})?|[0-9]{4} [0-9]{6} [0-9]{5}|[0-9]{4}-[0-9]{6}-[0-9]{5}";
const SSN: &str = r"(?-u)[0-9]{3}-[0-9]{2}-[0-9]{4}";
const IBAN: &str = r"(?-u)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,34}";
const IPV4: &str = r"(?-u)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}";
const IPV6: &str = r"(?-u)\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Fa-f:.]*::[0-9A-Fa-f:.]*|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}|(?:[0-9A-Fa-f]{1,4}:){6}[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
const JWT: &str = r"(?-u)eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*";
const AWS: &str = r"(?-u)(?:AKIA|ASIA)[A-Z0-9]{16}";
const TOKEN: &str = concat!(
    r"(?-u)gh[pousr]_[A-Za-z0-9]{36,255}",
    r"|github_pat_[A-Za-z0-9_]{22,255}",
    r"|[sr]k_live_[A-Za-z0-9]{16,255}",
    r"|xox[abposr]-[A-Za-z0-9\-]{10,255}",
    r"|glpat-[A-Za-z0-9_\-]{20,255}",
    r"|AIza[0-9A-Za-z_\-]{35}",
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,255}",
    r"|npm_[A-Za-z0-9]{36}",
    r"|hf_[A-Za-z0-9]{34}",
    r"|SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
);

/// Top-level domains that are really file extensions (`icon@2x.png`, `app@1.2.min.js`).
const FILE_TLDS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"bmp", b"ico", b"tif", b"tiff", b"js", b"mjs", b"cjs", b"ts",
    b"css", b"map", b"json", b"txt", b"html", b"htm", b"xml", b"pdf", b"gz", b"tgz", b"tar", b"woff", b"woff2", b"ttf",
    b"eot", b"mp3", b"mp4", b"wav", b"avi", b"webm", b"yaml", b"yml", b"toml", b"lock", b"log", b"csv", b"wasm", b"py",
    b"rs", b"go", b"jar", b"whl",
];

fn email(t: &[u8], mut s: usize, e: usize) -> Option<(usize, usize)> {
    // `\nbob@example.com`: the escape's letter is not part of the address.
    if s >= 1 && t[s - 1] == b'\\' && matches!(t[s], b'n' | b'r' | b't') {
        s += 1;
    }
    let b = before(t, s);
    if b.is_ascii_alphanumeric() || b"._%+-".contains(&b) {
        return None;
    }
    let n = at(t, e);
    if n.is_ascii_alphanumeric() || n == b'-' || n == b'_' || (n == b'.' && at(t, e + 1).is_ascii_alphanumeric()) {
        return None;
    }
    let v = &t[s..e];
    let atp = v.iter().position(|&c| c == b'@')?;
    let local = &v[..atp];
    if local.is_empty() || local[0] == b'.' || local[local.len() - 1] == b'.' || local.windows(2).any(|w| w == b"..") {
        return None;
    }
    let domain = &v[atp + 1..];
    let tld = &domain[domain.iter().rposition(|&c| c == b'.')? + 1..];
    let tld = tld.to_ascii_lowercase();
    if FILE_TLDS.contains(&tld.as_slice()) {
        return None;
    }
    Some((s, e))
}

fn digits(v: &[u8]) -> Vec<u8> {
    v.iter().copied().filter(u8::is_ascii_digit).collect()
}

fn number_left_ok(t: &[u8], s: usize) -> bool {
    let b = before(t, s);
    !(is_word(b) || b == b'.' || b == b'-' || b == b'+' || (b == b'/' && is_word(before(t, s - 1))))
}

fn number_right_ok(t: &[u8], e: usize) -> bool {
    let n = at(t, e);
    !(is_word(n) || (matches!(n, b'.' | b'-' | b':' | b'/') && at(t, e + 1).is_ascii_digit()))
}

fn nanp(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if !number_left_ok(t, s) || !number_right_ok(t, e) {
        return None;
    }
    let v = &t[s..e];
    let d = digits(v);
    let local = if d.len() == 11 { &d[1..] } else { &d[..] };
    if !validate::nanp(local) {
        return None;
    }
    // `415-867-5309`: both separators alike (`415.867-5309` is not a phone); `(415) 867-5309` is.
    if !v.contains(&b'(') {
        let seps: Vec<u8> = v[v.len() - 12..]
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        if seps.len() != 2 || seps[0] != seps[1] {
            return None;
        }
    }
    Some((s, e))
}

fn e164(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let b = before(t, s);
    if is_word(b) || b == b'+' {
        return None;
    }
    if !number_right_ok(t, e) {
        return None;
    }
    let d = digits(&t[s..e]);
    if !(8..=15).contains(&d.len()) {
        return None;
    }
    if d[0] == b'1' && (d.len() != 11 || !validate::nanp(&d[1..])) {
        return None;
    }
    Some((s, e))
}

fn card(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let grouped = t[s..e].iter().any(|c| matches!(c, b' ' | b'-'));
    if !number_left_ok(t, s) || (grouped && follows_a_group(t, s)) {
        return None;
    }
    // A grouped number may have swallowed a short group after it (`4111 1111 1111 1111 2024`): try the
    // match and then each shorter group boundary.
    let mut end = e;
    loop {
        let v = &t[s..end];
        let d = digits(v);
        if number_right_ok(t, end) && validate::card(&d) {
            return Some((s, end));
        }
        let cut = v.iter().rposition(|c| *c == b' ' || *c == b'-')?;
        if d.len() <= 13 {
            return None;
        }
        end = s + cut;
    }
}

/// Whether the grouped number at `s` continues a run of groups: a space or dash before it, and before that a
/// short group (at most 6 letters and digits) holding a digit (`IT87 K534 5166 7238 ...`, `1234 5166 ...`).
/// Sixteen digits in the middle of a grouped IBAN or a longer grouped number are not a card;
/// `card 4111 1111 1111 1111` is.
fn follows_a_group(t: &[u8], s: usize) -> bool {
    if s < 2 || !matches!(t[s - 1], b' ' | b'-') {
        return false;
    }
    let group_end = s - 1;
    let mut k = group_end;
    while k > 0 && t[k - 1].is_ascii_alphanumeric() {
        k -= 1;
    }
    let group = &t[k..group_end];
    (1..=6).contains(&group.len()) && group.iter().any(u8::is_ascii_digit)
}

fn ssn(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if !number_left_ok(t, s) || !number_right_ok(t, e) {
        return None;
    }
    validate::ssn(&digits(&t[s..e])).then_some((s, e))
}

fn iban(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if is_word(before(t, s)) {
        return None;
    }
    let len = validate::iban_length(&t[s..s + 2])?;
    let mut chars = Vec::with_capacity(len);
    let mut i = s;
    let mut spaced = false;
    while i < e && chars.len() < len {
        if t[i] == b' ' {
            // Grouped by four: spaces only between groups.
            if chars.len() % 4 != 0 {
                return None;
            }
            spaced = true;
        } else {
            if spaced && chars.len() % 4 == 0 && t[i - 1] != b' ' {
                return None;
            }
            chars.push(t[i]);
        }
        i += 1;
    }
    if chars.len() != len || is_word(at(t, i)) {
        return None;
    }
    validate::iban_mod97(&chars).then_some((s, i))
}

/// Keys that make a dotted quad a version number: `version=1.16.10.126`, `build: 10.0.0.1`.
const VERSION_KEYS: &[&[u8]] = &[
    b"version",
    b"ver",
    b"build",
    b"release",
    b"rev",
    b"revision",
    b"firmware",
    b"fw",
    b"v",
];

fn ipv4(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let b = before(t, s);
    if is_word(b) || b == b'.' || b == b'-' || (b == b'/' && s >= 2 && t[s - 2].is_ascii_alphanumeric()) {
        return None;
    }
    let n = at(t, e);
    if is_word(n) || (n == b'.' && at(t, e + 1).is_ascii_digit()) {
        return None;
    }
    for octet in t[s..e].split(|&c| c == b'.') {
        if octet.len() > 1 && octet[0] == b'0' {
            return None;
        }
        let v: u32 = octet.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0'));
        if v > 255 {
            return None;
        }
    }
    // A version number under a version-like key.
    let mut i = s;
    while i > 0 && matches!(t[i - 1], b' ' | b'"' | b'\'' | b'=' | b':') && s - i < 8 {
        i -= 1;
    }
    let mut k = i;
    while k > 0 && t[k - 1].is_ascii_alphabetic() && i - k < 16 {
        k -= 1;
    }
    if k < i && i < s {
        let word = t[k..i].to_ascii_lowercase();
        let long = [&b"version"[..], b"revision", b"release", b"firmware"];
        if VERSION_KEYS.contains(&word.as_slice()) || long.iter().any(|v| word.ends_with(v)) {
            return None;
        }
    }
    Some((s, e))
}

fn ipv6(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let (mut s, mut e) = (s, e);
    if t[s] == b'[' {
        s += 1;
        e -= 1;
    } else {
        let b = before(t, s);
        if is_word(b) || b == b':' || b == b'.' {
            return None;
        }
        while e > s && matches!(t[e - 1], b'.' | b':') && !t[s..e].ends_with(b"::") {
            e -= 1;
        }
        let n = at(t, e);
        if is_word(n) || n == b':' {
            return None;
        }
    }
    let v = std::str::from_utf8(&t[s..e]).ok()?;
    if !v.bytes().any(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    v.parse::<std::net::Ipv6Addr>().ok()?;
    Some((s, e))
}

fn jwt(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let b = before(t, s);
    if is_word(b) || b == b'-' || is_word(at(t, e)) || at(t, e) == b'-' {
        return None;
    }
    let dot = t[s..e].iter().position(|&c| c == b'.')?;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&t[s..s + dot])
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&header).ok()?;
    json.get("alg")?.as_str()?;
    Some((s, e))
}

fn alnum_bounded(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    (!before(t, s).is_ascii_alphanumeric() && !at(t, e).is_ascii_alphanumeric()).then_some((s, e))
}

fn token(t: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let n = at(t, e);
    (!is_word(before(t, s)) && !is_word(n) && n != b'-').then_some((s, e))
}

impl Patterns {
    pub(crate) fn new(kinds: &[Kind]) -> Patterns {
        type Row = (Kind, &'static str, Check, Option<(u8, usize)>, Option<usize>);
        let table: [Row; 11] = [
            (Kind::PrivateKey, "", |_, _, _| None, None, None),
            (Kind::Email, EMAIL, email, Some((b'@', 1)), None),
            (Kind::Phone, NANP, nanp, None, Some(10)),
            (Kind::Phone, E164, e164, Some((b'+', 1)), Some(8)),
            (Kind::Card, CARD, card, None, Some(12)),
            (Kind::Ssn, SSN, ssn, Some((b'-', 2)), Some(9)),
            (Kind::Iban, IBAN, iban, None, None),
            (Kind::Ipv4, IPV4, ipv4, Some((b'.', 3)), Some(4)),
            (Kind::Ipv6, IPV6, ipv6, Some((b':', 1)), None),
            (Kind::Jwt, JWT, jwt, None, None),
            (Kind::AwsKey, AWS, alnum_bounded, None, None),
        ];
        let mut detectors: Vec<Detector> = table
            .into_iter()
            .filter(|(k, re, _, _, _)| !re.is_empty() && kinds.contains(k))
            .map(|(kind, re, check, needs, min_digits)| Detector {
                kind,
                re: Regex::new(re).expect("the detector patterns are fixed and valid"),
                check,
                needs,
                min_digits,
            })
            .collect();
        if kinds.contains(&Kind::Token) {
            detectors.push(Detector {
                kind: Kind::Token,
                re: Regex::new(TOKEN).expect("the token pattern is fixed and valid"),
                check: token,
                needs: None,
                min_digits: None,
            });
        }
        Patterns { detectors }
    }

    pub(crate) fn find(&self, text: &[u8], out: &mut Vec<Candidate>) {
        // The numeric detectors share one pass over the runs.
        let mut numeric: Vec<&Detector> = Vec::new();
        for d in &self.detectors {
            if let Some((b, _)) = d.needs {
                if memchr::memchr(b, text).is_none() {
                    continue;
                }
            }
            match (d.kind, d.min_digits) {
                (Kind::Ipv6, _) => {
                    for (s, e) in ipv6_runs(text) {
                        search(d, text, s, e, out);
                    }
                }
                (Kind::Iban, _) => iban_runs(text, |s, e| search(d, text, s, e, out)),
                (_, None) => search(d, text, 0, text.len(), out),
                (_, Some(_)) => numeric.push(d),
            }
        }
        let Some(min) = numeric.iter().filter_map(|d| d.min_digits).min() else {
            return;
        };
        numeric_runs(text, min, |r| {
            let run = &text[r.start..r.end];
            for d in &numeric {
                let holds = |&(b, k): &(u8, usize)| run.iter().filter(|&&c| c == b).count() >= k;
                if r.digits >= d.min_digits.unwrap_or(0) && d.needs.as_ref().is_none_or(holds) {
                    search(d, text, r.start, r.end, out);
                }
            }
        });
    }
}

/// Run `d` over `text[lo..hi]` (its checks see the whole text), resuming one byte after a rejected match.
fn search(d: &Detector, text: &[u8], lo: usize, hi: usize, out: &mut Vec<Candidate>) {
    let hay = &text[..hi];
    let mut from = lo;
    while from < hi {
        let Some(m) = d.re.find_at(hay, from) else { break };
        match (d.check)(text, m.start(), m.end()) {
            Some((s, e)) => {
                out.push(Candidate {
                    kind: d.kind,
                    start: s,
                    end: e,
                    ctx: s,
                });
                from = m.end().max(from + 1);
            }
            None => from = m.start() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Searching only the numeric runs finds exactly what searching the whole text finds, look-alikes,
    /// rejections and all, for every numeric detector.
    #[test]
    fn numeric_runs_find_what_the_whole_text_does() {
        let text = b"2026-11-30T00:26:53.938Z call (415) 867-5309 or +1 415 867 5309, 415.867.5309 \
            +44 20 7946 0958 card 4111 1111 1111 1111 2024 4111-1111-1111-1111 3782 822463 10005 \
            ssn 123-45-6789 000-12-3456 peer 212.193.39.147:15685 version=1.16.10.126 \
            epoch 1700000000 arn:aws:iam::123456789012:role/x (1-2-3) -.+ 5555555555554444.";
        let p = Patterns::new(&Kind::ALL);
        for d in p.detectors.iter().filter(|d| d.min_digits.is_some()) {
            let (mut whole, mut by_runs) = (Vec::new(), Vec::new());
            search(d, text, 0, text.len(), &mut whole);
            for r in runs_of(text, d.min_digits.unwrap()) {
                search(d, text, r.start, r.end, &mut by_runs);
            }
            assert!(!whole.is_empty(), "{:?} finds something in the sample", d.kind);
            assert_eq!(whole, by_runs, "{:?}", d.kind);
        }
    }

    /// The byte-by-byte loop `numeric_runs` replaced (less the runs shorter than [`NUMERIC_MIN_LEN`]), kept
    /// as the reference it must agree with.
    fn numeric_runs_reference(text: &[u8], min: usize) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        let (mut i, n) = (0, text.len());
        while i < n {
            while i < n && NUMERIC_CLASS[text[i] as usize] != 1 {
                i += 1;
            }
            if i == n {
                break;
            }
            let mut start = i;
            while start > 0 && NUMERIC_CLASS[text[start - 1] as usize] == 2 {
                start -= 1;
            }
            let mut digits = 0;
            while i < n && NUMERIC_CLASS[text[i] as usize] != 0 {
                digits += usize::from(NUMERIC_CLASS[text[i] as usize] == 1);
                i += 1;
            }
            if digits >= min && i - start >= NUMERIC_MIN_LEN {
                runs.push((start, i, digits));
            }
        }
        runs
    }

    fn runs_of(text: &[u8], min: usize) -> Vec<Run> {
        let mut runs = Vec::new();
        numeric_runs(text, min, |r| runs.push(r));
        runs
    }

    /// Eight bytes at once, the same class as byte by byte: every byte value at every position, among bytes
    /// in the class and bytes outside it.
    #[test]
    fn iban_bytes_match_the_table() {
        for fill in [b'A', b'a', 0xC3] {
            for b in 0..=255u8 {
                for pos in 0..8 {
                    let mut bytes = [fill; 8];
                    bytes[pos] = b;
                    let m = iban_bytes(u64::from_le_bytes(bytes));
                    for (i, &c) in bytes.iter().enumerate() {
                        assert_eq!(m >> (8 * i + 7) & 1 == 1, IBAN_BYTE[c as usize], "{c:#x} at {i}");
                    }
                    assert_eq!(m & !HIGH, 0);
                }
            }
        }
    }

    /// A pseudo-random text of `n` bytes drawn from `alphabet` (xorshift, seeded).
    fn mix(n: usize, alphabet: &[u8], seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn class_runs_match_a_byte_by_byte_scan() {
        let reference = |t: &[u8], class: &[bool; 256], min: usize| {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < t.len() {
                if !class[t[i] as usize] {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < t.len() && class[t[i] as usize] {
                    i += 1;
                }
                if i - s >= min {
                    runs.push((s, i));
                }
            }
            runs
        };
        for (k, alphabet) in [&b"0123456789 .-()+abcXYZ:_"[..], b"1a", b"A1 b", b"1", b"a"]
            .iter()
            .enumerate()
        {
            for n in [0, 1, 6, 7, 8, 15, 16, 300, 5000] {
                let t = mix(n, alphabet, 0x9e37_79b9_7f4a_7c15 + k as u64);
                for min in [1, 2, 3, 7, 15] {
                    for class in [&NUMERIC_BYTE, &IBAN_BYTE] {
                        let mut runs = Vec::new();
                        class_runs(&t, class, min, |s, e| runs.push((s, e)));
                        assert_eq!(runs, reference(&t, class, min), "n {n} min {min}");
                    }
                }
                // The IBAN runs: those of the class at least IBAN_MIN_LEN long that hold a start.
                let mut runs = Vec::new();
                iban_runs(&t, |s, e| runs.push((s, e)));
                let mut want = reference(&t, &IBAN_BYTE, IBAN_MIN_LEN);
                want.retain(|&(s, e)| {
                    t[s..e]
                        .windows(4)
                        .any(|w| w[..2].iter().all(u8::is_ascii_uppercase) && w[2..].iter().all(u8::is_ascii_digit))
                });
                assert_eq!(runs, want, "n {n}");
            }
        }
    }

    /// No numeric pattern matches fewer than [`NUMERIC_MIN_LEN`] bytes: every string that short over an
    /// alphabet standing for all the bytes they can match (`1` for any digit) is tried whole.
    #[test]
    fn numeric_patterns_match_nothing_shorter() {
        let alphabet = b"1 .-()+";
        for pat in [NANP, E164, CARD, SSN, IPV4] {
            let whole = Regex::new(&format!("^(?:{pat})$")).unwrap();
            let mut s: Vec<u8> = Vec::new();
            for len in 1..NUMERIC_MIN_LEN {
                let count = alphabet.len().pow(len as u32);
                for mut i in 0..count {
                    s.clear();
                    for _ in 0..len {
                        s.push(alphabet[i % alphabet.len()]);
                        i /= alphabet.len();
                    }
                    assert!(!whole.is_match(&s), "{pat} matches {:?}", String::from_utf8_lossy(&s));
                }
            }
        }
        assert!(Regex::new(&format!("^(?:{IPV4})$")).unwrap().is_match(b"1.2.3.4"));
    }

    /// What `Patterns::find` finds is what running every detector over the whole text finds: the runs, the
    /// bytes a match needs and the IBAN and IPv6 runs only skip text where no candidate is.
    #[test]
    fn prefilters_find_what_the_whole_text_does() {
        let sample = b"2026-11-30T00:26:53.938Z call (415) 867-5309 or +1 415 867 5309, 415.867.5309 \
            +44 20 7946 0958 card 4111 1111 1111 1111 2024 4111-1111-1111-1111 3782 822463 10005 \
            ssn 123-45-6789 000-12-3456 peer 212.193.39.147:15685 version=1.16.10.126 1.2.3.4 \
            epoch 1700000000 arn:aws:iam::123456789012:role/x (1-2-3) -.+ 5555555555554444. \
            GB82 WEST 1234 5698 7654 32 GB82WEST12345698765432 DE89370400440532013000 x IT60X0542811101000000123456 \
            [2001:db8::1]:443 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ::ffff:192.0.2.128 1:2:3:4:5:6:1.2.3.4 \
            bob@example.com icon@2x.png eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln AKIAIOSFODNN7EXAMPLE";
        let p = Patterns::new(&Kind::ALL);
        let mut texts: Vec<Vec<u8>> = vec![sample.to_vec(), Vec::new(), b"1.2.3.4".to_vec()];
        for (k, alphabet) in [
            &b"0123456789 .-()+"[..],
            b"0123456789 .-()+abcXYZ:_",
            b"0123456789abcdefABCDEF:.[] ",
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ",
            b"GBDEIT0123456789 .-+:",
        ]
        .iter()
        .enumerate()
        {
            texts.push(mix(50_000, alphabet, 0x2545_f491_4f6c_dd1d + k as u64));
        }
        for t in &texts {
            let mut whole = Vec::new();
            for d in &p.detectors {
                search(d, t, 0, t.len(), &mut whole);
            }
            let mut found = Vec::new();
            p.find(t, &mut found);
            let key = |c: &Candidate| (c.start, c.end, c.kind, c.ctx);
            whole.sort_by_key(key);
            found.sort_by_key(key);
            assert_eq!(found, whole);
        }
    }

    #[test]
    fn numeric_runs_match_the_reference() {
        let texts: [&[u8]; 7] = [
            b"",
            b"1234",
            b" -.12.34.56.78-. x 9a3f0c77e1d2 (415) 867-5309 ++1 2 3 4 5",
            b"abc",
            b"...---   ",
            b"2026-11-30T00:26:53.938Z sha=4f9c0d1e2b3a49586f7e8d9c0b1a2f3e4d5c6b7a id 12 34 56 78 90 1",
            b"\n415.867.5309\t+44 20 7946 0958 end99999",
        ];
        for t in texts {
            for min in [1, 4, 8, 9, 10, 12] {
                let got: Vec<_> = runs_of(t, min).iter().map(|r| (r.start, r.end, r.digits)).collect();
                assert_eq!(
                    got,
                    numeric_runs_reference(t, min),
                    "{:?} min {min}",
                    String::from_utf8_lossy(t)
                );
            }
        }
        // A pseudo-random mix of digits, punctuation and letters.
        let t = mix(20_000, b"0123456789 .-()+abcXYZ:_", 0x9e37_79b9_7f4a_7c15);
        for min in [1, 4, 9, 12] {
            let got: Vec<_> = runs_of(&t, min).iter().map(|r| (r.start, r.end, r.digits)).collect();
            assert_eq!(got, numeric_runs_reference(&t, min), "min {min}");
        }
    }

    /// Searching only the colon runs finds exactly the IPv6 candidates searching the whole text finds.
    #[test]
    fn ipv6_runs_find_what_the_whole_text_does() {
        let text = b"peer [2001:db8::1]:443 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334, fe80::1%eth0 ::1 \
            ::ffff:192.0.2.128 a:b c::d::e 00:26:53.938Z mac 00:1a:2b:3c:4d:5e arn:aws:iam::123456789012:role/x \
            [ab] [::] 1:2:3:4:5:6:1.2.3.4 deadbeef:: x::y \\n::2 \"k\":\"fd00::7\"";
        let p = Patterns::new(&Kind::ALL);
        let d = p
            .detectors
            .iter()
            .find(|d| d.kind == Kind::Ipv6)
            .expect("the IPv6 detector");
        let (mut whole, mut by_runs) = (Vec::new(), Vec::new());
        search(d, text, 0, text.len(), &mut whole);
        for (s, e) in ipv6_runs(text) {
            search(d, text, s, e, &mut by_runs);
        }
        assert!(whole.len() >= 6, "{whole:?}");
        assert_eq!(whole, by_runs);
    }
}
