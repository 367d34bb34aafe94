//! `tests/vectors/diff.json` (expected patches and summaries, RFC 6902 Appendix A), and text diffs that
//! GNU `patch` applies.

use std::process::Command;

use serde_json::Value;
use toron_core::diff::text::{text_diff, TextAlgorithm, TextOptions};
use toron_core::diff::{apply_patch, diff, values_equal, DiffOptions, Format};
use toron_core::ErrorKind;

use crate::scratch::Scratch;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/diff.json");
    let text = std::fs::read_to_string(path).expect("tests/vectors/diff.json is readable");
    serde_json::from_str(&text).expect("tests/vectors/diff.json is JSON")
}

#[test]
fn diff_vectors() {
    let v = vectors();
    assert_eq!(v["version"], 1);
    let mut failures = Vec::new();
    for case in v["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let options = DiffOptions::from_json(&case["options"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = diff(&case["old"], &case["new"], &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let coarse = case["coarse"].as_bool().unwrap_or(false);
        if d.patch() != case["patch"] || d.summary() != case["summary"] || d.is_coarse() != coarse {
            failures.push(
                serde_json::json!({"name": name, "patch": d.patch(), "summary": d.summary(), "coarse": d.is_coarse()}),
            );
        }
        let exact = options.ignore.is_empty()
            && options.redact.is_empty()
            && options.tolerance.is_none()
            && options.tolerances.is_empty();
        if exact {
            let patched = apply_patch(&case["old"], &d.patch()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                values_equal(&patched, &case["new"]),
                "{name}: the patch does not give new"
            );
        }
        for f in Format::ALL {
            let r = d.render(*f);
            assert!(!r.contains("secret"), "{name}: {f:?} shows a redacted value");
            if *f == Format::Json {
                let j: Value = serde_json::from_str(&r).expect("JSON rendering");
                assert_eq!(j["coarse"], d.is_coarse(), "{name}");
                assert_eq!(j["patch"], d.patch(), "{name}");
            } else {
                assert_eq!(r.contains("coarse"), d.is_coarse(), "{name}: {f:?}");
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", Value::Array(failures));
}

#[test]
fn apply_vectors() {
    let v = vectors();
    let cases = v["apply"].as_array().expect("apply");
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let got = apply_patch(&case["doc"], &case["patch"]);
        match (got, case.get("result"), case.get("error")) {
            (Ok(got), Some(want), None) => assert!(values_equal(&got, want), "{name}: got {got}"),
            (Err(e), None, Some(want)) => {
                assert_eq!(e.kind(), ErrorKind::Patch, "{name}");
                assert_eq!(
                    e.op_index(),
                    want["op_index"].as_u64().map(|i| i as usize),
                    "{name}: {e}"
                );
                assert_eq!(e.path(), want["path"].as_str(), "{name}: {e}");
            }
            (got, _, _) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn option_error_vectors() {
    let v = vectors();
    for case in v["option_errors"].as_array().expect("option_errors") {
        let name = case["name"].as_str().expect("name");
        let e = DiffOptions::from_json(&case["options"]).expect_err(name);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}");
        assert_eq!(e.field(), case["field"].as_str(), "{name}: {e}");
    }
}

fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("diff-{name}"))
}

/// Write `old`, the unified diff to `new`, run GNU `patch`, and compare its output with `new`.
fn gnu_patch_gives_new(name: &str, old: &[u8], new: &[u8], algorithm: TextAlgorithm) {
    let dir = scratch(name);
    let d = text_diff(old, new, &TextOptions { algorithm });
    let unified = d.unified_bytes(3, "a/file.txt", "b/file.txt");
    if old == new {
        assert!(unified.is_empty(), "{name}");
        return;
    }
    std::fs::write(dir.join("old.txt"), old).unwrap();
    std::fs::write(dir.join("change.patch"), &unified).unwrap();
    let out = Command::new("patch")
        .current_dir(&dir)
        .args(["--batch", "--silent", "-o", "out.txt", "old.txt", "-i", "change.patch"])
        .output()
        .expect("GNU patch is installed (apt-get install patch)");
    assert!(
        out.status.success(),
        "{name}: patch failed: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&unified)
    );
    let got = std::fs::read(dir.join("out.txt")).unwrap_or_default();
    assert!(
        got == new,
        "{name}: patched output differs\n{}",
        String::from_utf8_lossy(&unified)
    );
}

/// A deterministic text of `lines` lines, and a copy with about `per_mille`/1000 of them changed, deleted or
/// inserted.
fn generated(lines: usize, per_mille: u64, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut old = Vec::new();
    let mut new = Vec::new();
    for i in 0..lines {
        let line = format!(
            "line {i}: value {} {}\n",
            next() % 1000,
            if i % 7 == 0 { "" } else { "tail" }
        );
        old.extend_from_slice(line.as_bytes());
        match next() % 1000 {
            r if r < per_mille / 3 => {}
            r if r < 2 * per_mille / 3 => {
                new.extend_from_slice(line.as_bytes());
                new.extend_from_slice(format!("inserted {r}\n").as_bytes());
            }
            r if r < per_mille => new.extend_from_slice(format!("changed {i} {r}\n").as_bytes()),
            _ => new.extend_from_slice(line.as_bytes()),
        }
    }
    (old, new)
}

#[test]
fn unified_diffs_apply_with_gnu_patch() {
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("simple", b"a\nb\nc\n".to_vec(), b"a\nB\nc\n".to_vec()),
        ("no-newline-old", b"a\nb".to_vec(), b"a\nb\n".to_vec()),
        ("no-newline-new", b"a\nb\n".to_vec(), b"a\nb".to_vec()),
        ("no-newline-both", b"a\nb".to_vec(), b"a\nc".to_vec()),
        ("from-empty", b"".to_vec(), b"x\ny\n".to_vec()),
        ("to-empty", b"x\ny\n".to_vec(), b"".to_vec()),
        ("crlf", b"a\r\nb\r\nc\r\n".to_vec(), b"a\r\nb2\r\nc\r\n".to_vec()),
        (
            "not-utf8",
            b"ok\n\xff\xfe\nend\n".to_vec(),
            b"ok\n\xfe\xff\nend\n".to_vec(),
        ),
        ("same", b"same\n".to_vec(), b"same\n".to_vec()),
    ];
    for (name, old, new) in &cases {
        for alg in [TextAlgorithm::Myers, TextAlgorithm::Patience, TextAlgorithm::Histogram] {
            gnu_patch_gives_new(&format!("{name}-{alg:?}"), old, new, alg);
        }
    }
    let (old, new) = generated(5_000, 10, 7);
    gnu_patch_gives_new("generated", &old, &new, TextAlgorithm::Histogram);
    gnu_patch_gives_new("generated-myers", &old, &new, TextAlgorithm::Myers);
}

#[test]
fn unified_matches_gnu_diff() {
    // Same hunks as `diff -u` on a file where the alignment is unambiguous.
    let (old, new) = generated(2_000, 5, 11);
    let dir = scratch("gnu-diff");
    std::fs::write(dir.join("old.txt"), &old).unwrap();
    std::fs::write(dir.join("new.txt"), &new).unwrap();
    let out = Command::new("diff")
        .current_dir(&dir)
        .args(["-u", "old.txt", "new.txt"])
        .output()
        .expect("GNU diff");
    let theirs = String::from_utf8_lossy(&out.stdout);
    let ours = text_diff(&old, &new, &TextOptions::default()).unified(3, "old.txt", "new.txt");
    let hunks = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(hunks(&ours), hunks(&theirs));
}

#[test]
fn text_renderings() {
    let d = text_diff(
        b"keep\nlet x = 1;\n",
        b"keep\nlet x = 2;\nnew\n",
        &TextOptions::default(),
    );
    assert_eq!(d.summary(), "2 lines added, 1 line removed");
    let color = d.render(Format::Color);
    assert!(color.contains("\x1b[7m1\x1b[0m"), "{color:?}");
    assert!(color.contains("\x1b[7m2\x1b[0m"), "{color:?}");
    let html = d.render(Format::Html);
    assert!(html.contains("<del") && html.contains("<ins") && html.contains("let x = "));
    let json: Value = serde_json::from_str(&d.render(Format::Json)).unwrap();
    assert_eq!(json["binary"], false);
    assert_eq!(json["hunks"][0]["lines"][1], "-let x = 1;\n");
    let b = text_diff(b"\x00\xff\n", b"\x00\xfe\n", &TextOptions::default());
    assert!(b.is_binary() && b.summary().contains("not UTF-8"));
    assert!(b.render(Format::Text).contains("-\u{0}\\xff"));
    assert!(b.render(Format::Html).contains("\\xfe"));
}
