//! RFC 6901 JSON pointers: parsing, escaping and array index tokens.

pub use crate::canon::push_pointer_token;

/// Split an RFC 6901 pointer into its unescaped reference tokens (`""` is the whole document).
///
/// ```
/// use toron_core::diff::pointer::parse_pointer;
/// assert_eq!(parse_pointer("/a~1b/~0c/0").unwrap(), ["a/b", "~c", "0"]);
/// assert_eq!(parse_pointer("").unwrap(), Vec::<String>::new());
/// assert!(parse_pointer("a").is_err());
/// assert!(parse_pointer("/a~2").is_err());
/// ```
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "a JSON pointer must be empty or start with '/', got {pointer:?}"
        ));
    };
    rest.split('/').map(unescape_token).collect()
}

fn unescape_token(token: &str) -> Result<String, String> {
    if !token.contains('~') {
        return Ok(token.to_string());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => {
                    return Err(format!(
                        "bad escape in pointer token {token:?}: '~' must be followed by 0 or 1"
                    ))
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Build a pointer from unescaped tokens.
///
/// ```
/// assert_eq!(toron_core::diff::pointer::to_pointer(["a/b", "0"]), "/a~1b/0");
/// ```
pub fn to_pointer<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut p = String::new();
    for t in tokens {
        push_pointer_token(&mut p, t.as_ref());
    }
    p
}

/// An array index token as RFC 6901 allows it: `0`, or digits without a leading zero.
///
/// ```
/// use toron_core::diff::pointer::array_index;
/// assert_eq!(array_index("12"), Some(12));
/// assert_eq!(array_index("012"), None);
/// assert_eq!(array_index("-"), None);
/// ```
pub fn array_index(token: &str) -> Option<usize> {
    let b = token.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    token.parse().ok()
}
