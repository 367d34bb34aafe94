//! The warroom end to end, on a small manifest of sim cases run for real: a NO-GO opens an incident, a second
//! joins it, a rollback of the mismatched golden makes the case pass again, the GO run resolves it, and the
//! postmortem tells the story and keeps what a person wrote. Plus two processes racing on one dedup key.

use serde_json::json;
use std::path::{Path, PathBuf};
use toron_core::diff::DiffOptions;
use toron_core::runner::{CaseOutcome, Manifest, Run, RunOptions, RunResult};
use toron_core::snapshot::archive::Archive;
use toron_core::snapshot::Snapshots;
use toron_core::warroom::{OpenOn, OpenRequest, RollbackRequest, Status, Warroom, WarroomPolicy, What};
use toron_core::ErrorKind;

use crate::scratch::Scratch;

const MANIFEST: &str = r#"
[project]
name = "wr"

[defaults]
retries = 0

[profiles]
main = ["sim"]
broken = ["sim", "chaos"]

[[suite]]
name = "sim"

[[suite.case]]
name = "queue"
kind = "sim"
scenario = "scenarios/queue.toml"
seed = 7
golden = true

[[suite]]
name = "chaos"

[[suite.case]]
name = "kv-bug"
kind = "chaos"
scenario = "scenarios/kv_buggy.toml"
seeds = [1, 2]

[[gate]]
rule = "failed == 0"

# The runs themselves mark incidents green (the test records its NO-GOs by hand); a GO run resolves them.
[warroom]
auto_resolve = true
"#;

const QUEUE: &str = r#"
name = "queue"
stop = { requests = 300 }

[[node]]
id = "orders"
model = "queue"
params = { servers = 2, service = { dist = "exponential", mean = "400ms" } }

[load]
mode = "open"
target = "orders"
arrivals = "poisson"
rate = "4/s"
timeout = "1h"
"#;

/// A project in a scratch directory: the manifest, its two scenarios.
fn project(dir: &Path) -> Manifest {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::write(dir.join("testops.toml"), MANIFEST).unwrap();
    std::fs::write(dir.join("scenarios/queue.toml"), QUEUE).unwrap();
    let kv = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/testops/scenarios/kv_buggy.toml");
    std::fs::copy(kv, dir.join("scenarios/kv_buggy.toml")).unwrap();
    Manifest::from_path(dir.join("testops.toml")).unwrap()
}

fn run(m: &Manifest, profile: &str) -> RunResult {
    let options = RunOptions {
        profile: Some(profile.to_string()),
        jobs: Some(1),
        check: true,
        ..Default::default()
    };
    Run::start(m, options).unwrap().wait().unwrap()
}

fn case<'a>(r: &'a RunResult, id: &str) -> &'a toron_core::runner::CaseResult {
    r.cases.iter().find(|c| c.id() == id).unwrap()
}

const POLICY: WarroomPolicy = WarroomPolicy {
    open_on: OpenOn::NoGo,
    auto_resolve: true,
    dedup_key: None,
};

#[test]
fn a_no_go_opens_an_incident_a_rollback_fixes_it_and_the_postmortem_tells_it() {
    let dir = Scratch::new("warroom-flow");
    let m = project(&dir);
    let (archive, snapshots) = (dir.join(".toron"), dir.join("snapshots"));
    let w = Warroom::open(dir.join("warroom")).unwrap();

    // The golden is the case's output, then the run is GO.
    let first = run(&m, "main");
    let output = Archive::open(&archive).output(&first.id, "sim/queue").unwrap();
    Snapshots::new(&snapshots)
        .update(true)
        .check("sim/queue", &output, &DiffOptions::default())
        .unwrap();
    let good = run(&m, "main");
    assert!(good.verdict.go, "{:?}", good.verdict);
    assert!(w.record_run(&good, &POLICY).unwrap().is_none());

    // Someone accepts a bad golden: the next runs are NO-GO.
    Snapshots::new(&snapshots)
        .update(true)
        .check("sim/queue", &json!({"tampered": true}), &DiffOptions::default())
        .unwrap();
    let bad1 = run(&m, "main");
    assert!(!bad1.verdict.go);
    let opened = w.record_run(&bad1, &POLICY).unwrap().unwrap();
    assert!(opened.created);
    let inc = opened.incident;
    assert_eq!(inc.id, "INC-1");
    assert_eq!(inc.rules[0].rule, "failed == 0");
    assert_eq!(inc.rules[0].actual, Some(1.0));
    assert_eq!(inc.cases[0].case, "sim/queue");
    assert_eq!(inc.cases[0].golden.as_ref().unwrap().status, "failed");
    let bad2 = run(&m, "main");
    let joined = w.record_run(&bad2, &POLICY).unwrap().unwrap();
    assert!(!joined.created);
    assert_eq!(joined.incident.runs, [bad1.id.clone(), bad2.id.clone()]);
    let whats: Vec<What> = joined.incident.timeline.iter().map(|e| e.what).collect();
    assert_eq!(whats, [What::Opened, What::RunLinked]);

    // Another profile fails another way: its own incident, with the buggy kv's violations by seed; opening
    // by hand with no run id finds that newest NO-GO run and joins it.
    let broken = run(&m, "broken");
    let other = w.record_run(&broken, &POLICY).unwrap().unwrap();
    assert_eq!(other.incident.id, "INC-2");
    let kv = other.incident.cases.iter().find(|c| c.case == "chaos/kv-bug").unwrap();
    assert_eq!(kv.outcome, "failed");
    assert!(!kv.violations.is_empty());
    let again = w.open_incident(&archive, OpenRequest::default()).unwrap();
    assert_eq!((again.incident.id.as_str(), again.created), ("INC-2", false));
    // A GO run is refused by name.
    let e = w
        .open_incident(
            &archive,
            OpenRequest {
                run_id: Some(good.id.clone()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Warroom);
    assert!(e.to_string().contains(&format!("run {} is GO", good.id)), "{e}");

    // Roll the golden back to the GO run's output, for the incident.
    let rolled = w
        .rollback(RollbackRequest {
            archive_root: archive.clone(),
            snapshots_root: snapshots.clone(),
            cases: vec!["sim/queue".into()],
            to: good.id.clone(),
            incident: Some("INC-1".into()),
            who: Some("ana".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rolled.len(), 1);
    assert_eq!(rolled[0].source_run, good.id);
    w.mitigate("INC-1", "ana", Some("golden rolled back")).unwrap();
    let fixed = run(&m, "main");
    assert_eq!(case(&fixed, "sim/queue").outcome, CaseOutcome::Passed);
    assert!(fixed.verdict.go);
    w.record_run(&fixed, &POLICY).unwrap();
    let inc = w.incident("INC-1").unwrap();
    assert_eq!(inc.status, Status::Resolved);
    let whats: Vec<What> = inc.timeline.iter().map(|e| e.what).collect();
    assert_eq!(
        whats,
        [
            What::Opened,
            What::RunLinked,
            What::Rollback,
            What::Status,
            What::GatesGreen,
            What::Resolved
        ]
    );
    assert_eq!(inc.timeline[2].rollback, Some(1));

    // The postmortem: timeline, rules, rollback, KPIs before / during / after; a person's Root cause survives.
    let path = w.postmortem("INC-1", &archive, &dir.join("reports")).unwrap();
    assert_eq!(path, dir.join("warroom/postmortems/INC-1.md"));
    let md = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "# INC-1: NO-GO on profile main: failed == 0",
        "## Timeline",
        "| 3 |",
        "rollback",
        "## Rollbacks",
        "`failed == 0`",
        "sim/queue",
        &format!("before `{}`", good.id),
        &format!("during `{}`", bad1.id),
        &format!("after `{}`", fixed.id),
        "## Root cause",
        "## Action items",
    ] {
        assert!(md.contains(needle), "{needle:?} missing from\n{md}");
    }
    assert!(dir.join("warroom/postmortems/INC-1.html").exists());
    let written = md.replace(
        md.split("## Root cause\n")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap(),
        "\nA bad golden was accepted by hand.\n",
    );
    std::fs::write(&path, written).unwrap();
    w.note("INC-1", "ana", "postmortem review on Monday").unwrap();
    w.postmortem("INC-1", &archive, &dir.join("reports")).unwrap();
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(
        md.contains("## Root cause\n\nA bad golden was accepted by hand.\n"),
        "{md}"
    );
    assert!(md.contains("postmortem review on Monday"));
    let html = std::fs::read_to_string(dir.join("warroom/postmortems/INC-1.html")).unwrap();
    assert!(html.contains("A bad golden was accepted by hand."));
}

/// The child half of [`two_processes_opening_one_key_give_one_incident`]: does nothing unless the parent set
/// its environment.
#[test]
fn warroom_child_opens() {
    let (Ok(dir), Ok(run_id)) = (
        std::env::var("TORON_IT_WARROOM_DIR"),
        std::env::var("TORON_IT_WARROOM_RUN"),
    ) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let w = Warroom::open(dir.join("warroom")).unwrap();
    let request = OpenRequest {
        run_id: Some(run_id),
        ..Default::default()
    };
    let o = w.open_incident(&dir.join(".toron"), request).unwrap();
    println!("created={}", o.created);
}

#[test]
fn two_processes_opening_one_key_give_one_incident() {
    let dir = Scratch::new("warroom-race");
    let m = project(&dir);
    // No golden: sim/queue fails the same way in every run.
    let runs: Vec<String> = (0..3).map(|_| run(&m, "main").id).collect();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = runs
        .iter()
        .map(|id| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "warroom::warroom_child_opens",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("TORON_IT_WARROOM_DIR", dir.path())
                .env("TORON_IT_WARROOM_RUN", id)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut created = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("created="), "{text}");
        created += text.matches("created=true").count();
    }
    assert_eq!(created, 1);
    let w = Warroom::open(dir.join("warroom")).unwrap();
    let all = w.incidents(None).unwrap();
    assert_eq!(all.len(), 1);
    let mut linked = all[0].runs.clone();
    linked.sort();
    let mut expected = runs.clone();
    expected.sort();
    assert_eq!(linked, expected);
}

/// `[warroom] open_on = "no-go"` in runs: a NO-GO opens an incident, the next joins it, both run pages name
/// it, and a GO run afterwards marks it green (and resolves it with `auto_resolve`).
#[test]
fn a_manifest_with_open_on_no_go_opens_and_joins_incidents_from_its_runs() {
    use toron_core::runner::{Manifest, Run, RunOptions};
    use toron_core::warroom::{Status, Warroom};
    let dir = crate::scratch::Scratch::new("warroom-open-on");
    let manifest = "[[suite]]\nname = \"unit\"\n[[suite.case]]\nname = \"broken\"\nkind = \"command\"\n\
                    argv = [\"sh\", \"-c\", \"test -f fixed\"]\n[profiles]\nci = [\"unit\"]\n\
                    [warroom]\nopen_on = \"no-go\"\nauto_resolve = true\n";
    std::fs::write(dir.join("testops.toml"), manifest).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    let run = || {
        let options = RunOptions {
            profile: Some("ci".into()),
            check: true,
            ..Default::default()
        };
        Run::start(&m, options).unwrap().wait().unwrap()
    };
    let first = run();
    let opened = first.incident.clone().expect("the NO-GO run opened an incident");
    assert_eq!((opened.id.as_str(), opened.created), ("INC-1", true));
    let second = run();
    let joined = second.incident.clone().expect("the second NO-GO run joined it");
    assert_eq!((joined.id.as_str(), joined.created), ("INC-1", false));
    let page = std::fs::read_to_string(second.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(page.contains("INC-1 (sev2), joined by this run"), "{page}");
    let index = std::fs::read_to_string(dir.join("reports/index.html")).unwrap();
    assert!(index.contains("<td class=\"mono\">INC-1</td>"), "{index}");
    assert!(index.contains("<a href=\"./incidents.html\">incidents</a>"), "{index}");
    let incidents = std::fs::read_to_string(dir.join("reports/incidents.html")).unwrap();
    assert!(
        incidents.contains("<td class=\"mono\">INC-1</td><td class=\"o o-open\">open</td>"),
        "{incidents}"
    );
    // Fixed: the GO run marks the incident green and, with auto_resolve, resolves it.
    std::fs::write(dir.join("fixed"), "").unwrap();
    let third = run();
    assert!(third.verdict.go && third.incident.is_none());
    let w = Warroom::open(dir.join("warroom")).unwrap();
    let incident = w.incident("INC-1").unwrap();
    assert_eq!(incident.status, Status::Resolved);
    assert_eq!(incident.runs.len(), 2, "{:?}", incident.runs);
    let what: Vec<String> = incident.timeline.iter().map(|t| t.what.name().to_string()).collect();
    assert!(what.contains(&"gates_green".to_string()), "{what:?}");
    let incidents = std::fs::read_to_string(dir.join("reports/incidents.html")).unwrap();
    assert!(incidents.contains("1 incident, 0 not resolved"), "{incidents}");
}
