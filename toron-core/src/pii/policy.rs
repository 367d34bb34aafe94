//! What to look for and what to let through: the kinds, the allow-list of test values, strict mode.

use super::{Key, Kind};
use crate::{Error, ErrorKind, Result};
use std::path::Path;

/// The environment variable that turns strict mode on (`PII_STRICT=1`).
pub const STRICT_ENV: &str = "PII_STRICT";

/// A scrubbing policy.
///
/// ```
/// use toron_core::pii::{Kind, Policy};
/// let p = Policy::new(&["email".into(), "card".into()], &["*@example.com".into()])?;
/// assert_eq!(p.kinds, vec![Kind::Email, Kind::Card]);
/// let err = Policy::new(&["email".into(), "card".into(), "mail".into()], &[]).unwrap_err();
/// assert!(err.to_string().starts_with("field kinds[2]: unknown kind \"mail\""));
/// assert_eq!(Policy::default().kinds.len(), 11);
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The kinds to find (default: all, [`Kind::ALL`]).
    pub kinds: Vec<Kind>,
    /// Glob patterns (`*` any run, `?` one character) of values that are test data and are not reported,
    /// matched against the whole found value (case-insensitively for e-mails): `*@example.com`.
    pub allow: Vec<String>,
    /// Strict mode: a caller that finds anything refuses the artifact (see [`super::check_strict`]).
    pub strict: bool,
    /// The environment variable the key is read from when none is given (default `TORON_PII_KEY`).
    pub key_env: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            kinds: Kind::ALL.to_vec(),
            allow: Vec::new(),
            strict: false,
            key_env: None,
        }
    }
}

impl Policy {
    /// A policy of the kinds named (empty: all kinds) and allow patterns. An unknown kind is an
    /// `ErrorKind::Pii` error naming the field (`kinds[2]`) and listing the valid kinds; an empty pattern
    /// is one too (`allow[0]`).
    pub fn new(kinds: &[String], allow: &[String]) -> Result<Policy> {
        let mut parsed = Vec::new();
        for (i, name) in kinds.iter().enumerate() {
            let k = Kind::parse_field(name, &format!("kinds[{i}]"))?;
            if !parsed.contains(&k) {
                parsed.push(k);
            }
        }
        if parsed.is_empty() {
            parsed = Kind::ALL.to_vec();
        }
        for (i, p) in allow.iter().enumerate() {
            if p.is_empty() {
                return Err(Error::new(
                    ErrorKind::Pii,
                    "empty allow pattern (expected a glob such as \"*@example.com\")",
                )
                .with_field(format!("allow[{i}]")));
            }
        }
        Ok(Policy {
            kinds: parsed,
            allow: allow.to_vec(),
            strict: false,
            key_env: None,
        })
    }

    /// True when `PII_STRICT` is set to `1`, `true` or `yes`.
    pub fn strict_from_env() -> bool {
        std::env::var(STRICT_ENV).is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
    }

    /// The key of this policy: `explicit` if given, else the environment variable [`Policy::key_env`]
    /// (default `TORON_PII_KEY`), else the per-archive key of `archive_root` ([`Key::resolve`]).
    pub fn resolve_key(&self, explicit: Option<Key>, archive_root: &Path) -> Result<Key> {
        Key::resolve(explicit, self.key_env.as_deref(), archive_root)
    }

    /// Strict mode's verdict on `findings`: [`check_strict`](super::check_strict) when [`Policy::strict`]
    /// is set, else always `Ok`.
    pub fn check(&self, findings: &[super::Finding]) -> Result<()> {
        if self.strict {
            super::check_strict(findings)
        } else {
            Ok(())
        }
    }

    /// Whether `kind` is looked for.
    pub fn wants(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// `*` / `?` glob over bytes (`?` one UTF-8 character), iterative with one backtrack point: linear in
/// practice, never exponential.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8], fold_case: bool) -> bool {
    let eq = |a: u8, b: u8| if fold_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let char_len = |s: &[u8], i: usize| -> usize {
        let mut j = i + 1;
        while j < s.len() && (s[j] & 0xC0) == 0x80 {
            j += 1;
        }
        j - i
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == b'?' {
            p += 1;
            t += char_len(text, t);
        } else if p < pattern.len() && eq(pattern[p], text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            let next = st + char_len(text, st);
            star = Some((sp, next));
            p = sp + 1;
            t = next;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"*@example.com", b"alice@example.com", false));
        assert!(glob_match(b"*@example.com", b"Alice@EXAMPLE.com", true));
        assert!(!glob_match(b"*@example.com", b"alice@example.com.evil", true));
        assert!(glob_match(b"4111*", b"4111111111111111", false));
        assert!(glob_match(b"a?c", b"abc", false));
        assert!(glob_match(b"a?c", "aéc".as_bytes(), false));
        assert!(!glob_match(b"a?c", b"ac", false));
        assert!(glob_match(b"*", b"", false));
        assert!(glob_match(b"*a*b*c*", b"xxaxxbxxcxx", false));
    }

    #[test]
    fn policy_validates() {
        let p = Policy::new(&[], &[]).unwrap();
        assert_eq!(p.kinds, Kind::ALL.to_vec());
        let e = Policy::new(&[], &["".into()]).unwrap_err();
        assert_eq!(e.field(), Some("allow[0]"));
        let mut p = Policy::default();
        let k = Key::from_text("x");
        assert_eq!(p.resolve_key(Some(k.clone()), Path::new("/nonexistent")).unwrap(), k);
        let f = super::super::Finding {
            kind: Kind::Email,
            location: super::super::Location::Text { line: 1, column: 1 },
            placeholder: "<EMAIL:00000000>".into(),
            span: 0..1,
        };
        assert!(p.check(std::slice::from_ref(&f)).is_ok());
        p.strict = true;
        assert!(p.check(&[f]).is_err());
        assert!(p.check(&[]).is_ok());
    }
}
