//! Tests of the structural diff: the patch property, arrays, options and renderings.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::canon::strategy;
use crate::ErrorKind;

fn opts(v: Value) -> DiffOptions {
    DiffOptions::from_json(&v).unwrap()
}

fn check_patch(old: &Value, new: &Value, options: &DiffOptions) -> Diff {
    let d = diff(old, new, options).unwrap();
    let patched = apply_patch(old, &d.patch()).unwrap_or_else(|e| panic!("{e}\npatch {}", d.patch()));
    assert!(
        values_equal(&patched, new),
        "old {old}\nnew {new}\npatch {}\ngot {patched}",
        d.patch()
    );
    d
}

#[test]
fn insert_at_front_of_large_array_is_one_add() {
    let old: Vec<Value> = (0..10_000).map(|i| json!({"id": i, "price": i * 2})).collect();
    let mut new = old.clone();
    new.insert(0, json!({"id": -1, "price": 0}));
    let d = check_patch(&json!({"items": old}), &json!({"items": new}), &DiffOptions::default());
    assert_eq!(
        d.patch(),
        json!([{"op": "add", "path": "/items/0", "value": {"id": -1, "price": 0}}])
    );
}

#[test]
fn changed_leaf_of_a_record_is_one_replace() {
    let old: Vec<Value> = (0..100).map(|i| json!({"id": i, "price": i})).collect();
    let mut new = old.clone();
    new[5]["price"] = json!(99.5);
    let d = check_patch(&json!({"items": old}), &json!({"items": new}), &DiffOptions::default());
    assert_eq!(
        d.patch(),
        json!([{"op": "replace", "path": "/items/5/price", "value": 99.5}])
    );
    assert_eq!(d.ops()[0].old, Some(json!(5)));
    assert_eq!(d.summary(), "1 changed, 0 added, 0 removed");
}

#[test]
fn large_reorders_stay_linear_and_correct() {
    let old: Vec<Value> = (0..20_000).map(|i| json!(i)).collect();
    // A reversal would take 19 999 moves, each scanning the array: it becomes removes and adds instead.
    let rev: Vec<Value> = old.iter().rev().cloned().collect();
    let d = check_patch(&Value::Array(old.clone()), &Value::Array(rev), &DiffOptions::default());
    assert_eq!(d.counts().moved, 0);
    assert!(!d.is_coarse());
    // A few moves in a large array stay moves.
    let mut few = old.clone();
    let x = few.remove(10);
    few.insert(15_000, x);
    let d = check_patch(&Value::Array(old.clone()), &Value::Array(few), &DiffOptions::default());
    assert_eq!(d.patch(), json!([{"op": "move", "from": "/10", "path": "/15000"}]));
    // Entirely different arrays: one replace per element, no quadratic blow-up.
    let other: Vec<Value> = (0..20_000).map(|i| json!(i + 1_000_000)).collect();
    let d = check_patch(&Value::Array(old), &Value::Array(other), &DiffOptions::default());
    assert_eq!(d.counts().changed, 20_000);
}

#[test]
fn semantics_numbers_booleans_strings() {
    assert!(
        diff(&json!([1, 2.0, -0.0]), &json!([1.0, 2, 0]), &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
    assert!(!diff(&json!(true), &json!(1), &DiffOptions::default())
        .unwrap()
        .is_empty());
    assert!(!diff(&json!(0), &json!(false), &DiffOptions::default())
        .unwrap()
        .is_empty());
    assert!(!diff(&json!("\u{e9}"), &json!("e\u{301}"), &DiffOptions::default())
        .unwrap()
        .is_empty());
    assert!(
        !diff(&json!({"\u{e9}": 1}), &json!({"e\u{301}": 1}), &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn keyed_arrays_match_by_key() {
    let o = opts(json!({"keys": {"/items": "id"}}));
    let old = json!({"items": [{"id": "a", "v": 1}, {"id": "b", "v": 2}, {"id": "c", "v": 3}]});
    let new = json!({"items": [{"id": "c", "v": 3}, {"id": "a", "v": 10}, {"id": "d", "v": 4}]});
    let d = check_patch(&old, &new, &o);
    let c = d.counts();
    assert_eq!((c.changed, c.added, c.removed, c.moved), (1, 1, 1, 1), "{}", d.patch());
    assert!(d.summary().ends_with("1 moved"));
    // Nested keyed arrays through a wildcard.
    let o = opts(json!({"keys": {"/g/*/items": "id"}}));
    let old = json!({"g": [{"items": [{"id": 1, "x": 1}, {"id": 2, "x": 2}]}]});
    let new = json!({"g": [{"items": [{"id": 2, "x": 2}, {"id": 1, "x": 5}]}]});
    let d = check_patch(&old, &new, &o);
    assert_eq!(d.counts().changed, 1);
    assert!(d.ops().iter().any(|op| op.path == "/g/0/items/1/x"), "{}", d.patch());
}

#[test]
fn ignore_redact_tolerance() {
    let o = opts(json!({"ignore": ["/meta/timestamp", "/items/*/ts"]}));
    let old = json!({"meta": {"timestamp": 1, "v": 1}, "items": [{"ts": 1, "a": 1}]});
    let new = json!({"meta": {"timestamp": 2, "v": 1}, "items": [{"ts": 2, "a": 1}, {"ts": 3, "a": 2}]});
    let d = diff(&old, &new, &o).unwrap();
    assert_eq!(
        d.patch(),
        json!([{"op": "add", "path": "/items/1", "value": {"ts": 3, "a": 2}}])
    );
    let d = diff(&json!({"meta": {}}), &json!({"meta": {"timestamp": 5}}), &o).unwrap();
    assert!(d.is_empty());

    let o = opts(json!({"redact": ["/user/token"]}));
    let d = diff(
        &json!({"user": {"token": "old-secret"}}),
        &json!({"user": {"token": "new-secret"}}),
        &o,
    )
    .unwrap();
    assert!(d.is_empty());
    let d = diff(
        &json!({"user": {}}),
        &json!({"user": {"token": "new-secret", "n": 1}}),
        &o,
    )
    .unwrap();
    assert_eq!(
        d.patch(),
        json!([{"op": "add", "path": "/user/n", "value": 1}, {"op": "add", "path": "/user/token", "value": "[REDACTED]"}])
    );
    let d = diff(&json!({}), &json!({"user": {"token": "new-secret", "n": 1}}), &o).unwrap();
    for f in Format::ALL {
        let r = d.render(*f);
        assert!(!r.contains("new-secret"), "{r}");
        assert!(r.contains("[REDACTED]"), "{r}");
    }
    assert_eq!(
        redact(&json!({"user": {"token": "s"}}), &o).unwrap(),
        json!({"user": {"token": "[REDACTED]"}})
    );

    let o = opts(json!({"tolerance": 0.01, "tolerances": {"/exact": 0, "/loose/*": {"rel": 0.5}}}));
    let old = json!({"a": 1.0, "exact": 1.0, "loose": [100, 100]});
    let new = json!({"a": 1.005, "exact": 1.005, "loose": [140, 300]});
    let d = diff(&old, &new, &o).unwrap();
    let paths: Vec<&str> = d.ops().iter().map(|op| op.path.as_str()).collect();
    assert_eq!(paths, ["/exact", "/loose/1"]);
}

#[test]
fn budget_makes_it_coarse_but_correct() {
    let old: Vec<Value> = (0..50).map(|i| json!({"id": i, "v": [i, i]})).collect();
    let mut new = old.clone();
    new[10]["v"][1] = json!(-1);
    new.remove(30);
    let o = DiffOptions {
        budget: Some(20),
        ..Default::default()
    };
    let d = check_patch(&json!({"items": old, "x": 1}), &json!({"items": new, "x": 2}), &o);
    assert!(d.is_coarse());
    for f in Format::ALL {
        assert!(d.render(*f).contains("coarse"), "{f:?}");
    }
    let full = diff(&json!({"items": old}), &json!({"items": new}), &DiffOptions::default()).unwrap();
    assert!(!full.is_coarse());
}

#[test]
fn renderings() {
    let d = diff(
        &json!({"a": 1, "b": [1], "c": "<x>"}),
        &json!({"a": 2, "b": [1, 2], "c": "\u{1b}[31m"}),
        &DiffOptions::default(),
    )
    .unwrap();
    let text = d.render(Format::Text);
    assert_eq!(
        text,
        "2 changed, 1 added, 0 removed\n~ /a: 1 -> 2\n+ /b/1: 2\n~ /c: \"<x>\" -> \"\\u001b[31m\"\n"
    );
    let color = d.render(Format::Color);
    assert!(color.contains("\x1b[31m1\x1b[0m -> \x1b[32m2"));
    let html = d.render(Format::Html);
    assert!(html.starts_with("<div") && html.contains("&lt;x&gt;") && !html.contains("<x>"));
    let j: Value = serde_json::from_str(&d.render(Format::Json)).unwrap();
    assert_eq!(j["coarse"], false);
    assert_eq!(
        j["changes"][0],
        json!({"op": "replace", "path": "/a", "old": 1, "value": 2})
    );
    let same = diff(&json!(1), &json!(1), &DiffOptions::default()).unwrap();
    assert_eq!(same.render(Format::Text), "no differences\n");
    let root = diff(&json!(1), &json!("x"), &DiffOptions::default()).unwrap();
    assert_eq!(root.patch(), json!([{"op": "replace", "path": "", "value": "x"}]));
    assert!(root.render(Format::Text).contains("(root)"));
}

#[test]
fn bad_options_are_invalid_argument() {
    let o = DiffOptions {
        ignore: vec!["x".into()],
        ..Default::default()
    };
    assert_eq!(
        diff(&json!(1), &json!(2), &o).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn patch_errors() {
    let doc = json!({"a": [1, 2], "o": {"k": 1}});
    let cases = [
        (json!({"op": "add"}), None),
        (
            json!([{"op": "remove", "path": "/a/2"}]),
            Some((0, "/a/2", "out of range")),
        ),
        (
            json!([{"op": "add", "path": "/a/0", "value": 0}, {"op": "add", "path": "/a/4", "value": 0}]),
            Some((1, "/a/4", "out of range")),
        ),
        (
            json!([{"op": "add", "path": "/a/01", "value": 0}]),
            Some((0, "/a/01", "not an array index")),
        ),
        (
            json!([{"op": "replace", "path": "/x", "value": 0}]),
            Some((0, "/x", "no member \"x\"")),
        ),
        (
            json!([{"op": "test", "path": "/o/k", "value": 2}]),
            Some((0, "/o/k", "test failed")),
        ),
        (
            json!([{"op": "move", "from": "/o", "path": "/o/k/z"}]),
            Some((0, "/o/k/z", "own children")),
        ),
        (
            json!([{"op": "frob", "path": "/o"}]),
            Some((0, "/o", "unknown operation")),
        ),
        (
            json!([{"op": "add", "path": "/o/k/z", "value": 1}]),
            Some((0, "/o/k/z", "not an object or array")),
        ),
        (
            json!([{"op": "add", "path": "a", "value": 1}]),
            Some((0, "a", "start with '/'")),
        ),
        (
            json!([{"op": "add", "path": "/~2", "value": 1}]),
            Some((0, "/~2", "bad escape")),
        ),
        (
            json!([{"op": "copy", "from": "/nope", "path": "/b"}]),
            Some((0, "/nope", "from: no member")),
        ),
        (
            json!([{"op": "replace", "path": "/o"}]),
            Some((0, "/o", "needs a \"value\"")),
        ),
        (json!([{"op": "remove", "path": ""}]), Some((0, "", "whole document"))),
        (json!([7]), None),
    ];
    for (patch, want) in cases {
        let e = apply_patch(&doc, &patch).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Patch, "{patch}");
        if let Some((i, path, msg)) = want {
            assert_eq!((e.op_index(), e.path()), (Some(i), Some(path)), "{patch}: {e}");
            assert!(e.message().contains(msg), "{patch}: {e}");
        }
    }
    // The input is untouched after a failure half-way.
    let before = doc.clone();
    let _ = apply_patch(
        &doc,
        &json!([{"op": "remove", "path": "/a/0"}, {"op": "remove", "path": "/zz"}]),
    );
    assert_eq!(doc, before);
}

/// A base value and an edited copy: leaf changes, array insertions, deletions and moves, key changes.
fn edited_pair() -> impl Strategy<Value = (Value, Value)> {
    (
        strategy::value(),
        prop::collection::vec((any::<u8>(), any::<u16>(), any::<u16>(), strategy::leaf()), 0..8),
    )
        .prop_map(|(base, edits)| {
            let mut new = base.clone();
            for (kind, a, b, leaf) in edits {
                edit(&mut new, kind, a as usize, b as usize, leaf);
            }
            (base, new)
        })
}

fn edit(v: &mut Value, kind: u8, a: usize, b: usize, leaf: Value) {
    // Walk down a few levels chosen by `a`'s digits, then edit there.
    let mut path = String::new();
    let mut pick = a;
    {
        let mut cur: &Value = v;
        for _ in 0..(kind % 3) {
            let next = match cur {
                Value::Array(items) if !items.is_empty() => {
                    let k = pick % items.len();
                    path.push_str(&format!("/{k}"));
                    &items[k]
                }
                Value::Object(m) if !m.is_empty() => {
                    let (key, x) = m.iter().nth(pick % m.len()).unwrap_or_else(|| unreachable!());
                    crate::canon::push_pointer_token(&mut path, key);
                    x
                }
                _ => break,
            };
            pick /= 7;
            cur = next;
        }
    }
    let Some(cur) = v.pointer_mut(&path) else {
        return;
    };
    match cur {
        Value::Array(items) => match kind % 4 {
            0 => items.insert(b % (items.len() + 1), leaf),
            1 if !items.is_empty() => {
                items.remove(b % items.len());
            }
            2 if !items.is_empty() => {
                let n = items.len();
                let x = items.remove(a % n);
                items.insert(b % n, x);
            }
            _ if !items.is_empty() => {
                let n = items.len();
                items[b % n] = leaf;
            }
            _ => items.push(leaf),
        },
        Value::Object(m) => match kind % 3 {
            0 => {
                m.insert(format!("k{}", b % 5), leaf);
            }
            1 if !m.is_empty() => {
                let key = m.keys().nth(b % m.len()).cloned().unwrap_or_default();
                m.remove(&key);
            }
            _ => {
                m.insert("new".into(), leaf);
            }
        },
        other => *other = leaf,
    }
}

/// Records with unique ids, and an edited copy (reordered, some removed, added and changed).
fn keyed_pair() -> impl Strategy<Value = (Value, Value)> {
    (
        prop::collection::btree_set(0u32..40, 0..20),
        prop::collection::vec(strategy::leaf(), 20),
        Just(()).prop_perturb(|_, mut rng| rng.next_u64()),
    )
        .prop_map(|(ids, leaves, seed)| {
            let ids: Vec<u32> = ids.into_iter().collect();
            let old: Vec<Value> = ids
                .iter()
                .enumerate()
                .map(|(k, id)| json!({"id": id, "v": leaves[k % leaves.len()]}))
                .collect();
            let mut new = old.clone();
            let mut s = seed;
            let mut next = |n: usize| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % (n.max(1) as u64)) as usize
            };
            for step in 0..6 {
                let n = new.len();
                match step % 4 {
                    0 if n > 1 => {
                        let x = new.remove(next(n));
                        let to = next(n);
                        new.insert(to, x);
                    }
                    1 if n > 0 => {
                        new.remove(next(n));
                    }
                    2 => new.insert(next(n + 1), json!({"id": 100 + step, "v": step})),
                    _ if n > 0 => {
                        let k = next(n);
                        new[k]["v"] = json!([step]);
                    }
                    _ => {}
                }
            }
            (
                json!({"items": old, "other": [old.len()]}),
                json!({"items": new, "other": [new.len()]}),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn patch_of_diff_gives_new_for_random_pairs(old in strategy::value(), new in strategy::value()) {
        check_patch(&old, &new, &DiffOptions::default());
    }

    #[test]
    fn patch_of_diff_gives_new_for_edits((old, new) in edited_pair()) {
        let d = check_patch(&old, &new, &DiffOptions::default());
        prop_assert_eq!(d.is_empty(), values_equal(&old, &new));
        // Deterministic: the same inputs give the same operations.
        prop_assert_eq!(diff(&old, &new, &DiffOptions::default()).unwrap(), d);
    }

    #[test]
    fn patch_of_diff_gives_new_for_keyed_arrays((old, new) in keyed_pair()) {
        check_patch(&old, &new, &opts(json!({"keys": {"/items": "id"}})));
        check_patch(&old, &new, &DiffOptions::default());
    }

    #[test]
    fn budget_never_breaks_the_patch((old, new) in edited_pair(), budget in 0u64..30) {
        check_patch(&old, &new, &DiffOptions { budget: Some(budget), ..Default::default() });
    }

    #[test]
    fn apply_patch_never_panics(doc in strategy::value(), patch in strategy::value()) {
        let _ = apply_patch(&doc, &patch);
        let _ = apply_patch(&doc, &Value::Array(vec![patch]));
    }
}
