//! The metrics a gate rule can name, and how their values are written and shown.

use std::fmt;

/// A latency statistic of load cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LatencyStat {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Largest.
    Max,
    /// Mean.
    Mean,
}

impl LatencyStat {
    /// Every statistic, in the order reports show them.
    pub const ALL: &'static [LatencyStat] = &[
        LatencyStat::P50,
        LatencyStat::P90,
        LatencyStat::P99,
        LatencyStat::P999,
        LatencyStat::Max,
        LatencyStat::Mean,
    ];

    /// The name after `latency.` (`p99`).
    pub fn name(self) -> &'static str {
        match self {
            LatencyStat::P50 => "p50",
            LatencyStat::P90 => "p90",
            LatencyStat::P99 => "p99",
            LatencyStat::P999 => "p999",
            LatencyStat::Max => "max",
            LatencyStat::Mean => "mean",
        }
    }
}

/// A KPI a rule can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Determinism-checked cases whose repeats all agree / those checked (a fraction).
    Determinism,
    /// Line rate merged from every coverage file of the run (a fraction).
    Coverage,
    /// Passed (or flaky) cases / cases that ran (a fraction).
    PassRate,
    /// Failed cases (a count).
    Failed,
    /// Errored or timed-out cases (a count).
    Errored,
    /// Flaky cases: failed, then passed on a retry (a count).
    Flaky,
    /// Invariant violations found by simulations (a count).
    Violations,
    /// PII and secrets the scrubber found in what cases wrote (a count: findings).
    Pii,
    /// A latency statistic of load cases, in seconds.
    Latency(LatencyStat),
    /// Successful requests per second of virtual time (load cases).
    Throughput,
    /// Wall-clock duration, in seconds.
    Duration,
}

/// How a metric's values are written and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A fraction from 0 to 1, written `0.98` or `98%`.
    Fraction,
    /// A count, written `0`, `3`.
    Count,
    /// Seconds, written `50ms`, `1.5s` or a number of seconds.
    Seconds,
    /// Requests per second, a plain number.
    PerSecond,
}

impl Metric {
    /// Every metric, in the order reports show them.
    pub const ALL: [Metric; 16] = [
        Metric::Determinism,
        Metric::Coverage,
        Metric::PassRate,
        Metric::Failed,
        Metric::Errored,
        Metric::Flaky,
        Metric::Violations,
        Metric::Pii,
        Metric::Latency(LatencyStat::P50),
        Metric::Latency(LatencyStat::P90),
        Metric::Latency(LatencyStat::P99),
        Metric::Latency(LatencyStat::P999),
        Metric::Latency(LatencyStat::Max),
        Metric::Latency(LatencyStat::Mean),
        Metric::Throughput,
        Metric::Duration,
    ];

    /// [`Metric::ALL`] as a vector.
    pub fn all() -> Vec<Metric> {
        Metric::ALL.to_vec()
    }

    /// The metric's name as rules write it (`latency.p99`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Determinism => "determinism",
            Metric::Coverage => "coverage",
            Metric::PassRate => "pass_rate",
            Metric::Failed => "failed",
            Metric::Errored => "errored",
            Metric::Flaky => "flaky",
            Metric::Violations => "violations",
            Metric::Pii => "pii",
            Metric::Latency(LatencyStat::P50) => "latency.p50",
            Metric::Latency(LatencyStat::P90) => "latency.p90",
            Metric::Latency(LatencyStat::P99) => "latency.p99",
            Metric::Latency(LatencyStat::P999) => "latency.p999",
            Metric::Latency(LatencyStat::Max) => "latency.max",
            Metric::Latency(LatencyStat::Mean) => "latency.mean",
            Metric::Throughput => "throughput",
            Metric::Duration => "duration",
        }
    }

    /// The metric named `name`, or an error message listing the valid names.
    pub fn parse(name: &str) -> Result<Metric, String> {
        Metric::ALL.iter().copied().find(|m| m.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Metric::all().iter().map(|m| m.name()).collect();
            format!("unknown metric {name:?} (expected one of: {})", names.join(", "))
        })
    }

    /// How values of this metric are written.
    pub fn unit(self) -> Unit {
        match self {
            Metric::Determinism | Metric::Coverage | Metric::PassRate => Unit::Fraction,
            Metric::Failed | Metric::Errored | Metric::Flaky | Metric::Violations | Metric::Pii => Unit::Count,
            Metric::Latency(_) | Metric::Duration => Unit::Seconds,
            Metric::Throughput => Unit::PerSecond,
        }
    }

    /// A value of this metric the way a person reads it: `98.5%`, `3`, `42ms`, `1520.5/s`.
    pub fn show(self, value: f64) -> String {
        show(self.unit(), value)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Shortest readable form of `value` in `unit`.
pub(crate) fn show(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Fraction => format!("{}%", trim(value * 100.0, 2)),
        Unit::Count => trim(value, 3),
        Unit::PerSecond => format!("{}/s", trim(value, 3)),
        Unit::Seconds => {
            let a = value.abs();
            if a == 0.0 {
                "0s".to_string()
            } else if a < 1e-3 {
                format!("{}us", trim(value * 1e6, 3))
            } else if a < 1.0 {
                format!("{}ms", trim(value * 1e3, 3))
            } else {
                format!("{}s", trim(value, 3))
            }
        }
    }
}

/// `value` with at most `digits` decimals and no trailing zeros.
fn trim(value: f64, digits: usize) -> String {
    let s = format!("{value:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_statistic_is_a_metric() {
        for s in LatencyStat::ALL {
            assert!(Metric::ALL.contains(&Metric::Latency(*s)), "{s:?}");
        }
    }

    #[test]
    fn names_round_trip_and_are_distinct() {
        let all = Metric::all();
        for m in &all {
            assert_eq!(Metric::parse(m.name()), Ok(*m));
        }
        let names: std::collections::BTreeSet<_> = all.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn unknown_metric_lists_the_valid_ones() {
        let e = Metric::parse("latency.p95").unwrap_err();
        assert!(e.contains("unknown metric \"latency.p95\""), "{e}");
        assert!(e.contains("latency.p99") && e.contains("pass_rate"), "{e}");
    }

    #[test]
    fn values_are_shown_in_their_unit() {
        assert_eq!(Metric::Coverage.show(0.9), "90%");
        assert_eq!(Metric::Determinism.show(0.98765), "98.77%");
        assert_eq!(Metric::Failed.show(3.0), "3");
        assert_eq!(Metric::Latency(LatencyStat::P99).show(0.05), "50ms");
        assert_eq!(Metric::Latency(LatencyStat::P99).show(0.0000125), "12.5us");
        assert_eq!(Metric::Duration.show(90.5), "90.5s");
        assert_eq!(Metric::Throughput.show(1520.25), "1520.25/s");
    }
}
