//! The checkers on simulations: the load's history and `[invariants] linearizable`, marks and
//! `[expect] sometimes`, and shrinking a failing scenario.

use toron_core::check::{self, ModelKind, OpType};
use toron_core::scenario::{Format, Scenario};
use toron_core::shrink::{shrink, ShrinkOptions};
use toron_core::sim::{self, SimOptions};
use toron_core::ErrorKind;
use toron_suite::repo_path;

fn scenario(path: &str) -> Scenario {
    Scenario::from_path(repo_path(path)).unwrap()
}

/// `kv_buggy.toml` with the linearizability invariant added.
fn kv_buggy_linearizable() -> Scenario {
    let text = std::fs::read_to_string(repo_path("examples/scenarios/kv_buggy.toml")).unwrap();
    Scenario::from_str(&format!("{text}\n[invariants]\nlinearizable = \"kv\"\n"), Format::Toml).unwrap()
}

fn with_history(s: &Scenario, seed: u64) -> sim::Outcome {
    sim::simulate_with(
        s,
        &SimOptions {
            seed: Some(seed),
            history: true,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn recording_the_history_never_changes_the_digest() {
    for path in [
        "examples/scenarios/kv.toml",
        "examples/scenarios/kv_buggy.toml",
        "examples/scenarios/echo.toml",
    ] {
        let s = scenario(path);
        let plain = sim::simulate(&s, Some(3)).unwrap();
        let recorded = with_history(&s, 3);
        assert_eq!(plain.digest, recorded.digest, "{path}");
        assert!(plain.history.is_none(), "{path}: no history unless asked");
        let h = recorded.history.expect("asked for");
        // One invocation per request sent; every completion pairs with an invocation of its process.
        let invokes = h.ops.iter().filter(|o| o.r#type == OpType::Invoke).count() as u64;
        assert_eq!(invokes, recorded.stats.requests_sent, "{path}");
        h.calls().unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

#[test]
fn the_correct_kv_is_linearizable_and_timeouts_are_info() {
    let o = with_history(&scenario("examples/scenarios/kv.toml"), 1);
    let h = o.history.unwrap();
    let infos = h.ops.iter().filter(|o| o.r#type == OpType::Info).count() as u64;
    assert_eq!(infos, o.stats.requests_timeout, "a timeout is indeterminate: info");
    let v = check::check(&h, ModelKind::Kv, None).unwrap();
    assert_eq!(v.linearizable, Some(true), "{}", v.text());
    // A process that timed out is not used again (one operation at a time per process, as in Jepsen).
    assert!(h.ops.iter().any(|o| o.process >= 8), "new processes after timeouts");
}

#[test]
fn kv_buggy_lost_writes_are_caught_by_linearizable_as_well_as_by_the_model_invariant() {
    let o = sim::simulate(&kv_buggy_linearizable(), Some(3)).unwrap();
    let names: Vec<&str> = o.violations.iter().map(|v| v.invariant.as_str()).collect();
    assert!(names.contains(&"acknowledged_write_lost"), "{names:?}");
    let lin = o
        .violations
        .iter()
        .find(|v| v.invariant == "linearizable")
        .expect("linearizable violation");
    assert!(lin.message.contains("cannot"), "{}", lin.message);
    assert!(lin.message.contains("on key"), "{}", lin.message);
    let verdict = o.linearizable.as_ref().unwrap();
    assert_eq!(verdict.linearizable, Some(false));
    assert!(!verdict.counterexample.as_ref().unwrap().ops.is_empty());
    // Violations stay in time order.
    assert!(o.violations.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    // The invariant reads the run, it never changes it.
    assert_eq!(
        o.digest,
        sim::simulate(&scenario("examples/scenarios/kv_buggy.toml"), Some(3))
            .unwrap()
            .digest
    );
    // The correct kv passes the same check.
    let text = std::fs::read_to_string(repo_path("examples/scenarios/kv.toml")).unwrap();
    let ok = Scenario::from_str(&format!("{text}\n[invariants]\nlinearizable = \"kv\"\n"), Format::Toml).unwrap();
    let o = sim::simulate(&ok, Some(3)).unwrap();
    assert!(o.violations.is_empty(), "{:?}", o.violations);
    assert_eq!(o.linearizable.unwrap().linearizable, Some(true));
}

#[test]
fn linearizable_needs_a_kv_load_and_a_model_name() {
    let echo = std::fs::read_to_string(repo_path("examples/scenarios/echo.toml")).unwrap();
    let e = Scenario::from_str(&format!("{echo}\n[invariants]\nlinearizable = \"kv\"\n"), Format::Toml).unwrap_err();
    assert_eq!(e.field(), Some("invariants.linearizable"), "{e}");
    assert!(e.message().contains("needs a [load] on kv nodes"), "{e}");
    let kv = std::fs::read_to_string(repo_path("examples/scenarios/kv.toml")).unwrap();
    let e = Scenario::from_str(&format!("{kv}\n[invariants]\nlinearizable = \"kvv\"\n"), Format::Toml).unwrap_err();
    assert!(
        e.message().contains("expected one of: register, cas-register, kv"),
        "{e}"
    );
    assert!(e.line().is_some(), "{e}");
}

#[test]
fn faults_set_marks_and_sometimes_names_the_mark_no_seed_reached() {
    let text = std::fs::read_to_string(repo_path("examples/scenarios/kv.toml")).unwrap();
    let o = sim::simulate(&scenario("examples/scenarios/kv.toml"), Some(1)).unwrap();
    assert_eq!(o.coverage.get("fault.crash"), Some(&2), "{:?}", o.coverage);
    let s = Scenario::from_str(
        &format!("{text}\n[expect]\nsometimes = [\"kv.failover\", \"fault.crash\", \"never.here\"]\n"),
        Format::Toml,
    )
    .unwrap();
    let e = sim::sweep(&s, &[1, 2, 3], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Expectation);
    assert!(
        e.message()
            .contains("`never.here` never reached on any of 3 seeds (1, 2, 3)"),
        "{e}"
    );
    assert!(!e.message().contains("`kv.failover`"), "{e}");
    let outcomes = sim::sweep_with(&s, &[1, 2, 3], None, None).unwrap();
    let marks = sim::sometimes(&s, &outcomes);
    assert_eq!(marks[1], ("fault.crash".to_string(), vec![1, 2, 3]));
    assert_eq!(marks[2], ("never.here".to_string(), vec![]));
    let reached = Scenario::from_str(
        &format!("{text}\n[expect]\nsometimes = [\"fault.crash\"]\n"),
        Format::Toml,
    )
    .unwrap();
    assert_eq!(sim::sweep(&reached, &[1, 2], None).unwrap().len(), 2);
    let e = Scenario::from_str(&format!("{text}\n[expect]\nsometimes = [\"a\", \"a\"]\n"), Format::Toml).unwrap_err();
    assert_eq!(e.field(), Some("expect.sometimes[1]"), "{e}");
}

#[test]
fn kv_buggy_shrinks_to_a_couple_of_faults_and_a_handful_of_requests_and_replays() {
    let s = scenario("examples/scenarios/kv_buggy.toml");
    let shrunk = shrink(&s, Some(3), &ShrinkOptions::default()).unwrap();
    assert_eq!(shrunk.invariant, "acknowledged_write_lost");
    assert_eq!(shrunk.original.faults, 4);
    assert!(shrunk.minimal.faults <= 2, "{:?}", shrunk.minimal);
    // One crash just after one acknowledged write, one client, and the few requests that write, see it
    // acknowledged and read it back from the backup (from 10 650 requests of 8 clients).
    assert_eq!(shrunk.minimal.faults, 1, "{}", shrunk.to_toml().unwrap());
    assert_eq!(shrunk.minimal.clients, 1, "{}", shrunk.to_toml().unwrap());
    assert!(
        shrunk.minimal.requests <= 5,
        "{:?}\n{}",
        shrunk.minimal,
        shrunk.to_toml().unwrap()
    );
    assert!(shrunk.minimal.clients <= shrunk.original.clients);
    assert!(!shrunk.exhausted, "converged within the budget");
    // The minimal scenario, written and read back, replays to the same violation by itself.
    let text = shrunk.to_toml().unwrap();
    assert!(text.starts_with("# Shrunk by `toron shrink` from kv_buggy"), "{text}");
    let again = Scenario::from_str(&text, Format::Toml).unwrap();
    assert_eq!(again.spec().seed, Some(3));
    let o = sim::simulate(&again, None).unwrap();
    assert_eq!(o.violations[0].invariant, "acknowledged_write_lost", "{text}");
    // Deterministic: the same input shrinks the same way.
    let twice = shrink(&s, Some(3), &ShrinkOptions::default()).unwrap();
    assert_eq!(twice.to_toml().unwrap(), text);
}

#[test]
fn shrinking_a_passing_seed_says_there_is_nothing_to_shrink() {
    let e = shrink(
        &scenario("examples/scenarios/kv.toml"),
        Some(1),
        &ShrinkOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("violates no invariant"), "{e}");
}

#[path = "../../benches/support/jepsen_log.rs"]
mod jepsen_log;

#[test]
fn jepsen_etcd_histories_get_their_known_verdicts() {
    // The 102 etcd histories of Knossos' and Porcupine's test data, from the todc-utils crate that cargo
    // fetched for benches/check_peer.rs; 23 are linearizable, the rest not (ahorn's linearizability-checker).
    let dir = jepsen_log::etcd_dir().unwrap();
    let cases = jepsen_log::expected(&dir).unwrap();
    assert_eq!(cases.len(), 102, "{}", dir.display());
    let mut linearizable = 0;
    for (n, want) in &cases {
        let log = std::fs::read_to_string(dir.join(format!("etcd_{n}.log"))).unwrap();
        let history = jepsen_log::toron_history(&log).unwrap();
        let verdict = toron_core::check::check(&history, toron_core::check::ModelKind::CasRegister, None).unwrap();
        assert_eq!(verdict.linearizable, Some(*want), "etcd_{n}: {}", verdict.text());
        assert_eq!(verdict.counterexample.is_some(), !want, "etcd_{n}");
        linearizable += usize::from(*want);
    }
    assert_eq!(linearizable, 23);
}
