//! KPI sets: metric values for the whole run, each suite and each case, keyed by metric name.

use crate::gate::{Metric, Scope};
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
