//! `report.json` and `verdict.json`.
//!
//! # `report.json`, schema `toron.report` version 1
//!
//! ```text
//! {
//!   "schema": "toron.report", "version": 1,
//!   "run": { "id", "profile" (null: every suite), "suites": [..], "engine", "platform": {"os", "arch"},
//!            "seed" (null: none given), "seed_source": "option" | "SIM_SEED" | "scenario",
//!            "seed_overrides": [{"case", "scenario_seed", "seed", "source"}] (cases whose scenario file's seed
//!            the run's seed replaced; their golden comparison is skipped),
//!            "started" (RFC 3339 UTC), "duration" (seconds), "state", "error" (null unless errored) },
//!   "kpis": { "run": {metric: value}, "suites": {suite: {..}}, "cases": {"suite/case": {..}} },
//!   "cases": [ { "suite", "name", "kind", "outcome", "scenario", "expect_violation", "duration",
//!                "attempts": [ { "number", "outcome", "message", "duration", "seeds": [{"seed", "digest",
//!                               "violations", "latency", "throughput"}], "exit_code", "stdout", "stderr",
//!                               "digest", "determinism", "golden", "coverage": [covered, valid],
//!                               "pii": [{"artifact", "kind", "location", "placeholder", "action",
//!                                        "quarantine"}] (only when the scrubber found something),
//!                               "marks": [{"mark", "seeds": [..]}] (a scenario's `[expect] sometimes`),
//!                               "counterexamples": [{"seed", "text"}] (`[invariants] linearizable` failures)
//!                             } ] } ],
//!   "datasets": [ {"name", "schema", "seed", "format", "digest", "tables": [{"table", "rows", "digest"}],
//!                  "dir", "schema_object"} ]   (only when the run generated `[[dataset]]`s),
//!   "gates": [ rule results, as in verdict.json ],
//!   "verdict": "GO" | "NO-GO",
//!   "unused_goldens": [ "suite/case", .. ]   (goldens of fully-run suites no case compared; never deleted)
//! }
//! ```
//!
//! Fields are only ever added within a version; a removal or a change of meaning bumps `version`. Cases are in
//! manifest order and every map is sorted, so two reports of the same results are byte-identical except for
//! the wall-clock fields (`started`, `duration`, attempts' `duration`, events).
//!
//! # `verdict.json`
//!
//! `{"schema": "toron.verdict", "version": 1, "run": id, "verdict": "GO" | "NO-GO", "go": bool, "rules": [...]}`,
//! each rule with `rule`, `metric`, `scope`, `comparator`, `threshold`, `baseline_run`, `baseline`, `actual`,
//! `severity`, `default`, `status`, `passed` and `explanation` (see [`crate::gate::RuleResult`]).

use crate::runner::RunResult;
use serde::Serialize;
use serde_json::{json, Value};

/// The report's schema name.
pub const REPORT_SCHEMA: &str = "toron.report";
/// The verdict's schema name.
pub const VERDICT_SCHEMA: &str = "toron.verdict";
/// The version of both schemas.
pub const SCHEMA_VERSION: u64 = 1;

/// `report.json` as written: its parts borrowed from `value`, the result as a JSON value (see
/// [`crate::report::result_value`]), so a run's end converts its cases once for the archive and the report.
/// Fields in key order: the same bytes as [`report_json`]'s value.
#[derive(Serialize)]
pub(crate) struct ReportDocument<'v> {
    cases: &'v Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    datasets: &'v Value,
    gates: &'v Value,
    kpis: &'v Value,
    run: Value,
    schema: &'static str,
    unused_goldens: &'v Value,
    verdict: &'v Value,
    version: u64,
}

/// [`ReportDocument`] of `result`, whose JSON value is `value`.
pub(crate) fn report_document<'v>(result: &RunResult, value: &'v Value) -> ReportDocument<'v> {
    ReportDocument {
        cases: &value["cases"],
        datasets: &value["datasets"],
        gates: &value["verdict"]["rules"],
        kpis: &value["kpis"],
        run: run_part(result),
        schema: REPORT_SCHEMA,
        unused_goldens: &value["unused_goldens"],
        verdict: &value["verdict"]["verdict"],
        version: SCHEMA_VERSION,
    }
}

fn run_part(result: &RunResult) -> Value {
    json!({
        "id": result.id,
        "profile": result.profile,
        "suites": result.suites,
        "engine": crate::VERSION,
        "platform": { "os": std::env::consts::OS, "arch": std::env::consts::ARCH },
        "seed": result.seed,
        "seed_source": result.seed_source,
        "seed_overrides": result.seed_overrides,
        "started": result.started,
        "duration": result.duration,
        "state": result.state.name(),
        "error": result.error,
    })
}

/// `report.json` as a value.
pub fn report_json(result: &RunResult) -> Value {
    let mut report = json!({
        "schema": REPORT_SCHEMA,
        "version": SCHEMA_VERSION,
        "run": run_part(result),
        "kpis": result.kpis,
        "cases": result.cases,
        "gates": result.verdict.rules,
        "verdict": result.verdict.verdict,
        "unused_goldens": result.unused_goldens,
    });
    if !result.datasets.is_empty() {
        report["datasets"] = json!(result.datasets);
    }
    report
}

/// `verdict.json` as a value.
pub fn verdict_json(result: &RunResult) -> Value {
    json!({
        "schema": VERDICT_SCHEMA,
        "version": SCHEMA_VERSION,
        "run": result.id,
        "verdict": result.verdict.verdict,
        "go": result.verdict.go,
        "rules": result.verdict.rules,
    })
}
