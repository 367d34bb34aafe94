//! `junit.xml` against quick-junit: the same report built as quick-junit's model and serialized by it must
//! give the same bytes, for hand-picked runs and for generated ones with hostile strings (ANSI escapes,
//! control characters, markup, non-ASCII).

use super::*;
use proptest::prelude::*;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use serde_json::{json, Value};
use std::time::Duration;

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

fn kind_of(outcome: CaseOutcome) -> NonSuccessKind {
    match outcome {
        CaseOutcome::Failed => NonSuccessKind::Failure,
        _ => NonSuccessKind::Error,
    }
}

fn q_rerun(a: &Attempt) -> TestRerun {
    let mut r = TestRerun::new(kind_of(a.outcome));
    let message = a.message.clone().unwrap_or_else(|| a.outcome.name().to_string());
    r.set_type(a.outcome.name())
        .set_time(secs(a.duration))
        .set_stack_trace(message.as_str())
        .set_message(message);
    if !a.stdout.is_empty() {
        r.set_system_out(a.stdout.as_str());
    }
    if !a.stderr.is_empty() {
        r.set_system_err(a.stderr.as_str());
    }
    r
}

fn q_testcase(c: &CaseResult) -> TestCase {
    let earlier: Vec<TestRerun> = c.attempts.iter().rev().skip(1).rev().map(q_rerun).collect();
    let status = match c.outcome {
        CaseOutcome::Passed => TestCaseStatus::success(),
        CaseOutcome::Flaky => TestCaseStatus::Success { flaky_runs: earlier },
        CaseOutcome::Skipped | CaseOutcome::Cancelled => {
            let mut s = TestCaseStatus::skipped();
            s.set_type(c.outcome.name()).set_message(c.outcome.name());
            s
        }
        CaseOutcome::Failed | CaseOutcome::Errored | CaseOutcome::TimedOut => {
            let mut s = TestCaseStatus::non_success(kind_of(c.outcome));
            let msg = c
                .last()
                .and_then(|a| a.message.clone())
                .unwrap_or_else(|| c.outcome.name().to_string());
            s.set_type(c.outcome.name()).set_message(msg);
            s.add_reruns(earlier);
            s
        }
    };
    let mut t = TestCase::new(c.name.as_str(), status);
    t.set_classname(c.suite.as_str()).set_time(secs(c.duration));
    t.add_property(Property::new("kind", c.kind.name()));
    t.add_property(Property::new("outcome", c.outcome.name()));
    t.add_property(Property::new("attempts", c.attempts.len().to_string()));
    if let Some(last) = c.last() {
        let seeds: Vec<String> = last.seeds.iter().map(|s| s.seed.to_string()).collect();
        if !seeds.is_empty() {
            t.add_property(Property::new("seed", seeds.join(",")));
        }
        if let Some(d) = &last.digest {
            t.add_property(Property::new("digest", d.as_str()));
        }
        if !last.stdout.is_empty() {
            t.set_system_out(last.stdout.as_str());
        }
        if !last.stderr.is_empty() {
            t.set_system_err(last.stderr.as_str());
        }
    }
    t
}

/// The report as quick-junit's model (what `junit.xml` was written from before).
fn quick_junit_xml(result: &RunResult) -> String {
    let mut report = Report::new(result.id.as_str());
    report.set_time(secs(result.duration));
    for suite in &result.suites {
        let mut ts = TestSuite::new(suite.as_str());
        ts.add_test_cases(result.cases.iter().filter(|c| &c.suite == suite).map(q_testcase));
        report.add_test_suite(ts);
    }
    let mut gates = TestSuite::new(GATES_SUITE);
    for r in &result.verdict.rules {
        let status = match (r.status, r.severity) {
            (RuleStatus::Passed, _) | (RuleStatus::Failed, Severity::Warn) => TestCaseStatus::success(),
            (RuleStatus::NotEvaluated, _) => {
                let mut s = TestCaseStatus::skipped();
                s.set_type("not_evaluated").set_message(r.explanation.as_str());
                s
            }
            (RuleStatus::Failed, Severity::Block) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type("gate").set_message(r.explanation.as_str());
                s
            }
        };
        let name = match &r.scope {
            Some(scope) => format!("{} [{scope}]", r.rule),
            None => r.rule.clone(),
        };
        let mut t = TestCase::new(name, status);
        t.set_classname(GATES_SUITE).set_time(Duration::ZERO);
        t.add_property(Property::new("severity", r.severity.name()));
        t.add_property(Property::new("status", r.status.name()));
        if r.status == RuleStatus::Failed && r.severity == Severity::Warn {
            t.set_system_out(r.explanation.as_str());
        }
        gates.add_test_case(t);
    }
    report.add_test_suite(gates);
    report.to_string().unwrap()
}

fn attempt(n: u32, outcome: &str, message: Option<&str>, stdout: &str, stderr: &str, seeds: &[u64]) -> Value {
    let seeds: Vec<Value> = seeds
        .iter()
        .map(|s| {
            json!({"seed": s, "digest": "d", "violations": 0, "throughput": 1.5,
                   "latency": {"count": 1, "min": 0.0, "mean": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0,
                               "p999": 0.0, "max": 0.0}})
        })
        .collect();
    json!({"number": n, "outcome": outcome, "message": message, "duration": 0.0125 * f64::from(n),
           "seeds": seeds, "exit_code": null, "stdout": stdout, "stderr": stderr,
           "digest": if seeds.is_empty() { Value::Null } else { json!(format!("digest-{n}")) },
           "determinism": null, "golden": null, "coverage": null})
}

fn case(suite: &str, name: &str, kind: &str, outcome: &str, attempts: Vec<Value>) -> Value {
    json!({"suite": suite, "name": name, "kind": kind, "outcome": outcome, "attempts": attempts,
           "scenario": null, "expect_violation": false, "duration": 0.5, "error": null})
}

fn rule(rule: &str, scope: Option<&str>, severity: &str, status: &str, explanation: &str) -> Value {
    json!({"rule": rule, "metric": "failed", "scope": scope, "comparator": "==", "threshold": 0.0,
           "baseline_run": null, "baseline": null, "actual": 1.0, "severity": severity, "default": false,
           "status": status, "passed": status == "passed", "explanation": explanation})
}

fn run(id: &str, suites: &[&str], cases: Vec<Value>, rules: Vec<Value>) -> RunResult {
    serde_json::from_value(json!({
        "id": id, "state": "failed", "error": null, "profile": null, "suites": suites, "seed": null,
        "seed_source": "scenario", "started": "2026-11-26T00:00:00Z", "duration": 1.2345, "cases": cases,
        "kpis": {"run": {}, "suites": {}, "cases": {}},
        "verdict": {"go": false, "verdict": "NO-GO", "rules": rules},
        "archive": "/tmp/a", "report_dir": null, "unused_goldens": []
    }))
    .unwrap()
}

fn assert_same(r: &RunResult) {
    let ours = junit_xml(r).unwrap();
    let theirs = quick_junit_xml(r);
    assert_eq!(ours, theirs);
}

#[test]
fn every_outcome_and_rule_status_matches_quick_junit() {
    let cases = vec![
        case(
            "unit",
            "ok",
            "command",
            "passed",
            vec![attempt(1, "passed", None, "fine\n", "", &[])],
        ),
        case(
            "unit",
            "flaky",
            "command",
            "flaky",
            vec![
                attempt(1, "failed", Some("exit 1"), "first\n", "oops\n", &[]),
                attempt(2, "errored", None, "", "", &[]),
                attempt(3, "passed", None, "second\n", "", &[]),
            ],
        ),
        case(
            "unit",
            "broken",
            "command",
            "failed",
            vec![
                attempt(1, "failed", Some("exit 3"), "out\n", "err\n", &[]),
                attempt(2, "failed", Some("exit 3"), "out\n", "err\n", &[]),
            ],
        ),
        case(
            "unit",
            "slow",
            "command",
            "timed_out",
            vec![attempt(1, "timed_out", None, "", "", &[])],
        ),
        case("unit", "skipped", "command", "skipped", vec![]),
        case("unit", "cancelled", "command", "cancelled", vec![]),
        case(
            "sim",
            "echo",
            "sim",
            "passed",
            vec![attempt(1, "passed", None, "", "", &[1, 2])],
        ),
        case(
            "sim",
            "bug",
            "chaos",
            "errored",
            vec![attempt(1, "errored", Some("no such node"), "", "", &[7])],
        ),
    ];
    let rules = vec![
        rule("failed == 0", None, "block", "failed", "Failed: 1 case failed"),
        rule(
            "latency.p99 <= 0.2",
            Some("load/checkout"),
            "warn",
            "failed",
            "Failed: 0.3 > 0.2",
        ),
        rule("pass_rate >= 0.9", None, "block", "passed", "Passed"),
        rule(
            "coverage >= 0.8",
            Some("unit"),
            "block",
            "not_evaluated",
            "Not evaluated: no data",
        ),
    ];
    assert_same(&run("run-1", &["unit", "sim", "empty"], cases, rules));
    assert_same(&run("run-2", &[], vec![], vec![]));
}

#[test]
fn hostile_strings_match_quick_junit() {
    let nasty = "\x1b[31mred\x1b[0m <b>&amp;</b> \"q\" 'a' \t tab \r\n\x07bell \x0b\x0c \u{9b}31m é 日本 \u{7f}del ]]>";
    let cases = vec![case(
        nasty,
        nasty,
        "command",
        "failed",
        vec![
            attempt(1, "errored", Some(nasty), nasty, nasty, &[]),
            attempt(2, "failed", Some(nasty), nasty, nasty, &[3]),
        ],
    )];
    assert_same(&run(
        nasty,
        &[nasty],
        cases,
        vec![rule(nasty, Some(nasty), "warn", "failed", nasty)],
    ));
}

fn text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\x1b[1;32m".to_string()),
        Just("\x1b]0;title\x07".to_string()),
        Just("\x1b".to_string()),
        Just("\u{9b}".to_string()),
        Just("<&>\"'".to_string()),
        "[ -~]{0,6}",
        "[\\x00-\\x1f\\x7f]{1,3}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
}

fn outcome() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "passed",
        "flaky",
        "failed",
        "errored",
        "timed_out",
        "skipped",
        "cancelled",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn generated_runs_match_quick_junit(
        names in prop::collection::vec((text(), outcome(), text(), text(), 0usize..3), 0..5),
        explanation in text(),
    ) {
        let cases = names
            .iter()
            .map(|(name, outcome, msg, out, n)| {
                let attempts = (0..*n)
                    .map(|i| attempt(i as u32 + 1, outcome, Some(msg.as_str()), out, msg, &[i as u64]))
                    .collect();
                case("s", name, "sim", outcome, attempts)
            })
            .collect();
        let rules = vec![
            rule(&explanation, None, "warn", "failed", &explanation),
            rule("r", Some(&explanation), "block", "not_evaluated", &explanation),
        ];
        let r = run("run", &["s"], cases, rules);
        prop_assert_eq!(junit_xml(&r).unwrap(), quick_junit_xml(&r));
    }
}
