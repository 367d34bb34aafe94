//! Durations, rates and distributions as they are written in scenario files: `"250ms"`, `"0.9/s"`,
//! `{ dist = "exponential", mean = "1s" }`.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A non-negative span of virtual time in integer nanoseconds, written `"250ms"`, `"1.5s"`, `"10m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

const UNITS: &[(&str, f64)] = &[
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

impl Duration {
    /// Nanoseconds.
    pub fn nanos(self) -> u64 {
        self.0
    }
    /// Seconds as a float.
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// From seconds; `None` if negative, NaN or too large.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let ns = secs * 1e9;
        if ns.is_finite() && ns >= 0.0 && ns < u64::MAX as f64 {
            Some(Duration(ns.round() as u64))
        } else {
            None
        }
    }

    /// Parse `"250ms"`, `"1.5s"`, `"10m"`, `"2h"`, `"100us"`, `"0"`. The error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "0" {
            return Ok(Duration(0));
        }
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'));
        // "1e3s" is accepted; a unit must follow the number.
        let (num, unit) = match split {
            Some(i) => t.split_at(i),
            None => {
                return Err(format!(
                "invalid duration {text:?}: expected a number and a unit, like \"250ms\" (units: ns, us, ms, s, m, h)"
            ))
            }
        };
        let factor = UNITS.iter().find(|(u, _)| *u == unit).map(|(_, f)| *f).ok_or_else(|| {
            format!("invalid duration {text:?}: unknown unit {unit:?} (expected one of ns, us, ms, s, m, h)")
        })?;
        let value: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {num:?} is not a number (expected e.g. \"1.5s\")"))?;
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "invalid duration {text:?}: expected a non-negative finite duration"
            ));
        }
        let ns = value * factor;
        if ns >= u64::MAX as f64 {
            return Err(format!("invalid duration {text:?}: too large"));
        }
        Ok(Duration(ns.round() as u64))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact form: `"250ms"`, `"1s"`, `"1500us"`, `"7ns"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        for (unit, div) in [
            ("h", 3_600_000_000_000u64),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
        ] {
            if ns != 0 && ns.is_multiple_of(div) {
                return write!(f, "{}{unit}", ns / div);
            }
        }
        if ns == 0 {
            return write!(f, "0s");
        }
        write!(f, "{ns}ns")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"250ms\" or \"1.5s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A signed duration (clock skew may be negative): `"-50ms"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SignedDuration(pub i64);

impl Serialize for SignedDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = Duration(self.0.unsigned_abs());
        if self.0 < 0 {
            s.collect_str(&format_args!("-{d}"))
        } else {
            s.collect_str(&d)
        }
    }
}

impl<'de> Deserialize<'de> for SignedDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (neg, rest) = match text.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.trim()),
        };
        let d = Duration::parse(rest).map_err(de::Error::custom)?;
        let v = i64::try_from(d.0).map_err(|_| de::Error::custom("duration too large"))?;
        Ok(SignedDuration(if neg { -v } else { v }))
    }
}

/// Events per second, written `"500/s"` (also `/ms`, `/m`, `/h`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(pub f64);

impl Rate {
    /// Parse `"0.9/s"`; the rate must be positive and finite.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (num, unit) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("invalid rate {text:?}: expected \"N/s\", like \"500/s\""))?;
        let per = match unit.trim() {
            "s" => 1.0,
            "ms" => 1e3,
            "us" => 1e6,
            "m" => 1.0 / 60.0,
            "h" => 1.0 / 3600.0,
            other => {
                return Err(format!(
                    "invalid rate {text:?}: unknown unit {other:?} (expected s, ms, us, m or h)"
                ))
            }
        };
        let v: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("invalid rate {text:?}: {num:?} is not a number"))?;
        if !v.is_finite() || v <= 0.0 {
            return Err(format!("invalid rate {text:?}: expected a positive finite rate"));
        }
        Ok(Rate(v * per))
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}/s", self.0))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate string like \"500/s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A probability in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(Probability(v))
        } else {
            Err(de::Error::custom(format!(
                "invalid probability {v}: expected a number from 0 to 1"
            )))
        }
    }
}

/// A positive finite number (a factor, a sigma).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
#[serde(transparent)]
pub struct Positive(pub f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() && v > 0.0 {
            Ok(Positive(v))
        } else {
            Err(de::Error::custom(format!(
                "invalid value {v}: expected a positive finite number"
            )))
        }
    }
}

/// A distribution of durations.
///
/// ```toml
/// { dist = "constant", value = "5ms" }
/// { dist = "uniform", low = "1ms", high = "5ms" }
/// { dist = "exponential", mean = "1s" }
/// { dist = "normal", mean = "10ms", stddev = "2ms" }     # truncated at 0
/// { dist = "lognormal", median = "10ms", sigma = 0.5 }  # exp(N(ln median, sigma²))
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Constant {
        /// The value.
        value: Duration,
    },
    /// Uniform in `[low, high]`.
    Uniform {
        /// Lower bound.
        low: Duration,
        /// Upper bound (not below `low`).
        high: Duration,
    },
    /// Exponential with the given mean (memoryless: Poisson processes, M/M/c service).
    Exponential {
        /// The mean.
        mean: Duration,
    },
    /// Normal, truncated at zero.
    Normal {
        /// The mean.
        mean: Duration,
        /// The standard deviation.
        stddev: Duration,
    },
    /// Log-normal with the given median and shape.
    Lognormal {
        /// The median, `exp(mu)`.
        median: Duration,
        /// The shape (standard deviation of the logarithm).
        sigma: Positive,
    },
}

impl Dist {
    /// A constant distribution.
    pub fn constant(d: Duration) -> Self {
        Dist::Constant { value: d }
    }

    /// Draw one value in nanoseconds from `stream`. Constant draws nothing (so it consumes no randomness).
    #[inline]
    pub fn sample(&self, stream: &mut crate::rng::Stream) -> u64 {
        let secs_to_ns = |x: f64| -> u64 {
            if x <= 0.0 {
                0
            } else if x >= u64::MAX as f64 {
                u64::MAX
            } else {
                x.round() as u64
            }
        };
        match *self {
            Dist::Constant { value } => value.0,
            Dist::Uniform { low, high } => low.0 + stream.below(high.0 - low.0 + 1),
            Dist::Exponential { mean } => secs_to_ns(stream.exponential(mean.0 as f64)),
            Dist::Normal { mean, stddev } => secs_to_ns(mean.0 as f64 + stddev.0 as f64 * stream.standard_normal()),
            Dist::Lognormal { median, sigma } => {
                secs_to_ns(median.0 as f64 * (sigma.0 * stream.standard_normal()).exp())
            }
        }
    }

    /// The mean in nanoseconds (for reports and for checking queueing theory).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant { value } => value.0 as f64,
            Dist::Uniform { low, high } => (low.0 as f64 + high.0 as f64) / 2.0,
            Dist::Exponential { mean } => mean.0 as f64,
            Dist::Normal { mean, .. } => mean.0 as f64,
            Dist::Lognormal { median, sigma } => median.0 as f64 * (sigma.0 * sigma.0 / 2.0).exp(),
        }
    }

    /// Checks that need more than one field (`low <= high`).
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Dist::Uniform { low, high } = self {
            if low > high {
                return Err(format!(
                    "uniform distribution has low {low} above high {high} (expected low <= high)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Duration::parse("250ms").unwrap(), Duration(250_000_000));
        assert_eq!(Duration::parse("1.5s").unwrap(), Duration(1_500_000_000));
        assert_eq!(Duration::parse("10m").unwrap().0, 600_000_000_000);
        assert_eq!(Duration::parse("0").unwrap().0, 0);
        assert_eq!(Duration::parse("100us").unwrap().0, 100_000);
        assert!(Duration::parse("-1s").unwrap_err().contains("non-negative"));
        assert!(Duration::parse("5").unwrap_err().contains("unit"));
        assert!(Duration::parse("5 parsecs").is_err());
        assert!(Duration::parse("NaNs").is_err());
        assert_eq!(Duration(1_500_000_000).to_string(), "1500ms");
        assert_eq!(Duration(60_000_000_000).to_string(), "1m");
        assert_eq!(Duration(0).to_string(), "0s");
        for s in ["250ms", "1500ms", "7ns", "3h", "0s", "12us"] {
            assert_eq!(Duration::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rates_parse() {
        assert_eq!(Rate::parse("0.9/s").unwrap().0, 0.9);
        assert_eq!(Rate::parse("2/ms").unwrap().0, 2000.0);
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("-1/s").is_err());
        assert!(Rate::parse("5").is_err());
        assert!(Rate::parse("nan/s").is_err());
    }
}
