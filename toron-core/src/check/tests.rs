use serde_json::{json, Value};

use super::*;
use crate::ErrorKind;

fn h(v: Value) -> History {
    History::from_value(&v).unwrap()
}

fn verdict(model: ModelKind, v: Value) -> Verdict {
    check(&h(v), model, None).unwrap()
}

#[test]
fn vectors() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/linearizable.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 25);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let model = ModelKind::parse(case["model"].as_str().unwrap()).unwrap();
        let v = check(&h(case["history"].clone()), model, case["budget"].as_u64()).unwrap();
        let want = match &case["expect"] {
            Value::Bool(b) => Some(*b),
            _ => None,
        };
        assert_eq!(v.linearizable, want, "{name}: {}", v.text());
        assert_eq!(v.counterexample.is_some(), want == Some(false), "{name}");
    }
}

#[test]
fn stale_read_counterexample_is_the_three_ops() {
    let v = verdict(
        ModelKind::Register,
        json!([
            {"process": 2, "type": "invoke", "f": "write", "value": 7},
            {"process": 2, "type": "ok", "f": "write", "value": 7},
            {"process": 0, "type": "invoke", "f": "write", "value": 1},
            {"process": 0, "type": "ok", "f": "write", "value": 1},
            {"process": 0, "type": "invoke", "f": "write", "value": 2},
            {"process": 0, "type": "ok", "f": "write", "value": 2},
            {"process": 1, "type": "invoke", "f": "read"},
            {"process": 1, "type": "ok", "f": "read", "value": 1},
            {"process": 1, "type": "invoke", "f": "read"},
            {"process": 1, "type": "ok", "f": "read", "value": 2}
        ]),
    );
    assert_eq!(v.linearizable, Some(false));
    let c = v.counterexample.clone().unwrap();
    let spans: Vec<(u64, Option<u64>)> = c.ops.iter().map(|o| (o.invoke_index, o.complete_index)).collect();
    assert_eq!(spans, vec![(2, Some(3)), (4, Some(5)), (6, Some(7))], "{}", v.text());
    let text = v.text();
    assert!(
        text.starts_with("NOT linearizable (register, 10 ops, 1 partition"),
        "{text}"
    );
    assert!(text.contains("read -> 1"), "{text}");
    // The JSON names every field and reads back.
    let back: Verdict = serde_json::from_value(v.to_value()).unwrap();
    assert_eq!(back, v);
}

#[test]
fn lost_write_on_one_key() {
    let v = verdict(
        ModelKind::Kv,
        json!([
            {"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
            {"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
            {"process": 1, "type": "invoke", "f": "write", "key": "y", "value": 1},
            {"process": 1, "type": "ok", "f": "write", "key": "y", "value": 1},
            {"process": 1, "type": "invoke", "f": "read", "key": "y"},
            {"process": 1, "type": "ok", "f": "read", "key": "y"},
            {"process": 0, "type": "invoke", "f": "read", "key": "x"},
            {"process": 0, "type": "ok", "f": "read", "key": "x", "value": 1}
        ]),
    );
    assert_eq!((v.linearizable, v.partitions), (Some(false), 2));
    let c = v.counterexample.unwrap();
    assert_eq!(c.key, Some(json!("y")));
    assert_eq!(c.ops.len(), 2);
}

#[test]
fn budget_gives_unknown_never_a_guess() {
    let mut ops = Vec::new();
    for p in 0..10 {
        ops.push(json!({"process": p, "type": "invoke", "f": "write", "value": p}));
    }
    for p in 0..10 {
        ops.push(json!({"process": p, "type": "ok", "f": "write", "value": p}));
    }
    ops.push(json!({"process": 10, "type": "invoke", "f": "read"}));
    ops.push(json!({"process": 10, "type": "ok", "f": "read", "value": 3}));
    let history = h(Value::Array(ops.clone()));
    let v = check(&history, ModelKind::Register, Some(5)).unwrap();
    assert_eq!((v.linearizable, v.counterexample.is_none()), (None, true));
    assert!(v.text().starts_with("unknown"), "{}", v.text());
    assert_eq!(
        check(&history, ModelKind::Register, None).unwrap().linearizable,
        Some(true)
    );
    ops.pop();
    ops.push(json!({"process": 10, "type": "ok", "f": "read", "value": 42}));
    let v = check(&h(Value::Array(ops)), ModelKind::Register, None).unwrap();
    assert_eq!(v.linearizable, Some(false));
    // The read of a value nobody wrote is the whole story.
    assert_eq!(v.counterexample.unwrap().ops.len(), 1);
}

#[test]
fn verdicts_are_deterministic() {
    let mut ops = Vec::new();
    for round in 0..30u64 {
        for p in 0..6u64 {
            let key = (round + p) % 4;
            ops.push(json!({"process": p, "type": "invoke", "f": "write", "key": key, "value": round * 10 + p}));
        }
        for p in 0..6u64 {
            let key = (round + p) % 4;
            ops.push(json!({"process": p, "type": "ok", "f": "write", "key": key, "value": round * 10 + p}));
        }
        ops.push(json!({"process": 9, "type": "invoke", "f": "read", "key": round % 4}));
        ops.push(json!({"process": 9, "type": "ok", "f": "read", "key": round % 4, "value": if round == 17 { 0 } else { round * 10 + (4 - round % 4 + round % 4) % 4 }}));
    }
    let history = h(Value::Array(ops));
    let first = check(&history, ModelKind::Kv, None).unwrap();
    for _ in 0..5 {
        assert_eq!(check(&history, ModelKind::Kv, None).unwrap(), first);
    }
    assert_eq!(first.partitions, 4);
}

#[test]
fn bad_input() {
    let e = check(
        &h(json!([{"process": 0, "type": "invoke", "f": "frob"}])),
        ModelKind::Register,
        None,
    )
    .unwrap_err();
    assert_eq!(
        (e.kind(), e.field(), e.op_index()),
        (ErrorKind::InvalidArgument, Some("f"), Some(0))
    );
    assert!(e.to_string().contains("expected one of: read, write"), "{e}");
    let e = check(
        &h(json!([{"process": 0, "type": "invoke", "f": "cas", "value": 3, "index": 7}])),
        ModelKind::CasRegister,
        None,
    )
    .unwrap_err();
    assert_eq!((e.field(), e.op_index()), (Some("value"), Some(7)));
    let e = check(
        &h(json!([{"process": 0, "type": "invoke", "f": "cas", "value": [1, 2]}])),
        ModelKind::Register,
        None,
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("f"));
    let e = check(
        &h(json!([{"process": 0, "type": "invoke", "f": "read", "value": 3}])),
        ModelKind::Kv,
        None,
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("key"));
    let e = ModelKind::parse("regster").unwrap_err();
    assert!(e.to_string().contains("expected one of: register, cas-register"), "{e}");
    assert!(History::from_value(&json!({"process": 0})).is_err());
}
