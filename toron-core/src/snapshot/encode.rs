//! The one doorway from the snapshot module to the value encoding: canonical bytes, identity, pretty form and
//! strict parsing. Everything here delegates to [`crate::canon`], so golden files are canonical pretty JSON and
//! archive ids are exactly the values' RFC 8785 identities (`canon::digest`).

use serde_json::Value;

use crate::{canon, Result};

/// RFC 8785 canonical bytes of a value (a `Canonical` error names the path of an unencodable number).
pub(crate) fn canonical_bytes(value: &Value) -> Result<Vec<u8>> {
    canon::canonical_bytes(value)
}

/// blake3 hex of bytes.
pub(crate) fn digest_bytes(bytes: &[u8]) -> String {
    canon::digest_bytes(bytes)
}

/// Pretty JSON in canonical key order, ending with a newline.
pub(crate) fn to_pretty(value: &Value) -> Result<String> {
    canon::to_pretty(value)
}

/// Strict JSON parse (duplicate keys and unencodable numbers are errors); errors carry line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value> {
    canon::parse_json(text)
}
