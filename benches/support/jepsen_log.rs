//! The Jepsen etcd histories that todc-utils ships in its crate (`tests/linearizability/etcd/etcd_NNN.log`, from
//! Knossos' and Porcupine's test data), their expected verdicts, and their `jepsen.util` log lines read as a
//! Toron history: shared by `benches/check_peer.rs` and the test that checks every verdict
//! (`tests/it/checkers.rs`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use toron_core::check::History;

/// The etcd logs inside the todc-utils crate cargo downloaded for this bench.
pub fn etcd_dir() -> Result<PathBuf, String> {
    if let Ok(d) = std::env::var("TODC_ETCD_DIR") {
        return Ok(PathBuf::from(d));
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map_err(|_| "neither CARGO_HOME nor HOME is set".to_string())?;
    let registry = home.join("registry").join("src");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&registry)
        .map_err(|e| format!("{}: {e}", registry.display()))?
        .flatten()
        .map(|index| index.path().join("todc-utils-0.1.1/tests/linearizability/etcd"))
        .filter(|d| d.is_dir())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        format!(
            "no todc-utils-0.1.1 etcd logs under {} (set TODC_ETCD_DIR)",
            registry.display()
        )
    })
}

/// `test_NNN: ("NNN", true|false)` lines of todc-utils' own test: the expected verdicts.
pub fn expected(dir: &Path) -> Result<Vec<(String, bool)>, String> {
    let tests = dir.join("../etcd.rs");
    let text = std::fs::read_to_string(&tests).map_err(|e| format!("{}: {e}", tests.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//")) // etcd_095: "Etcd fails to boot during test case 95"
        .filter_map(|l| {
            let (_, rest) = l.split_once(": (\"")?;
            let (n, verdict) = rest.split_once("\", ")?;
            let verdict = verdict.trim_end_matches(['(', ')', ',', ' ']);
            Some((n.to_string(), verdict == "true"))
        })
        .collect())
}

/// A Jepsen log value: `nil`, a number, or a cas pair `[1 2]`.
fn value(words: &[&str]) -> Value {
    match words {
        ["nil"] => Value::Null,
        [one] => one.parse::<i64>().map_or_else(|_| json!(one), Value::from),
        [a, b] => json!([
            a.trim_start_matches('[').parse::<i64>().unwrap_or(0),
            b.trim_end_matches(']').parse::<i64>().unwrap_or(0)
        ]),
        _ => Value::Null,
    }
}

/// The log's `jepsen.util` lines (`3\t:invoke\t:cas\t[1 4]`) as a Toron history.
pub fn toron_history(log: &str) -> Result<History, String> {
    let ops: Vec<Value> = log
        .lines()
        .filter_map(|l| l.split_once("jepsen.util - ").map(|(_, op)| op))
        .filter_map(|op| {
            let words: Vec<&str> = op.split_whitespace().collect();
            let (process, kind, f) = (words.first()?, words.get(1)?, words.get(2)?);
            let process: u64 = process.parse().ok()?;
            let mut o = json!({"process": process, "type": kind.trim_start_matches(':'),
                               "f": f.trim_start_matches(':')});
            let v = value(&words[3..]);
            if !v.is_null() {
                o["value"] = v;
            }
            Some(o)
        })
        .collect();
    History::from_value(&Value::Array(ops)).map_err(|e| e.to_string())
}
