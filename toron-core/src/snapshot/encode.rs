//! The one doorway from the snapshot module to the value encoding: canonical bytes, identity, pretty form and
//! strict parsing. Everything here delegates to `crate::canon`, so goldens and archive ids are exactly the
//! values' RFC 8785 identities.

use serde_json::Value;

use crate::Result;

// INTERIM (branch `snap` before `canon` is merged): serde_json's sorted-key encoding stands in for RFC 8785.
// Replaced by `crate::canon` at the merge; nothing else in the module changes.

/// Canonical bytes of a value.
pub(crate) fn canonical_bytes(value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| crate::Error::new(crate::ErrorKind::Canonical, e.to_string()))
}

/// blake3 hex of bytes.
pub(crate) fn digest_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Pretty JSON in canonical key order, ending with a newline.
pub(crate) fn to_pretty(value: &Value) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| crate::Error::new(crate::ErrorKind::Canonical, e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Strict JSON parse; errors carry line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        crate::Error::new(crate::ErrorKind::Json, e.to_string())
            .with_line(e.line(), Some(e.column()))
    })
}
