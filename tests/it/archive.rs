//! The run archive under concurrent writers and killed writers.
//!
//! The multi-process tests spawn this very test binary (`std::env::current_exe()`) with `CHILD_ENV` set: the
//! same test function then plays the child's part instead of the parent's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use toron_core::snapshot::archive::{Archive, CaseRecord, ObjectId};
use toron_core::snapshot::UtcTime;

use crate::scratch::Scratch;

const CHILD_ENV: &str = "TORON_IT_ARCHIVE_CHILD";
const ROOT_ENV: &str = "TORON_IT_ARCHIVE_ROOT";
const T: i64 = 1_795_515_330; // 2026-11-24T10:15:30Z

/// A realistic-ish output document: the value of case `i`, with a size that varies with `i`.
fn output(i: u64) -> Value {
    let records: Vec<Value> = (0..(i % 7 + 1) * 40)
        .map(|k| json!({"id": k, "node": format!("n{}", k % 5), "latency_ms": (k * 37 + i) % 1000, "ok": k % 11 != 0}))
        .collect();
    json!({"case": i, "stats": {"events": i * 1000 + 7, "dropped": i % 3}, "records": records})
}

/// `len` pseudo-random hex digits (poorly compressible, so writes of it take a while).
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"0123456789abcdef"[(x % 16) as usize])
        })
        .collect()
}

/// Run the child part if this process is a child; returns whether it was.
fn child(test: &str) -> bool {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return false;
    };
    let root = PathBuf::from(std::env::var(ROOT_ENV).expect("child needs its archive root"));
    let archive = Archive::open(root);
    let mut parts = role.split(':');
    match (test, parts.next()) {
        ("concurrent", Some("range")) => {
            let start: u64 = parts.next().unwrap().parse().unwrap();
            let end: u64 = parts.next().unwrap().parse().unwrap();
            // Runs of 10 cases each, all started "in the same second" so the two processes fight over tags.
            for chunk in (start..end).collect::<Vec<_>>().chunks(10) {
                let mut run = archive
                    .new_run_at("2.5.0", json!({"pid": std::process::id()}), UtcTime::from_unix(T))
                    .unwrap();
                for &i in chunk {
                    run.add_case(
                        &format!("case/{i}"),
                        &output(i),
                        CaseRecord::new().scenario("kv").seed(i),
                    )
                    .unwrap();
                }
                let m = run.finish().unwrap();
                println!("tag {}", m.tag);
            }
        }
        ("killed", Some("loop")) => {
            // Each round starts at its own offset, so rounds write new objects rather than the same ones.
            let first: u64 = parts.next().unwrap().parse().unwrap();
            let mut i = first;
            loop {
                let mut run = archive.new_run("2.5.0", Value::Null).unwrap();
                for _ in 0..5 {
                    // Some large objects, so that kills often land in the middle of a write.
                    let mut v = output(i);
                    if matches!(i % 4, 0) {
                        v["blob"] = json!(noise(i, 300_000 + (i as usize % 13) * 1000));
                    }
                    run.add_case(&format!("c{i}"), &v, CaseRecord::new().seed(i)).unwrap();
                    // A pack per case, so that kills also land in the middle of flushes.
                    run.flush().unwrap();
                    if i == first {
                        println!("started");
                    }
                    i += 1;
                }
                run.finish().unwrap();
            }
        }
        other => panic!("unknown child role {other:?}"),
    }
    true
}

fn spawn(test_name: &str, role: &str, root: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, role)
        .env(ROOT_ENV, root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Every run's manifest references objects that read back verified.
fn check_runs_readable(archive: &Archive) -> usize {
    let mut n = 0;
    for run in archive.runs().unwrap() {
        let m = archive.manifest(&run.tag).unwrap();
        for (case, entry) in &m.cases {
            let v = archive
                .get(&entry.object)
                .unwrap_or_else(|e| panic!("{}: {case}: {e}", run.tag));
            assert_eq!(ObjectId::of(&v).unwrap(), entry.object);
            n += 1;
        }
    }
    n
}

/// Read every object not read before (objects are immutable, so once is enough); temporary files are skipped.
fn read_new_objects(archive: &Archive, seen: &mut BTreeSet<String>, round: usize) {
    let Ok(shards) = std::fs::read_dir(archive.root().join("objects")) else {
        return;
    };
    for shard in shards {
        let shard = shard.unwrap();
        let prefix = shard.file_name().to_string_lossy().into_owned();
        if prefix == "pack" {
            continue; // a run's packed objects are read through its manifest (check_runs_readable)
        }
        for file in std::fs::read_dir(shard.path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let id = format!("{prefix}{name}");
            if seen.contains(&id) {
                continue;
            }
            let oid = ObjectId::parse(&id).unwrap();
            archive
                .get(&oid)
                .unwrap_or_else(|e| panic!("round {round}, during writes: {e}"));
            seen.insert(id);
        }
    }
}

#[test]
fn two_processes_write_the_same_archive() {
    if child("concurrent") {
        return;
    }
    let scratch = Scratch::new("archive-concurrent");
    let root = scratch.path().join(".toron");
    let name = "archive::two_processes_write_the_same_archive";
    // Overlapping ranges: objects 50..150 are written by both processes.
    let a = spawn(name, "range:0:150", &root);
    let b = spawn(name, "range:50:200", &root);
    let mut tags = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "child failed: {:?}", out.status);
        let text = String::from_utf8(out.stdout).unwrap();
        tags.extend(text.lines().filter_map(|l| l.strip_prefix("tag ")).map(str::to_string));
    }
    assert_eq!(tags.len(), 30, "15 runs per process");
    let unique: BTreeSet<&String> = tags.iter().collect();
    assert_eq!(unique.len(), 30, "tags are unique across processes: {tags:?}");
    let archive = Archive::open(&root);
    // Nothing lost: every value is there and reads back verified.
    for i in 0..200 {
        let id = ObjectId::of(&output(i)).unwrap();
        assert_eq!(archive.get(&id).unwrap(), output(i), "object {i}");
    }
    let runs = archive.runs().unwrap();
    assert_eq!(runs.len(), 30);
    assert_eq!(runs.iter().map(|r| r.cases).sum::<usize>(), 300);
    // Same second: the tags are the base tag and -1 .. -29, newest (highest suffix) first.
    assert_eq!(runs[0].tag, "run-2.5.0-20261124T101530Z-29");
    assert_eq!(runs[29].tag, "run-2.5.0-20261124T101530Z");
    assert_eq!(check_runs_readable(&archive), 300);
    let report = archive.verify().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.objects, report.runs), (200, 30));
    assert!(report.leftovers.is_empty(), "{:?}", report.leftovers);
}

#[test]
fn killed_writers_leave_an_archive_that_verifies() {
    if child("killed") {
        return;
    }
    let scratch = Scratch::new("archive-killed");
    let root = scratch.path().join(".toron");
    let archive = Archive::open(&root);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut leftovers = 0;
    let mut seen = BTreeSet::new();
    for round in 0..30 {
        let mut child = spawn(
            "archive::killed_writers_leave_an_archive_that_verifies",
            &format!("loop:{}", round * 1_000_000),
            &root,
        );
        // Wait until the child is writing, read while it writes, then kill it after a pseudo-random delay.
        // (libtest prints its own lines first; skip them.)
        let (started, out) = toron_suite::wait_for_line(child.stdout.take().unwrap(), "started");
        assert!(started, "round {round}: the child never started writing");
        toron_suite::xorshift(&mut seed);
        // While it writes, read the archive: a reader must never see a partial object or manifest.
        for _ in 0..1 + seed % 6 {
            read_new_objects(&archive, &mut seen, round);
            for run in archive.runs().unwrap() {
                archive.manifest(&run.tag).unwrap();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        drop(out);
        assert!(!status.success(), "round {round}: the child was killed, not finished");
        let report = archive.verify().unwrap();
        assert!(report.is_ok(), "round {round}: {:#?}", report.problems);
        leftovers = report.leftovers.len();
        check_runs_readable(&archive);
    }
    let report = archive.verify().unwrap();
    assert!(
        report.objects > 12,
        "the children wrote objects before being killed: {report:?}"
    );
    // Leftovers are temporary files or manifest-less run directories, never anything else.
    for path in &report.leftovers {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(name.ends_with(".tmp") || name.starts_with("run-"), "{}", path.display());
    }
    eprintln!(
        "killed writers: {} objects, {} runs, {leftovers} leftovers",
        report.objects, report.runs
    );
}

#[test]
fn corrupt_object_is_reported_by_id_and_path() {
    let scratch = Scratch::new("archive-corrupt");
    let archive = Archive::open(scratch.path().join(".toron"));
    let mut run = archive.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
    let id = run.add_case("c", &output(3), CaseRecord::new()).unwrap();
    let tag = run.finish().unwrap().tag;
    // The run's only object is its pack's only entry: header (16 bytes), entry, index (48), trailer (56).
    let path = archive.root().join("objects").join("pack").join(format!("{tag}.pack"));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 56 - 48 - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let e = archive.get(&id).unwrap_err();
    assert_eq!(e.kind(), toron_core::ErrorKind::Archive);
    let shown = e.to_string();
    assert!(
        shown.contains(id.as_str()) && shown.contains(&path.display().to_string()),
        "{shown}"
    );
    let report = archive.verify().unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(report.problems[0].path, path);
}
