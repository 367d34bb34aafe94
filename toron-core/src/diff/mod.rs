//! Structural diff of JSON values as RFC 6902 JSON Patch operations with RFC 6901 paths, patch application,
//! and text diff ([`text`]).
//!
//! ```
//! use serde_json::json;
//! use toron_core::diff::{self, DiffOptions, Format};
//!
//! let old = json!({"items": [{"id": 1, "price": 10}, {"id": 2, "price": 20}], "total": 30});
//! let new = json!({"items": [{"id": 0, "price": 5}, {"id": 1, "price": 10}, {"id": 2, "price": 21}], "total": 36});
//! let d = diff::diff(&old, &new, &DiffOptions::default())?;
//! assert_eq!(d.summary(), "2 changed, 1 added, 0 removed");
//! assert_eq!(d.patch(), json!([
//!     {"op": "add", "path": "/items/0", "value": {"id": 0, "price": 5}},
//!     {"op": "replace", "path": "/items/2/price", "value": 21},
//!     {"op": "replace", "path": "/total", "value": 36}
//! ]));
//! assert_eq!(diff::apply_patch(&old, &d.patch())?, new);
//! assert!(d.render(Format::Text).contains("/items/2/price: 20 -> 21"));
//! # Ok::<(), toron_core::Error>(())
//! ```
//!
//! Semantics shared by every surface: numbers compare by value (`1` equals `1.0`), booleans are never
//! numbers, strings and keys compare code unit by code unit with no Unicode normalisation. Options
//! ([`DiffOptions`]) add keyed arrays, ignored and redacted paths, tolerances and an operation budget.
mod options;
mod patch;
pub mod pointer;
mod render;
mod structural;
#[cfg(test)]
mod tests;
pub mod text;
mod value;

use serde_json::{json, Map, Value};

pub use options::{DiffOptions, Tolerance};
pub use patch::apply_patch;
pub use render::Format;
pub use value::values_equal;

use crate::Result;

/// The marker that stands for a redacted value in operations, patches and renderings.
///
/// ```
/// assert_eq!(toron_core::diff::REDACTED, "[REDACTED]");
/// ```
pub const REDACTED: &str = "[REDACTED]";

/// The kind of a diff operation (the RFC 6902 `op`).
///
/// ```
/// assert_eq!(toron_core::diff::OpKind::Replace.name(), "replace");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// A value that is only in the new document.
    Add,
    /// A value that is only in the old document.
    Remove,
    /// A value that changed.
    Replace,
    /// An array element that moved (`from` is its index before the move).
    Move,
}

impl OpKind {
    /// The RFC 6902 name: `add`, `remove`, `replace` or `move`.
    ///
    /// ```
    /// assert_eq!(toron_core::diff::OpKind::Move.name(), "move");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
            OpKind::Move => "move",
        }
    }
}

/// One operation of a diff. Paths are RFC 6901 pointers valid at the moment the operation applies (after
/// the operations before it).
///
/// ```
/// let d = toron_core::diff::diff(
///     &serde_json::json!({"a": 1}), &serde_json::json!({"a": 2}), &Default::default())?;
/// let op = &d.ops()[0];
/// assert_eq!((op.kind, op.path.as_str()), (toron_core::diff::OpKind::Replace, "/a"));
/// assert_eq!((op.old.clone(), op.value.clone()), (Some(1.into()), Some(2.into())));
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// What happened.
    pub kind: OpKind,
    /// Where (RFC 6901).
    pub path: String,
    /// For `move`: where the element was.
    pub from: Option<String>,
    /// For `add` and `replace`: the new value (redacted paths show [`REDACTED`]).
    pub value: Option<Value>,
    /// For `remove` and `replace`: the old value (redacted paths show [`REDACTED`]).
    pub old: Option<Value>,
}

impl Op {
    /// This operation as an RFC 6902 patch operation.
    ///
    /// ```
    /// use toron_core::diff::{Op, OpKind};
    /// let op = Op { kind: OpKind::Move, path: "/a/0".into(), from: Some("/a/2".into()), value: None, old: None };
    /// assert_eq!(op.to_patch_op(), serde_json::json!({"op": "move", "from": "/a/2", "path": "/a/0"}));
    /// ```
    pub fn to_patch_op(&self) -> Value {
        let mut m = Map::new();
        m.insert("op".into(), Value::String(self.kind.name().into()));
        m.insert("path".into(), Value::String(self.path.clone()));
        if let (OpKind::Move, Some(from)) = (self.kind, &self.from) {
            m.insert("from".into(), Value::String(from.clone()));
        }
        if let (OpKind::Add | OpKind::Replace, Some(v)) = (self.kind, &self.value) {
            m.insert("value".into(), v.clone());
        }
        Value::Object(m)
    }

    /// This operation as a change record for machines: `op`, `path`, and `from`, `old`, `value` when present.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!([1]), &serde_json::json!([2]), &Default::default())?;
    /// assert_eq!(d.ops()[0].to_change(), serde_json::json!({"op": "replace", "path": "/0", "old": 1, "value": 2}));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn to_change(&self) -> Value {
        let mut v = self.to_patch_op();
        if let (Value::Object(m), Some(old)) = (&mut v, &self.old) {
            m.insert("old".into(), old.clone());
        }
        v
    }
}

/// The result of [`diff()`]: operations, a summary and renderings.
///
/// ```
/// let d = toron_core::diff::diff(&serde_json::json!(1), &serde_json::json!(1.0), &Default::default())?;
/// assert!(d.is_empty());
/// assert_eq!(d.summary(), "no differences");
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    ops: Vec<Op>,
    coarse: bool,
    steps: u64,
}

/// How many operations of each kind a diff has.
///
/// ```
/// let d = toron_core::diff::diff(&serde_json::json!([1, 2]), &serde_json::json!([2]), &Default::default())?;
/// assert_eq!(d.counts().removed, 1);
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `replace` operations.
    pub changed: usize,
    /// `add` operations.
    pub added: usize,
    /// `remove` operations.
    pub removed: usize,
    /// `move` operations.
    pub moved: usize,
}

impl Diff {
    /// The operations, in the order they apply.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!({}), &serde_json::json!({"a": 1}), &Default::default())?;
    /// assert_eq!(d.ops().len(), 1);
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// True when the values are equal under the options.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!([1]), &serde_json::json!([1]), &Default::default())?;
    /// assert!(d.is_empty());
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// True when the operation budget ran out and some subtrees were replaced whole instead of compared.
    /// The patch is still correct; it is only larger than it could be.
    ///
    /// ```
    /// use toron_core::diff::{diff, DiffOptions};
    /// let options = DiffOptions { budget: Some(1), ..Default::default() };
    /// let d = diff(&serde_json::json!({"a": [1, 2, 3]}), &serde_json::json!({"a": [1, 2, 4]}), &options)?;
    /// assert!(d.is_coarse());
    /// assert!(d.summary().contains("coarse"));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn is_coarse(&self) -> bool {
        self.coarse
    }

    /// The comparison steps spent (what the budget counts).
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!([1]), &serde_json::json!([2]), &Default::default())?;
    /// assert!(d.steps() > 0);
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Operations counted by kind.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!({"a": 1}), &serde_json::json!({"b": 1}), &Default::default())?;
    /// assert_eq!((d.counts().added, d.counts().removed), (1, 1));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for op in &self.ops {
            match op.kind {
                OpKind::Replace => c.changed += 1,
                OpKind::Add => c.added += 1,
                OpKind::Remove => c.removed += 1,
                OpKind::Move => c.moved += 1,
            }
        }
        c
    }

    /// The RFC 6902 JSON Patch that turns the old value into the new one (with [`REDACTED`] in place of
    /// redacted values).
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!([1, 2]), &serde_json::json!([0, 1, 2]), &Default::default())?;
    /// assert_eq!(d.patch(), serde_json::json!([{"op": "add", "path": "/0", "value": 0}]));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn patch(&self) -> Value {
        Value::Array(self.ops.iter().map(Op::to_patch_op).collect())
    }

    /// One line: `3 changed, 1 added, 2 removed` (`, 1 moved` when there are moves; ` (coarse: ...)` past the
    /// budget), or `no differences`.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!([1, 2, 3]), &serde_json::json!([3, 1, 2]), &Default::default())?;
    /// assert_eq!(d.summary(), "0 changed, 0 added, 0 removed, 1 moved");
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn summary(&self) -> String {
        if self.ops.is_empty() {
            return "no differences".to_string();
        }
        let c = self.counts();
        let mut s = format!("{} changed, {} added, {} removed", c.changed, c.added, c.removed);
        if c.moved > 0 {
            s.push_str(&format!(", {} moved", c.moved));
        }
        if self.coarse {
            s.push_str(" (coarse: operation budget exhausted, whole subtrees replaced)");
        }
        s
    }

    /// The machine form (what [`Format::Json`] prints): `summary`, `patch`, `changes` (each operation with
    /// its `old` value where there is one) and `coarse`.
    ///
    /// ```
    /// let d = toron_core::diff::diff(&serde_json::json!({"a": 1}), &serde_json::json!({}), &Default::default())?;
    /// assert_eq!(d.to_json(), serde_json::json!({
    ///     "summary": "0 changed, 0 added, 1 removed",
    ///     "patch": [{"op": "remove", "path": "/a"}],
    ///     "changes": [{"op": "remove", "path": "/a", "old": 1}],
    ///     "coarse": false
    /// }));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "summary": self.summary(),
            "patch": self.patch(),
            "changes": self.ops.iter().map(Op::to_change).collect::<Vec<_>>(),
            "coarse": self.coarse,
        })
    }

    /// Render for people ([`Format::Text`], [`Format::Color`], [`Format::Html`]) or machines ([`Format::Json`]).
    ///
    /// ```
    /// use toron_core::diff::{diff, Format};
    /// let d = diff(&serde_json::json!({"a": "<b>"}), &serde_json::json!({"a": "x"}), &Default::default())?;
    /// assert!(d.render(Format::Html).contains("&lt;b&gt;"));
    /// let json: serde_json::Value = serde_json::from_str(&d.render(Format::Json)).unwrap();
    /// assert_eq!(json["summary"], "1 changed, 0 added, 0 removed");
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let v = self.to_json();
                let mut s = crate::canon::to_pretty(&v).unwrap_or_else(|_| v.to_string());
                if s.ends_with('\n') {
                    s.pop();
                }
                s
            }
            _ => render::render_ops(self, format),
        }
    }
}

/// Compare two values and return the operations that turn `old` into `new`.
///
/// Errors only for invalid options ([`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument)); any
/// pair of values can be compared. Without ignore, redact or tolerance options,
/// `apply_patch(old, diff(old, new).patch()) == new` (numbers by value).
///
/// ```
/// use serde_json::json;
/// use toron_core::diff::{diff, DiffOptions};
///
/// let options = DiffOptions::from_json(&json!({"keys": {"/users": "id"}, "ignore": ["/at"]}))?;
/// let old = json!({"at": 1, "users": [{"id": "a", "n": 1}, {"id": "b", "n": 2}]});
/// let new = json!({"at": 2, "users": [{"id": "b", "n": 2}, {"id": "a", "n": 3}]});
/// let d = diff(&old, &new, &options)?;
/// assert_eq!(d.patch(), json!([
///     {"op": "move", "from": "/users/0", "path": "/users/1"},
///     {"op": "replace", "path": "/users/1/n", "value": 3}
/// ]));
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn diff(old: &Value, new: &Value, options: &DiffOptions) -> Result<Diff> {
    let rules = options::Rules::compile(options)?;
    let mut engine = structural::Engine::new(&rules, options.budget);
    let root = rules.root();
    engine.node(old, new, &root, 0, rules.global_tolerance);
    Ok(Diff {
        ops: engine.ops,
        coarse: engine.coarse,
        steps: engine.steps,
    })
}

/// A copy of `value` with every path matched by the `redact` patterns of `options` replaced by
/// [`REDACTED`], for storing goldens that never hold the secret.
///
/// ```
/// use serde_json::json;
/// let options = toron_core::diff::DiffOptions::from_json(&json!({"redact": ["/users/*/token"]}))?;
/// let v = toron_core::diff::redact(&json!({"users": [{"token": "s3cr3t", "n": 1}]}), &options)?;
/// assert_eq!(v, json!({"users": [{"token": "[REDACTED]", "n": 1}]}));
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn redact(value: &Value, options: &DiffOptions) -> Result<Value> {
    let rules = options::Rules::compile(options)?;
    let engine = structural::Engine::new(&rules, None);
    Ok(engine.redacted(value, &rules.root()))
}
