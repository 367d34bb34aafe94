//! `junit.xml` with `quick-junit`: a `<testsuite>` per suite and a `<testcase>` per case (seed, digest, kind
//! and outcome as properties), earlier attempts of flaky and failed cases as `<flakyFailure>` /
//! `<rerunFailure>` (or `…Error`) with their output, per Maven Surefire's test-report schema (`type` is always
//! set), and a `toron.gates` suite with a testcase per gate rule.

use crate::gate::{RuleStatus, Severity};
use crate::runner::{Attempt, CaseOutcome, CaseResult, RunResult};
use crate::{Error, ErrorKind, Result};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use std::time::Duration;

/// The name of the suite holding one testcase per gate rule.
pub const GATES_SUITE: &str = "toron.gates";

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

fn kind_of(outcome: CaseOutcome) -> NonSuccessKind {
    match outcome {
        CaseOutcome::Failed => NonSuccessKind::Failure,
        _ => NonSuccessKind::Error,
    }
}

fn rerun(a: &Attempt) -> TestRerun {
    let mut r = TestRerun::new(kind_of(a.outcome));
    let message = a.message.clone().unwrap_or_else(|| a.outcome.name().to_string());
    // Surefire's schema requires a <stackTrace> in every flaky/rerun element; a case has no stack, so it
    // carries the attempt's message.
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

fn testcase(c: &CaseResult) -> TestCase {
    let earlier: Vec<TestRerun> = c.attempts.iter().rev().skip(1).rev().map(rerun).collect();
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

/// The JUnit report of a run.
pub fn junit_report(result: &RunResult) -> Report {
    let mut report = Report::new(result.id.as_str());
    report.set_time(secs(result.duration));
    for suite in &result.suites {
        let mut ts = TestSuite::new(suite.as_str());
        ts.add_test_cases(result.cases.iter().filter(|c| &c.suite == suite).map(testcase));
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
        // Surefire's schema requires `time` on every testcase; evaluating a rule takes no measurable time.
        t.set_classname(GATES_SUITE).set_time(std::time::Duration::ZERO);
        t.add_property(Property::new("severity", r.severity.name()));
        t.add_property(Property::new("status", r.status.name()));
        if r.status == RuleStatus::Failed && r.severity == Severity::Warn {
            t.set_system_out(r.explanation.as_str());
        }
        gates.add_test_case(t);
    }
    report.add_test_suite(gates);
    report
}

/// `junit.xml` as text.
pub fn junit_xml(result: &RunResult) -> Result<String> {
    junit_report(result)
        .to_string()
        .map_err(|e| Error::new(ErrorKind::Run, format!("cannot write junit.xml: {e}")))
}
