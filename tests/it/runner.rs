//! The runner: the manifest fixture in `tests/fixtures/runner/ok` reads as the issue writes it.

use std::path::{Path, PathBuf};
use toron_core::gate::{Scope, Severity};
use toron_core::runner::{CaseKind, Manifest};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runner")
        .join(rel)
}

#[test]
fn the_issue_manifest_reads() {
    let m = Manifest::from_path(fixture("ok/testops.toml")).unwrap();
    assert_eq!(m.project.name, "shop");
    assert_eq!(m.project.jobs, Some(2));
    assert_eq!(m.defaults.schedule_timeout.secs_f64(), 60.0);
    let kinds: Vec<(String, CaseKind)> = m
        .suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (format!("{}/{}", s.name, c.name), c.kind)))
        .collect();
    assert_eq!(
        kinds,
        [
            ("sim/echo".to_string(), CaseKind::Sim),
            ("unit/backend".to_string(), CaseKind::Command),
            ("hardening/echo-repeat".to_string(), CaseKind::Determinism),
            ("load/checkout".to_string(), CaseKind::Load),
        ]
    );
    let offline: Vec<&str> = m
        .profile_suites(Some("offline"))
        .unwrap()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(offline, ["sim", "hardening"]);
    let d = &m.suites[2].cases[0];
    assert_eq!((d.repeats, d.threads.as_slice(), d.processes), (3, &[1usize, 2][..], 2));
    assert_eq!(m.suites[3].cases[0].seeds, [7]);
    assert_eq!(m.gates.len(), 4);
    assert_eq!(m.gates[2].scope, Scope::parse("load/checkout").unwrap());
    assert_eq!(m.gates[3].severity, Severity::Warn);
    assert_eq!(m.gates[3].baseline.as_deref(), Some("last-go"));
}

#[test]
fn every_bad_manifest_class_names_file_line_and_field() {
    let text = std::fs::read_to_string(fixture("ok/testops.toml")).unwrap();
    let dir = fixture("ok");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "seeds = [1, 2, 3]",
            "seedz = [1, 2, 3]",
            "suite[0].case[0].seedz",
            "unknown field `seedz`",
        ),
        (
            "name = \"unit\"",
            "name = \"sim\"",
            "suite[1].name",
            "duplicate suite name \"sim\"",
        ),
        (
            "kind = \"load\"",
            "kind = \"soak\"",
            "suite[3].case[0].kind",
            "unknown variant `soak`",
        ),
        (
            "rule = \"coverage >= 90%\"",
            "rule = \"coverge >= 90%\"",
            "gate[1].rule",
            "unknown metric \"coverge\"",
        ),
        (
            "rule = \"coverage >= 90%\"",
            "rule = \"coverage >>= 90%\"",
            "gate[1].rule",
            "is not a percentage",
        ),
        (
            "offline = [\"sim\", \"hardening\"]",
            "offline = [\"sim\", \"hard\"]",
            "profiles.offline[1]",
            "does not define",
        ),
        (
            "name = \"echo-repeat\"",
            "name = \"echo-repeat\"\nname2 = 1",
            "suite[2].case[0].name2",
            "unknown field",
        ),
        (
            "scenario = \"scenarios/echo.toml\"\nseed = 7",
            "scenario = \"scenarios/gone.toml\"\nseed = 7",
            "suite[3].case[0].scenario",
            "scenario file scenarios/gone.toml not found",
        ),
    ];
    for (from, to, field, needle) in cases {
        assert!(text.contains(from), "{from}");
        let bad = text.replacen(from, to, 1);
        let e = Manifest::from_str(&bad, &dir).expect_err(to);
        assert_eq!(e.kind(), toron_core::ErrorKind::Manifest, "{e}");
        assert_eq!(e.field(), Some(*field), "{e}");
        assert!(e.message().contains(needle), "{e}");
        // The line is the one the field is on.
        let line = e.line().expect("a line");
        let key = field.rsplit('.').next().unwrap().split('[').next().unwrap();
        assert!(
            bad.lines().nth(line - 1).is_some_and(|l| l.contains(key)),
            "line {line} of {to}: {e}"
        );
    }
    // Duplicate case names, within a suite.
    let dup = text.replacen(
        "[[gate]]",
        "[[suite.case]]\nname = \"checkout\"\nkind = \"command\"\nargv = [\"true\"]\n\n[[gate]]",
        1,
    );
    let e = Manifest::from_str(&dup, &dir).unwrap_err();
    assert_eq!(e.field(), Some("suite[3].case[1].name"));
}
