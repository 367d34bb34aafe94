//! `tests/vectors/sim.json`: scenarios, seeds and the digests and counters they must give. The Python and C
//! suites read the same file. `TORON_UPDATE_VECTORS=1 cargo test --test it vectors` rewrites it — only do
//! that for a deliberate trace-format change (a minor version bump, noted in the changelog).

use serde_json::{json, Value};
use toron_core::scenario::Scenario;
use toron_core::sim;
use toron_suite::repo_path;

const CASES: &[(&str, &str, u64)] = &[
    ("echo", "examples/scenarios/echo.toml", 1),
    ("mm1_small-seed-43", "tests/vectors/scenarios/mm1_small.toml", 43),
    ("mm1_small", "tests/vectors/scenarios/mm1_small.toml", 42),
    ("lossy_echo", "tests/vectors/scenarios/lossy_echo.toml", 7),
    ("kv_small", "tests/vectors/scenarios/kv_small.toml", 5),
];

const STATS: &[&str] = &[
    "events",
    "messages_sent",
    "messages_delivered",
    "messages_dropped",
    "messages_duplicated",
    "virtual_time_ns",
    "requests_ok",
    "requests_error",
    "requests_timeout",
];

fn compute() -> Value {
    let cases: Vec<Value> = CASES
        .iter()
        .map(|(name, path, seed)| {
            let s = Scenario::from_path(repo_path(path)).unwrap();
            let o = sim::simulate(&s, Some(*seed)).unwrap();
            let stats = serde_json::to_value(&o.stats).unwrap();
            let picked: serde_json::Map<String, Value> =
                STATS.iter().map(|k| (k.to_string(), stats[*k].clone())).collect();
            json!({"name": name, "scenario": path, "seed": seed, "digest": o.digest, "stats": picked,
                   "violations": o.violations.len(), "latency_count": o.latency.count})
        })
        .collect();
    json!({
        "version": 1,
        "engine": toron_core::VERSION,
        "comment": "Trace digests pinned per scenario and seed; every surface (Rust, Python, C) must reproduce them.",
        "cases": cases,
    })
}

#[test]
fn sim_vectors_match() {
    let path = repo_path("tests/vectors/sim.json");
    let now = compute();
    if std::env::var_os("TORON_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let pinned: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        pinned["cases"], now["cases"],
        "trace digests changed: a trace-format change needs a minor version bump"
    );
}
