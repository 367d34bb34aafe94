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

/// Exhaustive search without memo or ordering tricks: some order of all completed calls and any of the
/// indeterminate ones, each after every call that completed before it was invoked.
fn brute(calls: &[models::PCall], used: &mut Vec<bool>, state: u32) -> bool {
    use models::Model;
    if calls.iter().zip(used.iter()).all(|(c, u)| *u || c.complete.is_none()) {
        return true;
    }
    for i in 0..calls.len() {
        if used[i] {
            continue;
        }
        let ready = calls
            .iter()
            .zip(used.iter())
            .all(|(d, u)| *u || d.complete.is_none_or(|t| t > calls[i].invoke));
        if !ready {
            continue;
        }
        if let Some(next) = models::RegisterModel::step(&state, &calls[i].op) {
            used[i] = true;
            if brute(calls, used, next) {
                used[i] = false;
                return true;
            }
            used[i] = false;
        }
    }
    false
}

#[test]
fn search_agrees_with_exhaustive_search_on_random_histories() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut rnd = |n: u64| {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let (mut yes, mut no) = (0, 0);
    for _ in 0..3000 {
        let mut ops = Vec::new();
        let mut busy: [Option<(&str, Value)>; 3] = [None, None, None];
        let mut next_process = [0u64, 1, 2];
        let steps = 4 + rnd(9);
        for _ in 0..steps {
            let p = rnd(3) as usize;
            match busy[p].take() {
                None => {
                    let (f, v) = match rnd(3) {
                        0 => ("read", Value::Null),
                        1 => ("write", json!(1 + rnd(2))),
                        _ => ("cas", json!([rnd(3), 1 + rnd(2)])),
                    };
                    ops.push(json!({"process": next_process[p], "type": "invoke", "f": f, "value": v}));
                    busy[p] = Some((f, v));
                }
                Some((f, v)) => {
                    let kind = match rnd(10) {
                        0 | 1 => "info",
                        2 => "fail",
                        _ => "ok",
                    };
                    let value = if f == "read" { json!(rnd(3)) } else { v };
                    let value = if value == json!(0) { Value::Null } else { value };
                    ops.push(json!({"process": next_process[p], "type": kind, "f": f, "value": value}));
                    if kind == "info" {
                        next_process[p] += 3;
                    }
                }
            }
        }
        let history = h(Value::Array(ops));
        let calls = history.calls().unwrap();
        let parts = models::partition(ModelKind::CasRegister, &calls).unwrap();
        let pc = &parts[0].calls;
        let expected = brute(pc, &mut vec![false; pc.len()], 0);
        let v = check(&history, ModelKind::CasRegister, None).unwrap();
        assert_eq!(v.linearizable, Some(expected), "{}", history.to_json());
        if expected {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 300 && no > 300, "{yes} linearizable, {no} not");
}

#[test]
fn a_cancelled_check_is_an_error_never_a_verdict() {
    // 30 concurrent writes, then a read of a value none wrote: 2^30 configurations before the answer.
    let mut ops: Vec<Value> = (0..30)
        .map(|p| json!({"process": p, "type": "invoke", "f": "write", "value": p}))
        .collect();
    ops.extend((0..30).map(|p| json!({"process": p, "type": "ok", "f": "write", "value": p})));
    ops.push(json!({"process": 30, "type": "invoke", "f": "read"}));
    ops.push(json!({"process": 30, "type": "ok", "f": "read", "value": -1}));
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let e = check_with(
        &h(Value::Array(ops)),
        ModelKind::Register,
        Some(u64::MAX),
        Some(&cancel),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert!(e.to_string().contains("cancelled after"), "{e}");
}
