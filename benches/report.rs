//! Report files of a synthetic 10 000-case run: `write_reports` (report.json, verdict.json, junit.xml and
//! index.html into a temporary directory) and `run_html` (the page alone). The bar: every report of a
//! 10 000-case run in under 2 s.
//!
//! The run mixes what real runs hold: command cases (a tenth failing with 1 KiB of output, some flaky), load
//! simulations with three seeds of latency (charts), determinism checks (some drifting, with the divergent
//! events) and failed goldens with their HTML diff.
//!
//! Run: `cargo bench -p toron-suite --bench report`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use toron_core::diff::{diff, DiffOptions, Format};
use toron_core::gate::{evaluate, Gate};
use toron_core::report::html::run_html;
use toron_core::report::{write_reports, Kpis};
use toron_core::runner::{CaseResult, RunResult};

const CASES: usize = 10_000;

/// xorshift64: deterministic fixtures without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn attempt(number: u32, outcome: &str, extra: Value) -> Value {
    let mut a = json!({"number": number, "outcome": outcome, "duration": 0.01, "seeds": [],
                       "stdout": "", "stderr": ""});
    if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    a
}

fn latency(rng: &mut Rng) -> Value {
    let p50 = 0.002 + rng.below(1000) as f64 / 1e6;
    json!({"count": 10_000, "min": p50 / 4.0, "mean": p50 * 1.2, "p50": p50, "p90": p50 * 2.0,
           "p99": p50 * 4.0, "p999": p50 * 7.0, "max": p50 * 11.0})
}

/// One case of each kind in turn (by `i % 10`), deterministic for a given `i`.
fn case(i: usize, rng: &mut Rng, golden_html: &str) -> Value {
    let suite = format!("suite{:02}", i % 40);
    let name = format!("case-{i:05}");
    let digest = |rng: &mut Rng| {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next()
        )
    };
    let (kind, outcome, attempts) = match i % 10 {
        0..=4 => (
            "command",
            "passed",
            vec![attempt(1, "passed", json!({"exit_code": 0, "stdout": "ok\n"}))],
        ),
        5 => {
            let out = "x".repeat(1024);
            (
                "command",
                "failed",
                vec![attempt(
                    1,
                    "failed",
                    json!({"exit_code": 1, "stdout": out, "stderr": "assertion failed: <left == right>\n",
                           "message": format!("pytest tests/test_{i}.py ended with exit code 1")}),
                )],
            )
        }
        6 => (
            "command",
            "flaky",
            vec![
                attempt(
                    1,
                    "failed",
                    json!({"exit_code": 1, "message": "ended with exit code 1"}),
                ),
                attempt(2, "passed", json!({"exit_code": 0})),
            ],
        ),
        7 => {
            let seeds: Vec<Value> = (0..3)
                .map(|s| {
                    json!({"seed": s + 1, "digest": digest(rng), "violations": 0, "latency": latency(rng),
                           "throughput": 150.0 + rng.below(100) as f64})
                })
                .collect();
            ("load", "passed", vec![attempt(1, "passed", json!({"seeds": seeds}))])
        }
        8 => {
            let drifting = i % 50 == 8;
            let mut digests = json!({"1": {digest(rng): 6}, "2": {digest(rng): 6}});
            if drifting {
                digests["2"] = json!({digest(rng): 4, digest(rng): 2});
            }
            let drift = drifting.then(|| {
                json!({"index": 1234, "time": 5_000_000,
                       "a": {"i": 1234, "t": 5_000_000, "type": "deliver", "from": "client", "to": "server"},
                       "b": {"i": 1234, "t": 5_000_000, "type": "timer", "node": "server", "timer": 3}})
            });
            let det = json!({"runs": 12, "threads": [1, 2], "repeats": 3, "deterministic": !drifting,
                             "digests": digests, "drift": drift});
            let (outcome, message) = if drifting {
                (
                    "failed",
                    json!("seed 2 gave 2 different digests across repeats and threads"),
                )
            } else {
                ("passed", Value::Null)
            };
            (
                "determinism",
                outcome,
                vec![attempt(1, outcome, json!({"determinism": det, "message": message}))],
            )
        }
        _ => {
            let golden = json!({"case": format!("{suite}/{name}"), "status": "failed",
                                "summary": "3 changed, 1 added, 1 removed", "html": golden_html,
                                "candidate": digest(rng)});
            (
                "sim",
                "failed",
                vec![attempt(
                    1,
                    "failed",
                    json!({"golden": golden, "message": format!("golden {suite}/{name}: 3 changed, 1 added, 1 removed"),
                           "seeds": [{"seed": 1, "digest": digest(rng), "violations": 0,
                                      "latency": latency(rng), "throughput": 120.0}]}),
                )],
            )
        }
    };
    json!({"suite": suite, "name": name, "kind": kind, "outcome": outcome, "attempts": attempts,
           "scenario": null, "expect_violation": false, "duration": 0.02})
}

fn synthetic_run() -> RunResult {
    let old = json!({"total": 41, "items": ["a", "b", "c"], "meta": {"v": 1, "by": "ci"}, "gone": true});
    let new = json!({"total": 42, "items": ["a", "B", "c", "d"], "meta": {"v": 2, "by": "cd"}});
    let golden_html = diff(&old, &new, &DiffOptions::default())
        .map(|d| d.render(Format::Html))
        .unwrap_or_default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: Vec<Value> = (0..CASES).map(|i| case(i, &mut rng, &golden_html)).collect();
    let cases: Vec<CaseResult> = serde_json::from_value(Value::Array(cases)).expect("cases");
    let kpis = Kpis::from_cases(&cases, None, 321.5);
    let verdict = evaluate(&Gate::defaults(), &kpis, &Default::default());
    let suites: Vec<String> = (0..40).map(|s| format!("suite{s:02}")).collect();
    serde_json::from_value(json!({
        "id": "run-2.5.0-20261125T120000Z", "state": "failed", "error": null, "profile": "full",
        "suites": suites, "seed": null, "started": "2026-11-25T12:00:00Z", "duration": 321.5,
        "cases": cases, "kpis": kpis, "verdict": verdict, "archive": ".toron", "report_dir": null
    }))
    .expect("run")
}

fn reports(c: &mut Criterion) {
    let result = synthetic_run();
    let dir = std::env::temp_dir().join(format!("toron-bench-report-{}", std::process::id()));
    let started = Instant::now();
    let out = write_reports(&result, &dir).expect("reports");
    let once = started.elapsed();
    let size = |f: &str| std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "report: {} cases, one write_reports {:.0} ms: index.html {} bytes, report.json {} bytes, junit.xml {} bytes",
        result.cases.len(),
        once.as_secs_f64() * 1e3,
        size("index.html"),
        size("report.json"),
        size("junit.xml"),
    );

    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.throughput(Throughput::Elements(result.cases.len() as u64));
    group.bench_with_input(BenchmarkId::new("run_html", CASES), &result, |b, r| {
        b.iter(|| run_html(black_box(r)).len())
    });
    group.bench_with_input(BenchmarkId::new("write_reports", CASES), &result, |b, r| {
        b.iter(|| write_reports(black_box(r), &dir).is_ok())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, reports);
criterion_main!(benches);
