//! The comparison semantics every surface shares: numbers compare by value, booleans are never numbers,
//! strings and keys compare code unit by code unit (no Unicode normalisation).

use serde_json::{Number, Value};

/// A number reduced to a key that is equal exactly when the numbers are equal by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum NumKey {
    /// An integral value (from an integer or an integral double).
    Int(i128),
    /// Any other double, by its bits.
    Float(u64),
}

pub(crate) fn num_key(n: &Number) -> NumKey {
    if let Some(u) = n.as_u64() {
        NumKey::Int(i128::from(u))
    } else if let Some(i) = n.as_i64() {
        NumKey::Int(i128::from(i))
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        if f.fract() == 0.0 && f.abs() < 1.0e38 {
            NumKey::Int(f as i128)
        } else {
            NumKey::Float(f.to_bits())
        }
    }
}

/// Whether two values are equal under Toron's semantics (numbers by value: `1` equals `1.0`).
///
/// ```
/// use serde_json::json;
/// use toron_core::diff::values_equal;
/// assert!(values_equal(&json!({"a": [1, -0.0]}), &json!({"a": [1.0, 0]})));
/// assert!(!values_equal(&json!(true), &json!(1)));
/// assert!(!values_equal(&json!("\u{e9}"), &json!("e\u{301}")));
/// ```
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => num_key(x) == num_key(y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && values_equal(va, vb))
        }
        _ => false,
    }
}
