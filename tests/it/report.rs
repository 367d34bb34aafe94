//! Reports: coverage ingestion from fixtures written the way coverage.py and lcov write them.

use std::path::{Path, PathBuf};
use toron_core::report::coverage::Coverage;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runner/coverage")
        .join(name)
}

#[test]
fn coverage_py_total_is_reproduced() {
    // Hand count of coverage.xml: __init__.py 1/1, cart.py 3/4, pricing/rules.py 5/7 → 9/12 = 0.75, the file's
    // own `line-rate` (coverage.py's total with branch coverage off).
    let cov = Coverage::read(fixture("coverage.xml"), "/srv/shop").unwrap();
    assert_eq!((cov.lines_covered(), cov.lines_valid()), (9, 12));
    assert_eq!(cov.line_rate(), Some(0.75));
    let paths: Vec<String> = cov.files().map(|f| f.path).collect();
    assert_eq!(
        paths,
        ["backend/__init__.py", "backend/cart.py", "backend/pricing/rules.py"]
    );
}

#[test]
fn several_files_merge_and_a_line_is_covered_when_any_file_covers_it() {
    let cov = Coverage::read_all(&[fixture("coverage.xml"), fixture("web.info")], "/srv/shop").unwrap();
    // cart.py: line 5 now covered by lcov, line 6 new and uncovered → 5/6; web/app.js 2/3 (relative SF path).
    let files: Vec<_> = cov.files().map(|f| (f.path, f.lines_covered, f.lines_valid)).collect();
    assert_eq!(
        files,
        [
            ("backend/__init__.py".to_string(), 1, 1),
            ("backend/cart.py".to_string(), 4, 5),
            ("backend/pricing/rules.py".to_string(), 5, 7),
            ("web/app.js".to_string(), 2, 3),
        ]
    );
    assert_eq!((cov.lines_covered(), cov.lines_valid()), (12, 16));
}

#[test]
fn a_missing_coverage_file_is_an_io_error_naming_it() {
    let e = Coverage::read(fixture("nope.xml"), "/srv/shop").unwrap_err();
    assert_eq!(e.kind(), toron_core::ErrorKind::Io);
    assert!(e.to_string().contains("nope.xml"), "{e}");
}

mod files {
    use std::path::Path;
    use toron_core::runner::{Manifest, Run, RunOptions};

    use crate::scratch::Scratch;

    fn project(name: &str) -> (Scratch, Manifest) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner/run");
        let dir = Scratch::new(&format!("report-{name}"));
        std::fs::create_dir_all(dir.join("scenarios")).unwrap();
        for f in [
            "testops.toml",
            "cov-source.xml",
            "scenarios/echo.toml",
            "scenarios/kv_buggy.toml",
        ] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
        (dir, m)
    }

    fn read_json(p: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn a_flaky_case_shows_two_attempts_in_report_json_and_junit() {
        let (dir, m) = project("flaky");
        let opts = RunOptions {
            suites: vec!["unit".into(), "load".into()],
            check: true,
            ..Default::default()
        };
        let r = Run::start(&m, opts).unwrap().wait().unwrap();
        let out = r.report_dir.clone().expect("reports written");
        assert_eq!(out, dir.join("reports").join(&r.id));

        // The run's end writes report.json from the value it archives: the same bytes as report_json's.
        let text = std::fs::read_to_string(out.join("report.json")).unwrap();
        let expected = serde_json::to_string_pretty(&toron_core::report::json::report_json(&r)).unwrap() + "\n";
        assert_eq!(text, expected);
        let report = read_json(&out.join("report.json"));
        assert_eq!(
            (report["schema"].as_str(), report["version"].as_u64()),
            (Some("toron.report"), Some(1))
        );
        assert_eq!(report["run"]["id"], r.id.as_str());
        assert_eq!(report["run"]["suites"], serde_json::json!(["unit", "load"]));
        let flaky = &report["cases"][0];
        assert_eq!(
            (flaky["name"].as_str(), flaky["outcome"].as_str()),
            (Some("flaky"), Some("flaky"))
        );
        assert_eq!(flaky["attempts"].as_array().map(Vec::len), Some(2));
        assert_eq!(flaky["attempts"][0]["outcome"], "failed");
        assert_eq!(flaky["attempts"][0]["stdout"], "first\n");
        assert_eq!(report["kpis"]["run"]["flaky"], 1.0);
        assert_eq!(report["kpis"]["run"]["coverage"], 0.75);

        let verdict = read_json(&out.join("verdict.json"));
        assert_eq!(verdict["verdict"], report["verdict"]);
        // The manifest's five, then the case rules failed == 0 and errored == 0.
        assert_eq!(verdict["rules"].as_array().map(Vec::len), Some(7));
        // determinism has no data (no hardening suite ran) and the rule is explicit: it fails, NO-GO.
        assert_eq!(verdict["rules"][0]["status"], "failed");
        assert_eq!(verdict["verdict"], "NO-GO");
        for key in [
            "rule",
            "metric",
            "scope",
            "comparator",
            "threshold",
            "actual",
            "severity",
            "passed",
            "explanation",
        ] {
            assert!(verdict["rules"][0].get(key).is_some(), "{key}");
        }

        let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
        assert!(
            junit.contains(r#"<testsuite name="unit" tests="2" skipped="0" errors="0" failures="0""#),
            "{junit}"
        );
        let flaky_tc = junit
            .split("<testcase name=\"flaky\"")
            .nth(1)
            .unwrap()
            .split("</testcase>")
            .next()
            .unwrap();
        assert!(
            flaky_tc.contains(r#"<flakyFailure time="#) && flaky_tc.contains(r#"message="sh -c if"#),
            "{flaky_tc}"
        );
        assert!(flaky_tc.contains(r#"type="failed""#), "{flaky_tc}");
        assert!(flaky_tc.contains("<system-out>first\n</system-out>"), "{flaky_tc}");
        assert!(
            flaky_tc.contains(r#"<property name="attempts" value="2"/>"#),
            "{flaky_tc}"
        );
        assert!(junit.contains(r#"<testsuite name="load""#));
        assert!(junit.contains(r#"<property name="seed" value="7"/>"#));
        assert!(junit.contains(r#"<property name="digest" value=""#));
        // One testcase per gate rule; the failing blocking rule is a failure with its sentence.
        assert!(junit.contains(r#"<testsuite name="toron.gates" tests="7""#), "{junit}");
        assert!(
            junit.contains(r#"<failure message="Failed: the run has no determinism data for the run"#),
            "{junit}"
        );
    }

    #[test]
    fn a_failed_case_with_retries_has_rerun_failures() {
        let (dir, _) = project("rerun");
        let text = std::fs::read_to_string(dir.join("testops.toml")).unwrap()
            + "\n[[suite]]\nname = \"always\"\n[[suite.case]]\nname = \"fails\"\nkind = \"command\"\n\
               argv = [\"sh\", \"-c\", \"echo nope >&2; exit 2\"]\nretries = 2\n";
        std::fs::write(dir.join("testops.toml"), text).unwrap();
        let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
        let opts = RunOptions {
            suites: vec!["always".into()],
            check: true,
            ..Default::default()
        };
        let r = Run::start(&m, opts).unwrap().wait().unwrap();
        assert_eq!(r.cases[0].attempts.len(), 3);
        let junit = std::fs::read_to_string(r.report_dir.unwrap().join("junit.xml")).unwrap();
        assert_eq!(junit.matches("<rerunFailure ").count(), 2, "{junit}");
        assert!(
            junit.contains(
                r#"<failure message="sh -c echo nope &gt;&amp;2; exit 2 ended with exit code 2" type="failed""#
            ),
            "{junit}"
        );
        assert!(junit.contains("<system-err>nope\n</system-err>"), "{junit}");
    }
}
