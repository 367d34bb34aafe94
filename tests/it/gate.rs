//! Gates over the manifest fixture's rules: GO, NO-GO and not evaluated, with their sentences.

use std::collections::BTreeMap;
use std::path::Path;
use toron_core::gate::{evaluate, LatencyStat, Metric, RuleStatus, Scope};
use toron_core::report::Kpis;
use toron_core::runner::Manifest;

#[test]
fn the_fixture_gates_decide_go_and_no_go() {
    let m = Manifest::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner/ok/testops.toml"))
        .unwrap();
    let checkout = Scope::parse("load/checkout").unwrap();
    let p99 = Metric::Latency(LatencyStat::P99);
    let mut kpis = Kpis::default();
    kpis.set(&Scope::Run, Metric::Determinism, 1.0);
    kpis.set(&Scope::Run, Metric::Coverage, 0.95);
    kpis.set(&checkout, p99, 0.010);

    // No baseline yet: the warn rule is not evaluated (nothing to compare with), the verdict is still GO.
    let v = evaluate(&m.gates, &kpis, &BTreeMap::new());
    let status: Vec<RuleStatus> = v.rules.iter().map(|r| r.status).collect();
    assert_eq!(
        status,
        [
            RuleStatus::Passed,
            RuleStatus::Passed,
            RuleStatus::Passed,
            RuleStatus::NotEvaluated,
            // The case rules the manifest does not write (failed == 0, errored == 0): no case data here.
            RuleStatus::NotEvaluated,
            RuleStatus::NotEvaluated,
        ]
    );
    assert!(v.go, "{v:?}");
    assert!(
        v.rules[3].explanation.starts_with("Not evaluated: ")
            && v.rules[3].explanation.contains("no baseline run \"last-go\""),
        "{}",
        v.rules[3].explanation
    );

    // Coverage under the gate: NO-GO, with the failing rule and a sentence.
    kpis.set(&Scope::Run, Metric::Coverage, 0.75);
    let v = evaluate(&m.gates, &kpis, &BTreeMap::new());
    assert!(!v.go);
    let failing: Vec<&str> = v.blocking_failures().map(|r| r.rule.as_str()).collect();
    assert_eq!(failing, ["coverage >= 90%"]);
    assert_eq!(
        v.rules[1].explanation,
        "Failed: coverage for the run is 75%, but the rule requires at least 90%."
    );
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["verdict"], "NO-GO");
    assert_eq!(json["rules"][2]["scope"], "load/checkout");
    assert_eq!(json["rules"][2]["threshold"], 0.05);
}

#[test]
fn last_go_baseline_comes_from_the_archive() {
    use toron_core::runner::{Run, RunOptions};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner/run");
    let dir = crate::scratch::Scratch::new("gate-last-go");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(src.join("scenarios/echo.toml"), dir.join("scenarios/echo.toml")).unwrap();
    let manifest = "[[suite]]\nname = \"load\"\n[[suite.case]]\nname = \"checkout\"\nkind = \"load\"\n\
                    scenario = \"scenarios/echo.toml\"\nseed = 7\n\
                    [[gate]]\nrule = \"latency.p99 <= baseline * 1.10\"\nscope = \"load/checkout\"\nseverity = \"warn\"\n";
    std::fs::write(dir.join("testops.toml"), manifest).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    let opts = RunOptions {
        check: true,
        ..Default::default()
    };
    // First run: no GO run yet, the (warn) rule is not evaluated, with the reason; the verdict is GO.
    let first = Run::start(&m, opts.clone()).unwrap().wait().unwrap();
    assert!(first.verdict.go);
    let r = &first.verdict.rules[0];
    assert_eq!(r.status, RuleStatus::NotEvaluated);
    assert_eq!(
        r.explanation,
        "Not evaluated: latency.p99 for load/checkout is 10ms, but there is no earlier GO run to compare \
         latency.p99 with (baseline last-go)."
            .replace("10ms", &Metric::Latency(LatencyStat::P99).show(r.actual.unwrap()))
    );
    assert_eq!(r.baseline_id, None);
    // Second run: the first is the last GO run; same seed, same latency: passes against baseline × 1.1.
    let second = Run::start(&m, opts).unwrap().wait().unwrap();
    let r = &second.verdict.rules[0];
    assert_eq!(r.status, RuleStatus::Passed, "{}", r.explanation);
    assert_eq!(r.baseline, r.actual);
    assert_eq!(r.baseline_run.as_deref(), Some("last-go"));
    assert_eq!(r.baseline_id.as_deref(), Some(first.id.as_str()));
}

/// `last-go` is the newest GO run of the same profile: a run of another profile in between (one that has the
/// metric, one that does not) does not hide it; with no GO run of the profile, the newest GO run that has the
/// metric is used.
#[test]
fn last_go_is_the_last_go_run_of_the_same_profile() {
    use toron_core::runner::{Run, RunOptions};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner/run");
    let dir = crate::scratch::Scratch::new("gate-last-go-profile");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(src.join("scenarios/echo.toml"), dir.join("scenarios/echo.toml")).unwrap();
    let manifest = "[profiles]\nfull = [\"load\"]\nsmoke = [\"load\"]\noffline = [\"quiet\"]\nsolo = [\"load\"]\n\
                    [[suite]]\nname = \"load\"\n[[suite.case]]\nname = \"echo\"\nkind = \"load\"\n\
                    scenario = \"scenarios/echo.toml\"\nseed = 7\n\
                    [[suite]]\nname = \"quiet\"\n[[suite.case]]\nname = \"other\"\nkind = \"load\"\n\
                    scenario = \"scenarios/echo.toml\"\nseed = 8\n\
                    [[gate]]\nrule = \"throughput >= baseline * 0.90\"\nscope = \"load/echo\"\nseverity = \"warn\"\n";
    std::fs::write(dir.join("testops.toml"), manifest).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    let run = |profile: &str| {
        let opts = RunOptions {
            check: true,
            profile: Some(profile.to_string()),
            ..Default::default()
        };
        Run::start(&m, opts).unwrap().wait().unwrap()
    };
    let full = run("full");
    assert_eq!(full.verdict.rules[0].status, RuleStatus::NotEvaluated);
    let smoke = run("smoke");
    assert_eq!(
        smoke.verdict.rules[0].baseline_id.as_deref(),
        Some(full.id.as_str()),
        "the only GO run with it"
    );
    let offline = run("offline");
    assert!(offline.verdict.go);
    let again = run("full");
    let r = &again.verdict.rules[0];
    assert_eq!(r.status, RuleStatus::Passed, "{}", r.explanation);
    assert_eq!(
        r.baseline_id.as_deref(),
        Some(full.id.as_str()),
        "the last full run, not {}",
        smoke.id
    );
    assert!(r.explanation.contains("within at least"), "{}", r.explanation);
    // No GO run of `solo` yet: the newest GO run that has load/echo's throughput (not the offline one).
    let solo = run("solo");
    assert_eq!(solo.verdict.rules[0].baseline_id.as_deref(), Some(again.id.as_str()));
    let json = serde_json::to_value(&solo.verdict).unwrap();
    assert_eq!(json["rules"][0]["baseline_id"], again.id.as_str());
    assert_eq!(json["rules"][0]["baseline_run"], "last-go");
}

#[test]
fn a_rule_scoped_to_a_suite_the_run_did_not_select_is_not_evaluated_but_one_that_ran_without_data_fails() {
    use toron_core::gate::{evaluate, Gate, Metric, RuleStatus, Scope};
    use toron_core::report::Kpis;
    let mut kpis = Kpis::default();
    let sim = Scope::parse("sim").unwrap();
    kpis.set(&sim, Metric::Failed, 0.0);
    let mut absent = Gate::new(toron_core::gate::Rule::parse("coverage >= 90%").unwrap());
    absent.scope = Scope::parse("unit").unwrap();
    let mut present = Gate::new(toron_core::gate::Rule::parse("coverage >= 90%").unwrap());
    present.scope = sim;
    let v = evaluate(&[absent, present], &kpis, &Default::default());
    assert_eq!(v.rules[0].status, RuleStatus::NotEvaluated);
    assert_eq!(v.rules[0].explanation, "Not evaluated: unit was not part of this run.");
    assert_eq!(v.rules[1].status, RuleStatus::Failed);
    assert!(!v.go);
}
