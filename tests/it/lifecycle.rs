//! The run lifecycle across processes: a run killed with SIGKILL is shown interrupted and its archive
//! verifies; a run that cannot get the archive's run slot errors after `schedule_timeout`; replay of an
//! archived run from the archive alone; determinism of command artifacts with the drifting JSON path;
//! `determinism.json`; unused goldens; snapshot refresh.
//!
//! The kill test spawns this very test binary (`std::env::current_exe()`) with `CHILD_ENV` set: the child
//! runs a manifest whose case sleeps, prints `started` once the run is running, and waits to be killed.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use toron_core::runner::{
    list_overviews, list_runs, load_run, refresh_snapshots, replay, CaseOutcome, Manifest, RefreshStatus, ReplayStatus,
    Run, RunOptions, RunOverview, RunState, INTERRUPTED,
};
use toron_core::snapshot::archive::{Archive, ObjectId};
use toron_core::ErrorKind;

use crate::scratch::Scratch;

const CHILD_ENV: &str = "TORON_IT_LIFECYCLE_CHILD";
const ROOT_ENV: &str = "TORON_IT_LIFECYCLE_ROOT";

const ECHO: &str = r#"
name = "echo"
stop = { requests = 50 }
[[node]]
id = "server"
model = "echo"
[network]
latency = { dist = "uniform", low = "1ms", high = "3ms" }
[load]
mode = "closed"
target = "server"
clients = 2
"#;

/// A fresh project directory with `testops.toml` (from `manifest`) and `echo.toml`.
fn project(name: &str, manifest: &str) -> (Scratch, Manifest) {
    let dir = Scratch::new(&format!("life-{name}"));
    std::fs::write(dir.join("echo.toml"), ECHO).unwrap();
    std::fs::write(dir.join("testops.toml"), manifest).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    (dir, m)
}

const SLEEPER: &str = r#"
[[suite]]
name = "slow"
[[suite.case]]
name = "sleeper"
kind = "command"
argv = ["sh", "-c", "sleep 30 & wait"]
"#;

#[test]
fn kill_9_child() {
    let Some(root) = std::env::var_os(ROOT_ENV).filter(|_| std::env::var_os(CHILD_ENV).is_some()) else {
        return; // only when spawned by the parent test
    };
    let m = Manifest::from_path(Path::new(&root).join("testops.toml")).unwrap();
    let run = Run::start(&m, RunOptions::default()).unwrap();
    for e in run.events(0) {
        if e.kind == "case.started" {
            break;
        }
    }
    // The log's writer thread appends lines a moment after they are emitted: wait until the file has it.
    let path = toron_core::runner::events_path(&m.resolve(&m.project.archive), run.id());
    for _ in 0..500 {
        let events = toron_core::runner::read_events(&path).unwrap_or_default();
        if events.iter().any(|e| e.kind == "case.started") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    println!("started {}", run.id());
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn a_run_killed_with_sigkill_is_interrupted_and_its_archive_verifies() {
    let (dir, _) = project("kill", SLEEPER);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lifecycle::kill_9_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(ROOT_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut id = None;
    for _ in 0..20 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut out, &mut line).unwrap_or(0) == 0 {
            break;
        }
        // libtest prints `test lifecycle::kill_9_child ... ` on the same line first.
        if let Some((_, rest)) = line.trim().split_once("started ") {
            id = Some(rest.to_string());
            break;
        }
    }
    let id = id.expect("the child started a run");
    let archive = dir.join(".toron");
    // While the child lives, the run is running.
    assert_eq!(load_run(&archive, &id).unwrap().state, RunState::Running);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // A command case being spawned at the moment of the kill holds a copy of the liveness lock's descriptor
    // between its fork and its exec (close-on-exec): the lock is released a moment later, not at once.
    let mut runs = list_runs(&archive).unwrap();
    for _ in 0..100 {
        if runs.iter().all(|r| r.state != RunState::Running) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        runs = list_runs(&archive).unwrap();
    }
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].id.as_str(), runs[0].state), (id.as_str(), RunState::Errored));
    assert_eq!(runs[0].error.as_deref(), Some(INTERRUPTED));
    assert_eq!(runs[0].verdict.verdict, "none");
    let report = Archive::open(&archive).verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    // The events written before the kill are whole lines.
    let events = toron_core::runner::read_events(toron_core::runner::events_path(&archive, &id)).unwrap();
    assert_eq!(events.first().map(|e| e.kind.as_str()), Some("run.scheduled"));
    assert!(events.iter().any(|e| e.kind == "case.started"));
}

#[test]
fn a_run_that_cannot_get_the_archive_stays_scheduled_then_errors_with_the_reason() {
    let (dir, m) = project("slot", SLEEPER);
    let first = Run::start(&m, RunOptions::default()).unwrap();
    for e in first.events(0) {
        if e.kind == "case.started" {
            break;
        }
    }
    let quick = "[defaults]\nschedule_timeout = \"300ms\"\n[[suite]]\nname = \"unit\"\n[[suite.case]]\n\
                 name = \"ok\"\nkind = \"command\"\nargv = [\"true\"]\n";
    std::fs::write(dir.join("quick.toml"), quick).unwrap();
    let m2 = Manifest::from_path(dir.join("quick.toml")).unwrap();
    let second = Run::start(&m2, RunOptions::default()).unwrap();
    assert_eq!(second.state(), RunState::Scheduled);
    let r = second.wait().unwrap();
    assert_eq!(r.state, RunState::Errored);
    let why = r.error.unwrap();
    assert!(why.contains("still scheduled after 300ms"), "{why}");
    assert_eq!(r.cases[0].outcome, CaseOutcome::Skipped);
    first.cancel();
    assert_eq!(first.wait().unwrap().state, RunState::Cancelled);
    // Both are in the archive with their final states.
    let states: Vec<RunState> = list_runs(dir.join(".toron")).unwrap().iter().map(|r| r.state).collect();
    assert!(
        states.contains(&RunState::Cancelled) && states.contains(&RunState::Errored),
        "{states:?}"
    );
    drop(m);
}

const REPLAYABLE: &str = r#"
[[suite]]
name = "sim"
[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seeds = [1, 2]
[[suite]]
name = "hardening"
[[suite.case]]
name = "echo-repeat"
kind = "determinism"
scenario = "echo.toml"
seeds = [3]
repeats = 2
threads = [1, 2]
[[suite]]
name = "unit"
[[suite.case]]
name = "true"
kind = "command"
argv = ["true"]
"#;

#[test]
fn a_finished_run_comes_back_whole_and_its_manifest_keeps_only_the_overview() {
    let (dir, m) = project("whole", REPLAYABLE);
    let run = Run::start(&m, RunOptions::default()).unwrap().wait().unwrap();
    assert_eq!(run.state, RunState::Passed, "{:?}", run.error);
    let archive = dir.join(".toron");
    // Outputs are the cases' own objects, not part of the serialised result.
    let json = |r: &toron_core::runner::RunResult| serde_json::to_value(r).unwrap();
    assert_eq!(json(&load_run(&archive, &run.id).unwrap()), json(&run));
    assert_eq!(
        list_runs(&archive).unwrap().iter().map(json).collect::<Vec<_>>(),
        [json(&run)]
    );
    assert_eq!(list_overviews(&archive).unwrap(), [RunOverview::from(&run)]);
    // The manifest names the result object; it does not hold the cases' results.
    let a = Archive::open(&archive);
    let meta = a.manifest(&run.id).unwrap().meta;
    let id = meta["result"].as_str().expect("the result's object id");
    assert!(meta.get("cases").is_some_and(|c| c == 3), "{meta}");
    assert!(!meta.to_string().contains("attempts"), "{meta}");
    let stored: toron_core::runner::RunResult =
        serde_json::from_value(a.get(&ObjectId::parse(id).unwrap()).unwrap()).unwrap();
    assert_eq!(json(&stored), json(&run));
    assert!(a.verify().unwrap().is_ok());
}

#[test]
fn a_run_whose_reports_cannot_be_written_is_archived_errored_with_its_outputs() {
    let manifest = format!("[project]\nreports = \"a-file\"\n{REPLAYABLE}");
    let (dir, m) = project("unwritable-reports", &manifest);
    std::fs::write(dir.join("a-file"), "").unwrap();
    let run = Run::start(&m, RunOptions::default()).unwrap().wait().unwrap();
    assert_eq!((run.state, run.report_dir.as_ref()), (RunState::Errored, None));
    assert!(
        run.error.as_deref().is_some_and(|e| e.contains("a-file")),
        "{:?}",
        run.error
    );
    // The archive has the errored result and every case's output (the archive was written beside the
    // reports, assuming they would succeed).
    let archive = dir.join(".toron");
    let back = load_run(&archive, &run.id).unwrap();
    assert_eq!(
        (back.state, back.error.as_deref()),
        (RunState::Errored, run.error.as_deref())
    );
    assert_eq!(list_overviews(&archive).unwrap()[0].state, RunState::Errored);
    let a = Archive::open(&archive);
    assert!(a.output(&run.id, "sim/echo").unwrap()["1"]["digest"].is_string());
    assert!(a.verify().unwrap().is_ok());
}

#[test]
fn replay_reruns_from_the_archive_and_finds_a_changed_output() {
    let (dir, m) = project("replay", REPLAYABLE);
    let run = Run::start(&m, RunOptions::default()).unwrap().wait().unwrap();
    assert_eq!(run.state, RunState::Passed, "{:?}", run.error);
    let archive = dir.join(".toron");
    // The working tree's scenario changes; replay uses the archived one.
    std::fs::write(dir.join("echo.toml"), ECHO.replace("requests = 50", "requests = 7")).unwrap();
    let r = replay(&archive, &run.id).unwrap();
    let statuses: Vec<(&str, ReplayStatus)> = r.cases.iter().map(|c| (c.case.as_str(), c.status)).collect();
    assert_eq!(
        statuses,
        [
            ("hardening/echo-repeat", ReplayStatus::Identical),
            ("sim/echo", ReplayStatus::Identical),
            ("unit/true", ReplayStatus::NotReplayed),
        ]
    );
    assert!(r.identical);
    assert_eq!(r.cases[1].seeds, [1, 2]);

    // Point the archived sim output at another value: replay shows the difference.
    let a = Archive::open(&archive);
    let mut manifest = a.manifest(&run.id).unwrap();
    let entry = manifest.cases.get_mut("sim/echo").unwrap();
    let mut old = a.get(&entry.object).unwrap();
    old["1"]["stats"]["events"] = Value::from(1);
    entry.object = a.put(&old).unwrap();
    a.write_manifest(&run.id, &manifest).unwrap();
    let r = replay(&archive, &run.id).unwrap();
    assert!(!r.identical);
    let echo = r.cases.iter().find(|c| c.case == "sim/echo").unwrap();
    assert_eq!(echo.status, ReplayStatus::Differs);
    assert!(
        echo.text.as_deref().unwrap().contains("/1/stats/events"),
        "{:?}",
        echo.text
    );

    let e = replay(&archive, "run-2.5.0-20000101T000000Z").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains(&run.id), "the newest ids are listed: {e}");
}

#[test]
fn a_nondeterministic_command_artifact_is_caught_with_its_json_path() {
    let manifest = r#"
[[suite]]
name = "hardening"
[[suite.case]]
name = "stable"
kind = "determinism"
argv = ["sh", "-c", "echo '{\"a\": 1, \"b\": [1, 2]}' > stable.json"]
artifacts = ["stable.json"]
repeats = 3
[[suite.case]]
name = "clock"
kind = "determinism"
argv = ["sh", "-c", "echo \"{\\\"a\\\": 1, \\\"meta\\\": {\\\"pid\\\": $$}}\" > clock.json"]
artifacts = ["clock.json"]
repeats = 2
"#;
    let (dir, m) = project("artifacts", manifest);
    let r = Run::start(&m, RunOptions::default()).unwrap().wait().unwrap();
    let stable = &r.cases[0];
    assert_eq!(
        stable.outcome,
        CaseOutcome::Passed,
        "{:?}",
        stable.last().unwrap().message
    );
    let d = stable.last().unwrap().determinism.as_ref().unwrap();
    assert!(d.deterministic);
    assert_eq!(d.artifacts["stable.json"].values().copied().collect::<Vec<_>>(), [3]);
    let clock = &r.cases[1];
    assert_eq!(clock.outcome, CaseOutcome::Failed);
    let d = clock.last().unwrap().determinism.as_ref().unwrap();
    assert!(!d.deterministic);
    assert_eq!(d.artifact_drift.len(), 1);
    assert_eq!(
        (d.artifact_drift[0].artifact.as_str(), d.artifact_drift[0].path.as_str()),
        ("clock.json", "/meta/pid")
    );
    assert_ne!(d.artifact_drift[0].a, d.artifact_drift[0].b);
    assert!(clock
        .last()
        .unwrap()
        .message
        .as_deref()
        .unwrap()
        .contains("clock.json /meta/pid"));

    // determinism.json, latest and per run, names the drift.
    let reports = dir.join("reports");
    for path in [
        reports.join("determinism.json"),
        reports.join(&r.id).join("determinism.json"),
    ] {
        let j: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(j["run"], r.id.as_str());
        assert_eq!(j["deterministic"], false);
        assert_eq!(j["cases"][1]["case"], "hardening/clock");
        assert_eq!(j["cases"][1]["artifact_drift"][0]["path"], "/meta/pid");
        assert_eq!(j["cases"][0]["deterministic"], true);
    }
}

#[test]
fn unused_goldens_are_reported_for_suites_that_ran_and_never_deleted() {
    let manifest = r#"
[[suite]]
name = "sim"
[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
golden = true
[[suite]]
name = "other"
[[suite.case]]
name = "t"
kind = "command"
argv = ["true"]
"#;
    let (dir, m) = project("unused", manifest);
    let first = refresh_snapshots(&m, None, &[], None).unwrap();
    assert_eq!(first.summary(), "1 created, 0 changed, 0 unchanged");
    let snaps = dir.join("snapshots");
    std::fs::copy(snaps.join("sim/echo.json"), snaps.join("sim/gone.json")).unwrap();
    std::fs::create_dir_all(snaps.join("elsewhere")).unwrap();
    std::fs::copy(snaps.join("sim/echo.json"), snaps.join("elsewhere/x.json")).unwrap();
    let opts = RunOptions {
        suites: vec!["sim".into()],
        check: true,
        ..Default::default()
    };
    let r = Run::start(&m, opts).unwrap().wait().unwrap();
    assert_eq!(r.state, RunState::Passed, "{:?}", r.cases[0].last().unwrap().message);
    assert_eq!(r.unused_goldens, ["sim/gone"]);
    assert!(snaps.join("sim/gone.json").exists());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(r.report_dir.unwrap().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["unused_goldens"], serde_json::json!(["sim/gone"]));

    // A changed scenario: refresh rewrites the golden and shows the change; unchanged ones stay untouched.
    std::fs::write(dir.join("echo.toml"), ECHO.replace("requests = 50", "requests = 60")).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap(); // the manifest reads its scenarios
    let again = refresh_snapshots(&m, None, &["sim".to_string()], None).unwrap();
    assert_eq!(again.entries[0].status, RefreshStatus::Changed);
    assert!(
        again.entries[0].text.as_deref().unwrap().contains("requests"),
        "{:?}",
        again.entries[0]
    );
    let before = std::fs::metadata(snaps.join("sim/echo.json"))
        .unwrap()
        .modified()
        .unwrap();
    let third = refresh_snapshots(&m, None, &[], None).unwrap();
    assert_eq!(third.summary(), "0 created, 0 changed, 1 unchanged");
    assert_eq!(
        std::fs::metadata(snaps.join("sim/echo.json"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
}
