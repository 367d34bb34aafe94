//! PII and secret detection and redaction with stable placeholders (DESIGN.md section 9).
//!
//! A [`Scrubber`] is built once from a [`Policy`] (which kinds, which test values to let through) and a
//! [`Key`]; it then scans or scrubs text ([`Scrubber::scrub_text`]), JSON values ([`Scrubber::scrub_value`])
//! and streams of any size ([`Scrubber::scrub_stream`]). Every finding is replaced by a placeholder
//! `<KIND:hhhhhhhh>`: the kind's tag and the first [`PLACEHOLDER_HEX`] hex digits of a keyed blake3 hash of
//! the kind and the value, so the same value gets the same placeholder in every file, run and process using
//! the same key, and scrubbed outputs stay deterministic.
//!
//! ```
//! use toron_core::pii::{Key, Kind, Location, Policy, Scrubber};
//!
//! let scrubber = Scrubber::new(&Policy::default(), Key::from_text("example key"))?;
//! let out = scrubber.scrub_text("login alice@corp.io from 10.1.2.3:443, card 4111 1111 1111 1111");
//! assert_eq!(out.findings.len(), 3);
//! assert_eq!(out.findings[0].kind, Kind::Email);
//! assert_eq!(out.findings[0].location, Location::Text { line: 1, column: 7 });
//! assert_eq!(out.findings[0].location.to_string(), "1:7");
//! assert!(out.text.starts_with("login <EMAIL:"));
//! assert!(out.text.contains(">:443, card <CARD:"));   // the port stays, the address goes
//! // The same value, the same placeholder, wherever it is.
//! let again = scrubber.scrub_text("to: alice@corp.io");
//! assert_eq!(again.findings[0].placeholder, out.findings[0].placeholder);
//!
//! // JSON values: object keys give context.
//! let (value, findings) = scrubber.scrub_value(&serde_json::json!({"user": {"password": "hunter2hunter2"}}));
//! assert_eq!(findings[0].location, Location::Pointer("/user/password".into()));
//! assert!(value["user"]["password"].as_str().unwrap().starts_with("<TOKEN:"));
//! # Ok::<(), toron_core::Error>(())
//! ```
//!
//! Kinds ([`Kind`]) and what each one checks so that look-alikes are not reported:
//!
//! | kind | finds | does not report |
//! | --- | --- | --- |
//! | `email` | addresses with a dotted domain and an alphabetic TLD | `icon@2x.png` (file extension), `lodash@4.17.21`, `deploy@build-01` |
//! | `phone` | NANP forms with separators, E.164 with `+` (8-15 digits) | bare digit runs (epoch seconds, account ids) |
//! | `card` | Visa, Mastercard, Amex, Discover, plain or grouped | Luhn failures, wrong brand length |
//! | `ssn` | `AAA-GG-SSSS`, nine digits under an ssn-like key | area 000, 666, 9xx; group 00; serial 0000 |
//! | `iban` | any registry country, its length, plain or grouped by four | mod-97 failures |
//! | `ipv4`, `ipv6` | addresses, bracketed IPv6; the port is kept | versions (`version=1.16.10.126`, `Chrome/1.2.3.4`), MACs |
//! | `jwt` | header.payload.signature with a JSON header holding `alg` | |
//! | `aws_key` | `AKIA` / `ASIA` access key ids | |
//! | `private_key` | the whole PEM block, BEGIN to END, real or `\n`-escaped newlines | PUBLIC KEY, CERTIFICATE |
//! | `token` | provider tokens; secrets under secret-like keys and in `Authorization` / `Bearer` | digests, ids, UUIDs not under such a key |
//!
//! Overlapping candidates are resolved deterministically: the longest wins, then the most specific kind
//! ([`Kind::specificity`]), then the earliest.
//!
//! Locations: text findings are `line:column` (1-based, the column counted in characters) and carry the
//! byte `span` in the text (of the whole stream for [`Scrubber::scrub_stream`]); findings in JSON values
//! are the RFC 6901 pointer of the string, number or key that holds them (built from the *scrubbed* keys, so
//! a pointer never carries a value), with an empty span.
//!
//! The log ([`ScrubLog`], `logs/pii_scrubber.log`) is JSON Lines, one object per finding with the fields
//! `time` (RFC 3339 UTC, for humans), `run`, `case`, `artifact`, `kind`, `location`, `placeholder` and
//! `action` (`redacted` or `quarantined`) — never the value. [`Quarantine`] keeps artifacts that strict
//! mode refused.

mod detect;
mod kind;
mod log;
mod placeholder;
mod policy;
mod quarantine;
mod stream;
mod validate;
mod value;

pub use kind::Kind;
pub use log::{Action, LogEntry, ScrubLog, LOG_PATH};
pub use placeholder::{Key, KEY_ENV, KEY_FILE, PLACEHOLDER_HEX};
pub use policy::{Policy, STRICT_ENV};
pub use quarantine::{Quarantine, QuarantineEntry, QUARANTINE_ROOT};
pub use stream::StreamStats;

use crate::{Error, ErrorKind, Result};
use detect::{Candidate, Detectors};
use std::fmt;
use std::ops::Range;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// In text: 1-based line and column (the column counted in characters).
    Text {
        /// The 1-based line.
        line: usize,
        /// The 1-based column, in characters.
        column: usize,
    },
    /// In a JSON value: the RFC 6901 pointer of the string, number or key holding it (`/user/email`).
    Pointer(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { line, column } => write!(f, "{line}:{column}"),
            Location::Pointer(p) => f.write_str(p),
        }
    }
}

/// One finding. It never holds the value itself, only its placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// Where.
    pub location: Location,
    /// What it is replaced by: `<EMAIL:1f3a9c2b>`.
    pub placeholder: String,
    /// The byte range in the scanned text (the whole stream's for streams); empty for JSON values.
    pub span: Range<usize>,
}

/// Scrubbed text and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The text with every finding replaced by its placeholder.
    pub text: String,
    /// The findings, in order of position, never overlapping.
    pub findings: Vec<Finding>,
}

/// Strict mode's verdict: an `ErrorKind::Pii` error naming the kinds and locations (never the values) when
/// anything was found.
///
/// ```
/// use toron_core::pii::{check_strict, Key, Policy, Scrubber};
/// let s = Scrubber::new(&Policy::default(), Key::from_text("k"))?;
/// assert!(check_strict(&s.scan_text("nothing here")).is_ok());
/// let err = check_strict(&s.scan_text("mail bob@corp.io")).unwrap_err();
/// assert_eq!(err.to_string(), "strict mode: 1 finding: email at 1:6");
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn check_strict(findings: &[Finding]) -> Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    let mut list: Vec<String> = findings
        .iter()
        .take(SHOWN)
        .map(|f| format!("{} at {}", f.kind, f.location))
        .collect();
    if findings.len() > SHOWN {
        list.push(format!("and {} more", findings.len() - SHOWN));
    }
    let n = findings.len();
    Err(Error::new(
        ErrorKind::Pii,
        format!(
            "strict mode: {n} finding{}: {}",
            if n == 1 { "" } else { "s" },
            list.join(", ")
        ),
    ))
}

/// Line and column tracking over bytes (columns in characters: UTF-8 continuation bytes are not counted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor {
    pub(crate) pos: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Cursor {
    pub(crate) fn new() -> Cursor {
        Cursor {
            pos: 0,
            line: 1,
            column: 1,
        }
    }

    /// Move over `bytes`, which follow the current position.
    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', bytes).count();
                self.column = 1 + chars(&bytes[last + 1..]);
            }
            None => self.column += chars(bytes),
        }
        self.pos += bytes.len();
    }

    pub(crate) fn location(&self) -> Location {
        Location::Text {
            line: self.line,
            column: self.column,
        }
    }
}

fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The compiled detectors of a policy, with the key of the placeholders. Build it once and reuse it; it is
/// `Send + Sync`, so one scrubber serves every thread.
pub struct Scrubber {
    policy: Policy,
    key: Key,
    detectors: Detectors,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Scrubber {
    /// Compile the detectors of `policy`. An `ErrorKind::Pii` error for a policy with no kinds or an empty
    /// allow pattern.
    pub fn new(policy: &Policy, key: Key) -> Result<Scrubber> {
        if policy.kinds.is_empty() {
            return Err(Error::new(
                ErrorKind::Pii,
                format!("no kinds to look for (expected some of: {})", Kind::names()),
            )
            .with_field("kinds"));
        }
        if let Some(i) = policy.allow.iter().position(String::is_empty) {
            return Err(Error::new(
                ErrorKind::Pii,
                "empty allow pattern (expected a glob such as \"*@example.com\")",
            )
            .with_field(format!("allow[{i}]")));
        }
        Ok(Scrubber {
            policy: policy.clone(),
            key,
            detectors: Detectors::new(&policy.kinds),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The placeholder `value` of `kind` gets under this scrubber's key.
    ///
    /// ```
    /// use toron_core::pii::{Key, Kind, Policy, Scrubber};
    /// let s = Scrubber::new(&Policy::default(), Key::from_text("k"))?;
    /// let f = &s.scan_text("x alice@corp.io")[0];
    /// assert_eq!(f.placeholder, s.placeholder(Kind::Email, "alice@corp.io"));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn placeholder(&self, kind: Kind, value: &str) -> String {
        placeholder::placeholder(&self.key, kind, value.as_bytes())
    }

    fn allowed(&self, kind: Kind, value: &[u8]) -> bool {
        self.policy
            .allow
            .iter()
            .any(|p| policy::glob_match(p.as_bytes(), value, kind == Kind::Email))
    }

    /// Candidates of `text` minus the allowed values, resolved; and the start of an open private key block.
    pub(crate) fn find(&self, text: &[u8]) -> (Vec<Candidate>, Option<usize>) {
        let mut cands = Vec::new();
        let open = self.detectors.candidates(text, &mut cands);
        if !self.policy.allow.is_empty() {
            cands.retain(|c| !self.allowed(c.kind, &text[c.start..c.end]));
        }
        (detect::resolve(cands), open)
    }

    pub(crate) fn placeholder_of(&self, kind: Kind, value: &[u8]) -> String {
        placeholder::placeholder(&self.key, kind, value)
    }

    /// Findings of `text` (bytes), located from `cursor` on.
    fn located(&self, text: &[u8], cands: &[Candidate]) -> Vec<Finding> {
        let mut cursor = Cursor::new();
        cands
            .iter()
            .map(|c| {
                cursor.advance(&text[cursor.pos..c.start]);
                Finding {
                    kind: c.kind,
                    location: cursor.location(),
                    placeholder: self.placeholder_of(c.kind, &text[c.start..c.end]),
                    span: c.start..c.end,
                }
            })
            .collect()
    }

    /// The findings of `text`, in order of position, never overlapping.
    pub fn scan_text(&self, text: &str) -> Vec<Finding> {
        let (cands, _) = self.find(text.as_bytes());
        self.located(text.as_bytes(), &cands)
    }

    /// `text` with every finding replaced by its placeholder, and the findings.
    pub fn scrub_text(&self, text: &str) -> Scrubbed {
        let findings = self.scan_text(text);
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for f in &findings {
            out.push_str(&text[pos..f.span.start]);
            out.push_str(&f.placeholder);
            pos = f.span.end;
        }
        out.push_str(&text[pos..]);
        Scrubbed { text: out, findings }
    }

    /// The findings of a JSON value: strings scanned as text, object keys as context for their values
    /// (`{"password": "..."}`, `{"ssn": "123456789"}`, a number under `card_number`), keys scanned too.
    /// Objects are walked in key order; locations are pointers.
    pub fn scan_value(&self, value: &serde_json::Value) -> Vec<Finding> {
        value::walk(self, value).1
    }

    /// A copy of `value` with every finding replaced by its placeholder (a number under a card, SSN or phone
    /// key becomes the placeholder string), and the findings.
    pub fn scrub_value(&self, value: &serde_json::Value) -> (serde_json::Value, Vec<Finding>) {
        value::walk(self, value)
    }

    /// Scrub `reader` into `writer` in bounded memory (lines up to 1 MiB are kept whole, longer ones are cut
    /// at a blank; a private key block is held up to 64 KiB until its END line), calling `on_finding` for each
    /// finding in order. Findings carry the line and column, and span, in the whole stream. Bytes that are
    /// not UTF-8 pass through unchanged. An `ErrorKind::Io` error if reading or writing fails.
    pub fn scrub_stream(
        &self,
        reader: impl std::io::Read,
        writer: impl std::io::Write,
        on_finding: &mut dyn FnMut(&Finding),
    ) -> Result<StreamStats> {
        stream::run(self, reader, writer, on_finding, stream::Limits::default())
    }
}

#[cfg(test)]
mod tests;
