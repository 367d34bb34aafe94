//! Values found by their key: a secret under `password`, `api_key`, `client_secret`, `Authorization`, a
//! bare nine digits under `ssn`, a card number under `card_number`, a phone under `phone`. Used for
//! `key=value` / `key: value` / `"key": "value"` in text, and for object members of JSON values.

use super::Candidate;
use crate::pii::{validate, Kind};

/// Keywords whose occurrence in text starts a look for a key (ASCII case-insensitive).
pub(crate) const KEYWORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "bearer",
    "ssn",
    "social",
    "card",
    "phone",
    "mobile",
    "tel",
    "pan",
    "ccn",
    "cc_",
    "cc-",
];

/// What a key says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyClass {
    /// `Authorization` / `Proxy-Authorization`: a scheme (`Bearer`, `token`, `Basic`) then the credential.
    Authorization,
    /// `password`, `passwd`, `pwd`, `passphrase`: any non-trivial value is a secret.
    Password,
    /// `secret`, `api_key`, `token`, `client_secret`, `private_key`...: a high-entropy value is a secret.
    Secret,
    /// `ssn`, `social_security_number`: nine digits.
    Ssn,
    /// `card_number`, `credit_card`, `pan`: a Luhn-valid card number.
    Card,
    /// `phone`, `tel`, `mobile`: a phone number.
    Phone,
}

/// The lower-case segments of a key: split on non-alphanumerics and at camelCase humps.
fn segments(key: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in key {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        cur.push(b.to_ascii_lowercase() as char);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What `key` says about its value, if anything.
pub(crate) fn classify(key: &[u8]) -> Option<KeyClass> {
    if key.len() > 64 {
        return None;
    }
    let segs = segments(key);
    let joined: String = segs.concat();
    let seg = |s: &str| segs.iter().any(|x| x == s);
    let has = |s: &str| joined.contains(s);
    // `X-Amz-Credential=AKIA.../20240101/...`: the access key id (found by its own detector) and its scope.
    if joined == "xamzcredential" {
        return None;
    }
    if joined == "authorization" || joined == "proxyauthorization" {
        return Some(KeyClass::Authorization);
    }
    if has("password") || has("passwd") || has("passphrase") || seg("pwd") || seg("pass") || seg("pw") {
        return Some(KeyClass::Password);
    }
    if has("secret")
        || has("apikey")
        || has("privatekey")
        || has("accesskey")
        || has("sessionkey")
        || has("signingkey")
        || has("encryptionkey")
        || has("masterkey")
        || has("credential")
        || segs.iter().any(|s| s.ends_with("token"))
        || seg("auth")
    {
        return Some(KeyClass::Secret);
    }
    if seg("ssn") || has("socialsecurity") {
        return Some(KeyClass::Ssn);
    }
    if seg("card") || seg("pan") || seg("cc") || seg("ccn") || seg("ccnum") || has("cardnumber") || has("creditcard") {
        return Some(KeyClass::Card);
    }
    if has("phone") || seg("tel") || seg("mobile") || seg("cell") || seg("fax") || seg("msisdn") {
        return Some(KeyClass::Phone);
    }
    None
}

/// A value that is itself a redaction or a template, not a secret: `<TOKEN:...>`, `${VAR}`, `****`, `null`.
fn is_placeholder(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    let first = v[0];
    first == b'<'
        || v.starts_with(b"${")
        || v.starts_with(b"{{")
        || v.starts_with(b"%(")
        || v.iter().all(|&b| b == first)
        || lower.windows(4).any(|w| w == b"****" || w == b"xxxx")
        || lower.windows(8).any(|w| w == b"redacted")
        || matches!(
            lower.as_slice(),
            b"null" | b"none" | b"true" | b"false" | b"undefined" | b"nil" | b"empty"
        )
}

fn char_classes(v: &[u8]) -> usize {
    let lower = v.iter().any(u8::is_ascii_lowercase);
    let upper = v.iter().any(u8::is_ascii_uppercase);
    let digit = v.iter().any(u8::is_ascii_digit);
    let other = v.iter().any(|b| !b.is_ascii_alphanumeric());
    usize::from(lower) + usize::from(upper) + usize::from(digit) + usize::from(other)
}

/// A high-entropy secret: at least 8 bytes, 2.5 bits per byte, and two character classes (or 24 bytes).
fn high_entropy(v: &[u8]) -> bool {
    v.len() >= 8 && !is_placeholder(v) && validate::entropy(v) >= 2.5 && (char_classes(v) >= 2 || v.len() >= 24)
}

/// The finding a value under a key of class `class` is, as `(kind, start, end)` within `v`.
pub(crate) fn check_value(class: KeyClass, v: &[u8]) -> Option<(Kind, usize, usize)> {
    if v.is_empty() {
        return None;
    }
    match class {
        KeyClass::Password => (v.len() >= 4 && !is_placeholder(v)).then_some((Kind::Token, 0, v.len())),
        KeyClass::Secret => high_entropy(v).then_some((Kind::Token, 0, v.len())),
        KeyClass::Authorization => {
            let word_end = v.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(v.len());
            let mut cred = word_end;
            while cred < v.len() && (v[cred] == b' ' || v[cred] == b'\t') {
                cred += 1;
            }
            if cred < v.len() {
                let c = &v[cred..];
                (c.len() >= 8 && !is_placeholder(c)).then_some((Kind::Token, cred, v.len()))
            } else {
                high_entropy(v).then_some((Kind::Token, 0, v.len()))
            }
        }
        KeyClass::Ssn => {
            let digits: Vec<u8> = v.iter().copied().filter(u8::is_ascii_digit).collect();
            let shape =
                v.len() == 9 || (v.len() == 11 && v[3] == v[6] && matches!(v[3], b'-' | b' ') && digits.len() == 9);
            (shape && validate::ssn(&digits)).then_some((Kind::Ssn, 0, v.len()))
        }
        KeyClass::Card => {
            if !v.iter().all(|&b| b.is_ascii_digit() || b == b' ' || b == b'-') {
                return None;
            }
            let digits: Vec<u8> = v.iter().copied().filter(u8::is_ascii_digit).collect();
            validate::card(&digits).then_some((Kind::Card, 0, v.len()))
        }
        KeyClass::Phone => {
            if !v.iter().all(|&b| b.is_ascii_digit() || b" -.()+".contains(&b)) || !v[v.len() - 1].is_ascii_digit() {
                return None;
            }
            let digits: Vec<u8> = v.iter().copied().filter(u8::is_ascii_digit).collect();
            let ok = match digits.len() {
                10 => validate::nanp(&digits),
                11 if digits[0] == b'1' => validate::nanp(&digits[1..]),
                8..=15 => v[0] == b'+' || v.starts_with(b"00"),
                _ => false,
            };
            ok.then_some((Kind::Phone, 0, v.len()))
        }
    }
}

/// The shortest keyword ([`KEYWORDS`]).
pub(crate) const KEYWORD_MIN_LEN: usize = 3;

/// A byte of a key: ASCII letters, digits, `_`, `-` and `.` (every keyword is made of them).
pub(crate) fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// The key of the maximal run of key bytes `ks..ke`: the run less the letter of a `\n`, `\r` or `\t` escape
/// before it (`\npassword=...` in a log with escaped newlines), as [`in_text`] reads it.
pub(crate) fn key_of(text: &[u8], ks: usize, ke: usize) -> &[u8] {
    if ks >= 1 && ks < ke && text[ks - 1] == b'\\' && matches!(text[ks], b'n' | b'r' | b't') {
        &text[ks + 1..ke]
    } else {
        &text[ks..ke]
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Bytes that end an unquoted value.
fn ends_bare(b: u8) -> bool {
    b.is_ascii_whitespace() || b"\"',;&<>(){}[]\\|`".contains(&b)
}

/// The longest value read (longer ones are not secrets by key, and reading is bounded).
const MAX_VALUE: usize = 4096;

/// Look for `key<sep>value` around a keyword found at `hit..hit_end`; push a candidate for the value and
/// return the end of the key (where to resume the keyword search).
pub(crate) fn in_text(text: &[u8], hit: usize, hit_end: usize, out: &mut Vec<Candidate>) -> usize {
    let mut ks = hit;
    while ks > 0 && is_key_byte(text[ks - 1]) {
        ks -= 1;
    }
    let mut ke = hit_end;
    while ke < text.len() && is_key_byte(text[ke]) {
        ke += 1;
    }
    // `\npassword=...` in a log with escaped newlines: the key starts after the escape.
    if ks >= 1 && text[ks - 1] == b'\\' && matches!(text[ks], b'n' | b'r' | b't') {
        ks += 1;
    }
    // A placeholder's tag (`<TOKEN:1a2b3c4d>`) is not a key.
    if ks >= ke || (ks > 0 && text[ks - 1] == b'<') {
        return ke;
    }
    let key = &text[ks..ke];
    if key.eq_ignore_ascii_case(b"bearer") {
        let mut i = ke;
        if i < text.len() && is_blank(text[i]) {
            while i < text.len() && is_blank(text[i]) {
                i += 1;
            }
            let start = i;
            while i < text.len()
                && i - start < MAX_VALUE
                && (text[i].is_ascii_alphanumeric() || b"-._~+/=".contains(&text[i]))
            {
                i += 1;
            }
            let c = &text[start..i];
            if c.len() >= 8 && !is_placeholder(c) {
                out.push(Candidate {
                    kind: Kind::Token,
                    start,
                    end: i,
                    ctx: ks,
                });
            }
        }
        return ke;
    }
    let mut i = ke;
    // The key's closing quote (`"key"`, `'key'`, or `\"key\"` in escaped JSON).
    if i + 1 < text.len() && text[i] == b'\\' && text[i + 1] == b'"' {
        i += 2;
    } else if i < text.len() && (text[i] == b'"' || text[i] == b'\'') {
        i += 1;
    }
    while i < text.len() && is_blank(text[i]) {
        i += 1;
    }
    // Most keyword hits are words in prose, not keys: look for the separator before classifying.
    match text.get(i) {
        Some(b'=') => i += 1,
        Some(b':') => {
            i += 1;
            if text.get(i) == Some(&b'=') {
                i += 1;
            }
        }
        _ => return ke,
    }
    let Some(class) = classify(key) else { return ke };
    if text.get(i) == Some(&b'>') {
        i += 1; // `=>`
    }
    while i < text.len() && is_blank(text[i]) {
        i += 1;
    }
    let (vs, ve) = if text.get(i) == Some(&b'\\') && text.get(i + 1) == Some(&b'"') {
        let vs = i + 2;
        let mut j = vs;
        while j + 1 < text.len() && j - vs < MAX_VALUE && !(text[j] == b'\\' && text[j + 1] == b'"') {
            j += 1;
        }
        (vs, j.min(text.len()))
    } else if matches!(text.get(i), Some(b'"') | Some(b'\'')) {
        let q = text[i];
        let vs = i + 1;
        let mut j = vs;
        while j < text.len() && j - vs < MAX_VALUE && text[j] != q && text[j] != b'\n' {
            if text[j] == b'\\' && q == b'"' {
                j += 1;
            }
            j += 1;
        }
        (vs, j.min(text.len()))
    } else {
        let vs = i;
        let mut j = vs;
        if class == KeyClass::Authorization {
            // `Authorization: Bearer abc`: the scheme, blanks, then the credential.
            while j < text.len() && !ends_bare(text[j]) {
                j += 1;
            }
            while j < text.len() && is_blank(text[j]) {
                j += 1;
            }
        }
        while j < text.len() && j - vs < MAX_VALUE && !ends_bare(text[j]) {
            j += 1;
        }
        (vs, j)
    };
    if ve <= vs {
        return ke;
    }
    if let Some((kind, a, b)) = check_value(class, &text[vs..ve]) {
        out.push(Candidate {
            kind,
            start: vs + a,
            end: vs + b,
            ctx: ks,
        });
    }
    ke
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify(b"password"), Some(KeyClass::Password));
        assert_eq!(classify(b"DB_PASSWORD"), Some(KeyClass::Password));
        assert_eq!(classify(b"apiKey"), Some(KeyClass::Secret));
        assert_eq!(classify(b"x-api-key"), Some(KeyClass::Secret));
        assert_eq!(classify(b"AWS_SECRET_ACCESS_KEY"), Some(KeyClass::Secret));
        assert_eq!(classify(b"client_secret"), Some(KeyClass::Secret));
        assert_eq!(classify(b"access_token"), Some(KeyClass::Secret));
        assert_eq!(classify(b"Authorization"), Some(KeyClass::Authorization));
        assert_eq!(classify(b"social_security_number"), Some(KeyClass::Ssn));
        assert_eq!(classify(b"ssn"), Some(KeyClass::Ssn));
        assert_eq!(classify(b"card_number"), Some(KeyClass::Card));
        assert_eq!(classify(b"phone"), Some(KeyClass::Phone));
        assert_eq!(KEYWORDS.iter().map(|k| k.len()).min(), Some(KEYWORD_MIN_LEN));
        assert!(KEYWORDS.iter().all(|k| k.bytes().all(is_key_byte)));
        for none in [
            "max_tokens",
            "tokenizer",
            "cache_key",
            "keyboard",
            "sha256",
            "etag",
            "trace_id",
            "hotel",
        ] {
            assert_eq!(classify(none.as_bytes()), None, "{none}");
        }
    }

    #[test]
    fn values() {
        assert!(check_value(KeyClass::Password, b"hunter2hunter2").is_some());
        assert!(check_value(KeyClass::Password, b"<TOKEN:12345678>").is_none());
        assert!(check_value(KeyClass::Password, b"********").is_none());
        assert!(check_value(KeyClass::Secret, b"disabled").is_none());
        assert!(check_value(KeyClass::Secret, b"9f8e7d6c5b4a3f2e1d0c").is_some());
        assert_eq!(
            check_value(KeyClass::Authorization, b"Bearer abcdef123456"),
            Some((Kind::Token, 7, 19))
        );
        assert!(check_value(KeyClass::Ssn, b"123456789").is_some());
        assert!(check_value(KeyClass::Ssn, b"000456789").is_none());
        assert!(check_value(KeyClass::Card, b"4111111111111111").is_some());
        assert!(check_value(KeyClass::Phone, b"4158675309").is_some());
        assert!(check_value(KeyClass::Phone, b"1700000000").is_none());
    }
}
