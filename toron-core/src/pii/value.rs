//! The walk of a JSON value: strings scanned as text, object keys as context for their values, keys
//! scanned too, numbers under card / SSN / phone keys checked. Pointers are built from the scrubbed keys.

use super::detect::{self, check_value, classify, Candidate, KeyClass};
use super::{Finding, Location, Scrubber};
use crate::canon::push_pointer_token;
use serde_json::{Map, Value};

pub(crate) fn walk(s: &Scrubber, value: &Value) -> (Value, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut pointer = String::new();
    let out = node(s, value, None, &mut pointer, &mut findings);
    (out, findings)
}

/// Scrub the text of a string (or key) with the key class of its parent member; findings located at
/// `pointer`.
fn text(s: &Scrubber, t: &str, class: Option<KeyClass>, pointer: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let bytes = t.as_bytes();
    let (mut cands, _) = s.find(bytes);
    if let Some(class) = class {
        if let Some((kind, a, b)) = check_value(class, bytes) {
            if s.policy.wants(kind) && !s.allowed(kind, &bytes[a..b]) {
                cands.push(Candidate {
                    kind,
                    start: a,
                    end: b,
                    ctx: 0,
                });
                cands = detect::resolve(cands);
            }
        }
    }
    if cands.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(t.len());
    let mut pos = 0;
    for c in &cands {
        let placeholder = s.placeholder_of(c.kind, &bytes[c.start..c.end]);
        out.push_str(&t[pos..c.start]);
        out.push_str(&placeholder);
        pos = c.end;
        findings.push(Finding {
            kind: c.kind,
            location: Location::Pointer(pointer.to_owned()),
            placeholder,
            span: 0..0,
        });
    }
    out.push_str(&t[pos..]);
    Some(out)
}

fn node(s: &Scrubber, v: &Value, class: Option<KeyClass>, pointer: &mut String, findings: &mut Vec<Finding>) -> Value {
    match v {
        Value::String(t) => match text(s, t, class, pointer, findings) {
            Some(new) => Value::String(new),
            None => v.clone(),
        },
        Value::Number(n) if matches!(class, Some(KeyClass::Card | KeyClass::Ssn | KeyClass::Phone)) => {
            let digits = n.to_string();
            match check_value(class.unwrap_or(KeyClass::Card), digits.as_bytes()) {
                Some((kind, _, _)) if s.policy.wants(kind) && !s.allowed(kind, digits.as_bytes()) => {
                    let placeholder = s.placeholder_of(kind, digits.as_bytes());
                    findings.push(Finding {
                        kind,
                        location: Location::Pointer(pointer.clone()),
                        placeholder: placeholder.clone(),
                        span: 0..0,
                    });
                    Value::String(placeholder)
                }
                _ => v.clone(),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    let out = node(s, item, None, pointer, findings);
                    pointer.truncate(len);
                    out
                })
                .collect(),
        ),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let len = pointer.len();
                // The key itself may hold a value (`{"alice@corp.io": ...}`): the pointer uses its scrubbed form.
                let mut key_findings = Vec::new();
                let scrubbed_key = text(s, k, None, "", &mut key_findings);
                let shown = scrubbed_key.as_deref().unwrap_or(k);
                push_pointer_token(pointer, shown);
                for mut f in key_findings {
                    f.location = Location::Pointer(pointer.clone());
                    findings.push(f);
                }
                let child = node(s, &map[k], classify(k.as_bytes()), pointer, findings);
                pointer.truncate(len);
                out.insert(shown.to_owned(), child);
            }
            Value::Object(out)
        }
        _ => v.clone(),
    }
}
