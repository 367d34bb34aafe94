//! Golden files through the public API: the review workflow a user goes through.

use serde_json::json;
use toron_core::diff::DiffOptions;
use toron_core::snapshot::{CheckStatus, Snapshots};
use toron_core::ErrorKind;

use crate::scratch::Scratch;

#[test]
fn review_workflow() {
    let o = DiffOptions::default();
    let scratch = Scratch::new("snap-workflow");
    let snaps = Snapshots::new(scratch.path().join("snapshots"));
    let v1 = json!({"stats": {"events": 10}, "ok": true});
    let v2 = json!({"stats": {"events": 11}, "ok": true});

    // First run: no goldens, both cases fail and leave candidates.
    for case in ["kv/basic", "kv/partition"] {
        let r = snaps.check(case, &v1, &o).unwrap();
        assert_eq!(r.status(), CheckStatus::Failed);
        assert!(r.golden_missing());
        assert!(r.pending_path().unwrap().ends_with(format!("{case}.json.new")));
    }
    let pending: Vec<String> = snaps.pending().unwrap().into_iter().map(|p| p.case).collect();
    assert_eq!(pending, ["kv/basic", "kv/partition"]);
    assert_eq!(snaps.accept(Some("kv/basic")).unwrap(), ["kv/basic"]);
    assert_eq!(snaps.reject(None).unwrap(), ["kv/partition"]);
    assert_eq!(snaps.cases().unwrap(), ["kv/basic"]);

    // Second run: same value passes; a changed value fails with the golden left alone.
    assert_eq!(snaps.check("kv/basic", &v1, &o).unwrap().status(), CheckStatus::Passed);
    let golden = snaps.golden_path("kv/basic").unwrap();
    let before = std::fs::read(&golden).unwrap();
    assert_eq!(snaps.check("kv/basic", &v2, &o).unwrap().status(), CheckStatus::Failed);
    assert_eq!(std::fs::read(&golden).unwrap(), before);
    let p = snaps.pending().unwrap();
    assert_eq!(p[0].golden.as_ref().unwrap().value, v1);
    assert_eq!(p[0].candidate.value, v2);
    assert_eq!(snaps.accept(None).unwrap(), ["kv/basic"]);
    assert_eq!(snaps.read("kv/basic").unwrap().unwrap().value, v2);

    // Unused goldens are reported, never deleted.
    assert_eq!(snaps.unused(&[]).unwrap(), ["kv/basic"]);
    assert!(golden.exists());
}

#[test]
fn update_mode_and_hand_edited_golden() {
    let o = DiffOptions::default();
    let scratch = Scratch::new("snap-update");
    let update = Snapshots::new(scratch.path().join("snapshots")).update(true);
    assert_eq!(
        update.check("a", &json!([1, 2]), &o).unwrap().status(),
        CheckStatus::Created
    );
    assert_eq!(
        update.check("a", &json!([1, 3]), &o).unwrap().status(),
        CheckStatus::Updated
    );
    let path = update.golden_path("a").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // Edited by hand into invalid JSON: a stray string on line 3.
    let broken: String = text.replace("\"engine\"", "\"engine\" \"oops\",");
    std::fs::write(&path, &broken).unwrap();
    let plain = Snapshots::new(update.root());
    let e = plain.check("a", &json!([1, 3]), &o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Snapshot);
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.to_string().starts_with(&format!("{}:3:", path.display())), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken, "nothing overwritten");
    assert_eq!(
        update.check("a", &json!([1, 3]), &o).unwrap().status(),
        CheckStatus::Updated
    );
    assert_eq!(
        plain.check("a", &json!([1, 3]), &o).unwrap().status(),
        CheckStatus::Passed
    );
}

const CHILD_ENV: &str = "TORON_IT_SNAPSHOT_CHILD";

#[test]
fn killed_while_writing_goldens_leaves_whole_files() {
    let o = DiffOptions::default();
    if let Ok(root) = std::env::var(CHILD_ENV) {
        // Child: rewrite goldens and candidates forever, with values large enough that writes take a while.
        let update = Snapshots::new(&root).update(true);
        let plain = Snapshots::new(&root);
        let mut i: u64 = 0;
        loop {
            let v = json!({"i": i, "rows": (0..2000).map(|k| json!({"k": k, "v": (k * 7 + i) % 1000})).collect::<Vec<_>>()});
            let case = format!("s/c{}", i % 4);
            update.check(&case, &v, &o).unwrap();
            plain.check(&case, &json!({"other": i}), &o).unwrap();
            if matches!(i % 3, 0) {
                plain.accept(Some(&case)).unwrap();
            }
            if i == 0 {
                println!("started");
            }
            i += 1;
        }
    }
    let scratch = Scratch::new("snap-killed");
    let root = scratch.path().join("snapshots");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..15 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "snapshot::killed_while_writing_goldens_leaves_whole_files",
                "--nocapture",
                "-q",
            ])
            .env(CHILD_ENV, &root)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (started, out) = toron_suite::wait_for_line(child.stdout.take().unwrap(), "started");
        assert!(started, "round {round}: the child never started");
        toron_suite::xorshift(&mut seed);
        // While it writes, read: a reader must never see a partial golden or candidate.
        for _ in 0..1 + seed % 10 {
            let snaps = Snapshots::new(&root);
            for case in snaps.cases().unwrap() {
                snaps
                    .read(&case)
                    .unwrap_or_else(|e| panic!("round {round}, during writes: {e}"));
            }
            snaps
                .pending()
                .unwrap_or_else(|e| panic!("round {round}, during writes: {e}"));
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child.kill().unwrap();
        assert!(!child.wait().unwrap().success());
        drop(out);
        // Every golden and every candidate parses: a kill never leaves a torn file.
        let snaps = Snapshots::new(&root);
        for case in snaps.cases().unwrap() {
            snaps.read(&case).unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        snaps.pending().unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    assert!(!Snapshots::new(&root).cases().unwrap().is_empty());
}
