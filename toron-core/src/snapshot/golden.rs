//! Golden files: one readable JSON file per case, kept in the user's repository, and the pending candidates
//! written beside them when a check fails.
//!
//! A golden file `<root>/<case>.json` is pretty JSON in canonical key order (so it reviews well in a pull
//! request and two writers of the same value write the same bytes), with a small header and no timestamp:
//!
//! ```json
//! {
//!   "case": "kv/basic",
//!   "engine": "2.5.0",
//!   "meta": {"scenario": "kv", "seed": 42},
//!   "toron_snapshot": 1,
//!   "value": {"ok": true}
//! }
//! ```
//!
//! (`meta` appears only when the caller gives one.) A failed check writes the candidate, in the same format,
//! to `<root>/<case>.json.new`; [`Snapshots::accept`] moves it over the golden, [`Snapshots::reject`] deletes
//! it.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::case::{self, GOLDEN_EXT, PENDING_EXT};
use super::{encode, fsutil};
use crate::diff::{self, Diff, DiffOptions};
use crate::{Error, ErrorKind, Result};

/// The golden file format version written in the `toron_snapshot` field.
pub const FORMAT_VERSION: u64 = 1;

/// The golden-file directory callers use when none is given.
pub const DEFAULT_ROOT: &str = "snapshots";

/// Name of the environment variable that turns update mode on for [`Snapshots::from_env`].
pub const UPDATE_ENV: &str = "TORON_SNAPSHOT_UPDATE";

/// The parsed content of a golden (or pending) file.
#[derive(Debug, Clone, PartialEq)]
pub struct Golden {
    /// The case name.
    pub case: String,
    /// The engine version that wrote the file.
    pub engine: String,
    /// Caller-given metadata (scenario id, seed, ...), if any.
    pub meta: Option<Value>,
    /// The golden value.
    pub value: Value,
}

impl Golden {
    /// A golden for `case` holding `value`, stamped with this engine's version and no metadata.
    pub fn new(case: impl Into<String>, value: Value) -> Self {
        Golden {
            case: case.into(),
            engine: crate::VERSION.to_string(),
            meta: None,
            value,
        }
    }

    /// The file's text: pretty JSON in canonical key order, ending with a newline.
    ///
    /// ```
    /// use toron_core::snapshot::Golden;
    /// let text = Golden::new("demo", serde_json::json!({"b": 1, "a": [true]})).to_text()?;
    /// assert!(text.starts_with("{\n  \"case\": \"demo\",\n  \"engine\": "));
    /// assert!(text.ends_with("\"value\": {\n    \"a\": [\n      true\n    ],\n    \"b\": 1\n  }\n}\n"));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn to_text(&self) -> Result<String> {
        let mut doc = Map::new();
        doc.insert("toron_snapshot".into(), Value::from(FORMAT_VERSION));
        doc.insert("case".into(), Value::String(self.case.clone()));
        doc.insert("engine".into(), Value::String(self.engine.clone()));
        if let Some(meta) = &self.meta {
            doc.insert("meta".into(), meta.clone());
        }
        doc.insert("value".into(), self.value.clone());
        encode::to_pretty(&Value::Object(doc))
    }

    /// Parse a golden file's text. Errors are of kind `Snapshot` and name `file`, and the line and column for
    /// malformed JSON, or the field for a malformed header.
    pub fn parse(text: &str, file: &Path) -> Result<Golden> {
        let doc = encode::parse_json(text).map_err(|e| {
            let mut err = Error::new(
                ErrorKind::Snapshot,
                format!(
                    "golden file is not valid JSON ({}); fix it by hand or rewrite it in update mode",
                    e.message()
                ),
            )
            .with_file(file);
            if let Some(line) = e.line() {
                err = err.with_line(line, e.column());
            }
            if let Some(path) = e.path() {
                err = err.with_path(path);
            }
            err
        })?;
        let bad = |field: &str, why: &str| {
            Err(Error::new(ErrorKind::Snapshot, format!("golden file header: {why}"))
                .with_file(file)
                .with_field(field)
                .with_path(format!("/{field}")))
        };
        let Value::Object(mut map) = doc else {
            return bad(
                "toron_snapshot",
                "expected a JSON object with toron_snapshot, case, engine and value",
            );
        };
        match map.remove("toron_snapshot") {
            Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
            Some(v) => {
                return bad(
                    "toron_snapshot",
                    &format!("unsupported format version {v} (expected 1)"),
                )
            }
            None => return bad("toron_snapshot", "missing (expected 1)"),
        }
        let case = match map.remove("case") {
            Some(Value::String(s)) => s,
            _ => return bad("case", "missing or not a string"),
        };
        let engine = match map.remove("engine") {
            Some(Value::String(s)) => s,
            _ => return bad("engine", "missing or not a string"),
        };
        let meta = match map.remove("meta") {
            None => None,
            Some(m @ Value::Object(_)) => Some(m),
            Some(_) => return bad("meta", "not an object"),
        };
        let Some(value) = map.remove("value") else {
            return bad("value", "missing");
        };
        if let Some(extra) = map.keys().next() {
            return bad(
                extra,
                "unknown field (expected toron_snapshot, case, engine, meta, value)",
            );
        }
        Ok(Golden {
            case,
            engine,
            meta,
            value,
        })
    }
}

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckStatus {
    /// The value equals the golden (under the diff options). Nothing was written.
    Passed,
    /// The value differs from the golden, or there is no golden; the candidate was written as `.json.new`.
    Failed,
    /// Update mode: there was no golden, and one was written.
    Created,
    /// Update mode: the golden differed (or was unreadable) and was rewritten.
    Updated,
}

impl CheckStatus {
    /// A stable lower-case name: `passed`, `failed`, `created`, `updated`.
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Created => "created",
            CheckStatus::Updated => "updated",
        }
    }

    /// Whether the check counts as a pass (everything but `Failed`).
    pub fn is_ok(self) -> bool {
        self != CheckStatus::Failed
    }
}

/// The result of [`Snapshots::check`].
#[derive(Debug, Clone)]
pub struct CheckResult {
    case: String,
    status: CheckStatus,
    golden_missing: bool,
    golden_path: PathBuf,
    pending_path: Option<PathBuf>,
    diff: Option<Diff>,
}

impl CheckResult {
    /// The case name.
    pub fn case(&self) -> &str {
        &self.case
    }
    /// Passed, failed, created or updated.
    pub fn status(&self) -> CheckStatus {
        self.status
    }
    /// Whether the check counts as a pass (every status but `Failed`).
    pub fn passed(&self) -> bool {
        self.status.is_ok()
    }
    /// Whether there was no golden file before the check.
    pub fn golden_missing(&self) -> bool {
        self.golden_missing
    }
    /// Where the golden file is (or would be).
    pub fn golden_path(&self) -> &Path {
        &self.golden_path
    }
    /// The pending candidate written by a failed check (`<case>.json.new`); `None` for every other status.
    pub fn pending_path(&self) -> Option<&Path> {
        self.pending_path.as_deref()
    }
    /// How the value differs from the golden under the options: `Some` when the check failed or updated a
    /// golden, `None` when it passed. Against a missing (or unreadable) golden the diff is taken from `null`,
    /// so it is one operation on the root that carries the whole value.
    pub fn diff(&self) -> Option<&Diff> {
        self.diff.as_ref()
    }
    /// One line for people: `no differences`, `no golden yet`, or the diff's summary
    /// (`3 changed, 1 added, 2 removed`).
    pub fn summary(&self) -> String {
        match (&self.diff, self.golden_missing) {
            (_, true) => "no golden yet".to_string(),
            (Some(d), false) => d.summary(),
            (None, false) => "no differences".to_string(),
        }
    }
}

/// A pending candidate waiting for review.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The case name.
    pub case: String,
    /// The golden file it would replace (may not exist yet).
    pub golden_path: PathBuf,
    /// The candidate file, `<case>.json.new`.
    pub new_path: PathBuf,
    /// The current golden, or `None` when the case has none yet.
    pub golden: Option<Golden>,
    /// The candidate.
    pub candidate: Golden,
    /// From the golden's value to the candidate's (from `null` when there is no golden).
    pub diff: Diff,
}

/// A directory of golden files.
///
/// ```
/// use serde_json::json;
/// use toron_core::diff::DiffOptions;
/// use toron_core::snapshot::{CheckStatus, Snapshots};
///
/// let dir = tempfile::tempdir()?;
/// let snaps = Snapshots::new(dir.path().join("snapshots"));
/// // No golden yet: the check fails and leaves a candidate to review.
/// let options = DiffOptions::default();
/// let first = snaps.check("kv/basic", &json!({"ok": true}), &options)?;
/// assert_eq!(first.status(), CheckStatus::Failed);
/// assert_eq!(snaps.accept(None)?, vec!["kv/basic".to_string()]);
/// // Now it passes.
/// assert_eq!(snaps.check("kv/basic", &json!({"ok": true}), &options)?.status(), CheckStatus::Passed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Snapshots {
    root: PathBuf,
    update: bool,
}

impl Snapshots {
    /// Golden files under `root` (callers default to [`DEFAULT_ROOT`], `snapshots`), update mode off. Does not read the
    /// environment: see [`Snapshots::from_env`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Snapshots {
            root: root.into(),
            update: false,
        }
    }

    /// Like [`Snapshots::new`], with update mode on when the environment variable `TORON_SNAPSHOT_UPDATE` is
    /// `1` or `true` at the time of this call (read here, once, never at check time).
    pub fn from_env(root: impl Into<PathBuf>) -> Self {
        let update = matches!(std::env::var(UPDATE_ENV).as_deref(), Ok("1") | Ok("true"));
        Snapshots::new(root).update(update)
    }

    /// Turn update mode on or off: in update mode a check writes the golden instead of a candidate.
    pub fn update(mut self, on: bool) -> Self {
        self.update = on;
        self
    }

    /// Whether update mode is on.
    pub fn is_update(&self) -> bool {
        self.update
    }

    /// The directory of golden files.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The golden file of `case`: `<root>/<case>.json`. Fails on an invalid case name.
    pub fn golden_path(&self, case: &str) -> Result<PathBuf> {
        case::golden_path(&self.root, case)
    }

    /// The pending candidate of `case`: `<root>/<case>.json.new`. Fails on an invalid case name.
    pub fn pending_path(&self, case: &str) -> Result<PathBuf> {
        case::pending_path(&self.root, case)
    }

    /// Read the golden of `case`: `None` when there is none; a `Snapshot` error naming the file (and line and
    /// column) when it cannot be read or parsed, or belongs to another case.
    pub fn read(&self, case: &str) -> Result<Option<Golden>> {
        let path = self.golden_path(case)?;
        read_file(&path, case)
    }

    /// Compare `value` with the golden of `case` under the diff `options` (no metadata). See
    /// [`Snapshots::check_with_meta`].
    pub fn check(&self, case: &str, value: &Value, options: &DiffOptions) -> Result<CheckResult> {
        self.check_with_meta(case, value, None, options)
    }

    /// Compare `value` with the golden of `case` under the diff `options` (tolerances, ignored paths and keyed
    /// arrays apply to the comparison only: goldens stay exact).
    ///
    /// - Equal ⇒ `Passed`; nothing is written and a stale `<case>.json.new` is removed. The header (engine
    ///   version, `meta`) is not compared, so a new engine version does not churn goldens.
    /// - Different or missing ⇒ `Failed`; the candidate (with `meta`) is written to `<case>.json.new`
    ///   (left alone when it already holds the same bytes).
    /// - In update mode, different or missing ⇒ the golden is written (`Updated` / `Created`) and any
    ///   `.json.new` removed; equal ⇒ `Passed` and the golden is not rewritten.
    ///
    /// Paths matched by the options' `redact` patterns are stored as the redaction marker, so a golden or
    /// candidate never holds the redacted content.
    ///
    /// A golden edited into invalid JSON is a `Snapshot` error naming the file, line and column, and nothing is
    /// written; in update mode it is replaced (`Updated`). Invalid options are an `InvalidArgument` error.
    pub fn check_with_meta(
        &self,
        case: &str,
        value: &Value,
        meta: Option<&Value>,
        options: &DiffOptions,
    ) -> Result<CheckResult> {
        let golden_path = self.golden_path(case)?;
        let new_path = self.pending_path(case)?;
        if let Some(m) = meta {
            if !m.is_object() {
                return Err(
                    Error::new(ErrorKind::InvalidArgument, "snapshot meta must be a JSON object").with_field("meta"),
                );
            }
        }
        let candidate = Golden {
            meta: meta.cloned(),
            ..Golden::new(case, diff::redact(value, options)?)
        };
        let existing = match read_file(&golden_path, case) {
            Ok(g) => g,
            Err(e) if self.update && e.kind() == ErrorKind::Snapshot => {
                // Update mode replaces an unreadable golden.
                let d = diff::diff(&Value::Null, value, options)?;
                self.write_golden(&golden_path, &new_path, &candidate)?;
                return Ok(self.result(case, CheckStatus::Updated, false, golden_path, None, Some(d)));
            }
            Err(e) => return Err(e),
        };
        let missing = existing.is_none();
        let old = existing.as_ref().map_or(&Value::Null, |g| &g.value);
        let d = diff::diff(old, value, options)?;
        if !missing && d.is_empty() {
            fsutil::remove_if_exists(&new_path).map_err(|e| Error::write(&e, &new_path))?;
            return Ok(self.result(case, CheckStatus::Passed, false, golden_path, None, None));
        }
        if self.update {
            self.write_golden(&golden_path, &new_path, &candidate)?;
            let status = if missing {
                CheckStatus::Created
            } else {
                CheckStatus::Updated
            };
            return Ok(self.result(case, status, missing, golden_path, None, Some(d)));
        }
        let text = candidate.to_text()?;
        ensure_parent(&new_path)?;
        fsutil::write_if_changed(&new_path, text.as_bytes()).map_err(|e| Error::write(&e, &new_path))?;
        Ok(self.result(case, CheckStatus::Failed, missing, golden_path, Some(new_path), Some(d)))
    }

    fn result(
        &self,
        case: &str,
        status: CheckStatus,
        golden_missing: bool,
        golden_path: PathBuf,
        pending_path: Option<PathBuf>,
        diff: Option<Diff>,
    ) -> CheckResult {
        CheckResult {
            case: case.to_string(),
            status,
            golden_missing,
            golden_path,
            pending_path,
            diff,
        }
    }

    fn write_golden(&self, golden_path: &Path, new_path: &Path, golden: &Golden) -> Result<()> {
        let text = golden.to_text()?;
        ensure_parent(golden_path)?;
        fsutil::write_if_changed(golden_path, text.as_bytes()).map_err(|e| Error::write(&e, golden_path))?;
        fsutil::remove_if_exists(new_path).map_err(|e| Error::write(&e, new_path))?;
        Ok(())
    }

    /// Every case that has a golden file, sorted.
    pub fn cases(&self) -> Result<Vec<String>> {
        case::walk_cases(&self.root, GOLDEN_EXT)
    }

    /// Every case with a pending candidate, sorted by case name.
    pub fn pending_cases(&self) -> Result<Vec<String>> {
        case::walk_cases(&self.root, PENDING_EXT)
    }

    /// Every pending candidate with its current golden and the diff between them (default options), sorted by
    /// case name.
    ///
    /// ```
    /// use serde_json::json;
    /// use toron_core::{diff::DiffOptions, snapshot::Snapshots};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let snaps = Snapshots::new(dir.path());
    /// let o = DiffOptions::default();
    /// snaps.clone().update(true).check("a", &json!({"n": 1}), &o)?;
    /// snaps.check("a", &json!({"n": 2}), &o)?;
    /// let pending = snaps.pending()?;
    /// assert_eq!(pending[0].case, "a");
    /// assert_eq!(pending[0].diff.summary(), "1 changed, 0 added, 0 removed");
    /// assert_eq!(snaps.reject(None)?, vec!["a".to_string()]);
    /// assert!(snaps.pending()?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending(&self) -> Result<Vec<Pending>> {
        self.pending_with(&DiffOptions::default())
    }

    /// Like [`Snapshots::pending`], with each diff taken under `options`.
    pub fn pending_with(&self, options: &DiffOptions) -> Result<Vec<Pending>> {
        let mut out = Vec::new();
        for case in self.pending_cases()? {
            let golden_path = self.golden_path(&case)?;
            let new_path = self.pending_path(&case)?;
            let Some(candidate) = read_file(&new_path, &case)? else {
                continue; // removed meanwhile
            };
            let golden = read_file(&golden_path, &case)?;
            let old = golden.as_ref().map_or(&Value::Null, |g| &g.value);
            let diff = diff::diff(old, &candidate.value, options)?;
            out.push(Pending {
                case,
                golden_path,
                new_path,
                golden,
                candidate,
                diff,
            });
        }
        Ok(out)
    }

    fn selected(&self, case: Option<&str>) -> Result<Vec<String>> {
        match case {
            None => self.pending_cases(),
            Some(c) => {
                let path = self.pending_path(c)?;
                if path.is_file() {
                    Ok(vec![c.to_string()])
                } else {
                    Err(Error::new(ErrorKind::Snapshot, format!("no pending snapshot for case {c:?}")).with_file(path))
                }
            }
        }
    }

    /// Accept pending candidates: each `<case>.json.new` atomically replaces `<case>.json` (one rename). `None`
    /// accepts all. Returns the accepted cases, sorted. A candidate with exactly the golden's bytes is only
    /// removed: the golden is not rewritten. A candidate that does not parse is a `Snapshot` error and nothing
    /// is moved for it. Naming a case with no candidate is a `Snapshot` error.
    pub fn accept(&self, case: Option<&str>) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for c in self.selected(case)? {
            let golden_path = self.golden_path(&c)?;
            let new_path = self.pending_path(&c)?;
            let new_bytes = match fs::read(&new_path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&e, &new_path)),
            };
            // Validate before moving anything over the golden.
            parse_bytes(&new_bytes, &new_path, &c)?;
            match fs::read(&golden_path) {
                Ok(old) if old == new_bytes => {
                    fsutil::remove_if_exists(&new_path).map_err(|e| Error::write(&e, &new_path))?;
                }
                Ok(_) => fsutil::atomic_rename(&new_path, &golden_path).map_err(|e| Error::write(&e, &golden_path))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fsutil::atomic_rename(&new_path, &golden_path).map_err(|e| Error::write(&e, &golden_path))?
                }
                Err(e) => return Err(Error::io(&e, &golden_path)),
            }
            done.push(c);
        }
        Ok(done)
    }

    /// Reject pending candidates: delete `<case>.json.new` (`None`: all). Goldens are untouched. Returns the
    /// rejected cases, sorted. Naming a case with no candidate is a `Snapshot` error.
    pub fn reject(&self, case: Option<&str>) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for c in self.selected(case)? {
            let new_path = self.pending_path(&c)?;
            if fsutil::remove_if_exists(&new_path).map_err(|e| Error::write(&e, &new_path))? {
                done.push(c);
            }
        }
        Ok(done)
    }

    /// Cases that have a golden file but are not in `seen_cases`, sorted. Reported only: nothing is deleted.
    ///
    /// ```
    /// use serde_json::json;
    /// use toron_core::{diff::DiffOptions, snapshot::Snapshots};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let snaps = Snapshots::new(dir.path()).update(true);
    /// for case in ["kv/a", "kv/b", "old"] {
    ///     snaps.check(case, &json!(1), &DiffOptions::default())?;
    /// }
    /// assert_eq!(snaps.unused(&["kv/a".to_string(), "kv/b".to_string()])?, vec!["old".to_string()]);
    /// assert!(snaps.golden_path("old")?.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unused(&self, seen_cases: &[String]) -> Result<Vec<String>> {
        let seen: BTreeSet<&str> = seen_cases.iter().map(String::as_str).collect();
        Ok(self
            .cases()?
            .into_iter()
            .filter(|c| !seen.contains(c.as_str()))
            .collect())
    }
}

fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fsutil::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Read and parse a golden or pending file; `None` when it does not exist.
fn read_file(path: &Path, case: &str) -> Result<Option<Golden>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::new(ErrorKind::Snapshot, format!("cannot read golden file: {e}")).with_file(path));
        }
    };
    parse_bytes(&bytes, path, case).map(Some)
}

fn parse_bytes(bytes: &[u8], path: &Path, case: &str) -> Result<Golden> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::Snapshot,
            format!("golden file is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
        .with_file(path)
    })?;
    let golden = Golden::parse(text, path)?;
    if golden.case != case {
        return Err(Error::new(
            ErrorKind::Snapshot,
            format!(
                "golden file is for case {:?}, expected {case:?} (was it moved or renamed?)",
                golden.case
            ),
        )
        .with_file(path)
        .with_field("case")
        .with_path("/case"));
    }
    Ok(golden)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, SystemTime};

    fn snaps() -> (tempfile::TempDir, Snapshots) {
        let dir = tempfile::tempdir().unwrap();
        let s = Snapshots::new(dir.path().join("snapshots"));
        (dir, s)
    }

    fn check(s: &Snapshots, case: &str, v: &Value) -> CheckResult {
        s.check(case, v, &DiffOptions::default()).unwrap()
    }

    fn mtime(p: &Path) -> SystemTime {
        fs::metadata(p).unwrap().modified().unwrap()
    }

    #[test]
    fn missing_golden_fails_and_writes_candidate() {
        let (_d, s) = snaps();
        let r = check(&s, "suite/a", &json!({"x": 1}));
        assert_eq!(r.status(), CheckStatus::Failed);
        assert!(r.golden_missing());
        assert!(!r.golden_path().exists());
        let new = r.pending_path().unwrap();
        assert_eq!(new, s.root().join("suite/a.json.new"));
        let g = Golden::parse(&fs::read_to_string(new).unwrap(), new).unwrap();
        assert_eq!(g, Golden::new("suite/a", json!({"x": 1})));
    }

    #[test]
    fn golden_text_is_canonical_pretty_with_header_and_meta() {
        let (_d, s) = snaps();
        s.check_with_meta(
            "c",
            &json!({"b": [1, {"z": null, "a": "é"}], "a": 2.5}),
            Some(&json!({"seed": 7, "scenario": "kv"})),
            &DiffOptions::default(),
        )
        .unwrap();
        let text = fs::read_to_string(s.pending_path("c").unwrap()).unwrap();
        let expected = format!(
            "{{\n  \"case\": \"c\",\n  \"engine\": \"{}\",\n  \"meta\": {{\n    \"scenario\": \"kv\",\n    \"seed\": 7\n  }},\n  \"toron_snapshot\": 1,\n  \"value\": {{\n    \"a\": 2.5,\n    \"b\": [\n      1,\n      {{\n        \"a\": \"é\",\n        \"z\": null\n      }}\n    ]\n  }}\n}}\n",
            crate::VERSION
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn accept_then_pass_and_stale_candidate_removed() {
        let (_d, s) = snaps();
        check(&s, "a", &json!(1));
        assert_eq!(s.pending_cases().unwrap(), ["a"]);
        assert_eq!(s.accept(None).unwrap(), ["a"]);
        assert!(s.pending().unwrap().is_empty());
        assert_eq!(s.read("a").unwrap().unwrap().value, json!(1));
        // A failing check leaves a candidate; a later passing check removes it as stale.
        assert_eq!(check(&s, "a", &json!(2)).status(), CheckStatus::Failed);
        assert!(s.pending_path("a").unwrap().exists());
        let r = check(&s, "a", &json!(1));
        assert_eq!(r.status(), CheckStatus::Passed);
        assert!(r.pending_path().is_none());
        assert!(!s.pending_path("a").unwrap().exists());
    }

    #[test]
    fn different_value_fails_and_reject_keeps_golden() {
        let (_d, s) = snaps();
        let s_up = s.clone().update(true);
        assert_eq!(check(&s_up, "a", &json!({"v": 1})).status(), CheckStatus::Created);
        let golden = s.golden_path("a").unwrap();
        let before = fs::read(&golden).unwrap();
        let r = check(&s, "a", &json!({"v": 2}));
        assert_eq!(r.status(), CheckStatus::Failed);
        assert!(!r.golden_missing());
        let p = s.pending().unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].golden.as_ref().unwrap().value, json!({"v": 1}));
        assert_eq!(p[0].candidate.value, json!({"v": 2}));
        assert_eq!(s.reject(Some("a")).unwrap(), ["a"]);
        assert!(s.pending().unwrap().is_empty());
        assert_eq!(fs::read(&golden).unwrap(), before);
        let e = s.reject(Some("a")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Snapshot);
        assert!(s.reject(None).unwrap().is_empty());
    }

    #[test]
    fn update_mode_creates_updates_and_leaves_identical_alone() {
        let (_d, s) = snaps();
        let s = s.update(true);
        assert_eq!(check(&s, "a", &json!(1)).status(), CheckStatus::Created);
        let path = s.golden_path("a").unwrap();
        let t0 = mtime(&path);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(check(&s, "a", &json!(1)).status(), CheckStatus::Passed);
        assert_eq!(mtime(&path), t0);
        let r = check(&s, "a", &json!(2));
        assert_eq!(r.status(), CheckStatus::Updated);
        assert!(r.passed());
        assert_eq!(s.read("a").unwrap().unwrap().value, json!(2));
        assert!(s.pending_cases().unwrap().is_empty());
    }

    #[test]
    fn identical_accept_rewrites_nothing() {
        let (_d, s) = snaps();
        check(&s.clone().update(true), "a", &json!({"k": [1, 2]}));
        let golden = s.golden_path("a").unwrap();
        let bytes = fs::read(&golden).unwrap();
        let t0 = mtime(&golden);
        std::thread::sleep(Duration::from_millis(20));
        fs::write(s.pending_path("a").unwrap(), &bytes).unwrap();
        assert_eq!(s.accept(Some("a")).unwrap(), ["a"]);
        assert_eq!(fs::read(&golden).unwrap(), bytes);
        assert_eq!(mtime(&golden), t0);
        assert!(!s.pending_path("a").unwrap().exists());
    }

    #[test]
    fn failing_twice_does_not_rewrite_candidate() {
        let (_d, s) = snaps();
        let r = check(&s, "a", &json!(1));
        let new = r.pending_path().unwrap().to_path_buf();
        let t0 = mtime(&new);
        std::thread::sleep(Duration::from_millis(20));
        check(&s, "a", &json!(1));
        assert_eq!(mtime(&new), t0);
    }

    #[test]
    fn invalid_golden_names_file_line_and_column_and_is_kept() {
        let (_d, s) = snaps();
        check(&s.clone().update(true), "bad", &json!({"a": 1}));
        let path = s.golden_path("bad").unwrap();
        let broken = "{\n  \"case\": \"bad\",\n  \"value\": {\"a\": 1,,}\n}\n";
        fs::write(&path, broken).unwrap();
        let e = s.check("bad", &json!({"a": 1}), &DiffOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Snapshot);
        assert_eq!(e.file(), Some(path.as_path()));
        assert_eq!(e.line(), Some(3));
        assert!(e.column().is_some());
        assert!(e.to_string().contains("bad.json:3:"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
        assert!(!s.pending_path("bad").unwrap().exists());
        // Update mode replaces it.
        assert_eq!(
            check(&s.clone().update(true), "bad", &json!({"a": 1})).status(),
            CheckStatus::Updated
        );
        assert_eq!(s.read("bad").unwrap().unwrap().value, json!({"a": 1}));
    }

    #[test]
    fn bad_headers_are_named() {
        let p = Path::new("x.json");
        let cases = [
            ("[]", "toron_snapshot"),
            (
                "{\"toron_snapshot\": 2, \"case\": \"x\", \"engine\": \"1\", \"value\": 1}",
                "toron_snapshot",
            ),
            ("{\"toron_snapshot\": 1, \"engine\": \"1\", \"value\": 1}", "case"),
            ("{\"toron_snapshot\": 1, \"case\": \"x\", \"value\": 1}", "engine"),
            ("{\"toron_snapshot\": 1, \"case\": \"x\", \"engine\": \"1\"}", "value"),
            (
                "{\"toron_snapshot\": 1, \"case\": \"x\", \"engine\": \"1\", \"value\": 1, \"meta\": 3}",
                "meta",
            ),
            (
                "{\"toron_snapshot\": 1, \"case\": \"x\", \"engine\": \"1\", \"value\": 1, \"extra\": 3}",
                "extra",
            ),
        ];
        for (text, field) in cases {
            let e = Golden::parse(text, p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Snapshot, "{text}");
            assert_eq!(e.field(), Some(field), "{text}");
            assert_eq!(e.file(), Some(p));
        }
    }

    #[test]
    fn golden_of_another_case_is_an_error() {
        let (_d, s) = snaps();
        check(&s.clone().update(true), "a", &json!(1));
        fs::create_dir_all(s.root().join("moved")).unwrap();
        fs::copy(s.golden_path("a").unwrap(), s.golden_path("moved/b").unwrap()).unwrap();
        let e = s.read("moved/b").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Snapshot);
        assert_eq!(e.field(), Some("case"));
    }

    #[test]
    fn pending_is_sorted_and_accept_all() {
        let (_d, s) = snaps();
        for c in ["b", "a/z", "a-b", "a/a"] {
            check(&s, c, &json!(c));
        }
        let p = s.pending().unwrap();
        let names: Vec<_> = p.iter().map(|p| p.case.as_str()).collect();
        assert_eq!(names, ["a-b", "a/a", "a/z", "b"]);
        assert!(p.iter().all(|p| p.golden.is_none()));
        assert_eq!(s.accept(None).unwrap(), ["a-b", "a/a", "a/z", "b"]);
        assert_eq!(s.cases().unwrap(), ["a-b", "a/a", "a/z", "b"]);
        assert!(s.pending_cases().unwrap().is_empty());
    }

    #[test]
    fn accept_refuses_a_broken_candidate() {
        let (_d, s) = snaps();
        check(&s.clone().update(true), "a", &json!(1));
        let golden = fs::read(s.golden_path("a").unwrap()).unwrap();
        fs::write(s.pending_path("a").unwrap(), "{ nope").unwrap();
        let e = s.accept(None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Snapshot);
        assert_eq!(e.line(), Some(1));
        assert_eq!(fs::read(s.golden_path("a").unwrap()).unwrap(), golden);
        assert!(s.accept(Some("zzz")).is_err());
    }

    #[test]
    fn unused_reports_without_deleting() {
        let (_d, s) = snaps();
        let up = s.clone().update(true);
        for c in ["a", "s/b", "s/c"] {
            check(&up, c, &json!(1));
        }
        check(&s, "pending-only", &json!(1));
        assert_eq!(s.unused(&["s/b".to_string()]).unwrap(), ["a", "s/c"]);
        assert_eq!(s.cases().unwrap(), ["a", "s/b", "s/c"]);
        assert!(Snapshots::new(s.root().join("nothing")).unused(&[]).unwrap().is_empty());
    }

    #[test]
    fn invalid_case_names_are_rejected_before_touching_files() {
        let (_d, s) = snaps();
        for bad in ["../escape", "/abs", "a//b", ""] {
            let e = s.check(bad, &json!(1), &DiffOptions::default()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
        assert!(!s.root().exists());
    }

    #[test]
    fn meta_must_be_an_object() {
        let (_d, s) = snaps();
        let e = s
            .check_with_meta("a", &json!(1), Some(&json!(3)), &DiffOptions::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn from_env_reads_the_variable_once() {
        std::env::set_var(UPDATE_ENV, "1");
        let on = Snapshots::from_env("x");
        std::env::set_var(UPDATE_ENV, "0");
        let off = Snapshots::from_env("x");
        std::env::remove_var(UPDATE_ENV);
        assert!(on.is_update());
        assert!(!off.is_update());
        assert!(!Snapshots::new("x").is_update());
    }

    #[test]
    fn duplicate_keys_and_unencodable_numbers() {
        let (_d, s) = snaps();
        check(&s.clone().update(true), "d", &json!({"a": 1}));
        let path = s.golden_path("d").unwrap();
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"a\": 1", "\"a\": 1,\n    \"a\": 2");
        fs::write(&path, text).unwrap();
        let e = s.read("d").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Snapshot);
        assert_eq!(e.path(), Some("/value/a"));
        assert!(e.line().is_some());
        let e = s
            .check("big", &json!({"n": u64::MAX}), &DiffOptions::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Canonical);
        assert!(s.pending_cases().unwrap().is_empty());
    }

    fn opts(v: Value) -> DiffOptions {
        DiffOptions::from_json(&v).unwrap()
    }

    #[test]
    fn failed_check_carries_the_diff() {
        let (_d, s) = snaps();
        let r = check(&s, "a", &json!({"x": 1}));
        assert!(r.golden_missing());
        assert_eq!(r.summary(), "no golden yet");
        let d = r.diff().unwrap();
        assert_eq!(diff::apply_patch(&Value::Null, &d.patch()).unwrap(), json!({"x": 1}));
        s.accept(None).unwrap();
        let r = check(&s, "a", &json!({"x": 2, "y": 3}));
        assert_eq!(r.status(), CheckStatus::Failed);
        assert_eq!(r.summary(), "1 changed, 1 added, 0 removed");
        assert_eq!(
            r.diff().unwrap().patch(),
            json!([{"op": "replace", "path": "/x", "value": 2}, {"op": "add", "path": "/y", "value": 3}])
        );
        let p = s.pending().unwrap();
        assert_eq!(p[0].diff.patch(), r.diff().unwrap().patch());
        let r = check(&s, "a", &json!({"x": 1}));
        assert!(r.diff().is_none());
        assert_eq!(r.summary(), "no differences");
    }

    #[test]
    fn options_apply_to_the_comparison_and_goldens_stay_exact() {
        let (_d, s) = snaps();
        check(
            &s.clone().update(true),
            "a",
            &json!({"t": 1.0, "at": "10:00", "n": [1, 2]}),
        );
        let golden = fs::read(s.golden_path("a").unwrap()).unwrap();
        let o = opts(json!({"tolerance": {"abs": 0.01}, "ignore": ["/at"]}));
        for mode in [s.clone(), s.clone().update(true)] {
            let r = mode
                .check("a", &json!({"t": 1.001, "at": "11:00", "n": [1, 2]}), &o)
                .unwrap();
            assert_eq!(r.status(), CheckStatus::Passed);
        }
        assert_eq!(
            fs::read(s.golden_path("a").unwrap()).unwrap(),
            golden,
            "golden not rewritten"
        );
        assert!(s.pending_cases().unwrap().is_empty());
        // Outside the tolerance it fails, and the candidate holds the exact new value.
        let r = s
            .check("a", &json!({"t": 1.5, "at": "10:00", "n": [1, 2]}), &o)
            .unwrap();
        assert_eq!(r.status(), CheckStatus::Failed);
        assert_eq!(s.pending().unwrap()[0].candidate.value["t"], json!(1.5));
    }

    #[test]
    fn redacted_paths_are_never_stored() {
        let (_d, s) = snaps();
        let o = opts(json!({"redact": ["/users/*/token"]}));
        let r = s
            .check("r", &json!({"users": [{"id": 1, "token": "s3cr3t-one"}]}), &o)
            .unwrap();
        assert_eq!(r.status(), CheckStatus::Failed);
        let text = fs::read_to_string(r.pending_path().unwrap()).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains(diff::REDACTED));
        s.accept(None).unwrap();
        let r = s
            .check("r", &json!({"users": [{"id": 1, "token": "s3cr3t-two"}]}), &o)
            .unwrap();
        assert_eq!(r.status(), CheckStatus::Passed);
        let r = s
            .clone()
            .update(true)
            .check("r", &json!({"users": [{"id": 2, "token": "s3cr3t-3"}]}), &o)
            .unwrap();
        assert_eq!(r.status(), CheckStatus::Updated);
        let text = fs::read_to_string(s.golden_path("r").unwrap()).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn invalid_options_are_refused_before_writing() {
        let (_d, s) = snaps();
        let o = DiffOptions {
            ignore: vec!["no-slash".into()],
            ..Default::default()
        };
        let e = s.check("a", &json!(1), &o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(!s.root().exists());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Any value written as a golden reads back equal, and its text is stable.
            #[test]
            fn golden_text_round_trips(value in crate::canon::strategy::value()) {
                let g = Golden::new("p/case", value);
                let text = g.to_text().unwrap();
                let back = Golden::parse(&text, Path::new("p.json")).unwrap();
                prop_assert_eq!(back.to_text().unwrap(), text);
                prop_assert!(diff::diff(&back.value, &g.value, &DiffOptions::default()).unwrap().is_empty());
            }

            /// The reader never panics: arbitrary text is a golden or a `Snapshot` error naming the file.
            #[test]
            fn reader_never_panics(text in ".{0,200}") {
                if let Err(e) = Golden::parse(&text, Path::new("x.json")) {
                    prop_assert_eq!(e.kind(), ErrorKind::Snapshot);
                    prop_assert_eq!(e.file(), Some(Path::new("x.json")));
                }
            }

            /// Mangling a valid golden's text (one byte changed) never panics the reader.
            #[test]
            fn mangled_goldens_are_errors_or_goldens(value in crate::canon::strategy::value(), at in any::<usize>(), byte in any::<u8>()) {
                let mut bytes = Golden::new("m", value).to_text().unwrap().into_bytes();
                let i = at % bytes.len();
                bytes[i] = byte;
                match parse_bytes(&bytes, Path::new("m.json"), "m") {
                    Ok(g) => prop_assert_eq!(g.case, "m"),
                    Err(e) => prop_assert_eq!(e.kind(), ErrorKind::Snapshot),
                }
            }
        }
    }
}
