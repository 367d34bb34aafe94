//! Histories of client operations, read and written as JSON and as Jepsen EDN, and their pairing into calls.
//!
//! A history is the sequence of operations clients performed, in real-time order: each operation is first
//! *invoked* and later *completes* as `ok` (it happened, with this result), `fail` (it did not happen) or `info`
//! (indeterminate: it may or may not have happened, at any time after its invocation). The order of the ops in
//! the history is the real-time order the checker uses, as in Jepsen; `time` (virtual nanoseconds) is carried
//! and written back but never reorders anything.
//!
//! # Accepted forms
//!
//! JSON: an array of op objects with Jepsen's field names: `process` (a non-negative integer, or `"nemesis"`),
//! `type` (`"invoke"`, `"ok"`, `"fail"`, `"info"`), `f` (a string), and optional `key`, `value`, `time`
//! (non-negative integer), `index` (non-negative integer; the op's position when absent). Other fields
//! (Jepsen's `error`, `node`, ...) are ignored.
//!
//! EDN: either a vector (or list) of op maps or a sequence of top-level op maps (Jepsen's `history.edn`, one map
//! per line), with keyword keys (`:process 0 :type :ok :f :write :value 3`). Keywords as values become strings
//! (`:write` is `"write"`), vectors and lists become arrays, sets become sorted arrays, maps become objects
//! (keys written as their EDN text unless they are strings or keywords), `nil` is null. Tagged records such as
//! `#jepsen.history.Op{...}` are read as their map. Jepsen's independent-key form, where `value` is a tuple
//! `[k v]` and there is no `key`, is kept as is here and split by the `kv` model.
//!
//! Ops whose process is `:nemesis` (fault injection, not client operations) are dropped on reading.
//!
//! EDN is parsed with the `edn-format` crate; a syntax error carries the line and column it found.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::{Error, ErrorKind, Result};

/// What an op record says: an invocation or one of the three completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// The client started the operation.
    Invoke,
    /// The operation happened, with the result in `value`.
    Ok,
    /// The operation certainly did not happen.
    Fail,
    /// Indeterminate: the operation may or may not have happened (a timeout, a crash).
    Info,
}

impl OpType {
    /// The lower-case name (`invoke`, `ok`, `fail`, `info`).
    pub fn name(self) -> &'static str {
        match self {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        }
    }

    fn parse(s: &str) -> Option<OpType> {
        Some(match s {
            "invoke" => OpType::Invoke,
            "ok" => OpType::Ok,
            "fail" => OpType::Fail,
            "info" => OpType::Info,
            _ => return None,
        })
    }
}

/// One record of a history: an invocation or a completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// The client process (one operation at a time per process).
    pub process: u64,
    /// Invocation or completion.
    pub r#type: OpType,
    /// The function: `read`, `write`, `cas`, `add`, `enqueue`, `dequeue`, ...
    pub f: String,
    /// The key, for the `kv` model (absent when `value` is Jepsen's `[k v]` tuple).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The argument (on an invocation) or the result (on an `ok` completion).
    #[serde(default)]
    pub value: Option<Value>,
    /// Virtual time in nanoseconds, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// The op's index in the history (its position when not given).
    pub index: u64,
}

/// A history: ops in real-time order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct History {
    /// The ops, in the order they happened.
    pub ops: Vec<Op>,
}

/// How a history is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    /// A JSON array of op objects.
    Json,
    /// Jepsen EDN, one op map per line.
    Edn,
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

fn op_error(i: usize, field: &str, message: impl Into<String>) -> Error {
    bad(message).with_op_index(i).with_field(field)
}

impl History {
    /// A history of these ops.
    pub fn new(ops: Vec<Op>) -> Self {
        History { ops }
    }

    /// Parse a history from text, JSON or EDN, telling them apart by the first character that is not blank
    /// (`[` followed by `{` is JSON; `{`, `#`, `(`, `[` followed by `{:` or `#` are EDN).
    ///
    /// ```
    /// use toron_core::check::history::{History, OpType};
    /// let h = History::parse("{:process 0, :type :invoke, :f :write, :value 3}\n\
    ///                         {:process 0, :type :ok, :f :write, :value 3}\n")?;
    /// assert_eq!((h.ops.len(), h.ops[1].r#type), (2, OpType::Ok));
    /// let j = History::parse(&h.to_json())?;
    /// assert_eq!(j, h);
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<History> {
        if looks_like_json(text) {
            History::from_json(text)
        } else {
            History::from_edn(text)
        }
    }

    /// Read a history file (JSON or EDN, see [`History::parse`]); errors carry the file name.
    pub fn from_path(path: &std::path::Path) -> Result<History> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(&e, path))?;
        History::parse(&text).map_err(|e| e.with_file(path))
    }

    /// Parse a JSON array of op objects.
    pub fn from_json(text: &str) -> Result<History> {
        let value = crate::canon::parse_json(text)?;
        History::from_value(&value)
    }

    /// Convert an already-parsed JSON value (an array of op objects).
    pub fn from_value(value: &Value) -> Result<History> {
        let Value::Array(items) = value else {
            return Err(bad(format!(
                "a history must be an array of op objects, got {}",
                kind_name(value)
            )));
        };
        let mut ops = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(op) = op_from_value(i, item)? {
                ops.push(op);
            }
        }
        Ok(History { ops })
    }

    /// Parse Jepsen EDN: a vector or list of op maps, or op maps one after the other.
    pub fn from_edn(text: &str) -> Result<History> {
        // Wrapped in a vector so that one parse reads every top-level form and reports where it failed.
        let wrapped = format!("[{text}\n]");
        let parsed = edn_format::parse_str(&wrapped).map_err(|e| {
            // The wrapping `[` shifts the first line's columns by one.
            let col = if e.row <= 1 {
                e.col.saturating_sub(1).max(1)
            } else {
                e.col
            };
            bad(format!("invalid EDN: {}", e.error)).with_line(e.row.max(1), Some(col))
        })?;
        let edn_format::Value::Vector(mut forms) = parsed else {
            return Err(bad("invalid EDN: expected op maps"));
        };
        if forms.len() == 1 && matches!(forms[0], edn_format::Value::Vector(_) | edn_format::Value::List(_)) {
            forms = match forms.pop() {
                Some(edn_format::Value::Vector(v) | edn_format::Value::List(v)) => v,
                _ => Vec::new(),
            };
        }
        let mut ops = Vec::with_capacity(forms.len());
        for (i, form) in forms.iter().enumerate() {
            let value = edn_to_json(form).map_err(|m| bad(m).with_op_index(i))?;
            if let Some(op) = op_from_value(i, &value)? {
                ops.push(op);
            }
        }
        Ok(History { ops })
    }

    /// The JSON value: an array of op objects.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(&self.ops).unwrap_or(Value::Null)
    }

    /// Pretty JSON text (an array of op objects, one per line).
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, op) in self.ops.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str(&serde_json::to_string(op).unwrap_or_default());
        }
        out.push_str(if self.ops.is_empty() { "]\n" } else { "\n]\n" });
        out
    }

    /// Jepsen EDN text, one op map per line.
    pub fn to_edn(&self) -> String {
        let mut out = String::new();
        for op in &self.ops {
            out.push_str(&format!("{{:index {}", op.index));
            if let Some(t) = op.time {
                out.push_str(&format!(", :time {t}"));
            }
            out.push_str(&format!(", :type :{}, :process {}, :f ", op.r#type.name(), op.process));
            out.push_str(&keyword_or_string(&op.f));
            if let Some(k) = &op.key {
                out.push_str(", :key ");
                write_edn(k, &mut out);
            }
            out.push_str(", :value ");
            match &op.value {
                Some(v) => write_edn(v, &mut out),
                None => out.push_str("nil"),
            }
            out.push_str("}\n");
        }
        out
    }

    /// Write the history in `format`.
    pub fn write(&self, format: HistoryFormat) -> String {
        match format {
            HistoryFormat::Json => self.to_json(),
            HistoryFormat::Edn => self.to_edn(),
        }
    }
}

fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start();
    match t.as_bytes().first() {
        Some(b'[') => {
            let rest = t[1..].trim_start();
            rest.starts_with('{') && !rest[1..].trim_start().starts_with(':') || rest.starts_with(']')
        }
        Some(b'{' | b'#' | b'(' | b';' | b':') => false,
        None => true,
        _ => false,
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One op object; `None` for a nemesis op.
fn op_from_value(i: usize, item: &Value) -> Result<Option<Op>> {
    let Value::Object(map) = item else {
        return Err(bad(format!("an op must be an object (a map), got {}", kind_name(item))).with_op_index(i));
    };
    let process = match map.get("process") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| op_error(i, "process", format!("must be a non-negative integer, got {n}")))?,
        Some(Value::String(s)) if s == "nemesis" => return Ok(None),
        Some(other) => {
            return Err(op_error(
                i,
                "process",
                format!(
                    "must be a non-negative integer (or \"nemesis\"), got {}",
                    kind_name(other)
                ),
            ))
        }
        None => return Err(op_error(i, "process", "missing (expected a non-negative integer)")),
    };
    let r#type = match map.get("type") {
        Some(Value::String(s)) => OpType::parse(s).ok_or_else(|| {
            op_error(
                i,
                "type",
                format!("unknown type \"{s}\" (expected one of: invoke, ok, fail, info)"),
            )
        })?,
        Some(other) => {
            return Err(op_error(
                i,
                "type",
                format!("must be a string, got {}", kind_name(other)),
            ));
        }
        None => return Err(op_error(i, "type", "missing (expected one of: invoke, ok, fail, info)")),
    };
    let f = match map.get("f") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(op_error(i, "f", format!("must be a string, got {}", kind_name(other)))),
        None => {
            return Err(op_error(
                i,
                "f",
                "missing (expected a function name such as read or write)",
            ))
        }
    };
    let uint = |field: &str| -> Result<Option<u64>> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| op_error(i, field, format!("must be a non-negative integer, got {n}"))),
            Some(other) => Err(op_error(
                i,
                field,
                format!("must be a non-negative integer, got {}", kind_name(other)),
            )),
        }
    };
    let time = uint("time")?;
    let index = uint("index")?.unwrap_or(i as u64);
    let key = map.get("key").filter(|v| !v.is_null()).cloned();
    let value = map.get("value").cloned().filter(|v| !v.is_null());
    Ok(Some(Op {
        process,
        r#type,
        f,
        key,
        value,
        time,
        index,
    }))
}

/// An EDN form as JSON: keywords and symbols become strings, sets sorted arrays, tagged elements their value.
fn edn_to_json(v: &edn_format::Value) -> std::result::Result<Value, String> {
    use edn_format::Value as E;
    Ok(match v {
        E::Nil => Value::Null,
        E::Boolean(b) => Value::Bool(*b),
        E::Character(c) => Value::String(c.to_string()),
        E::String(s) => Value::String(s.clone()),
        E::Symbol(s) => Value::String(s.to_string()),
        E::Keyword(k) => Value::String(keyword_text(k)),
        E::Integer(n) => Value::Number(Number::from(*n)),
        E::Float(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .ok_or_else(|| format!("a float that JSON cannot hold: {}", f.into_inner()))?,
        E::BigInt(b) => {
            let s = b.to_string();
            match s.parse::<u64>() {
                Ok(u) => Value::Number(u.into()),
                Err(_) => return Err(format!("an integer out of range: {s}N")),
            }
        }
        E::BigDec(d) => {
            let s = d.to_string();
            let f: f64 = s
                .parse()
                .map_err(|_| format!("a decimal that JSON cannot hold: {s}M"))?;
            Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| format!("a decimal that JSON cannot hold: {s}M"))?
        }
        E::List(items) | E::Vector(items) => Value::Array(items.iter().map(edn_to_json).collect::<Result<_, _>>()?),
        // A BTreeSet: already in a deterministic order.
        E::Set(items) => Value::Array(items.iter().map(edn_to_json).collect::<Result<_, _>>()?),
        E::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let key = match k {
                    E::Keyword(k) => keyword_text(k),
                    E::String(s) => s.clone(),
                    other => edn_format::emit_str(other),
                };
                map.insert(key, edn_to_json(v)?);
            }
            Value::Object(map)
        }
        E::Inst(t) => Value::String(t.to_rfc3339()),
        E::Uuid(u) => Value::String(u.to_string()),
        E::TaggedElement(_, inner) => edn_to_json(inner)?,
    })
}

fn keyword_text(k: &edn_format::Keyword) -> String {
    match k.namespace() {
        Some(ns) => format!("{ns}/{}", k.name()),
        None => k.name().to_string(),
    }
}

fn is_keyword_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '?' | '!' | '*'))
}

fn keyword_or_string(s: &str) -> String {
    if is_keyword_name(s) {
        format!(":{s}")
    } else {
        edn_string(s)
    }
}

fn edn_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as EDN. Strings stay strings (a keyword read from EDN comes back as a string: the checker
/// compares values, not their EDN type).
fn write_edn(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                let s = crate::canon::format_f64(f);
                out.push_str(&s);
                if !s.contains(['.', 'e', 'E']) {
                    out.push_str(".0");
                }
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => out.push_str(&edn_string(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_edn(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in crate::canon::sorted_entries(map).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&edn_string(k));
                out.push(' ');
                write_edn(v, out);
            }
            out.push('}');
        }
    }
}

/// An operation made of its invocation and its completion: what the checker orders.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The process that ran it.
    pub process: u64,
    /// The function.
    pub f: String,
    /// The key (from `key`, not split from a `[k v]` value).
    pub key: Option<Value>,
    /// The invocation's value (the argument).
    pub value: Option<Value>,
    /// The `ok` completion's value (the result); `None` for an indeterminate call.
    pub result: Option<Value>,
    /// Position of the invocation in the history (real-time order).
    pub invoke: usize,
    /// Position of the `ok` completion; `None` when indeterminate (`info`, or never completed): such a call has
    /// no return bound.
    pub complete: Option<usize>,
    /// The `index` fields of the invocation and of the completion (if any).
    pub indices: (u64, Option<u64>),
}

impl History {
    /// Pair each invocation with the next completion of the same process. `fail` calls are dropped (they did
    /// not happen); `info` completions and invocations never completed become indeterminate calls. Errors: a
    /// completion with no pending invocation, a second invocation before the first completed, or a completion
    /// whose `f` differs from its invocation's.
    pub fn calls(&self) -> Result<Vec<Call>> {
        let mut pending: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
        let mut slots: Vec<Option<Call>> = Vec::new();
        for (pos, op) in self.ops.iter().enumerate() {
            match op.r#type {
                OpType::Invoke => {
                    if let Some(&prev) = pending.get(&op.process) {
                        let first = slots[prev].as_ref().map_or(0, |c| c.indices.0);
                        return Err(op_error(
                            op.index as usize,
                            "process",
                            format!(
                                "process {} invoked again before its op {first} completed (one op at a time per process)",
                                op.process
                            ),
                        ));
                    }
                    pending.insert(op.process, slots.len());
                    slots.push(Some(Call {
                        process: op.process,
                        f: op.f.clone(),
                        key: op.key.clone(),
                        value: op.value.clone(),
                        result: None,
                        invoke: pos,
                        complete: None,
                        indices: (op.index, None),
                    }));
                }
                done => {
                    let Some(slot) = pending.remove(&op.process) else {
                        return Err(op_error(
                            op.index as usize,
                            "type",
                            format!(
                                "{} completion of process {} with no pending invocation",
                                done.name(),
                                op.process
                            ),
                        ));
                    };
                    let Some(call) = slots[slot].as_mut() else { continue };
                    if call.f != op.f {
                        return Err(op_error(
                            op.index as usize,
                            "f",
                            format!("completion f \"{}\" differs from its invocation's \"{}\"", op.f, call.f),
                        ));
                    }
                    call.indices.1 = Some(op.index);
                    match done {
                        OpType::Ok => {
                            call.complete = Some(pos);
                            call.result = op.value.clone();
                            if call.key.is_none() {
                                call.key = op.key.clone();
                            }
                        }
                        OpType::Fail => slots[slot] = None,
                        _ => {}
                    }
                }
            }
        }
        Ok(slots.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_edn_read_the_same_history() {
        let edn = "{:index 0 :time 5 :type :invoke, :process 0, :f :write, :value 1}\n\
                   {:index 1 :type :ok, :process 0, :f :write, :value 1}\n\
                   {:type :info :process :nemesis :f :start}\n\
                   {:index 2 :type :invoke, :process 1, :f :read, :value nil}\n\
                   {:index 3 :type :ok, :process 1, :f :read, :value 1}\n";
        let h = History::parse(edn).unwrap();
        assert_eq!(h.ops.len(), 4);
        assert_eq!(h.ops[0].time, Some(5));
        assert_eq!(h.ops[2].value, None);
        assert_eq!(History::parse(&h.to_json()).unwrap(), h);
        assert_eq!(History::parse(&h.to_edn()).unwrap(), h);
        let vector = format!("[{edn}]");
        assert_eq!(History::parse(&vector).unwrap(), h);
    }

    #[test]
    fn edn_tuples_sets_and_records() {
        let h = History::parse(
            "[#jepsen.history.Op{:process 0 :type :invoke :f :cas :value [1 [2 3]]}\n\
             {:process 0 :type :ok :f :read :value #{3 1 2}}]",
        )
        .unwrap();
        assert_eq!(h.ops[0].value, Some(serde_json::json!([1, [2, 3]])));
        assert_eq!(h.ops[1].value, Some(serde_json::json!([1, 2, 3])));
    }

    #[test]
    fn bad_input_names_the_op_and_field() {
        let e =
            History::parse(r#"[{"process": 0, "type": "ok", "f": "read"}, {"process": -1, "type": "ok", "f": "x"}]"#)
                .unwrap_err();
        assert_eq!(
            (e.kind(), e.op_index(), e.field()),
            (ErrorKind::InvalidArgument, Some(1), Some("process"))
        );
        let e = History::parse(r#"[{"process": 0, "type": "done", "f": "read"}]"#).unwrap_err();
        assert_eq!(e.field(), Some("type"));
        assert!(e.to_string().contains("expected one of: invoke, ok, fail, info"), "{e}");
        let e = History::parse(r#"[{"process": 0, "type": "ok"}]"#).unwrap_err();
        assert_eq!(e.field(), Some("f"));
        let e = History::parse("[{\"process\": 0,\n \"type\": }]").unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::Json, Some(2)));
        let e = History::parse("{:process 0 :type :ok}\n{:process 1 :type :ok :f :read\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.line().is_some(), "{e}");
        assert!(History::parse("\"x\"").is_err());
        assert!(History::parse("{:a").is_err());
    }

    #[test]
    fn pairing() {
        let h = History::parse(
            r#"[{"process": 0, "type": "invoke", "f": "write", "value": 1},
                {"process": 1, "type": "invoke", "f": "write", "value": 2},
                {"process": 0, "type": "fail", "f": "write", "value": 1},
                {"process": 1, "type": "info", "f": "write", "value": 2},
                {"process": 2, "type": "invoke", "f": "read"},
                {"process": 3, "type": "invoke", "f": "read"},
                {"process": 3, "type": "ok", "f": "read", "value": 2}]"#,
        )
        .unwrap();
        let calls = h.calls().unwrap();
        assert_eq!(calls.len(), 3);
        assert_eq!((calls[0].process, calls[0].complete), (1, None));
        assert_eq!((calls[1].process, calls[1].complete), (2, None));
        assert_eq!(
            (calls[2].complete, calls[2].result.clone()),
            (Some(6), Some(serde_json::json!(2)))
        );

        let twice = History::parse(
            r#"[{"process": 0, "type": "invoke", "f": "read"}, {"process": 0, "type": "invoke", "f": "read"}]"#,
        )
        .unwrap();
        assert_eq!(twice.calls().unwrap_err().op_index(), Some(1));
        let orphan = History::parse(r#"[{"process": 0, "type": "ok", "f": "read"}]"#).unwrap();
        assert_eq!(orphan.calls().unwrap_err().field(), Some("type"));
    }
}
