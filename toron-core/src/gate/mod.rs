//! Gates: rules on a run's KPIs that decide GO or NO-GO.
//!
//! A [`Gate`] is a parsed [`Rule`] (`determinism >= 98%`, `latency.p99 <= 50ms`,
//! `latency.p99 <= baseline * 1.10`) with a [`Scope`] (the whole run, a suite, or one case), a [`Severity`]
//! (`block` rules decide the verdict, `warn` rules are reported) and, for baseline rules, the baseline run.
//! [`evaluate`] turns gates and a KPI set into a [`Verdict`] with one [`RuleResult`] per rule, each with a
//! sentence a person understands.
//!
//! When a manifest has no `[[gate]]`, [`Gate::defaults`] apply (`determinism >= 98%`, `coverage >= 90%`). Every
//! manifest also gets the case rules [`CASE_RULES`] (`failed == 0`, `errored == 0`, see [`Gate::with_case_rules`])
//! unless it gates that metric on the whole run itself: a run with a failed, errored or timed-out case is never
//! GO by default, and the rule's sentence names the cases. A default rule whose metric has no data is *not
//! evaluated*; an explicit rule whose metric has no data fails,
//! and says so — unless its scope (a suite or a case) was not part of the run at all (another profile's
//! suite): that rule is not evaluated either, so one manifest's gates serve all its profiles.
//!
//! ```
//! use toron_core::gate::{evaluate, Gate, Metric, Scope};
//! use toron_core::report::Kpis;
//!
//! let mut kpis = Kpis::default();
//! kpis.set(&Scope::Run, Metric::Determinism, 1.0);
//! let verdict = evaluate(&Gate::defaults(), &kpis, &Default::default());
//! assert!(verdict.go);
//! assert_eq!(verdict.rules[0].status.name(), "passed");
//! assert_eq!(verdict.rules[1].status.name(), "not_evaluated"); // no coverage data, default rule
//! # Ok::<(), toron_core::Error>(())
//! ```

mod metric;
mod rule;

pub use metric::{LatencyStat, Metric, Unit};
pub use rule::{Comparator, Rule, Threshold};

use crate::report::Kpis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The rules that apply when a manifest has no `[[gate]]`: the operations guide's defaults.
pub const DEFAULT_RULES: &[&str] = &["determinism >= 98%", "coverage >= 90%"];

/// The rules every manifest gets unless it gates the same metric on the whole run itself: a case that failed
/// (`failed`), or errored or timed out (`errored`), makes the run NO-GO. A manifest relaxes one explicitly with
/// its own `[[gate]]` on that metric, e.g. `rule = "failed == 0"` with `severity = "warn"`, or `failed <= 2`.
pub const CASE_RULES: &[&str] = &["failed == 0", "errored == 0"];

/// How many case names a failing case rule's sentence lists before "and N more".
const NAMED_CASES: usize = 5;

/// What part of a run a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Scope {
    /// The whole run.
    #[default]
    Run,
    /// One suite.
    Suite(String),
    /// One case of a suite.
    Case {
        /// The suite.
        suite: String,
        /// The case.
        case: String,
    },
}

impl Scope {
    /// Parse `suite` or `suite/case`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let t = text.trim();
        let bad = || {
            format!("scope {text:?} is not a suite or suite/case name (expected e.g. \"load\" or \"load/checkout\")")
        };
        match t.split_once('/') {
            None if !t.is_empty() => Ok(Scope::Suite(t.to_string())),
            Some((s, c)) if !s.is_empty() && !c.is_empty() && !c.contains('/') => Ok(Scope::Case {
                suite: s.to_string(),
                case: c.to_string(),
            }),
            _ => Err(bad()),
        }
    }

    /// `None` for the run, else `suite` or `suite/case`.
    pub fn key(&self) -> Option<String> {
        match self {
            Scope::Run => None,
            Scope::Suite(s) => Some(s.clone()),
            Scope::Case { suite, case } => Some(format!("{suite}/{case}")),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key() {
            None => f.write_str("the run"),
            Some(k) => f.write_str(&k),
        }
    }
}

/// Whether a failing rule decides the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure makes the verdict NO-GO.
    #[default]
    Block,
    /// A failure is reported only.
    Warn,
}

impl Severity {
    /// `block` or `warn`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Block => "block",
            Severity::Warn => "warn",
        }
    }
}

/// A rule with its scope, severity and baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// The rule.
    pub rule: Rule,
    /// What it looks at.
    pub scope: Scope,
    /// Block or warn.
    pub severity: Severity,
    /// For a baseline rule: a run id, or `last-go` (the newest run whose verdict was GO).
    pub baseline: Option<String>,
    /// Whether this is one of the guide's default rules (no data = not evaluated, rather than failed).
    pub default: bool,
}

impl Gate {
    /// A blocking gate on the whole run.
    pub fn new(rule: Rule) -> Gate {
        Gate {
            rule,
            scope: Scope::Run,
            severity: Severity::Block,
            baseline: None,
            default: false,
        }
    }

    /// The guide's default gates ([`DEFAULT_RULES`]).
    pub fn defaults() -> Vec<Gate> {
        DEFAULT_RULES
            .iter()
            .filter_map(|r| Rule::parse(r).ok())
            .map(|rule| Gate {
                default: true,
                ..Gate::new(rule)
            })
            .collect()
    }

    /// `gates` followed by the [`CASE_RULES`] whose metric `gates` does not already gate on the whole run
    /// (they are default rules: with no case run, they are not evaluated).
    pub fn with_case_rules(mut gates: Vec<Gate>) -> Vec<Gate> {
        let guards: Vec<Gate> = CASE_RULES
            .iter()
            .filter_map(|r| Rule::parse(r).ok())
            .filter(|rule| {
                !gates
                    .iter()
                    .any(|g| g.scope == Scope::Run && g.rule.metric() == rule.metric())
            })
            .map(|rule| Gate {
                default: true,
                ..Gate::new(rule)
            })
            .collect();
        gates.extend(guards);
        gates
    }
}

/// What became of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// The rule held.
    Passed,
    /// The rule did not hold, or an explicit rule had no data.
    Failed,
    /// A default rule whose metric had no data, or a rule scoped to a suite or case the run did not select.
    NotEvaluated,
}

impl RuleStatus {
    /// `passed`, `failed` or `not_evaluated`.
    pub fn name(self) -> &'static str {
        match self {
            RuleStatus::Passed => "passed",
            RuleStatus::Failed => "failed",
            RuleStatus::NotEvaluated => "not_evaluated",
        }
    }
}

/// One rule's evaluation, as `verdict.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule as written.
    pub rule: String,
    /// The metric's name.
    pub metric: String,
    /// `null` for the whole run, else `suite` or `suite/case`.
    pub scope: Option<String>,
    /// The comparator (`>=`).
    pub comparator: String,
    /// The value compared against (for a baseline rule: baseline × factor), if known.
    pub threshold: Option<f64>,
    /// The baseline run named by the gate, if any (`last-go` or a run id).
    pub baseline_run: Option<String>,
    /// The run actually compared with (what `last-go` resolved to), if one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_id: Option<String>,
    /// The baseline's value of the metric, if any.
    pub baseline: Option<f64>,
    /// The actual value, if the run has data for it.
    pub actual: Option<f64>,
    /// `block` or `warn`.
    pub severity: Severity,
    /// Whether it is one of the default rules.
    pub default: bool,
    /// Passed, failed or not evaluated.
    pub status: RuleStatus,
    /// `status == passed`.
    pub passed: bool,
    /// One sentence a person understands.
    pub explanation: String,
}

/// GO or NO-GO, with every rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// GO when no `block` rule failed.
    pub go: bool,
    /// `"GO"` or `"NO-GO"` (`"none"` for a run that never reached its gates, see [`Verdict::none`]).
    pub verdict: String,
    /// Every rule, in manifest order.
    pub rules: Vec<RuleResult>,
}

impl Verdict {
    /// The verdict of a run that never reached its gates (interrupted, or still running): `"none"`, not GO.
    pub fn none() -> Verdict {
        Verdict {
            go: false,
            verdict: "none".to_string(),
            rules: Vec::new(),
        }
    }

    /// The rules that failed and block.
    pub fn blocking_failures(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules
            .iter()
            .filter(|r| r.status == RuleStatus::Failed && r.severity == Severity::Block)
    }
}

/// The run a baseline rule compares with, as the caller resolved it for one gate (`last-go` becomes the run
/// it stands for, so the verdict can say which run that was).
#[derive(Debug, Clone, Copy)]
pub struct Baseline<'a> {
    /// The baseline run's id.
    pub run: &'a str,
    /// Its KPIs.
    pub kpis: &'a Kpis,
}

/// Evaluate `gates` over `kpis`. `baselines` maps each gate's `baseline` (a run id or `last-go`) to that
/// run's KPIs, as the caller resolved them; a baseline rule whose baseline is absent is not evaluated, with
/// that reason. [`evaluate_with`] resolves each gate's baseline itself (per metric and profile).
pub fn evaluate(gates: &[Gate], kpis: &Kpis, baselines: &BTreeMap<String, Kpis>) -> Verdict {
    evaluate_with(gates, kpis, |gate| {
        let id = gate.baseline.as_deref().unwrap_or("last-go");
        let metric = gate.rule.metric().name();
        match baselines.get_key_value(id) {
            Some((run, kpis)) => Ok(Baseline { run, kpis }),
            None => Err(format!("there is no baseline run {id:?} to compare {metric} with")),
        }
    })
}

/// [`evaluate`] with each baseline rule's run chosen by `baseline_of` (called once per baseline rule): the
/// run, or why there is none (the rule is then "not evaluated" with that reason, never failed).
pub fn evaluate_with<'a>(
    gates: &[Gate],
    kpis: &Kpis,
    mut baseline_of: impl FnMut(&Gate) -> std::result::Result<Baseline<'a>, String>,
) -> Verdict {
    let rules: Vec<RuleResult> = gates.iter().map(|g| evaluate_one(g, kpis, &mut baseline_of)).collect();
    let go = !rules
        .iter()
        .any(|r| r.status == RuleStatus::Failed && r.severity == Severity::Block);
    Verdict {
        go,
        verdict: if go { "GO" } else { "NO-GO" }.to_string(),
        rules,
    }
}

fn evaluate_one<'a>(
    gate: &Gate,
    kpis: &Kpis,
    baseline_of: &mut impl FnMut(&Gate) -> std::result::Result<Baseline<'a>, String>,
) -> RuleResult {
    let rule = &gate.rule;
    let metric = rule.metric();
    let cmp = rule.comparator();
    let actual = kpis.get(&gate.scope, metric);
    let mut result = RuleResult {
        rule: rule.text().to_string(),
        metric: metric.name().to_string(),
        scope: gate.scope.key(),
        comparator: cmp.symbol().to_string(),
        threshold: None,
        baseline_run: None,
        baseline_id: None,
        baseline: None,
        actual,
        severity: gate.severity,
        default: gate.default,
        status: RuleStatus::Failed,
        passed: false,
        explanation: String::new(),
    };
    let scope = &gate.scope;
    let name = metric.name();

    // The threshold, or why there is none.
    let threshold = match rule.threshold() {
        Threshold::Value(v) => Ok(v),
        Threshold::Baseline { factor } => {
            let id = gate.baseline.clone().unwrap_or_else(|| "last-go".to_string());
            result.baseline_run = Some(id.clone());
            match baseline_of(gate) {
                Err(why) => Err(why),
                Ok(b) => {
                    result.baseline_id = Some(b.run.to_string());
                    let named = if b.run == id {
                        format!("{id:?}")
                    } else {
                        format!("{id} ({})", b.run)
                    };
                    match b.kpis.get(scope, metric) {
                        None => Err(format!("the baseline run {named} has no {name} for {scope}")),
                        Some(v) => {
                            result.baseline = Some(v);
                            Ok(v * factor)
                        }
                    }
                }
            }
        }
    };
    if let Ok(t) = threshold {
        result.threshold = Some(t);
    }
    let selected = match scope {
        Scope::Run => true,
        Scope::Suite(s) => kpis.suites.contains_key(s),
        Scope::Case { .. } => scope.key().is_some_and(|k| kpis.cases.contains_key(&k)),
    };
    match (actual, threshold) {
        (None, _) if !selected => {
            result.status = RuleStatus::NotEvaluated;
            result.explanation = format!("Not evaluated: {scope} was not part of this run.");
        }
        (None, _) if gate.default => {
            result.status = RuleStatus::NotEvaluated;
            result.explanation = format!("Not evaluated: the run has no {name} data for {scope} (a default rule).");
        }
        // Nothing to compare with is not a failure of the run: say so, and let it not block.
        (None, Err(why)) => {
            result.status = RuleStatus::NotEvaluated;
            result.explanation = format!("Not evaluated: the run has no {name} data for {scope}, and {why}.");
        }
        (Some(a), Err(why)) => {
            result.status = RuleStatus::NotEvaluated;
            result.explanation = format!("Not evaluated: {name} for {scope} is {}, but {why}.", metric.show(a));
        }
        (None, Ok(_)) => {
            result.explanation = format!("Failed: the run has no {name} data for {scope}, so the rule cannot hold.");
        }
        (Some(a), Ok(t)) => {
            let limit = match (rule.threshold(), result.baseline) {
                (Threshold::Baseline { factor }, Some(b)) => {
                    format!(
                        "{} {} (baseline {} × {factor})",
                        cmp.words(),
                        metric.show(t),
                        metric.show(b)
                    )
                }
                _ => format!("{} {}", cmp.words(), metric.show(t)),
            };
            if cmp.holds(a, t) {
                result.status = RuleStatus::Passed;
                result.passed = true;
                result.explanation = format!("Passed: {name} for {scope} is {}, within {limit}.", metric.show(a));
            } else {
                let tail = if gate.severity == Severity::Warn {
                    " (a warning only)"
                } else {
                    ""
                };
                result.explanation = format!(
                    "Failed: {name} for {scope} is {}, but the rule requires {limit}{tail}.",
                    metric.show(a)
                );
                if let Some(names) = cases_counted(kpis, scope, metric) {
                    result.explanation.push_str(&format!(" Cases: {names}."));
                }
            }
        }
    }
    result
}

/// For a count of cases (`failed`, `errored`, `flaky`) in a run or suite: the cases counted, in name order
/// (at most [`NAMED_CASES`], then "and N more"), so the sentence says which cases to look at.
fn cases_counted(kpis: &Kpis, scope: &Scope, metric: Metric) -> Option<String> {
    if !matches!(metric, Metric::Failed | Metric::Errored | Metric::Flaky) {
        return None;
    }
    let prefix = match scope {
        Scope::Run => String::new(),
        Scope::Suite(s) => format!("{s}/"),
        Scope::Case { .. } => return None,
    };
    let counted: Vec<&str> = kpis
        .cases
        .iter()
        .filter(|(id, values)| id.starts_with(&prefix) && values.get(metric.name()).is_some_and(|v| *v > 0.0))
        .map(|(id, _)| id.as_str())
        .collect();
    if counted.is_empty() {
        return None;
    }
    let mut names = counted.iter().take(NAMED_CASES).copied().collect::<Vec<_>>().join(", ");
    if counted.len() > NAMED_CASES {
        names.push_str(&format!(" and {} more", counted.len() - NAMED_CASES));
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_rules_are_added_unless_the_manifest_gates_the_metric() {
        let rules = |gates: Vec<Gate>| -> Vec<String> {
            Gate::with_case_rules(gates)
                .iter()
                .map(|g| g.rule.text().to_string())
                .collect()
        };
        assert_eq!(rules(Vec::new()), ["failed == 0", "errored == 0"]);
        assert_eq!(
            rules(vec![gate("coverage >= 90%")]),
            ["coverage >= 90%", "failed == 0", "errored == 0"]
        );
        let mut warn = gate("failed == 0");
        warn.severity = Severity::Warn;
        assert_eq!(rules(vec![warn]), ["failed == 0", "errored == 0"]);
        // A suite-scoped rule on the metric does not relax the run's.
        let mut suite = gate("failed <= 3");
        suite.scope = Scope::Suite("unit".into());
        assert_eq!(rules(vec![suite]), ["failed <= 3", "failed == 0", "errored == 0"]);
    }

    #[test]
    fn a_failed_case_is_no_go_and_the_sentence_names_it() {
        let mut kpis = Kpis::default();
        kpis.set(&Scope::Run, Metric::Failed, 2.0);
        kpis.set(&Scope::Run, Metric::Errored, 0.0);
        for (case, failed) in [("broken", 1.0), ("ok", 0.0), ("worse", 1.0)] {
            kpis.set(&Scope::parse(&format!("unit/{case}")).unwrap(), Metric::Failed, failed);
        }
        let v = evaluate(&Gate::with_case_rules(Vec::new()), &kpis, &BTreeMap::new());
        assert!(!v.go);
        assert_eq!(v.rules[0].status, RuleStatus::Failed);
        assert_eq!(
            v.rules[0].explanation,
            "Failed: failed for the run is 2, but the rule requires exactly 0. Cases: unit/broken, unit/worse."
        );
        assert_eq!(v.rules[1].status, RuleStatus::Passed);
        // No case ran: not evaluated, GO.
        let v = evaluate(&Gate::with_case_rules(Vec::new()), &Kpis::default(), &BTreeMap::new());
        assert!(v.go);
        assert!(v.rules.iter().all(|r| r.status == RuleStatus::NotEvaluated));
    }

    fn gate(rule: &str) -> Gate {
        Gate::new(Rule::parse(rule).unwrap())
    }

    #[test]
    fn scope_parses_suite_and_case() {
        assert_eq!(Scope::parse("load"), Ok(Scope::Suite("load".into())));
        assert_eq!(
            Scope::parse("load/checkout"),
            Ok(Scope::Case {
                suite: "load".into(),
                case: "checkout".into()
            })
        );
        for bad in ["", "/x", "x/", "a/b/c"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn defaults_without_data_are_not_evaluated_and_go() {
        let v = evaluate(&Gate::defaults(), &Kpis::default(), &BTreeMap::new());
        assert!(v.go);
        assert_eq!(v.verdict, "GO");
        assert!(v
            .rules
            .iter()
            .all(|r| r.status == RuleStatus::NotEvaluated && !r.passed));
        assert!(
            v.rules[1].explanation.contains("no coverage data"),
            "{}",
            v.rules[1].explanation
        );
    }

    #[test]
    fn explicit_rule_without_data_fails_with_the_reason() {
        let mut g = gate("latency.p99 <= 50ms");
        g.scope = Scope::parse("load/checkout").unwrap();
        // The case ran (it has KPIs) but measured no latency.
        let mut kpis = Kpis::default();
        kpis.set(&g.scope, Metric::Failed, 0.0);
        let v = evaluate(&[g], &kpis, &BTreeMap::new());
        assert!(!v.go);
        let r = &v.rules[0];
        assert_eq!(r.status, RuleStatus::Failed);
        assert_eq!(r.scope.as_deref(), Some("load/checkout"));
        assert_eq!(r.threshold, Some(0.05));
        assert_eq!(
            r.explanation,
            "Failed: the run has no latency.p99 data for load/checkout, so the rule cannot hold."
        );
    }

    #[test]
    fn values_pass_and_fail_with_sentences() {
        let mut kpis = Kpis::default();
        kpis.set(&Scope::Run, Metric::Coverage, 0.853);
        kpis.set(&Scope::Run, Metric::Determinism, 1.0);
        let v = evaluate(
            &[gate("determinism >= 98%"), gate("coverage >= 90%")],
            &kpis,
            &BTreeMap::new(),
        );
        assert!(!v.go);
        assert_eq!(v.verdict, "NO-GO");
        assert!(v.rules[0].passed);
        assert_eq!(
            v.rules[0].explanation,
            "Passed: determinism for the run is 100%, within at least 98%."
        );
        assert_eq!(v.rules[1].actual, Some(0.853));
        assert_eq!(
            v.rules[1].explanation,
            "Failed: coverage for the run is 85.3%, but the rule requires at least 90%."
        );
        assert_eq!(v.blocking_failures().count(), 1);
    }

    #[test]
    fn warn_rules_are_reported_but_do_not_block() {
        let mut g = gate("failed == 0");
        g.severity = Severity::Warn;
        let mut kpis = Kpis::default();
        kpis.set(&Scope::Run, Metric::Failed, 2.0);
        let v = evaluate(&[g], &kpis, &BTreeMap::new());
        assert!(v.go);
        assert!(!v.rules[0].passed);
        assert!(v.rules[0].explanation.ends_with("(a warning only)."));
    }

    #[test]
    fn baseline_rules_use_the_baseline_kpis() {
        let scope = Scope::Suite("load".into());
        let mut g = gate("latency.p99 <= baseline * 1.10");
        g.scope = scope.clone();
        g.baseline = Some("last-go".into());
        let p99 = Metric::Latency(LatencyStat::P99);
        let mut kpis = Kpis::default();
        kpis.set(&scope, p99, 0.0105);
        let mut base = Kpis::default();
        base.set(&scope, p99, 0.010);
        let mut baselines = BTreeMap::new();
        baselines.insert("last-go".to_string(), base);
        let v = evaluate(std::slice::from_ref(&g), &kpis, &baselines);
        let r = &v.rules[0];
        assert!(r.passed, "{}", r.explanation);
        assert_eq!(r.baseline, Some(0.010));
        assert_eq!(r.baseline_run.as_deref(), Some("last-go"));
        assert!((r.threshold.unwrap() - 0.011).abs() < 1e-12);
        assert!(r.explanation.contains("baseline 10ms × 1.1"), "{}", r.explanation);

        kpis.set(&scope, p99, 0.012);
        assert!(!evaluate(std::slice::from_ref(&g), &kpis, &baselines).go);

        // No baseline run at all (a first run): the rule is not evaluated, says why, and does not block.
        let v = evaluate(&[g], &kpis, &BTreeMap::new());
        assert!(v.go);
        assert_eq!(v.rules[0].status, RuleStatus::NotEvaluated);
        assert!(
            v.rules[0].explanation.starts_with("Not evaluated: ")
                && v.rules[0].explanation.contains("no baseline run \"last-go\""),
            "{}",
            v.rules[0].explanation
        );
    }

    #[test]
    fn verdict_json_has_every_field() {
        let v = evaluate(&Gate::defaults(), &Kpis::default(), &BTreeMap::new());
        let j = serde_json::to_value(&v).unwrap();
        for key in [
            "rule",
            "metric",
            "scope",
            "comparator",
            "threshold",
            "baseline",
            "actual",
            "severity",
            "passed",
            "explanation",
            "status",
        ] {
            assert!(j["rules"][0].get(key).is_some(), "{key}");
        }
        assert_eq!(j["rules"][0]["severity"], "block");
        assert_eq!(j["rules"][0]["status"], "not_evaluated");
    }
}
