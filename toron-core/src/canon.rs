//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and value identity.
//!
//! Equal values have equal canonical bytes and so equal identities (blake3 of those bytes), in any language
//! that implements RFC 8785: object keys sorted by UTF-16 code units, numbers in the ECMAScript
//! `Number.prototype.toString` form (shortest round trip, `1.0` is `1`, `-0` is `0`), minimal string escaping.
//!
//! ```
//! use serde_json::json;
//! use toron_core::canon;
//!
//! let v = canon::parse_json(r#"{"b": 1.0, "a": [true, null, "\u00e9"]}"#)?;
//! assert_eq!(canon::canonical_string(&v)?, r#"{"a":[true,null,"é"],"b":1}"#);
//! assert_eq!(canon::digest(&v)?, canon::digest(&json!({"a": [true, null, "é"], "b": 1}))?);
//! # Ok::<(), toron_core::Error>(())
//! ```
//!
//! Numbers are IEEE-754 doubles in RFC 8785, so an integer is only accepted when a double holds it exactly and
//! unambiguously: its magnitude must be at most 2^53 - 1 ([`MAX_SAFE_INTEGER`]). Larger integers, NaN and the
//! infinities are [`ErrorKind::Canonical`] errors naming the JSON pointer of the value, never silently rounded.
//! (An integer literal too long for 64 bits is read by `serde_json` as a double, like JavaScript's `JSON.parse`
//! does, and is then accepted as that double.)

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::{Error, ErrorKind, Result};

/// The largest integer magnitude that the canonical encoding accepts: 2^53 - 1 (JavaScript's
/// `Number.MAX_SAFE_INTEGER`).
///
/// ```
/// assert_eq!(toron_core::canon::MAX_SAFE_INTEGER, 9_007_199_254_740_991);
/// ```
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

// ---------------------------------------------------------------------------------------------------------
// JSON pointers
// ---------------------------------------------------------------------------------------------------------

/// Append one RFC 6901 reference token (`~` as `~0`, `/` as `~1`) to `pointer`, with its leading `/`.
///
/// ```
/// let mut p = String::from("/a");
/// toron_core::canon::push_pointer_token(&mut p, "b/c~d");
/// assert_eq!(p, "/a/b~1c~0d");
/// ```
pub fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// One step of a path inside a value while it is being parsed or walked.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn pointer_of(segs: &[Seg]) -> String {
    let mut p = String::new();
    for s in segs {
        match s {
            Seg::Key(k) => push_pointer_token(&mut p, k),
            Seg::Index(i) => {
                p.push('/');
                p.push_str(&i.to_string());
            }
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------------------
// Strict parsing
// ---------------------------------------------------------------------------------------------------------

#[derive(Default)]
struct ParseState {
    path: Vec<Seg>,
    error: Option<Error>,
}

#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    state: &'a RefCell<ParseState>,
}

impl ValueSeed<'_> {
    fn fail<E: de::Error>(&self, kind: ErrorKind, extra: Option<&str>, message: String) -> E {
        let mut st = self.state.borrow_mut();
        let mut pointer = pointer_of(&st.path);
        if let Some(key) = extra {
            push_pointer_token(&mut pointer, key);
        }
        if st.error.is_none() {
            st.error = Some(Error::new(kind, message.clone()).with_path(pointer));
        }
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match deserializer.deserialize_any(self) {
            Ok(v) => Ok(v),
            Err(e) => {
                let msg = e.to_string();
                if msg.starts_with("number out of range") && self.state.borrow().error.is_none() {
                    Err(self.fail(
                        ErrorKind::Canonical,
                        None,
                        "number out of range: a JSON number must fit in an IEEE-754 double".to_string(),
                    ))
                } else {
                    Err(e)
                }
            }
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            // Exactly a double (2^53), or the ECMAScript form of one (1152921504606847000 for 2^60): keep it
            // as that double, as JSON.parse does.
            let f = v as f64;
            if (f < 18_446_744_073_709_551_616.0 && f as u64 == v) || format_f64(f) == v.to_string() {
                return self.visit_f64(f);
            }
            return Err(self.fail(ErrorKind::Canonical, None, unsafe_integer_message(&v.to_string())));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            let f = v as f64;
            if f as i64 == v || format_f64(f) == v.to_string() {
                return self.visit_f64(f);
            }
            return Err(self.fail(ErrorKind::Canonical, None, unsafe_integer_message(&v.to_string())));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.fail(ErrorKind::Canonical, None, "a JSON number must be finite".to_string())),
        }
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            self.state.borrow_mut().path.push(Seg::Index(out.len()));
            let next = seq.next_element_seed(self);
            self.state.borrow_mut().path.pop();
            match next? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(self.fail(
                    ErrorKind::Json,
                    Some(&key),
                    format!("duplicate key {key:?}: each key of an object must appear once"),
                ));
            }
            self.state.borrow_mut().path.push(Seg::Key(key));
            let value = access.next_value_seed(self);
            let Some(Seg::Key(key)) = self.state.borrow_mut().path.pop() else {
                unreachable!("the path stack holds the key pushed above")
            };
            map.insert(key, value?);
        }
        Ok(Value::Object(map))
    }
}

fn unsafe_integer_message(text: &str) -> String {
    format!(
        "integer {text} cannot be represented exactly: the canonical encoding (RFC 8785) carries integers of \
         magnitude at most 2^53 - 1 (9007199254740991); store larger ones as strings"
    )
}

/// serde_json's message in the user's words (its "expected ident" is a parser-internal word), with what was
/// written at the position (`line`, `column`: 1-based) when there is something there.
pub(crate) fn json_in_user_words(msg: &str, text: &str, line: usize, column: usize) -> (String, usize) {
    let expected = match msg {
        // serde_json says "expected ident" when a word starting like `null`, `true` or `false` is not one of
        // them (`nope`, `name:`): to the user that is the same place a value was expected.
        "expected value" | "expected ident" => {
            "expected a JSON value (an object, array, string, number, true, false or null)"
        }
        "trailing characters" => "expected the end of the file after the JSON value",
        "EOF while parsing a value" => return ("the file ends where a JSON value was expected".to_string(), column),
        m if m.starts_with("EOF while parsing") => return (format!("the file ends too early ({m})"), column),
        m => m,
    };
    let chars: Vec<char> = text.lines().nth(line.saturating_sub(1)).unwrap_or("").chars().collect();
    let mut start = column.saturating_sub(1).min(chars.len());
    if msg == "expected ident" {
        // serde_json stops inside the word (`nope` is read as far as `no`): point at the word's start.
        while start > 0 && !chars[start - 1].is_whitespace() && !"[{,:".contains(chars[start - 1]) {
            start -= 1;
        }
    }
    let found: String = chars[start..]
        .iter()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
        .take(24)
        .collect();
    if found.is_empty() {
        (expected.to_string(), column)
    } else {
        (format!("{expected}, found `{found}`"), start + 1)
    }
}

/// Parse JSON text strictly: no trailing content, no duplicate keys, only numbers a double holds exactly.
///
/// Integers up to ±(2^53 - 1) are kept as integers. A larger integer literal is kept as a double when a
/// double holds it exactly (`9007199254740992`) or when it is the ECMAScript form of a double
/// (`1152921504606847000`, how RFC 8785 writes 2^60), so parsing canonical text always gives the value back;
/// any other (`9007199254740993`, which would silently become ...992) is an error.
///
/// Syntax errors are [`ErrorKind::Json`] with the 1-based line and column; a duplicate key is
/// [`ErrorKind::Json`] naming the RFC 6901 pointer of its second occurrence; an integer beyond
/// ±(2^53 - 1) or a number beyond the range of a double is [`ErrorKind::Canonical`] naming its pointer.
///
/// ```
/// use toron_core::{canon, ErrorKind};
///
/// assert_eq!(canon::parse_json("[1, 2.5]")?, serde_json::json!([1, 2.5]));
///
/// let e = canon::parse_json("{\"a\": {\"b\": 1,\n \"b\": 2}}").unwrap_err();
/// assert_eq!((e.kind(), e.path(), e.line()), (ErrorKind::Json, Some("/a/b"), Some(2)));
///
/// let e = canon::parse_json(r#"{"n": [9007199254740993]}"#).unwrap_err();
/// assert_eq!((e.kind(), e.path()), (ErrorKind::Canonical, Some("/n/0")));
///
/// let e = canon::parse_json("[1,\n  2,]").unwrap_err();
/// assert_eq!((e.kind(), e.line(), e.column()), (ErrorKind::Json, Some(2), Some(5)));
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn parse_json(text: &str) -> Result<Value> {
    let state = RefCell::new(ParseState::default());
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = ValueSeed { state: &state }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => {
            let line = e.line();
            // serde_json reports column 0 at the end of a line (an unexpected end of input): columns are 1-based.
            let mut column = e.column().max(1);
            let err = match state.into_inner().error {
                Some(err) => err,
                None => {
                    let full = e.to_string();
                    // serde_json appends " at line L column C"; the location is carried separately.
                    let msg = match full.rfind(" at line ") {
                        Some(i) => full[..i].to_string(),
                        None => full,
                    };
                    let (words, at) = json_in_user_words(&msg, text, line, column);
                    column = at;
                    Error::new(ErrorKind::Json, format!("invalid JSON: {words}"))
                }
            };
            Err(if line > 0 {
                err.with_line(line, Some(column))
            } else {
                err
            })
        }
    }
}

/// Read a JSON file and [`parse_json`] it strictly; errors carry the file name.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("toron-canon-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("v.json");
/// std::fs::write(&file, "{\"a\": [1, 2]}").unwrap();
/// assert_eq!(toron_core::canon::read_json_file(&file)?, serde_json::json!({"a": [1, 2]}));
/// let e = toron_core::canon::read_json_file(&dir.join("missing.json")).unwrap_err();
/// assert_eq!(e.kind(), toron_core::ErrorKind::Io);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn read_json_file(path: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(&e, path))?;
    parse_json(&text).map_err(|e| e.with_file(path))
}

// ---------------------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------------------

/// Check that `value` can be canonically encoded: every integer within ±(2^53 - 1) and every float finite.
///
/// The error is [`ErrorKind::Canonical`] naming the RFC 6901 pointer of the first offending value (in
/// canonical key order).
///
/// ```
/// use serde_json::json;
/// use toron_core::{canon, ErrorKind};
///
/// canon::check(&json!({"ok": [1, 2.5, -9007199254740991i64]}))?;
/// let e = canon::check(&json!({"ids": [1, 18446744073709551615u64]})).unwrap_err();
/// assert_eq!((e.kind(), e.path()), (ErrorKind::Canonical, Some("/ids/1")));
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn check(value: &Value) -> Result<()> {
    let mut sink = Vec::new();
    Writer {
        out: &mut sink,
        path: Vec::new(),
        pretty: None,
        emit: false,
    }
    .value(value)
}

// ---------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------

/// Where a number stands relative to the canonical encoding.
pub(crate) fn number_error(n: &Number) -> Option<String> {
    if let Some(u) = n.as_u64() {
        (u > MAX_SAFE_INTEGER).then(|| unsafe_integer_message(&u.to_string()))
    } else if let Some(i) = n.as_i64() {
        (i.unsigned_abs() > MAX_SAFE_INTEGER).then(|| unsafe_integer_message(&i.to_string()))
    } else {
        match n.as_f64() {
            Some(f) if f.is_finite() => None,
            _ => Some("a number must be finite (NaN and the infinities have no JSON form)".to_string()),
        }
    }
}

/// Append the ECMAScript form of a number that passed [`number_error`].
fn push_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        if f == 0.0 {
            out.push(b'0');
        } else {
            out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
        }
    }
}

/// Format a finite double the way ECMAScript's `Number.prototype.toString` (and so RFC 8785) does.
///
/// ```
/// use toron_core::canon::format_f64;
/// assert_eq!(format_f64(1.0), "1");
/// assert_eq!(format_f64(-0.0), "0");
/// assert_eq!(format_f64(1e21), "1e+21");
/// assert_eq!(format_f64(4.5e-7), "4.5e-7");
/// assert_eq!(format_f64(f64::NAN), "NaN");
/// ```
pub fn format_f64(f: f64) -> String {
    if f == 0.0 {
        "0".to_string()
    } else {
        ryu_js::Buffer::new().format(f).to_string()
    }
}

/// What each byte becomes in a JSON string: 0 for itself, else the letter after its backslash (`u` for a
/// `\u00XX` escape). A table lookup per byte, not a branch per escapable character.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Append a string with the minimal escaping of RFC 8785 section 3.2.2.2.
fn push_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The entries of an object in canonical order: by the UTF-16 code units of the keys.
///
/// `serde_json`'s map is ordered by UTF-8 bytes (code points), which agrees with UTF-16 order except between
/// characters U+E000..=U+FFFF and supplementary ones; only objects with such keys are re-sorted.
pub(crate) fn sorted_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    if needs_resort(map) {
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    }
    entries
}

/// Whether a key of `map` has a character from U+E000 up, where UTF-8 and UTF-16 orders can disagree.
fn needs_resort(map: &Map<String, Value>) -> bool {
    map.keys().any(|k| k.bytes().any(|b| b >= 0xee))
}

struct Writer<'o, 'v> {
    out: &'o mut Vec<u8>,
    /// Where the writer is, borrowed from the value (only turned into a pointer on error).
    path: Vec<SegRef<'v>>,
    /// `Some(depth)` for the pretty form.
    pretty: Option<usize>,
    /// False when only checking.
    emit: bool,
}

/// A borrowed path step, so writing clones no keys.
#[derive(Clone, Copy)]
enum SegRef<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer_of_refs(segs: &[SegRef<'_>]) -> String {
    let mut p = String::new();
    for s in segs {
        match s {
            SegRef::Key(k) => push_pointer_token(&mut p, k),
            SegRef::Index(i) => {
                p.push('/');
                p.push_str(&i.to_string());
            }
        }
    }
    p
}

impl<'v> Writer<'_, 'v> {
    fn newline(&mut self, depth: usize) {
        if self.emit {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + 2 * depth, b' ');
        }
    }

    fn value(&mut self, value: &'v Value) -> Result<()> {
        match value {
            Value::Null => self.raw(b"null"),
            Value::Bool(true) => self.raw(b"true"),
            Value::Bool(false) => self.raw(b"false"),
            Value::Number(n) => {
                if let Some(msg) = number_error(n) {
                    return Err(Error::new(ErrorKind::Canonical, msg).with_path(pointer_of_refs(&self.path)));
                }
                if self.emit {
                    push_number(self.out, n);
                }
            }
            Value::String(s) => {
                if self.emit {
                    push_string(self.out, s);
                }
            }
            Value::Array(items) => {
                self.raw(b"[");
                let depth = self.pretty.unwrap_or(0);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(b",");
                    }
                    if self.pretty.is_some() {
                        self.newline(depth + 1);
                        self.pretty = Some(depth + 1);
                    }
                    self.path.push(SegRef::Index(i));
                    self.value(item)?;
                    self.path.pop();
                }
                if self.pretty.is_some() {
                    self.pretty = Some(depth);
                    if !items.is_empty() {
                        self.newline(depth);
                    }
                }
                self.raw(b"]");
            }
            Value::Object(map) => {
                self.raw(b"{");
                let depth = self.pretty.unwrap_or(0);
                // Nearly every object is in canonical order already: iterated as it is, with no list made.
                let entries: Box<dyn Iterator<Item = (&String, &Value)>> = if needs_resort(map) {
                    Box::new(sorted_entries(map).into_iter())
                } else {
                    Box::new(map.iter())
                };
                for (i, (k, v)) in entries.enumerate() {
                    if i > 0 {
                        self.raw(b",");
                    }
                    if self.pretty.is_some() {
                        self.newline(depth + 1);
                        self.pretty = Some(depth + 1);
                    }
                    if self.emit {
                        push_string(self.out, k);
                    }
                    self.raw(if self.pretty.is_some() { b": " } else { b":" });
                    self.path.push(SegRef::Key(k));
                    self.value(v)?;
                    self.path.pop();
                }
                if self.pretty.is_some() {
                    self.pretty = Some(depth);
                    if !map.is_empty() {
                        self.newline(depth);
                    }
                }
                self.raw(b"}");
            }
        }
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) {
        if self.emit {
            self.out.extend_from_slice(bytes);
        }
    }
}

/// Append the RFC 8785 canonical encoding of `value` to `out`.
///
/// On error (see [`check`]) `out` may hold a partial encoding; the error names the offending pointer.
///
/// ```
/// let mut out = Vec::new();
/// toron_core::canon::write_canonical(&serde_json::json!({"b": [1.5e300, "\n"], "a": -0.0}), &mut out)?;
/// assert_eq!(out, br#"{"a":0,"b":[1.5e+300,"\n"]}"#);
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<()> {
    Writer {
        out,
        path: Vec::new(),
        pretty: None,
        emit: true,
    }
    .value(value)
}

/// The RFC 8785 canonical encoding of `value`.
///
/// ```
/// let bytes = toron_core::canon::canonical_bytes(&serde_json::json!({"\u{20ac}": 1, "\r": 2}))?;
/// assert_eq!(bytes, "{\"\\r\":2,\"\u{20ac}\":1}".as_bytes());
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// The canonical encoding of `value` as a string (it is always valid UTF-8).
///
/// ```
/// assert_eq!(toron_core::canon::canonical_string(&serde_json::json!([1.0, "x"]))?, r#"[1,"x"]"#);
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn canonical_string(value: &Value) -> Result<String> {
    let bytes = canonical_bytes(value)?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The identity of `value`: blake3 of its canonical bytes, as 64 lowercase hex characters.
///
/// ```
/// let id = toron_core::canon::digest(&serde_json::json!({"a": 1}))?;
/// assert_eq!(id, toron_core::canon::digest_bytes(br#"{"a":1}"#));
/// assert_eq!(id.len(), 64);
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn digest(value: &Value) -> Result<String> {
    Ok(digest_bytes(&canonical_bytes(value)?))
}

/// blake3 of `bytes` as 64 lowercase hex characters.
///
/// ```
/// assert_eq!(
///     toron_core::canon::digest_bytes(b""),
///     "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
/// );
/// ```
pub fn digest_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Human-readable JSON for golden files: 2-space indentation, keys in canonical (UTF-16) order, numbers in
/// the canonical (ECMAScript) form, strings escaped as in the canonical form, and a final newline.
///
/// Parsing the result and canonicalising it gives the canonical bytes of `value`.
///
/// ```
/// let text = toron_core::canon::to_pretty(&serde_json::json!({"b": [1.0, {}], "a": "x"}))?;
/// assert_eq!(text, "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    {}\n  ]\n}\n");
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn to_pretty(value: &Value) -> Result<String> {
    let mut out = Vec::new();
    Writer {
        out: &mut out,
        path: Vec::new(),
        pretty: Some(0),
        emit: true,
    }
    .value(value)?;
    out.push(b'\n');
    Ok(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// proptest strategies for JSON values that the canonical encoding accepts, reused by the bindings' tests.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::deterministic();
/// let v = toron_core::canon::strategy::value().new_tree(&mut runner).unwrap().current();
/// toron_core::canon::check(&v).unwrap();
/// ```
#[cfg(any(test, feature = "proptest"))]
pub mod strategy {
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    /// A finite double, biased towards awkward ones (tiny, huge, integral, negative zero).
    pub fn finite_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 8.0),
            Just(-0.0),
            Just(5e-324),
            Just(1e21),
            Just(f64::MAX),
        ]
    }

    /// A leaf: null, a boolean, a safe integer, a finite float or a string (any Unicode, control characters
    /// included).
    pub fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-9_007_199_254_740_991i64..=9_007_199_254_740_991).prop_map(|i| Value::Number(i.into())),
            (-20i64..20).prop_map(|i| Value::Number(i.into())),
            finite_f64().prop_map(|f| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            any::<String>().prop_map(Value::String),
            "[a-c~/]{0,3}".prop_map(Value::String),
        ]
    }

    /// An object key: short ones collide often; any Unicode otherwise.
    pub fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-e~/]{0,2}",
            any::<String>(),
            "[\\u{e000}-\\u{ffff}\\u{10000}-\\u{10ffff}]{1,2}"
        ]
    }

    /// A nested value (depth at most 4, up to 8 items per level).
    pub fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        canonical_string(&parse_json(text).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_sample() {
        let input = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
        assert_eq!(
            canon(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
             \"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    #[test]
    fn utf16_key_order() {
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let v = parse_json(input).unwrap();
        let keys: Vec<String> = match &v {
            Value::Object(m) => sorted_entries(m).into_iter().map(|(k, _)| k.clone()).collect(),
            _ => unreachable!(),
        };
        assert_eq!(
            keys,
            ["\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]
        );
    }

    #[test]
    fn numbers_in_ecmascript_form() {
        for (bits, want) in [
            (0x0000_0000_0000_0000u64, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ] {
            assert_eq!(format_f64(f64::from_bits(bits)), want, "bits {bits:#x}");
        }
    }

    #[test]
    fn control_characters_escape_lowercase() {
        let s: String = (0u8..0x20).map(char::from).chain(['\u{7f}', '\u{2028}', '/']).collect();
        let got = canonical_string(&Value::String(s)).unwrap();
        assert_eq!(
            got,
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\
             \\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\
             \\u001e\\u001f\u{7f}\u{2028}/\""
        );
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse_json("{\"a\": [1, 2, 1e400]}").unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::Canonical, Some("/a/2")));
        let e = parse_json("{\"a~/\": -9007199254740993}").unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::Canonical, Some("/a~0~1")));
        let e = parse_json("[1] x").unwrap_err();
        assert_eq!((e.kind(), e.line(), e.column()), (ErrorKind::Json, Some(1), Some(5)));
        let eof = parse_json("{\"a\":2,\n").unwrap_err();
        assert_eq!(
            (eof.kind(), eof.line(), eof.column()),
            (ErrorKind::Json, Some(2), Some(1)),
            "{eof}"
        );
        assert!(
            e.message()
                .starts_with("invalid JSON: expected the end of the file after the JSON value"),
            "{}",
            e.message()
        );
        // Not JSON at all: the user's words and what they wrote, not serde_json's "expected ident".
        let e = parse_json("name: x\n").unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(1), Some(1)));
        assert_eq!(
            e.message(),
            "invalid JSON: expected a JSON value (an object, array, string, number, true, false or null), found `name:`"
        );
        let e = parse_json("[nope]").unwrap_err();
        assert!(!e.message().contains("ident"), "{e}");
        assert!(
            e.message()
                .starts_with("invalid JSON: expected a JSON value (an object, array, string, number, true, false or null), found `nope`"),
            "{e}"
        );
        let e = read_json_file(std::path::Path::new("/nonexistent/toron/x.json")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/toron/x.json: cannot read the file: it does not exist"
        );
        let e = parse_json("").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Json);
        let e = parse_json(&"[".repeat(100_000)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Json);
    }

    #[test]
    fn pretty_round_trips() {
        let v = json!({"z": [1, 2.5, {"y": null, "x": []}], "\u{fb33}": "a\"b", "\u{1f600}": true});
        let pretty = to_pretty(&v).unwrap();
        assert!(pretty.ends_with("}\n"));
        assert_eq!(
            canonical_bytes(&parse_json(&pretty).unwrap()).unwrap(),
            canonical_bytes(&v).unwrap()
        );
    }

    fn significant_digits(text: &str) -> usize {
        let mantissa = text.trim_start_matches('-').split(['e', 'E']).next().unwrap_or("");
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        digits.trim_start_matches('0').trim_end_matches('0').len().max(1)
    }

    /// Re-insert the entries of every object in reverse order (serde_json's map sorts them anyway; this
    /// pins that order of insertion can never matter).
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            Value::Object(m) => Value::Object(m.iter().rev().map(|(k, v)| (k.clone(), reversed(v))).collect()),
            v => v.clone(),
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trip_and_idempotence(v in strategy::value()) {
            let bytes = canonical_bytes(&v).unwrap();
            let text = std::str::from_utf8(&bytes).unwrap();
            let back = parse_json(text).unwrap();
            proptest::prop_assert_eq!(canonical_bytes(&back).unwrap(), bytes.clone());
            let pretty = parse_json(&to_pretty(&v).unwrap()).unwrap();
            proptest::prop_assert_eq!(canonical_bytes(&pretty).unwrap(), bytes.clone());
            proptest::prop_assert_eq!(digest(&back).unwrap(), digest_bytes(&bytes));
            proptest::prop_assert_eq!(canonical_bytes(&reversed(&v)).unwrap(), bytes);
        }

        #[test]
        fn floats_are_shortest_round_trip(f in strategy::finite_f64()) {
            let text = format_f64(f);
            let back: f64 = text.parse().unwrap();
            proptest::prop_assert_eq!(back, f);
            let v = parse_json(&text).unwrap();
            proptest::prop_assert_eq!(v.as_f64(), Some(if f == 0.0 { 0.0 } else { f }));
            // No shorter decimal round-trips: Rust's `{:e}` prints the shortest one.
            proptest::prop_assert_eq!(significant_digits(&text), significant_digits(&format!("{f:e}")));
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = parse_json(&text);
        }
    }
}
