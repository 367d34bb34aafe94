//! `tests/vectors/canon.json`: canonical encodings and identities, and the errors bad input gets.

use serde_json::Value;
use toron_core::{canon, ErrorKind};

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/canon.json");
    let text = std::fs::read_to_string(path).expect("tests/vectors/canon.json is readable");
    serde_json::from_str(&text).expect("tests/vectors/canon.json is JSON")
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("case {} has no string {name}", case["name"]))
}

#[test]
fn canonical_vectors() {
    let v = vectors();
    assert_eq!(v["version"], 1);
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for case in cases {
        let name = field(case, "name");
        let value = canon::parse_json(field(case, "input")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = canon::canonical_string(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let digest = canon::digest(&value).unwrap();
        if text != field(case, "canonical") || digest != field(case, "digest") {
            failures.push(format!("{name}: canonical {text:?} digest {digest}"));
            continue;
        }
        // The vector file is consistent with itself: the digest is blake3 of the canonical text.
        assert_eq!(
            canon::digest_bytes(field(case, "canonical").as_bytes()),
            field(case, "digest"),
            "{name}"
        );
        // The canonical text is itself valid input and canonical.
        let again = canon::canonical_string(&canon::parse_json(&text).unwrap()).unwrap();
        assert_eq!(again, text, "{name}");
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn error_vectors() {
    let v = vectors();
    for case in v["errors"].as_array().expect("errors") {
        let name = field(case, "name");
        let err = canon::parse_json(field(case, "input")).expect_err(name);
        let kind = match field(case, "kind") {
            "json" => ErrorKind::Json,
            "canonical" => ErrorKind::Canonical,
            other => panic!("{name}: unknown kind {other}"),
        };
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert_eq!(err.path(), case["path"].as_str(), "{name}: {err}");
        if let Some(line) = case["line"].as_u64() {
            assert_eq!(err.line(), Some(line as usize), "{name}: {err}");
        }
        if let Some(column) = case["column"].as_u64() {
            assert_eq!(err.column(), Some(column as usize), "{name}: {err}");
        }
        assert!(!err.message().is_empty());
    }
}
