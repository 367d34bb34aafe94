//! KPI sets: metric values for the whole run, each suite and each case, keyed by metric name.

use super::coverage::Coverage;
use crate::gate::{LatencyStat, Metric, Scope};
use crate::runner::{CaseKind, CaseOutcome, CaseResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Metric name → value (fractions for rates, seconds for times). Sorted, so it serialises the same every time.
pub type Values = BTreeMap<String, f64>;

/// A run's KPIs: for the run, per suite and per case (`suite/case`). A metric without data is absent, never
/// NaN.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// The whole run.
    pub run: Values,
    /// Per suite name.
    pub suites: BTreeMap<String, Values>,
    /// Per `suite/case`.
    pub cases: BTreeMap<String, Values>,
}

impl Kpis {
    /// The value of `metric` in `scope`, if there is data for it.
    pub fn get(&self, scope: &Scope, metric: Metric) -> Option<f64> {
        self.values(scope)?.get(metric.name()).copied()
    }

    /// Set the value of `metric` in `scope`. A non-finite value is not stored (it would mean "no data").
    pub fn set(&mut self, scope: &Scope, metric: Metric, value: f64) {
        if !value.is_finite() {
            return;
        }
        let values = match scope {
            Scope::Run => &mut self.run,
            Scope::Suite(s) => self.suites.entry(s.clone()).or_default(),
            Scope::Case { suite, case } => self.cases.entry(format!("{suite}/{case}")).or_default(),
        };
        values.insert(metric.name().to_string(), value);
    }

    /// The KPIs of a run's cases: for the run, each suite and each case.
    ///
    /// - `pass_rate`: passed or flaky / cases that ran (not skipped or cancelled); `failed`, `errored` (errored
    ///   or timed out), `flaky`: counts.
    /// - `determinism`: determinism cases whose repeats all agreed / determinism cases checked.
    /// - `violations`: violations found by simulations that expected none (a chaos case that must find the bug
    ///   does not count).
    /// - `latency.*` and `throughput`: load cases, per case the worst seed; per suite and run the worst case
    ///   (largest latency, smallest throughput).
    /// - `coverage`: the merged line rate of the coverage files read (for the run, each suite and each case);
    ///   `duration`: seconds (the run's wall clock; per case the
    ///   sum of its attempts; per suite the sum of its cases).
    pub fn from_cases(cases: &[CaseResult], coverage: Option<&Coverage>, duration: f64) -> Kpis {
        let mut k = Kpis::default();
        let mut scopes: Vec<(Scope, Vec<&CaseResult>)> = vec![(Scope::Run, cases.iter().collect())];
        let mut suites: Vec<String> = Vec::new();
        for c in cases {
            if !suites.contains(&c.suite) {
                suites.push(c.suite.clone());
            }
        }
        for s in suites {
            let members = cases.iter().filter(|c| c.suite == s).collect();
            scopes.push((Scope::Suite(s), members));
        }
        for c in cases {
            let scope = Scope::Case {
                suite: c.suite.clone(),
                case: c.name.clone(),
            };
            scopes.push((scope, vec![c]));
        }
        for (scope, members) in &scopes {
            k.fill(scope, members);
            if *scope != Scope::Run {
                // A suite's (or case's) own coverage: its cases' files merged, so a gate can be scoped to
                // the suite that measures coverage and is not evaluated in profiles that do not run it.
                let mut merged = Coverage::new();
                for cov in members
                    .iter()
                    .filter_map(|c| c.last().and_then(|a| a.coverage_data.as_ref()))
                {
                    merged.merge(cov);
                }
                if let Some(rate) = merged.line_rate() {
                    k.set(scope, Metric::Coverage, rate);
                }
            }
        }
        if let Some(rate) = coverage.and_then(Coverage::line_rate) {
            k.set(&Scope::Run, Metric::Coverage, rate);
        }
        k.set(&Scope::Run, Metric::Duration, duration);
        k
    }

    fn fill(&mut self, scope: &Scope, cases: &[&CaseResult]) {
        // Gathered here and stored once: a case scope's key is formatted and looked up once, not per metric.
        let mut values = Values::new();
        let mut set = |metric: Metric, value: f64| {
            if value.is_finite() {
                values.insert(metric.name().to_string(), value);
            }
        };
        let ran: Vec<&&CaseResult> = cases
            .iter()
            .filter(|c| !matches!(c.outcome, CaseOutcome::Skipped | CaseOutcome::Cancelled))
            .collect();
        let count = |f: &dyn Fn(CaseOutcome) -> bool| ran.iter().filter(|c| f(c.outcome)).count() as f64;
        if !ran.is_empty() {
            set(Metric::PassRate, count(&|o| o.is_pass()) / ran.len() as f64);
        }
        set(Metric::Failed, count(&|o| o == CaseOutcome::Failed));
        self.set(
            scope,
            Metric::Errored,
            count(&|o| matches!(o, CaseOutcome::Errored | CaseOutcome::TimedOut)),
        );
        set(Metric::Flaky, count(&|o| o == CaseOutcome::Flaky));
        let violations: usize = cases
            .iter()
            .filter(|c| !c.expect_violation)
            .filter_map(|c| c.last())
            .flat_map(|a| a.seeds.iter().map(|s| s.violations))
            .sum();
        set(Metric::Violations, violations as f64);
        let pii: usize = ran.iter().filter_map(|c| c.last()).map(|a| a.pii.len()).sum();
        set(Metric::Pii, pii as f64);
        let checked: Vec<bool> = cases
            .iter()
            .filter(|c| c.kind == CaseKind::Determinism)
            .filter_map(|c| c.last().and_then(|a| a.determinism.as_ref()).map(|d| d.deterministic))
            .collect();
        if !checked.is_empty() {
            let ok = checked.iter().filter(|d| **d).count() as f64;
            set(Metric::Determinism, ok / checked.len() as f64);
        }
        let load: Vec<_> = cases
            .iter()
            .filter(|c| c.kind == CaseKind::Load)
            .filter_map(|c| c.last())
            .flat_map(|a| a.seeds.iter())
            .filter(|s| s.latency.count > 0)
            .collect();
        if !load.is_empty() {
            for stat in LatencyStat::ALL {
                let worst = load
                    .iter()
                    .map(|s| match stat {
                        LatencyStat::P50 => s.latency.p50,
                        LatencyStat::P90 => s.latency.p90,
                        LatencyStat::P99 => s.latency.p99,
                        LatencyStat::P999 => s.latency.p999,
                        LatencyStat::Max => s.latency.max,
                        LatencyStat::Mean => s.latency.mean,
                    })
                    .fold(f64::NEG_INFINITY, f64::max);
                set(Metric::Latency(*stat), worst);
            }
            let tp = load.iter().map(|s| s.throughput).fold(f64::INFINITY, f64::min);
            set(Metric::Throughput, tp);
        }
        if !matches!(scope, Scope::Run) {
            set(Metric::Duration, cases.iter().map(|c| c.duration).sum());
        }
        if values.is_empty() {
            return;
        }
        let into = match scope {
            Scope::Run => &mut self.run,
            Scope::Suite(s) => self.suites.entry(s.clone()).or_default(),
            Scope::Case { suite, case } => self.cases.entry(format!("{suite}/{case}")).or_default(),
        };
        into.extend(values);
    }

    fn values(&self, scope: &Scope) -> Option<&Values> {
        match scope {
            Scope::Run => Some(&self.run),
            Scope::Suite(s) => self.suites.get(s),
            Scope::Case { suite, case } => self.cases.get(&format!("{suite}/{case}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_get_per_scope() {
        let mut k = Kpis::default();
        let case = Scope::parse("load/checkout").unwrap();
        k.set(&case, Metric::Throughput, 120.0);
        k.set(&Scope::Run, Metric::Coverage, f64::NAN);
        assert_eq!(k.get(&case, Metric::Throughput), Some(120.0));
        assert_eq!(k.get(&Scope::Suite("load".into()), Metric::Throughput), None);
        assert_eq!(k.get(&Scope::Run, Metric::Coverage), None);
        let j = serde_json::to_value(&k).unwrap();
        assert_eq!(j["cases"]["load/checkout"]["throughput"], 120.0);
    }
}
