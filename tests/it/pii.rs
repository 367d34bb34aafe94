//! `tests/vectors/pii.json`: scrubber cases (input text or JSON value, key, policy) with the findings (kind,
//! location, placeholder) and scrubbed output every surface must reproduce. The Python and C suites read
//! the same file. `TORON_UPDATE_VECTORS=1 cargo test --test it pii` rewrites it — only for a deliberate
//! change of a detector or of the placeholder format.

use serde_json::{json, Value};
use toron_core::pii::{Key, Policy, Scrubber};
use toron_suite::repo_path;

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\nYx2eqzDV+xeG8kx/sQFV18S5JhzGeIJNA72wSeukEPojtqUyX2J0CciPBh7eqclQ\n-----END PRIVATE KEY-----";

/// (name, key text, kinds, allow, input): a string input is text, anything else a JSON value.
type Input = (&'static str, &'static str, Vec<&'static str>, Vec<&'static str>, Value);

fn inputs() -> Vec<Input> {
    let all = Vec::new;
    vec![
        ("email", "vectors", all(), all(), json!("mail alice@example.org and <bob@corp.io>, user=carol@mail.co.uk")),
        ("email-look-alikes", "vectors", all(), all(), json!("icon@2x.png lodash@4.17.21 deploy@build-01")),
        ("phone", "vectors", all(), all(), json!("call (415) 867-5309, 415-867-5309, +1 415 867 5309, 415.867.5309 or +44 20 7946 0958 / +4915123456789")),
        ("phone-look-alikes", "vectors", all(), all(), json!("ts=1700000000 arn:aws:iam::123456789012:role/x id 4158675309")),
        ("card", "vectors", all(), all(), json!("visa 4111 1111 1111 1111 mc 5500-0055-5555-5559 mc2 2223000048400011 amex 3782 822463 10005 disc 6011111111111117 bad 4111 1111 1111 1112")),
        ("ssn", "vectors", all(), all(), json!("ssn 123-45-6789 ssn=234567890 bad 000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000")),
        ("iban", "vectors", all(), all(), json!("GB82WEST12345698765432 / DE89 3704 0044 0532 0130 00 / bad GB82WEST12345698765433")),
        ("ip", "vectors", all(), all(), json!("from 192.168.1.20 to 10.0.0.1:8080 via [2001:db8::1]:443 and fe80::1ff:fe23:4567:890a; version=1.16.10.126 Chrome/123.0.4394.61 10.0.21775.1715 mac 00:1A:2B:3C:4D:5E")),
        ("jwt", "vectors", all(), all(), json!(format!("Authorization: Bearer {JWT}"))),
        ("aws", "vectors", all(), all(), json!("AKIAIOSFODNN7EXAMPLE and X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1")),
        ("private-key", "vectors", all(), all(), json!(format!("key:\n{PEM}\nescaped: \"{}\" done", PEM.replace('\n', "\\n")))),
        ("tokens", "vectors", all(), all(), json!("ghp_16C7e42F292c6912E7710c838347Ae178B4a sk_live_4eC39HqLyjWDarjtT1zdp7dc xoxb-2345678901-2345678901234-AbCdEfGhIjKl glpat-xxXXxxXXxxXXxxXXxx12 api_key=9f8e7d6c5b4a3f2e1d0c9b8a password: hunter2hunter2")),
        ("token-look-alikes", "vectors", all(), all(), json!("commit 3f786850e387550fdab836ed7e6dc881de23001b etag d41d8cd98f00b204e9800998ecf8427e trace_id=4bf92f3577b34da6a3ce929d0e0e4736 id 123e4567-e89b-12d3-a456-426614174000")),
        ("multi-line", "vectors", all(), all(), json!("line one\n  héllo ünïcode bob@corp.io\nthird 10.1.2.3")),
        ("other-key", "another key", all(), all(), json!("mail alice@example.org")),
        ("allow", "vectors", all(), vec!["*@example.org", "10.0.0.*"], json!("alice@EXAMPLE.org bob@corp.io 10.0.0.1 10.1.0.1")),
        ("kinds", "vectors", vec!["email", "ipv4"], all(), json!("alice@example.org 10.0.0.1 4111111111111111")),
        ("json", "vectors", all(), all(), json!({
            "user": {"email": "alice@example.org", "password": "hunter2hunter2", "ssn": "123456789", "name": "Alice"},
            "card_number": 4111111111111111_u64,
            "log": format!("jwt {JWT} from 10.0.0.1"),
            "key": PEM,
            "list": ["plain", "bob@corp.io"],
            "sha": "3f786850e387550fdab836ed7e6dc881de23001b"
        })),
    ]
}

fn finding(f: &toron_core::pii::Finding) -> Value {
    json!({"kind": f.kind.name(), "location": f.location.to_string(), "placeholder": f.placeholder})
}

fn compute() -> Value {
    let cases: Vec<Value> = inputs()
        .into_iter()
        .map(|(name, key, kinds, allow, input)| {
            let kinds: Vec<String> = kinds.into_iter().map(String::from).collect();
            let allow: Vec<String> = allow.into_iter().map(String::from).collect();
            let s = Scrubber::new(&Policy::new(&kinds, &allow).unwrap(), Key::from_text(key)).unwrap();
            let mut case = json!({"name": name, "key": key, "kinds": kinds, "allow": allow});
            match &input {
                Value::String(text) => {
                    let out = s.scrub_text(text);
                    case["text"] = input.clone();
                    case["findings"] = out.findings.iter().map(finding).collect();
                    case["scrubbed"] = json!(out.text);
                }
                value => {
                    let (out, findings) = s.scrub_value(value);
                    case["value"] = input.clone();
                    case["findings"] = findings.iter().map(finding).collect();
                    case["scrubbed"] = out;
                }
            }
            case
        })
        .collect();
    json!({
        "version": 1,
        "comment": "PII scrubber cases: a text (or a JSON value), the key text (Key::from_text), kinds and allow; \
                    the findings (kind, location, placeholder) in order and the scrubbed text (or value). Every \
                    surface (Rust, Python, C) must reproduce them.",
        "cases": cases,
    })
}

#[test]
fn pii_vectors_match() {
    let path = repo_path("tests/vectors/pii.json");
    let now = compute();
    if std::env::var_os("TORON_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let pinned: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        pinned, now,
        "scrubber vectors changed: update them only for a deliberate detector change"
    );
}

#[test]
fn pii_vectors_hold_no_value_in_scrubbed_output() {
    for case in compute()["cases"].as_array().unwrap() {
        let scrubbed = case["scrubbed"].to_string();
        for needle in [
            "alice@",
            "4111 1111 1111 1111",
            "123-45-6789",
            "AKIAIOSFODNN7EXAMPLE",
            "MIIBVQ",
            "hunter2",
            "SflKxw",
        ] {
            let listed_as_allowed = case["allow"].as_array().is_some_and(|a| !a.is_empty());
            if !listed_as_allowed {
                assert!(!scrubbed.contains(needle), "{}: {needle} in {scrubbed}", case["name"]);
            }
        }
    }
}
