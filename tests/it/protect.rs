//! Issue 11 in runs: what cases write is scrubbed before it reaches the archive, goldens, reports and events;
//! findings are logged to `logs/pii_scrubber.log` without their values; strict mode fails the case and
//! quarantines the artifact; `pii == 0` gates; a `[[dataset]]` reaches a command and replays identically.

use std::path::Path;
use toron_core::runner::{replay, CaseOutcome, Manifest, ReplayStatus, Run, RunOptions, RunResult, RunState};

use crate::scratch::Scratch;

const EMAIL: &str = "jane.roe@corp-mail.com";
const CARD: &str = "4242 4242 4242 4242";

/// A command that copies a form holding the email and the card into a JSON artifact, and prints a greeting
/// with the email (the values come from files of the project, as a program's data would).
fn manifest(extra: &str) -> String {
    format!(
        r#"
[[suite]]
name = "signup"
[[suite.case]]
name = "form"
kind = "command"
argv = ["sh", "-c", "mkdir -p out && cp form.json out/form.json && cat greeting.txt"]
artifacts = ["out/form.json"]
golden = true

[[suite]]
name = "data"
[[suite.case]]
name = "rows"
kind = "command"
dataset = "people"
argv = ["sh", "-c", "mkdir -p out && printf '{{\"rows\": %s}}' $(wc -l < \"$TORON_DATASET_PEOPLE/people.jsonl\") > out/rows.json"]
artifacts = ["out/rows.json"]

[[dataset]]
name = "people"
schema = "people.toml"
seed = 5

{extra}
"#
    )
}

const SCHEMA: &str = r#"
version = 1
[[table]]
name = "people"
rows = 25
[[table.field]]
name = "id"
kind = "seq"
[[table.field]]
name = "name"
kind = "name"
"#;

fn project(name: &str, extra: &str) -> (Scratch, Manifest) {
    let dir = Scratch::new(&format!("protect-{name}"));
    std::fs::write(dir.join("people.toml"), SCHEMA).unwrap();
    std::fs::write(
        dir.join("form.json"),
        format!("{{\"user\": \"{EMAIL}\", \"card\": \"{CARD}\"}}"),
    )
    .unwrap();
    std::fs::write(dir.join("greeting.txt"), format!("welcome {EMAIL}\n")).unwrap();
    std::fs::write(dir.join("testops.toml"), manifest(extra)).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    (dir, m)
}

fn run(m: &Manifest, suite: &str) -> RunResult {
    let options = RunOptions {
        suites: vec![suite.to_string()],
        // Not check mode (unless CI is set): the missing golden leaves its candidate under snapshots/.
        check: false,
        ..Default::default()
    };
    Run::start(m, options).unwrap().wait().unwrap()
}

/// Every file under `dir`, as bytes.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

/// The files under `dir` (but those whose path relative to `dir` starts with one of `except`) that hold
/// `needle` in plain or zstd-compressed form.
fn holding(dir: &Path, needle: &str, except: &[&str]) -> Vec<std::path::PathBuf> {
    files(dir)
        .into_iter()
        .filter(|(p, _)| {
            let rel = p.strip_prefix(dir).unwrap_or(p).to_string_lossy().into_owned();
            !except.iter().any(|x| rel.starts_with(x))
        })
        .filter(|(_, b)| {
            let plain = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            plain(b) || zstd::decode_all(&b[..]).is_ok_and(|d| plain(&d))
        })
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn outputs_are_scrubbed_before_anything_is_written_and_findings_are_logged() {
    let (dir, m) = project("redact", "");
    let r = run(&m, "signup");
    // The golden is new (a candidate was left): the case fails on that, not on PII.
    let a = &r.cases[0].attempts[0];
    let kinds: Vec<(&str, &str)> = a.pii.iter().map(|f| (f.artifact.as_str(), f.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [("output", "card"), ("output", "email"), ("stdout", "email")],
        "{:?}",
        a.pii
    );
    assert!(a
        .pii
        .iter()
        .all(|f| f.action == "redacted" && f.placeholder.starts_with('<')));
    assert!(a.stdout.starts_with("welcome <EMAIL:"), "{}", a.stdout);
    assert_eq!(r.kpis.run["pii"], 3.0);
    // The same email, the same placeholder in the output and in stdout.
    assert_eq!(a.pii[1].placeholder, a.pii[2].placeholder);

    // Nothing Toron wrote holds the values: the archive (objects, manifests, events, the commands' whole
    // captured streams under .toron/logs), golden candidates, reports (report.json, index.html, junit.xml,
    // verdict.json). The command's own file (out/) and the project's inputs are the user's.
    // The golden candidate: beside the golden (`.new`), or only in the archive in check mode (as under CI=1);
    // either way among the files searched below.
    let golden = a.golden.as_ref().expect("the case compared its golden");
    assert!(dir.join("snapshots/signup/form.json.new").is_file() || golden.candidate.is_some());
    for value in [EMAIL, CARD] {
        let leaks = holding(&dir, value, &["out/", "form.json", "greeting.txt"]);
        assert!(leaks.is_empty(), "{value} found in {leaks:?}");
    }
    let page = std::fs::read_to_string(r.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(
        page.contains("PII redacted: 1 card, 2 email"),
        "the case row says what was found"
    );
    let log = std::fs::read_to_string(dir.join("logs/pii_scrubber.log")).unwrap();
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines
        .iter()
        .all(|l| l["run"] == r.id.as_str() && l["case"] == "signup/form"));
    assert_eq!(lines[0]["location"], "/artifacts/out~1form.json/card");
    assert!(!log.contains(EMAIL) && !log.contains("4242"), "{log}");
}

#[test]
fn strict_mode_fails_the_case_and_quarantines_the_artifact() {
    let (dir, m) = project("strict", "[pii]\nstrict = true\n[[gate]]\nrule = \"pii == 0\"\n");
    let r = run(&m, "signup");
    let c = &r.cases[0];
    assert_eq!(c.outcome, CaseOutcome::Failed);
    let message = c.attempts[0].message.as_deref().unwrap();
    assert!(
        message.starts_with("PII found (strict mode: 3 findings: card at /artifacts/out~1form.json/card"),
        "{message}"
    );
    assert_eq!((r.state, r.verdict.verdict.as_str()), (RunState::Failed, "NO-GO"));
    let failing: Vec<&str> = r.verdict.blocking_failures().map(|x| x.rule.as_str()).collect();
    assert_eq!(failing, ["pii == 0", "failed == 0"]);
    // The raw artifacts are in the quarantine, private; nowhere else; no golden candidate was compared.
    let q = toron_core::pii::Quarantine::new(dir.join(".toron/quarantine"));
    let entries = q.list().unwrap();
    let mut artifacts: Vec<&str> = entries.iter().map(|e| e.artifact.as_str()).collect();
    artifacts.sort_unstable();
    // The output document, the captured stdout, and the whole stdout stream under the archive's logs.
    assert_eq!(artifacts, ["log.stdout", "output", "stdout"], "{entries:?}");
    for e in &entries {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&e.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", e.path.display());
    }
    assert!(!dir.join("snapshots/signup/form.json.new").exists());
    for value in [EMAIL, CARD] {
        let leaks = holding(
            &dir,
            value,
            &["out/", ".toron/quarantine/", "form.json", "greeting.txt"],
        );
        assert!(leaks.is_empty(), "{value} found in {leaks:?}");
        assert!(!holding(&dir.join(".toron/quarantine"), value, &[]).is_empty());
    }
    let log = std::fs::read_to_string(dir.join("logs/pii_scrubber.log")).unwrap();
    assert!(log.lines().all(|l| l.contains("\"action\":\"quarantined\"")), "{log}");
}

#[test]
fn a_dataset_reaches_the_command_and_replays_identically() {
    let (dir, m) = project("dataset", "");
    let r = run(&m, "data");
    assert_eq!(r.cases[0].outcome, CaseOutcome::Passed, "{:?}", r.cases[0].attempts[0]);
    let d = &r.datasets[0];
    assert_eq!((d.name.as_str(), d.seed, d.tables[0].rows), ("people", 5, 25));
    assert!(d.dir.join("people.jsonl").is_file());
    let out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/rows.json")).unwrap()).unwrap();
    assert_eq!(out["rows"], 25);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.report_dir.as_ref().unwrap().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["datasets"][0]["digest"], d.digest.as_str());
    // Replay regenerates it from the archive alone (schema text and seed), with the same digest.
    let replayed = replay(dir.join(".toron"), &r.id).unwrap();
    assert_eq!(replayed.datasets.len(), 1);
    assert_eq!(
        replayed.datasets[0].status,
        ReplayStatus::Identical,
        "{:?}",
        replayed.datasets
    );
    assert!(replayed.identical);
}
