//! Applying RFC 6902 JSON Patches.

use serde_json::{Map, Value};

use super::pointer::{array_index, parse_pointer};
use super::value::values_equal;
use crate::{Error, ErrorKind, Result};

/// Apply an RFC 6902 JSON Patch (`add`, `remove`, `replace`, `move`, `copy`, `test`) to a copy of `value`.
///
/// Operations apply in order; array indices refer to the array as the earlier operations left it; `-` appends.
/// `test` compares numbers by value (`1` equals `1.0`). `value` is never modified: on success the patched copy
/// is returned, on failure nothing changes and the error is [`ErrorKind::Patch`] with the index of the failing
/// operation ([`Error::op_index`]), its path ([`Error::path`]) and what was expected.
///
/// ```
/// use serde_json::json;
/// use toron_core::{diff::apply_patch, ErrorKind};
///
/// let doc = json!({"items": [1, 2], "a~b": {}});
/// let patch = json!([
///     {"op": "add", "path": "/items/0", "value": 0},
///     {"op": "move", "from": "/items/2", "path": "/a~0b/last"},
///     {"op": "test", "path": "/items", "value": [0, 1.0]}
/// ]);
/// assert_eq!(apply_patch(&doc, &patch)?, json!({"items": [0, 1], "a~b": {"last": 2}}));
///
/// let e = apply_patch(&doc, &json!([{"op": "remove", "path": "/items/5"}])).unwrap_err();
/// assert_eq!((e.kind(), e.op_index(), e.path()), (ErrorKind::Patch, Some(0), Some("/items/5")));
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn apply_patch(value: &Value, patch: &Value) -> Result<Value> {
    let Value::Array(ops) = patch else {
        return Err(Error::new(
            ErrorKind::Patch,
            format!("a JSON Patch must be an array of operations, got {}", type_name(patch)),
        ));
    };
    let mut doc = value.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_one(&mut doc, op).map_err(|(path, msg)| {
            let e = Error::new(ErrorKind::Patch, msg).with_op_index(i);
            match path {
                Some(p) => e.with_path(p),
                None => e,
            }
        })?;
    }
    Ok(doc)
}

type OpResult = std::result::Result<(), (Option<String>, String)>;

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn member<'a>(
    op: &'a Map<String, Value>,
    name: &str,
    path: Option<&str>,
) -> std::result::Result<&'a Value, (Option<String>, String)> {
    op.get(name).ok_or_else(|| {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("?");
        (
            path.map(str::to_string),
            format!("a {kind:?} operation needs a {name:?} member"),
        )
    })
}

fn pointer_member(
    op: &Map<String, Value>,
    name: &str,
) -> std::result::Result<(String, Vec<String>), (Option<String>, String)> {
    let v = member(op, name, None)?;
    let Value::String(s) = v else {
        return Err((
            None,
            format!("{name:?} must be a string (a JSON pointer), got {}", type_name(v)),
        ));
    };
    let tokens = parse_pointer(s).map_err(|m| (Some(s.clone()), m))?;
    Ok((s.clone(), tokens))
}

fn apply_one(doc: &mut Value, op: &Value) -> OpResult {
    let Value::Object(op) = op else {
        return Err((
            None,
            format!(
                "an operation must be an object with \"op\" and \"path\", got {}",
                type_name(op)
            ),
        ));
    };
    let kind = match op.get("op") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err((None, format!("\"op\" must be a string, got {}", type_name(other)))),
        None => {
            return Err((
                None,
                "an operation needs an \"op\" member (add, remove, replace, move, copy or test)".into(),
            ))
        }
    };
    let (path, tokens) = pointer_member(op, "path")?;
    let fail = |msg: String| Err((Some(path.clone()), msg));
    match kind {
        "add" => {
            let value = member(op, "value", Some(&path))?.clone();
            add(doc, &tokens, value).or_else(fail)
        }
        "remove" => remove(doc, &tokens).map(drop).or_else(fail),
        "replace" => {
            let value = member(op, "value", Some(&path))?.clone();
            match get_mut(doc, &tokens) {
                Ok(slot) => {
                    *slot = value;
                    Ok(())
                }
                Err(m) => fail(m),
            }
        }
        "move" => {
            let (from, from_tokens) = pointer_member(op, "from")?;
            if from_tokens == tokens {
                return get(doc, &tokens).map(drop).or_else(fail);
            }
            if tokens.len() > from_tokens.len() && tokens[..from_tokens.len()] == from_tokens[..] {
                return fail(format!("cannot move {from:?} into one of its own children"));
            }
            // The patch works on a copy, so a move whose target fails after the removal changes nothing.
            let value = remove(doc, &from_tokens).map_err(|m| (Some(from.clone()), format!("from: {m}")))?;
            add(doc, &tokens, value).or_else(fail)
        }
        "copy" => {
            let (from, from_tokens) = pointer_member(op, "from")?;
            let value = get(doc, &from_tokens)
                .map_err(|m| (Some(from.clone()), format!("from: {m}")))?
                .clone();
            add(doc, &tokens, value).or_else(fail)
        }
        "test" => {
            let expected = member(op, "value", Some(&path))?;
            match get(doc, &tokens) {
                Ok(actual) if values_equal(actual, expected) => Ok(()),
                Ok(actual) => fail(format!(
                    "test failed: the value is {}, expected {}",
                    short(actual),
                    short(expected)
                )),
                Err(m) => fail(m),
            }
        }
        other => Err((
            Some(path.clone()),
            format!("unknown operation {other:?} (expected add, remove, replace, move, copy or test)"),
        )),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> std::result::Result<&'a Value, String> {
    let mut cur = doc;
    for (depth, t) in tokens.iter().enumerate() {
        cur = match cur {
            Value::Object(m) => m.get(t).ok_or_else(|| missing(tokens, depth, "member"))?,
            Value::Array(a) => {
                let i = array_index(t).ok_or_else(|| bad_index(t, a.len(), false))?;
                a.get(i).ok_or_else(|| out_of_range(i, a.len()))?
            }
            other => return Err(not_container(tokens, depth, other)),
        };
    }
    Ok(cur)
}

fn get_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> std::result::Result<&'a mut Value, String> {
    let mut cur = doc;
    for (depth, t) in tokens.iter().enumerate() {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| missing(tokens, depth, "member"))?,
            Value::Array(a) => {
                let len = a.len();
                let i = array_index(t).ok_or_else(|| bad_index(t, len, false))?;
                a.get_mut(i).ok_or_else(|| out_of_range(i, len))?
            }
            other => return Err(not_container(tokens, depth, other)),
        };
    }
    Ok(cur)
}

fn missing(tokens: &[String], depth: usize, what: &str) -> String {
    let at = if depth == 0 {
        "the root object".to_string()
    } else {
        format!("the object at {}", super::pointer::to_pointer(&tokens[..depth]))
    };
    format!("no {what} {:?} in {at}", tokens[depth])
}

fn bad_index(token: &str, len: usize, allow_dash: bool) -> String {
    format!(
        "{token:?} is not an array index (expected 0..={}{})",
        if allow_dash { len } else { len.saturating_sub(1) },
        if allow_dash { " or \"-\"" } else { "" }
    )
}

fn out_of_range(i: usize, len: usize) -> String {
    if len == 0 {
        format!("index {i} is out of range: the array is empty")
    } else {
        format!("index {i} is out of range (expected 0..={})", len - 1)
    }
}

fn not_container(tokens: &[String], depth: usize, v: &Value) -> String {
    format!(
        "{} is {}, not an object or array, so it has no {:?}",
        if depth == 0 {
            "the document".to_string()
        } else {
            super::pointer::to_pointer(&tokens[..depth])
        },
        type_name(v),
        tokens[depth]
    )
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> std::result::Result<(), String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = get_mut(doc, parent_tokens).map_err(|m| format!("the parent does not exist: {m}"))?;
    match parent {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i = array_index(last).ok_or_else(|| bad_index(last, a.len(), true))?;
            if i > a.len() {
                return Err(format!("index {i} is out of range (expected 0..={} or \"-\")", a.len()));
            }
            a.insert(i, value);
            Ok(())
        }
        other => Err(not_container(tokens, tokens.len() - 1, other)),
    }
}

fn remove(doc: &mut Value, tokens: &[String]) -> std::result::Result<Value, String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        return Err("cannot remove the whole document (expected a path below the root)".into());
    };
    let parent = get_mut(doc, parent_tokens)?;
    match parent {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| missing(tokens, tokens.len() - 1, "member")),
        Value::Array(a) => {
            let i = array_index(last).ok_or_else(|| bad_index(last, a.len(), false))?;
            if i >= a.len() {
                return Err(out_of_range(i, a.len()));
            }
            Ok(a.remove(i))
        }
        other => Err(not_container(tokens, tokens.len() - 1, other)),
    }
}
