//! Rule text: `<metric> <comparator> <threshold>`, e.g. `determinism >= 98%`, `latency.p99 <= 50ms`,
//! `latency.p99 <= baseline * 1.10`.

use super::metric::{Metric, Unit};
use crate::scenario::Duration;
use std::fmt;

/// How the actual value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Comparator {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Comparator {
    /// Longest first, so `>=` is not read as `>`.
    const ALL: &'static [(&'static str, Comparator)] = &[
        (">=", Comparator::Ge),
        ("<=", Comparator::Le),
        ("==", Comparator::Eq),
        ("!=", Comparator::Ne),
        (">", Comparator::Gt),
        ("<", Comparator::Lt),
    ];

    /// The operator as written (`>=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Ge => ">=",
            Comparator::Gt => ">",
            Comparator::Le => "<=",
            Comparator::Lt => "<",
            Comparator::Eq => "==",
            Comparator::Ne => "!=",
        }
    }

    /// Whether `actual <op> threshold` holds.
    pub fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Comparator::Ge => actual >= threshold,
            Comparator::Gt => actual > threshold,
            Comparator::Le => actual <= threshold,
            Comparator::Lt => actual < threshold,
            #[allow(clippy::float_cmp, reason = "`==` in a rule means exact equality")]
            Comparator::Eq => actual == threshold,
            #[allow(clippy::float_cmp, reason = "`!=` in a rule means exact inequality")]
            Comparator::Ne => actual != threshold,
        }
    }

    /// Words for a sentence: "at least", "at most"...
    pub fn words(self) -> &'static str {
        match self {
            Comparator::Ge => "at least",
            Comparator::Gt => "more than",
            Comparator::Le => "at most",
            Comparator::Lt => "less than",
            Comparator::Eq => "exactly",
            Comparator::Ne => "anything but",
        }
    }
}

/// The right-hand side of a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A fixed value in the metric's unit (fractions for `98%`, seconds for `50ms`).
    Value(f64),
    /// The same metric in a baseline run, times `factor` (`baseline * 1.10`; `baseline` alone is factor 1).
    Baseline {
        /// The multiplier.
        factor: f64,
    },
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    text: String,
    metric: Metric,
    comparator: Comparator,
    threshold: Threshold,
}

impl Rule {
    /// Parse a rule. The error says what was expected.
    ///
    /// ```
    /// use toron_core::gate::{Comparator, Metric, Rule, Threshold};
    /// let r = Rule::parse("determinism >= 98%")?;
    /// assert_eq!(r.metric(), Metric::Determinism);
    /// assert_eq!(r.comparator(), Comparator::Ge);
    /// assert_eq!(r.threshold(), Threshold::Value(0.98));
    /// assert!(Rule::parse("coverage >= 90").is_err()); // a fraction must be 0..1 or a percentage
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse(text: &str) -> Result<Rule, String> {
        let t = text.trim();
        let expected = "expected `<metric> <comparator> <value>`, like `coverage >= 90%` or `latency.p99 <= 50ms`";
        let (pos, sym, comparator) = Comparator::ALL
            .iter()
            .filter_map(|(s, c)| t.find(s).map(|i| (i, *s, *c)))
            .min_by_key(|(i, s, _)| (*i, std::cmp::Reverse(s.len())))
            .ok_or_else(|| format!("rule {text:?} has no comparator (>=, >, <=, <, ==, !=); {expected}"))?;
        let name = t[..pos].trim();
        let rhs = t[pos + sym.len()..].trim();
        if name.is_empty() {
            return Err(format!("rule {text:?} names no metric; {expected}"));
        }
        let metric = Metric::parse(name)?;
        if rhs.is_empty() {
            return Err(format!("rule {text:?} has no value after {sym}; {expected}"));
        }
        let threshold = parse_threshold(rhs, metric).map_err(|m| format!("rule {text:?}: {m}"))?;
        Ok(Rule {
            text: t.to_string(),
            metric,
            comparator,
            threshold,
        })
    }

    /// The rule as written (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The metric tested.
    pub fn metric(&self) -> Metric {
        self.metric
    }
    /// The comparator.
    pub fn comparator(&self) -> Comparator {
        self.comparator
    }
    /// The threshold.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_threshold(rhs: &str, metric: Metric) -> Result<Threshold, String> {
    if let Some(rest) = rhs.strip_prefix("baseline") {
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(Threshold::Baseline { factor: 1.0 });
        }
        let factor = rest
            .strip_prefix('*')
            .map(str::trim)
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|f| f.is_finite() && *f >= 0.0)
            .ok_or_else(|| format!("{rhs:?} is not a baseline threshold (expected `baseline` or `baseline * 1.10`)"))?;
        return Ok(Threshold::Baseline { factor });
    }
    let unit = metric.unit();
    if let Some(p) = rhs.strip_suffix('%') {
        if unit != Unit::Fraction {
            return Err(format!(
                "{rhs:?} is a percentage, but {} is not a fraction (expected {})",
                metric.name(),
                unit_hint(unit)
            ));
        }
        let v: f64 = p
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{rhs:?} is not a percentage (expected e.g. 98%)"))?;
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("{rhs:?} is out of range (expected 0% to 100%)"));
        }
        return Ok(Threshold::Value(v / 100.0));
    }
    if let Ok(v) = rhs.parse::<f64>() {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "{rhs:?} is not allowed (expected a finite, non-negative number)"
            ));
        }
        if unit == Unit::Fraction && v > 1.0 {
            return Err(format!(
                "{rhs:?} is out of range for {} (expected a fraction from 0 to 1, or a percentage like {v}%)",
                metric.name()
            ));
        }
        return Ok(Threshold::Value(v));
    }
    if unit == Unit::Seconds {
        return Duration::parse(rhs).map(|d| Threshold::Value(d.secs_f64()));
    }
    Err(format!(
        "{rhs:?} is not a value for {} (expected {})",
        metric.name(),
        unit_hint(unit)
    ))
}

fn unit_hint(unit: Unit) -> &'static str {
    match unit {
        Unit::Fraction => "a fraction like 0.98 or a percentage like 98%",
        Unit::Count => "a count like 0",
        Unit::Seconds => "a duration like 50ms, or seconds",
        Unit::PerSecond => "a rate per second like 1000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{LatencyStat, Scope};

    fn ok(text: &str) -> Rule {
        Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_issue_rules_parse() {
        let r = ok("determinism >= 98%");
        assert_eq!(
            (r.metric(), r.comparator(), r.threshold()),
            (Metric::Determinism, Comparator::Ge, Threshold::Value(0.98))
        );
        assert_eq!(ok("coverage >= 0.9").threshold(), Threshold::Value(0.9));
        let r = ok("latency.p99 <= 50ms");
        assert_eq!(r.metric(), Metric::Latency(LatencyStat::P99));
        assert_eq!(r.threshold(), Threshold::Value(0.05));
        let r = ok("latency.p99 <= baseline * 1.10");
        assert_eq!(r.threshold(), Threshold::Baseline { factor: 1.10 });
        assert_eq!(
            ok("throughput>=baseline").threshold(),
            Threshold::Baseline { factor: 1.0 }
        );
        assert_eq!(ok("  failed == 0 ").text(), "failed == 0");
    }

    #[test]
    fn every_comparator_parses_and_holds() {
        for (sym, c, a, b, want) in [
            (">=", Comparator::Ge, 1.0, 1.0, true),
            (">", Comparator::Gt, 1.0, 1.0, false),
            ("<=", Comparator::Le, 0.5, 1.0, true),
            ("<", Comparator::Lt, 1.0, 0.5, false),
            ("==", Comparator::Eq, 0.0, 0.0, true),
            ("!=", Comparator::Ne, 0.0, 0.0, false),
        ] {
            let r = ok(&format!("violations {sym} 0"));
            assert_eq!(r.comparator(), c, "{sym}");
            assert_eq!(c.symbol(), sym);
            assert_eq!(c.holds(a, b), want, "{a} {sym} {b}");
        }
    }

    proptest::proptest! {
        /// Any text parses or is an error message, never a panic; a parsed rule re-parses to itself.
        #[test]
        fn never_panics_and_round_trips(text in "(?s).{0,60}", metric in "(coverage|latency\\.p99|failed|pass_rate)", op in "(>=|<=|==|!=|<|>)", value in "(baseline( \\* [0-9.]{1,4})?|[0-9.]{1,5}(%|ms|s|us)?)") {
            let _ = Rule::parse(&text);
            let _ = Scope::parse(&text);
            if let Ok(r) = Rule::parse(&format!("{metric} {op} {value}")) {
                proptest::prop_assert_eq!(Rule::parse(r.text()), Ok(r.clone()));
            }
        }
    }

    #[test]
    fn bad_rules_say_what_was_expected() {
        for (text, needle) in [
            ("determinism 98%", "no comparator"),
            (">= 98%", "names no metric"),
            ("coverge >= 90%", "unknown metric \"coverge\""),
            ("coverage >=", "no value"),
            ("coverage >= 90", "fraction from 0 to 1"),
            ("coverage >= 120%", "0% to 100%"),
            ("failed <= 5%", "not a fraction"),
            ("latency.p99 <= 50parsecs", "unknown unit"),
            ("latency.p99 <= baseline + 3", "baseline * 1.10"),
            ("failed == -1", "non-negative"),
            ("pass_rate >= lots", "is not a value for pass_rate"),
        ] {
            let e = Rule::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
