//! Issue 16: a run with a failed, errored or timed-out case is never GO, also when the manifest has no
//! `[[gate]]` at all; the rule that decides it (`failed == 0` / `errored == 0`) names the cases.

use toron_core::gate::RuleStatus;
use toron_core::runner::{refresh_snapshots, CaseOutcome, Manifest, Run, RunOptions, RunResult, RunState};

use crate::scratch::Scratch;

const SCENARIO: &str = r#"
name = "echo"
stop = { requests = 20 }
[[node]]
id = "server"
model = "echo"
[network]
latency = { dist = "constant", value = "5ms" }
[load]
mode = "closed"
clients = 1
target = "server"
"#;

/// A manifest without gates: one suite per outcome, and `golden/echo` compared against `seed`'s golden.
fn manifest(seed: u64) -> String {
    format!(
        r#"
[[suite]]
name = "failing"
[[suite.case]]
name = "exit3"
kind = "command"
argv = ["sh", "-c", "exit 3"]

[[suite]]
name = "erroring"
[[suite.case]]
name = "missing-binary"
kind = "command"
argv = ["/nonexistent/toron-issue-16"]

[[suite]]
name = "slow"
[[suite.case]]
name = "sleeps"
kind = "command"
argv = ["sleep", "5"]
timeout = "200ms"

[[suite]]
name = "golden"
[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seeds = [{seed}]
golden = true

[[suite]]
name = "flaky"
[[suite.case]]
name = "second-time"
kind = "command"
argv = ["sh", "-c", "test -f marker || {{ touch marker; exit 1; }}"]
retries = 1
"#
    )
}

fn project(name: &str, seed: u64) -> (Scratch, Manifest) {
    let dir = Scratch::new(&format!("verdict-{name}"));
    std::fs::write(dir.join("echo.toml"), SCENARIO).unwrap();
    std::fs::write(dir.join("testops.toml"), manifest(seed)).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    (dir, m)
}

fn run(m: &Manifest, suite: &str) -> RunResult {
    // Check mode: goldens are compared, never written.
    let options = RunOptions {
        suites: vec![suite.to_string()],
        check: true,
        ..Default::default()
    };
    Run::start(m, options).unwrap().wait().unwrap()
}

fn assert_no_go(r: &RunResult, outcome: CaseOutcome, rule: &str, case: &str) {
    assert_eq!(r.cases[0].outcome, outcome, "{:?}", r.cases[0]);
    assert_eq!((r.state, r.verdict.verdict.as_str()), (RunState::Failed, "NO-GO"));
    let failing: Vec<_> = r.verdict.blocking_failures().collect();
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].rule, rule);
    assert!(
        failing[0].explanation.ends_with(&format!("Cases: {case}.")),
        "{}",
        failing[0].explanation
    );
    // The rule is in verdict.json for the person reading it.
    let verdict = std::fs::read_to_string(r.report_dir.as_ref().unwrap().join("verdict.json")).unwrap();
    assert!(verdict.contains(case), "{verdict}");
}

#[test]
fn issue_16_a_failing_case_without_gates_is_no_go() {
    let (_dir, m) = project("failing", 1);
    assert_no_go(&run(&m, "failing"), CaseOutcome::Failed, "failed == 0", "failing/exit3");
}

#[test]
fn issue_16_an_erroring_case_without_gates_is_no_go() {
    let (_dir, m) = project("erroring", 1);
    let r = run(&m, "erroring");
    assert_no_go(&r, CaseOutcome::Errored, "errored == 0", "erroring/missing-binary");
    // The case errored, not the harness: the run is failed (NO-GO), not errored.
    assert_eq!(r.error, None);
}

#[test]
fn issue_16_a_timed_out_case_without_gates_is_no_go() {
    let (_dir, m) = project("slow", 1);
    assert_no_go(&run(&m, "slow"), CaseOutcome::TimedOut, "errored == 0", "slow/sleeps");
}

#[test]
fn issue_16_a_golden_mismatch_without_gates_is_no_go() {
    let (dir, m) = project("golden", 1);
    // The golden of seed 1, and a run that matches it passes.
    refresh_snapshots(&m, None, &["golden".to_string()], None).unwrap();
    let first = run(&m, "golden");
    assert_eq!(
        (first.state, first.verdict.go),
        (RunState::Passed, true),
        "{:?}",
        first.verdict
    );
    // Another seed no longer matches it.
    std::fs::write(dir.join("testops.toml"), manifest(2)).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    assert_no_go(&run(&m, "golden"), CaseOutcome::Failed, "failed == 0", "golden/echo");
}

#[test]
fn issue_16_a_flaky_case_passes_the_run() {
    let (_dir, m) = project("flaky", 1);
    let r = run(&m, "flaky");
    assert_eq!(r.cases[0].outcome, CaseOutcome::Flaky);
    assert_eq!((r.state, r.verdict.go), (RunState::Passed, true));
    assert!(r.verdict.rules.iter().all(|x| x.status != RuleStatus::Failed));
}

#[test]
fn issue_16_a_warn_rule_on_failed_relaxes_it_explicitly() {
    let (dir, _m) = project("relaxed", 1);
    let text = format!(
        "{}\n[[gate]]\nrule = \"failed == 0\"\nseverity = \"warn\"\n",
        manifest(1)
    );
    std::fs::write(dir.join("testops.toml"), text).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    let r = run(&m, "failing");
    assert_eq!(r.cases[0].outcome, CaseOutcome::Failed);
    assert_eq!((r.state, r.verdict.go), (RunState::Passed, true));
    let failed: Vec<_> = r
        .verdict
        .rules
        .iter()
        .filter(|x| x.status == RuleStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].explanation.contains("(a warning only)"));
}
