//! Diff options as data: keyed arrays, ignored and redacted paths, float tolerances and an operation budget.
//!
//! Options come from every surface as JSON (`DiffOptions::from_json`), so their field names are part of the
//! format: `keys`, `ignore`, `redact`, `tolerance`, `tolerances`, `budget`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{Error, ErrorKind, Result};

/// How far apart two numbers may be and still compare equal.
///
/// Two numbers `a` and `b` are equal when `|a - b| <= abs`, or `|a - b| <= rel * max(|a|, |b|)`, or they are
/// at most `ulps` representable doubles apart. In JSON a tolerance is a number (absolute) or an object
/// `{"abs": x, "rel": y, "ulps": n}` with any of the three members.
///
/// ```
/// use toron_core::diff::Tolerance;
/// let t: Tolerance = serde_json::from_str(r#"{"rel": 0.01}"#).unwrap();
/// assert!(t.accepts(100.0, 100.9));
/// assert!(!t.accepts(100.0, 102.0));
/// assert_eq!(serde_json::from_str::<Tolerance>("0.5").unwrap(), Tolerance::absolute(0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Tolerance {
    /// Absolute tolerance (0 when not given).
    pub abs: f64,
    /// Relative tolerance, a fraction of the larger magnitude (0 when not given).
    pub rel: f64,
    /// Distance in units in the last place (0 when not given).
    #[serde(skip_serializing_if = "is_zero")]
    pub ulps: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tolerance {
    /// An absolute tolerance.
    ///
    /// ```
    /// assert!(toron_core::diff::Tolerance::absolute(0.1).accepts(1.0, 1.05));
    /// ```
    pub fn absolute(abs: f64) -> Self {
        Tolerance { abs, rel: 0.0, ulps: 0 }
    }

    /// A relative tolerance.
    ///
    /// ```
    /// assert!(toron_core::diff::Tolerance::relative(0.1).accepts(100.0, 109.0));
    /// ```
    pub fn relative(rel: f64) -> Self {
        Tolerance { abs: 0.0, rel, ulps: 0 }
    }

    /// Whether `a` and `b` are equal within this tolerance.
    ///
    /// ```
    /// let t = toron_core::diff::Tolerance { abs: 0.0, rel: 0.0, ulps: 1 };
    /// assert!(t.accepts(1.0, 1.0 + f64::EPSILON));
    /// assert!(!t.accepts(1.0, 1.0 + 2.0 * f64::EPSILON + f64::EPSILON));
    /// ```
    pub fn accepts(&self, a: f64, b: f64) -> bool {
        #[allow(clippy::float_cmp, reason = "exact equality is the first, cheapest case")]
        if a == b {
            return true;
        }
        let d = (a - b).abs();
        if d <= self.abs || d <= self.rel * a.abs().max(b.abs()) {
            return true;
        }
        self.ulps > 0 && ulps_apart(a, b) <= self.ulps
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !(self.abs.is_finite() && self.abs >= 0.0) {
            return Err(format!("abs must be a finite number >= 0, got {}", self.abs));
        }
        if !(self.rel.is_finite() && self.rel >= 0.0) {
            return Err(format!("rel must be a finite number >= 0, got {}", self.rel));
        }
        Ok(())
    }
}

/// Number of representable doubles between `a` and `b` (saturating).
fn ulps_apart(a: f64, b: f64) -> u64 {
    fn ordered(f: f64) -> i128 {
        let bits = f.to_bits() as i64;
        i128::from(if bits < 0 { i64::MIN - bits } else { bits })
    }
    u64::try_from((ordered(a) - ordered(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

impl<'de> Deserialize<'de> for Tolerance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tolerance;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a number (absolute tolerance) or an object {"abs": x, "rel": y, "ulps": n}"#)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Tolerance, E> {
                Ok(Tolerance::absolute(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Tolerance, E> {
                Ok(Tolerance::absolute(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Tolerance, E> {
                Ok(Tolerance::absolute(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Tolerance, A::Error> {
                let mut t = Tolerance::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "abs" => t.abs = map.next_value()?,
                        "rel" => t.rel = map.next_value()?,
                        "ulps" => t.ulps = map.next_value()?,
                        other => {
                            return Err(de::Error::custom(format_args!(
                                "unknown tolerance member {other:?} (expected abs, rel or ulps)"
                            )))
                        }
                    }
                }
                Ok(t)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Options of [`diff`](super::diff()). All are data, so every surface passes the same JSON.
///
/// Path patterns are RFC 6901 pointers in which a segment `*` matches any one segment (`/items/*/id`); a
/// pattern applies to the value it matches and everything below it.
///
/// - `keys`: `{"/items": "id"}` matches the records of the array at `/items` by their `id` member instead of by
///   position (records without it are matched by their whole value).
/// - `ignore`: differences at or below these paths do not appear at all. (The insertion or removal of a whole
///   array element is still reported, so that the indices of the patch stay right.)
/// - `redact`: values at or below these paths never appear: both sides are compared as the marker
///   [`REDACTED`](super::REDACTED), so only their appearance or disappearance is reported, and any value an
///   operation carries shows the marker in their place. A patch with redacted values therefore writes the
///   marker, not the original content.
/// - `tolerance`: numbers compare equal within it (`0.01` absolute, or `{"abs": x, "rel": y}`).
/// - `tolerances`: per path pattern; the most specific (longest) matching pattern wins over `tolerance`.
/// - `budget`: an operation budget (comparison steps, never wall-clock time). Past it the diff stays correct
///   but coarse (whole subtrees replaced) and says so.
///
/// ```
/// use toron_core::diff::DiffOptions;
/// let options = DiffOptions::from_json(&serde_json::json!({
///     "keys": {"/items": "id"},
///     "ignore": ["/meta/timestamp"],
///     "tolerance": {"abs": 1e-9, "rel": 1e-6}
/// }))?;
/// assert_eq!(options.keys["/items"], "id");
/// assert!(DiffOptions::from_json(&serde_json::json!({"tolerence": 1})).is_err());
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffOptions {
    /// Keyed arrays: array path pattern -> member name that identifies a record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, String>,
    /// Path patterns whose differences are not reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Path patterns whose values are replaced by the redaction marker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<String>,
    /// Tolerance for every number not covered by `tolerances`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
    /// Tolerances by path pattern.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerances: BTreeMap<String, Tolerance>,
    /// Operation budget (comparison steps); `None` for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
}

impl DiffOptions {
    /// Read options from JSON (`null` means the defaults), validating every pattern and tolerance.
    ///
    /// Errors are [`ErrorKind::InvalidArgument`] naming the bad option in [`Error::field`].
    ///
    /// ```
    /// use toron_core::diff::DiffOptions;
    /// let e = DiffOptions::from_json(&serde_json::json!({"ignore": ["meta"]})).unwrap_err();
    /// assert_eq!(e.field(), Some("ignore[0]"));
    /// assert_eq!(DiffOptions::from_json(&serde_json::Value::Null)?, DiffOptions::default());
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<DiffOptions> {
        const FIELDS: [&str; 6] = ["keys", "ignore", "redact", "tolerance", "tolerances", "budget"];
        let invalid = |field: &str, msg: String| Error::new(ErrorKind::InvalidArgument, msg).with_field(field);
        let map = match value {
            Value::Null => return Ok(DiffOptions::default()),
            Value::Object(map) => map,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "diff options must be an object (with keys, ignore, redact, tolerance, tolerances, budget), \
                         got {}",
                        super::patch::type_name(other)
                    ),
                ))
            }
        };
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(invalid(
                unknown,
                format!(
                    "unknown diff option {unknown:?} (expected keys, ignore, redact, tolerance, tolerances or budget)"
                ),
            ));
        }
        // Read each option on its own, so that an error names the option it is about.
        for (name, v) in map {
            let single = Value::Object(std::iter::once((name.clone(), v.clone())).collect());
            if let Err(e) = DiffOptions::deserialize(&single) {
                let expected = match name.as_str() {
                    "keys" => "an object from array path pattern to member name, such as {\"/items\": \"id\"}",
                    "ignore" | "redact" => "a list of path patterns, such as [\"/meta/timestamp\"]",
                    "tolerance" => "a number (absolute) or an object {\"abs\": x, \"rel\": y}",
                    "tolerances" => "an object from path pattern to tolerance",
                    _ => "a whole number of comparison steps, or null",
                };
                return Err(invalid(name, format!("invalid {name}: {e} (expected {expected})")));
            }
        }
        let options = DiffOptions::deserialize(value)
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("invalid diff options: {e}")))?;
        options.validate()?;
        Ok(options)
    }

    /// The options as JSON (what [`from_json`](Self::from_json) reads).
    ///
    /// ```
    /// use toron_core::diff::DiffOptions;
    /// let o = DiffOptions { budget: Some(10), ..Default::default() };
    /// assert_eq!(o.to_json(), serde_json::json!({"budget": 10}));
    /// assert_eq!(DiffOptions::from_json(&o.to_json()).unwrap(), o);
    /// ```
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Check every pattern and tolerance (what [`from_json`](Self::from_json) does after reading).
    ///
    /// ```
    /// let mut o = toron_core::diff::DiffOptions::default();
    /// o.tolerance = Some(toron_core::diff::Tolerance::absolute(-1.0));
    /// assert_eq!(o.validate().unwrap_err().field(), Some("tolerance"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |field: String, msg: String| Err(Error::new(ErrorKind::InvalidArgument, msg).with_field(field));
        for (pattern, member) in &self.keys {
            if let Err(m) = Pattern::parse(pattern) {
                return bad(format!("keys[{pattern:?}]"), m);
            }
            if member.is_empty() {
                return bad(
                    format!("keys[{pattern:?}]"),
                    "the key member name is empty (expected a member such as \"id\")".into(),
                );
            }
        }
        for (name, list) in [("ignore", &self.ignore), ("redact", &self.redact)] {
            for (i, pattern) in list.iter().enumerate() {
                if let Err(m) = Pattern::parse(pattern) {
                    return bad(format!("{name}[{i}]"), m);
                }
            }
        }
        if let Some(t) = &self.tolerance {
            if let Err(m) = t.validate() {
                return bad("tolerance".into(), format!("invalid tolerance: {m}"));
            }
        }
        for (pattern, t) in &self.tolerances {
            if let Err(m) = Pattern::parse(pattern) {
                return bad(format!("tolerances[{pattern:?}]"), m);
            }
            if let Err(m) = t.validate() {
                return bad(format!("tolerances[{pattern:?}]"), format!("invalid tolerance: {m}"));
            }
        }
        Ok(())
    }
}

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatSeg {
    Any,
    Lit(String),
}

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(pub(crate) Vec<PatSeg>);

impl Pattern {
    pub(crate) fn parse(text: &str) -> std::result::Result<Pattern, String> {
        let tokens = super::pointer::parse_pointer(text).map_err(|m| format!("invalid path pattern {text:?}: {m}"))?;
        Ok(Pattern(
            tokens
                .into_iter()
                .map(|t| if t == "*" { PatSeg::Any } else { PatSeg::Lit(t) })
                .collect(),
        ))
    }
}

/// What a matching pattern does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Ignore,
    Redact,
    Key(String),
    Tolerance(Tolerance),
}

/// Compiled options: every pattern with its action, for matching while walking the values.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) rules: Vec<(Pattern, Action)>,
    pub(crate) global_tolerance: Option<Tolerance>,
    pub(crate) has_redact: bool,
}

impl Rules {
    pub(crate) fn compile(options: &DiffOptions) -> Result<Rules> {
        options.validate()?;
        let mut rules = Vec::new();
        let parse = |p: &str| Pattern::parse(p).map_err(|m| Error::new(ErrorKind::InvalidArgument, m));
        for p in &options.ignore {
            rules.push((parse(p)?, Action::Ignore));
        }
        for p in &options.redact {
            rules.push((parse(p)?, Action::Redact));
        }
        for (p, k) in &options.keys {
            rules.push((parse(p)?, Action::Key(k.clone())));
        }
        for (p, t) in &options.tolerances {
            rules.push((parse(p)?, Action::Tolerance(*t)));
        }
        Ok(Rules {
            has_redact: !options.redact.is_empty(),
            rules,
            global_tolerance: options.tolerance,
        })
    }

    /// All rules, live at the root.
    pub(crate) fn root(&self) -> Vec<u32> {
        (0..self.rules.len() as u32).collect()
    }

    /// The rules still live below a child `token` of a node at `depth` whose live rules are `live`.
    pub(crate) fn step(&self, live: &[u32], depth: usize, token: &str) -> Vec<u32> {
        live.iter()
            .copied()
            .filter(|&i| match self.rules[i as usize].0 .0.get(depth) {
                Some(PatSeg::Any) => true,
                Some(PatSeg::Lit(s)) => s == token,
                None => false,
            })
            .collect()
    }

    /// The same as [`step`](Self::step) for an array index.
    pub(crate) fn step_index(&self, live: &[u32], depth: usize, index: usize) -> Vec<u32> {
        if live.is_empty() {
            return Vec::new();
        }
        self.step(live, depth, &index.to_string())
    }

    /// Rules whose pattern ends exactly at `depth` (they apply to this node and below).
    pub(crate) fn here<'a, 'b>(
        &'a self,
        live: &'b [u32],
        depth: usize,
    ) -> impl Iterator<Item = &'a Action> + use<'a, 'b> {
        live.iter().filter_map(move |&i| {
            let (p, a) = &self.rules[i as usize];
            (p.0.len() == depth).then_some(a)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_round_trip_and_errors() {
        let o = DiffOptions::from_json(&json!({
            "keys": {"/items": "id"}, "ignore": ["/a/*/b"], "redact": ["/secret"],
            "tolerance": 0.5, "tolerances": {"/x": {"rel": 0.1}}, "budget": 1000
        }))
        .unwrap();
        assert_eq!(DiffOptions::from_json(&o.to_json()).unwrap(), o);
        let e = DiffOptions::from_json(&json!({"tolerance": "big"})).unwrap_err();
        assert_eq!((e.kind(), e.field()), (ErrorKind::InvalidArgument, Some("tolerance")));
        let e = DiffOptions::from_json(&json!({"tolerances": {"/x": {"abz": 1}}})).unwrap_err();
        assert_eq!(e.field(), Some("tolerances"));
        assert!(e.message().contains("abz"), "{}", e.message());
        let e = DiffOptions::from_json(&json!({"budget": -1})).unwrap_err();
        assert_eq!(e.field(), Some("budget"));
        let e = DiffOptions::from_json(&json!({"keys": {"items": "id"}})).unwrap_err();
        assert!(e.message().contains("start with '/'"), "{}", e.message());
        let e = DiffOptions::from_json(&json!({"tolerances": {"/x": -1}})).unwrap_err();
        assert_eq!(e.field(), Some("tolerances[\"/x\"]"));
        let e = DiffOptions::from_json(&json!([1])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = DiffOptions::from_json(&json!({"ignore": [], "tolerence": 1})).unwrap_err();
        assert_eq!(e.field(), Some("tolerence"));
        let e = DiffOptions::from_json(&json!({"ignore": "/a"})).unwrap_err();
        assert_eq!(e.field(), Some("ignore"));
        assert!(e.message().contains("a list of path patterns"), "{}", e.message());
    }

    #[test]
    fn tolerance_kinds() {
        assert!(Tolerance::absolute(0.1).accepts(-0.05, 0.05));
        assert!(!Tolerance::absolute(0.1).accepts(0.0, 0.2));
        assert!(Tolerance::relative(0.5).accepts(10.0, 6.0));
        assert!(!Tolerance::relative(0.5).accepts(10.0, 4.0));
        assert_eq!(ulps_apart(0.0, -0.0), 0);
        assert_eq!(ulps_apart(f64::MIN_POSITIVE, -f64::MIN_POSITIVE), 2 * (1u64 << 52));
    }
}
