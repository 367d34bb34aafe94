//! Incidents: drafted from a NO-GO run (failing rules, the cases behind them, severity, dedup key), opened or
//! joined, moved through their statuses, and their timelines.

use super::db::sql;
use super::{
    drift_of, werr, FailingRule, GoldenSummary, Incident, IncidentCase, OpenRequest, Opened, SeedViolations, Severity,
    Status, TimelineEntry, What,
};
use crate::gate::{RuleResult, RuleStatus, Severity as GateSeverity};
use crate::runner::{self, CaseResult, RunResult};
use crate::snapshot::UtcTime;
use crate::{Error, ErrorKind, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// At most this many cases are kept per incident (the report has them all).
const MAX_CASES: usize = 50;

/// The optional fields of a timeline entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    pub run_id: Option<String>,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub rollback: Option<u64>,
}

fn now() -> String {
    UtcTime::now().rfc3339()
}

/// The run `run_id` of the archive, or its newest NO-GO run. Errors are `Warroom` errors: an unknown id lists
/// the newest ids.
pub(crate) fn find_run(archive_root: &Path, run_id: Option<&str>) -> Result<RunResult> {
    let as_warroom = |e: Error| {
        if e.kind() == ErrorKind::InvalidArgument {
            let mut w = werr(e.message().to_string());
            if let Some(f) = e.field() {
                w = w.with_field(f);
            }
            w
        } else {
            e
        }
    };
    match run_id {
        Some(id) => runner::load_run(archive_root, id).map_err(as_warroom),
        None => {
            let runs = runner::list_overviews(archive_root)?;
            match runs.iter().find(|r| r.verdict == "NO-GO") {
                Some(r) => runner::load_run(archive_root, &r.id).map_err(as_warroom),
                None => {
                    let newest: Vec<String> = runs.iter().take(5).map(|r| format!("{} {}", r.id, r.verdict)).collect();
                    Err(werr(format!(
                        "no NO-GO run in the archive {} ({})",
                        archive_root.display(),
                        if newest.is_empty() {
                            "it has no runs".to_string()
                        } else {
                            format!("newest: {}", newest.join(", "))
                        }
                    ))
                    .with_field("run_id"))
                }
            }
        }
    }
}

/// A rule's text with its scope: `coverage >= 90% @unit`.
fn rule_key(r: &RuleResult) -> String {
    match &r.scope {
        Some(s) => format!("{} @{s}", r.rule),
        None => r.rule.clone(),
    }
}

/// The default dedup key of a run: `<profile>|<sorted failing blocking rules>`.
pub(crate) fn default_key(run: &RunResult) -> String {
    let mut rules: Vec<String> = run.verdict.blocking_failures().map(rule_key).collect();
    rules.sort();
    rules.dedup();
    format!("{}|{}", run.profile.as_deref().unwrap_or("-"), rules.join(";"))
}

/// The severity of a set of rule results (the mapping in the module docs).
pub(crate) fn severity_of(rules: &[RuleResult]) -> Severity {
    const CORRECTNESS: &[&str] = &["determinism", "failed", "errored", "violations", "pass_rate"];
    let failed: Vec<&RuleResult> = rules.iter().filter(|r| r.status == RuleStatus::Failed).collect();
    let blocking: Vec<&&RuleResult> = failed.iter().filter(|r| r.severity == GateSeverity::Block).collect();
    if blocking.iter().any(|r| CORRECTNESS.contains(&r.metric.as_str())) {
        Severity::Sev2
    } else if !blocking.is_empty() || failed.is_empty() {
        Severity::Sev3
    } else {
        Severity::Sev4
    }
}

fn failing_rule(r: &RuleResult) -> FailingRule {
    FailingRule {
        rule: r.rule.clone(),
        metric: r.metric.clone(),
        scope: r.scope.clone(),
        comparator: r.comparator.clone(),
        actual: r.actual,
        threshold: r.threshold,
        severity: r.severity.name().to_string(),
        sentence: r.explanation.clone(),
    }
}

fn incident_case(c: &CaseResult) -> IncidentCase {
    let last = c.last();
    let golden = last
        .and_then(|a| a.golden.as_ref())
        .filter(|g| g.status != "passed")
        .map(|g| GoldenSummary {
            status: g.status.clone(),
            summary: g.summary.clone(),
            candidate: g.candidate.clone(),
        });
    let violations = last
        .map(|a| {
            a.seeds
                .iter()
                .filter(|s| s.violations > 0)
                .map(|s| SeedViolations {
                    seed: s.seed,
                    digest: s.digest.clone(),
                    violations: s.violations,
                })
                .collect()
        })
        .unwrap_or_default();
    let det = last.and_then(|a| a.determinism.as_ref());
    IncidentCase {
        case: c.id(),
        suite: c.suite.clone(),
        name: c.name.clone(),
        kind: c.kind.name().to_string(),
        outcome: c.outcome.name().to_string(),
        message: c.error.clone().or_else(|| last.and_then(|a| a.message.clone())),
        golden,
        violations,
        drift: det.and_then(drift_of),
        artifact_drift: det.map(|d| d.artifact_drift.clone()).unwrap_or_default(),
    }
}

/// The cases behind a run's failure: every case that did not pass, then every case in the scope of a failing
/// rule (a suite or a case), in manifest order, at most [`MAX_CASES`].
fn cases_of(run: &RunResult) -> Vec<IncidentCase> {
    let scopes: Vec<&str> = run
        .verdict
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Failed)
        .filter_map(|r| r.scope.as_deref())
        .collect();
    run.cases
        .iter()
        .filter(|c| {
            let id = c.id();
            let in_scope = scopes.iter().any(|s| *s == c.suite || *s == id);
            !c.outcome.is_pass() && c.outcome != crate::runner::CaseOutcome::Skipped || in_scope
        })
        .take(MAX_CASES)
        .map(incident_case)
        .collect()
}

/// An incident for `run` (no id, no timeline yet); a run that is not NO-GO is refused.
pub(crate) fn draft(run: &RunResult, request: &OpenRequest) -> Result<Incident> {
    if run.verdict.go || run.verdict.verdict != "NO-GO" {
        return Err(werr(format!(
            "run {} is {} (its state is {}): only a NO-GO run opens an incident",
            run.id,
            run.verdict.verdict,
            run.state.name()
        ))
        .with_field("run_id"));
    }
    let failed: Vec<&RuleResult> = run
        .verdict
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Failed)
        .collect();
    let rules: Vec<FailingRule> = failed.iter().map(|r| failing_rule(r)).collect();
    let dedup_key = match request.dedup_key.as_deref().map(str::trim) {
        Some(k) if !k.is_empty() => k.to_string(),
        Some(_) => return Err(werr("the dedup key is empty").with_field("dedup_key")),
        None => default_key(run),
    };
    let title = match request.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => {
            let on = run
                .profile
                .as_deref()
                .map_or("the run".to_string(), |p| format!("profile {p}"));
            let mut keys: Vec<String> = run.verdict.blocking_failures().map(rule_key).collect();
            keys.dedup();
            if keys.is_empty() {
                format!("NO-GO on {on}")
            } else {
                format!("NO-GO on {on}: {}", keys.join(", "))
            }
        }
    };
    let mut labels: Vec<String> = request
        .labels
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    labels.sort();
    labels.dedup();
    let at = now();
    Ok(Incident {
        id: String::new(),
        title,
        severity: request.severity.unwrap_or_else(|| severity_of(&run.verdict.rules)),
        status: Status::Open,
        run_id: run.id.clone(),
        profile: run.profile.clone(),
        verdict: run.verdict.verdict.clone(),
        opened_at: at.clone(),
        updated_at: at,
        owner: request.owner.clone().filter(|o| !o.trim().is_empty()),
        labels,
        dedup_key,
        rules,
        cases: cases_of(run),
        runs: vec![run.id.clone()],
        timeline: Vec::new(),
    })
}

fn encode(inc: &Incident) -> Result<String> {
    let stored = Incident {
        timeline: Vec::new(),
        ..inc.clone()
    };
    serde_json::to_string(&stored).map_err(|e| werr(format!("cannot encode incident {}: {e}", inc.id)))
}

/// Open `draft`, or link its run to the incident that is not resolved and has its dedup key.
pub(crate) fn open_or_join(tx: &Connection, path: &Path, draft: Incident, who: &str) -> Result<Opened> {
    let existing: Option<i64> = tx
        .query_row(
            "SELECT n FROM incidents WHERE dedup_key = ?1 AND status != 'resolved' ORDER BY n LIMIT 1",
            params![draft.dedup_key],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql(e, path))?;
    if let Some(n) = existing {
        let mut inc = load(tx, path, n)?;
        if !inc.runs.contains(&draft.run_id) {
            inc.runs.push(draft.run_id.clone());
            save(tx, path, n, &inc)?;
            let text = format!("run {} is NO-GO the same way ({})", draft.run_id, draft.dedup_key);
            let extra = Extra {
                run_id: Some(draft.run_id.clone()),
                ..Default::default()
            };
            append(tx, path, n, who, What::RunLinked, text, extra)?;
        }
        return Ok(Opened {
            incident: load(tx, path, n)?,
            created: false,
        });
    }
    let n: i64 = tx
        .query_row("SELECT COALESCE(MAX(n), 0) + 1 FROM incidents", [], |r| r.get(0))
        .map_err(|e| sql(e, path))?;
    let inc = Incident {
        id: format!("INC-{n}"),
        ..draft
    };
    tx.execute(
        "INSERT INTO incidents (n, id, dedup_key, profile, status, opened_at, updated_at, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
        params![
            n,
            inc.id,
            inc.dedup_key,
            inc.profile,
            inc.status.name(),
            inc.opened_at,
            encode(&inc)?
        ],
    )
    .map_err(|e| sql(e, path))?;
    let rules: Vec<&str> = inc.rules.iter().map(|r| r.sentence.as_str()).collect();
    let text = if rules.is_empty() {
        format!("opened for run {} ({})", inc.run_id, inc.severity)
    } else {
        format!("opened for run {} ({}): {}", inc.run_id, inc.severity, rules.join("; "))
    };
    let extra = Extra {
        run_id: Some(inc.run_id.clone()),
        to: Some(Status::Open),
        ..Default::default()
    };
    append(tx, path, n, who, What::Opened, text, extra)?;
    Ok(Opened {
        incident: load(tx, path, n)?,
        created: true,
    })
}

/// A GO run: a `gates_green` entry on every incident of its profile that is not resolved (once per run), and
/// with `auto_resolve` the move to resolved.
pub(crate) fn gates_green(tx: &Connection, path: &Path, run: &RunResult, auto_resolve: bool, who: &str) -> Result<()> {
    let mut stmt = tx
        .prepare("SELECT n FROM incidents WHERE profile IS ?1 AND status != 'resolved' ORDER BY n")
        .map_err(|e| sql(e, path))?;
    let ns: Vec<i64> = stmt
        .query_map(params![run.profile], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql(e, path))?;
    for n in ns {
        let inc = load(tx, path, n)?;
        let seen = inc
            .timeline
            .iter()
            .any(|e| e.what == What::GatesGreen && e.run_id.as_deref() == Some(run.id.as_str()));
        if seen || inc.runs.contains(&run.id) {
            continue;
        }
        let extra = Extra {
            run_id: Some(run.id.clone()),
            ..Default::default()
        };
        let text = format!(
            "run {} of profile {} is GO",
            run.id,
            run.profile.as_deref().unwrap_or("-")
        );
        append(tx, path, n, who, What::GatesGreen, text, extra)?;
        if auto_resolve {
            let note = format!("auto-resolved: run {} is GO", run.id);
            transition(tx, path, n, Status::Resolved, who, Some(&note), Some(&run.id))?;
        }
    }
    Ok(())
}

/// Move incident `n` to `to`, or a `Warroom` error naming its status and the allowed next ones.
pub(crate) fn transition(
    tx: &Connection,
    path: &Path,
    n: i64,
    to: Status,
    who: &str,
    note: Option<&str>,
    run_id: Option<&str>,
) -> Result<()> {
    let mut inc = load(tx, path, n)?;
    let from = inc.status;
    if !from.next().contains(&to) {
        let next: Vec<&str> = from.next().iter().map(|s| s.name()).collect();
        return Err(werr(format!(
            "incident {} cannot move to {to}: it is {from} (allowed next: {})",
            inc.id,
            next.join(", ")
        ))
        .with_field("status"));
    }
    inc.status = to;
    save(tx, path, n, &inc)?;
    let mut text = format!("status {from} → {to}");
    if let Some(note) = note.map(str::trim).filter(|t| !t.is_empty()) {
        text.push_str(": ");
        text.push_str(note);
    }
    let what = if to == Status::Resolved {
        What::Resolved
    } else {
        What::Status
    };
    let extra = Extra {
        run_id: run_id.map(str::to_string),
        from: Some(from),
        to: Some(to),
        rollback: None,
    };
    append(tx, path, n, who, what, text, extra)
}

/// Store incident `n`'s fields (not its timeline), stamping `updated_at`.
fn save(tx: &Connection, path: &Path, n: i64, inc: &Incident) -> Result<()> {
    let mut inc = inc.clone();
    inc.updated_at = now();
    tx.execute(
        "UPDATE incidents SET status = ?2, updated_at = ?3, data = ?4 WHERE n = ?1",
        params![n, inc.status.name(), inc.updated_at, encode(&inc)?],
    )
    .map_err(|e| sql(e, path))?;
    Ok(())
}

/// Append an entry to incident `n`'s timeline.
pub(crate) fn append(
    tx: &Connection,
    path: &Path,
    n: i64,
    who: &str,
    what: What,
    text: String,
    extra: Extra,
) -> Result<()> {
    let seq: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE incident = ?1",
            params![n],
            |r| r.get(0),
        )
        .map_err(|e| sql(e, path))?;
    let entry = TimelineEntry {
        seq: seq as u64,
        who: who.to_string(),
        when: now(),
        what,
        text,
        run_id: extra.run_id,
        from: extra.from,
        to: extra.to,
        rollback: extra.rollback,
    };
    let data = serde_json::to_string(&entry).map_err(|e| werr(format!("cannot encode a timeline entry: {e}")))?;
    tx.execute(
        "INSERT INTO events (incident, seq, who, at, what, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![n, seq, entry.who, entry.when, what.name(), data],
    )
    .map_err(|e| sql(e, path))?;
    tx.execute(
        "UPDATE incidents SET updated_at = ?2 WHERE n = ?1",
        params![n, entry.when],
    )
    .map_err(|e| sql(e, path))?;
    Ok(())
}

/// Incident `n` with its timeline.
pub(crate) fn load(c: &Connection, path: &Path, n: i64) -> Result<Incident> {
    let (status, updated, data): (String, String, String) = c
        .query_row(
            "SELECT status, updated_at, data FROM incidents WHERE n = ?1",
            params![n],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| sql(e, path))?;
    let mut inc: Incident = serde_json::from_str(&data)
        .map_err(|e| werr(format!("warroom database: incident {n} is unreadable: {e}")).with_file(path))?;
    inc.status = Status::parse(&status)?;
    inc.updated_at = updated;
    let mut stmt = c
        .prepare("SELECT data FROM events WHERE incident = ?1 ORDER BY seq")
        .map_err(|e| sql(e, path))?;
    let rows: Vec<String> = stmt
        .query_map(params![n], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql(e, path))?;
    inc.timeline = rows
        .iter()
        .map(|d| {
            serde_json::from_str(d).map_err(|e| {
                werr(format!(
                    "warroom database: a timeline entry of {} is unreadable: {e}",
                    inc.id
                ))
                .with_file(path)
            })
        })
        .collect::<Result<_>>()?;
    Ok(inc)
}

/// The number of incident `id`; an unknown id is a `Warroom` error listing the newest ids.
pub(crate) fn number(c: &Connection, path: &Path, id: &str) -> Result<i64> {
    let found: Option<i64> = c
        .query_row("SELECT n FROM incidents WHERE id = ?1", params![id.trim()], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| sql(e, path))?;
    if let Some(n) = found {
        return Ok(n);
    }
    let mut stmt = c
        .prepare("SELECT id FROM incidents ORDER BY n DESC LIMIT 5")
        .map_err(|e| sql(e, path))?;
    let newest: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql(e, path))?;
    let listed = if newest.is_empty() {
        "it has no incidents".to_string()
    } else {
        format!("newest: {}", newest.join(", "))
    };
    let dir = path.parent().unwrap_or(path);
    Err(werr(format!(
        "no incident {id:?} in the warroom {} ({listed})",
        dir.display()
    ))
    .with_field("id"))
}

/// Every incident (of `status`), by number.
pub(crate) fn list(c: &Connection, path: &Path, status: Option<Status>) -> Result<Vec<Incident>> {
    let mut stmt = c
        .prepare("SELECT n FROM incidents WHERE ?1 IS NULL OR status = ?1 ORDER BY n")
        .map_err(|e| sql(e, path))?;
    let ns: Vec<i64> = stmt
        .query_map(params![status.map(Status::name)], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql(e, path))?;
    ns.into_iter().map(|n| load(c, path, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::{OpenOn, Warroom, WarroomPolicy};
    use super::*;
    use serde_json::json;

    fn rule(text: &str, metric: &str, scope: Option<&str>, severity: &str) -> serde_json::Value {
        json!({"rule": text, "metric": metric, "scope": scope, "comparator": ">=", "threshold": 0.9,
               "baseline_run": null, "baseline": null, "actual": 0.5, "severity": severity, "default": false,
               "status": "failed", "passed": false, "explanation": format!("{text} failed")})
    }

    pub(crate) fn run(id: &str, profile: &str, go: bool, rules: Vec<serde_json::Value>) -> RunResult {
        serde_json::from_value(json!({
            "id": id, "state": if go { "passed" } else { "failed" }, "error": null, "profile": profile,
            "suites": ["sim"], "seed": null, "started": "2026-11-24T10:15:30Z", "duration": 1.0,
            "cases": [{"suite": "sim", "name": "kv", "kind": "chaos", "outcome": if go { "passed" } else { "failed" },
                "attempts": [{"number": 1, "outcome": if go { "passed" } else { "failed" },
                    "message": if go { None } else { Some("seed 3: invariant acknowledged_write_lost violated") },
                    "duration": 0.1,
                    "seeds": [{"seed": 3, "digest": "ab", "violations": if go { 0 } else { 2 },
                               "latency": {"count": 0, "min": 0.0, "mean": 0.0, "p50": 0.0, "p90": 0.0,
                                           "p99": 0.0, "p999": 0.0, "max": 0.0},
                               "throughput": 1.0}],
                    "exit_code": null, "stdout": "", "stderr": "", "digest": null, "determinism": null,
                    "golden": null, "coverage": null}],
                "scenario": null, "expect_violation": false, "duration": 0.1, "error": null}],
            "kpis": {"run": {}, "suites": {}, "cases": {}},
            "verdict": {"go": go, "verdict": if go { "GO" } else { "NO-GO" }, "rules": if go { vec![] } else { rules }},
            "archive": ".toron", "report_dir": null
        }))
        .unwrap()
    }

    fn no_go(id: &str) -> RunResult {
        run(
            id,
            "full",
            false,
            vec![
                rule("failed == 0", "failed", None, "block"),
                rule("coverage >= 90%", "coverage", Some("unit"), "block"),
            ],
        )
    }

    const POLICY: WarroomPolicy = WarroomPolicy {
        open_on: OpenOn::NoGo,
        auto_resolve: false,
        dedup_key: None,
    };

    #[test]
    fn severity_follows_the_documented_mapping() {
        let r = |m: &str, s: &str| serde_json::from_value::<RuleResult>(rule("x", m, None, s)).unwrap();
        assert_eq!(
            severity_of(&[r("coverage", "block"), r("violations", "block")]),
            Severity::Sev2
        );
        assert_eq!(severity_of(&[r("determinism", "block")]), Severity::Sev2);
        assert_eq!(severity_of(&[r("latency.p99", "block")]), Severity::Sev3);
        assert_eq!(severity_of(&[r("failed", "warn")]), Severity::Sev4);
        assert_eq!(severity_of(&[]), Severity::Sev3);
    }

    #[test]
    fn the_default_key_is_the_profile_and_the_sorted_rules() {
        assert_eq!(
            default_key(&no_go("run-2.5.0-20261124T101530Z")),
            "full|coverage >= 90% @unit;failed == 0"
        );
    }

    #[test]
    fn a_no_go_opens_names_rules_and_cases_and_a_second_joins() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warroom::open(dir.path()).unwrap();
        let a = w
            .record_run(&no_go("run-2.5.0-20261124T101530Z"), &POLICY)
            .unwrap()
            .unwrap();
        assert!(a.created);
        let inc = &a.incident;
        assert_eq!(
            (inc.id.as_str(), inc.status, inc.severity),
            ("INC-1", Status::Open, Severity::Sev2)
        );
        assert_eq!(inc.rules.len(), 2);
        assert_eq!(inc.rules[1].scope.as_deref(), Some("unit"));
        assert_eq!(inc.rules[0].actual, Some(0.5));
        assert_eq!(inc.cases[0].case, "sim/kv");
        assert_eq!(inc.cases[0].violations[0].seed, 3);
        assert!(inc.cases[0]
            .message
            .as_deref()
            .unwrap()
            .contains("acknowledged_write_lost"));
        assert_eq!(inc.timeline[0].what, What::Opened);
        let b = w
            .record_run(&no_go("run-2.5.0-20261124T101531Z"), &POLICY)
            .unwrap()
            .unwrap();
        assert!(!b.created);
        assert_eq!(b.incident.id, "INC-1");
        assert_eq!(b.incident.runs.len(), 2);
        assert_eq!(b.incident.timeline[1].what, What::RunLinked);
        // The same run again changes nothing.
        let c = w
            .record_run(&no_go("run-2.5.0-20261124T101531Z"), &POLICY)
            .unwrap()
            .unwrap();
        assert_eq!(c.incident.timeline.len(), 2);
        assert_eq!(w.incidents(None).unwrap().len(), 1);
        // Another key: another incident.
        let other = run(
            "run-2.5.0-20261124T101532Z",
            "smoke",
            false,
            vec![rule("failed == 0", "failed", None, "block")],
        );
        assert_eq!(w.record_run(&other, &POLICY).unwrap().unwrap().incident.id, "INC-2");
        assert_eq!(w.incidents(Some(Status::Open)).unwrap().len(), 2);
    }

    #[test]
    fn a_go_run_marks_gates_green_and_auto_resolves() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warroom::open(dir.path()).unwrap();
        w.record_run(&no_go("run-2.5.0-20261124T101530Z"), &POLICY).unwrap();
        let go = run("run-2.5.0-20261124T101600Z", "full", true, vec![]);
        assert!(w.record_run(&go, &POLICY).unwrap().is_none());
        let inc = w.incident("INC-1").unwrap();
        assert_eq!(inc.status, Status::Open);
        assert_eq!(inc.timeline.last().unwrap().what, What::GatesGreen);
        let auto = WarroomPolicy {
            auto_resolve: true,
            ..POLICY
        };
        let go2 = run("run-2.5.0-20261124T101601Z", "full", true, vec![]);
        w.record_run(&go2, &auto).unwrap();
        let inc = w.incident("INC-1").unwrap();
        assert_eq!(inc.status, Status::Resolved);
        let whats: Vec<What> = inc.timeline.iter().map(|e| e.what).collect();
        assert_eq!(
            whats,
            [What::Opened, What::GatesGreen, What::GatesGreen, What::Resolved]
        );
        // Resolved: the same failure opens a new incident.
        let again = w
            .record_run(&no_go("run-2.5.0-20261124T101700Z"), &POLICY)
            .unwrap()
            .unwrap();
        assert!(again.created);
        assert_eq!(again.incident.id, "INC-2");
        // Never: nothing.
        let never = WarroomPolicy::default();
        assert!(w
            .record_run(&no_go("run-2.5.0-20261124T101800Z"), &never)
            .unwrap()
            .is_none());
        assert_eq!(w.incident("INC-2").unwrap().runs.len(), 1);
    }

    #[test]
    fn transitions_are_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warroom::open(dir.path()).unwrap();
        w.record_run(&no_go("run-2.5.0-20261124T101530Z"), &POLICY).unwrap();
        let e = w.reopen("INC-1", "bo", None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Warroom);
        assert!(
            e.to_string().contains("it is open (allowed next: mitigated, resolved)"),
            "{e}"
        );
        w.mitigate("INC-1", "bo", Some("rolled back")).unwrap();
        w.reopen("INC-1", "bo", None).unwrap();
        w.resolve("INC-1", "bo", None).unwrap();
        let inc = w.reopen("INC-1", "bo", None).unwrap();
        assert_eq!(inc.status, Status::Reopened);
        let inc = w.note("INC-1", "cy", "looking at the kv").unwrap();
        let last = inc.timeline.last().unwrap();
        assert_eq!(
            (last.what, last.who.as_str(), last.text.as_str()),
            (What::Note, "cy", "looking at the kv")
        );
        let seqs: Vec<u64> = inc.timeline.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert!(inc.timeline[1].text.contains("open → mitigated: rolled back"));
        assert_eq!(
            (inc.timeline[1].from, inc.timeline[1].to),
            (Some(Status::Open), Some(Status::Mitigated))
        );
    }

    #[test]
    fn bad_input_is_a_warroom_error() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warroom::open(dir.path()).unwrap();
        let e = w.incident("INC-9").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Warroom);
        assert!(e.to_string().contains("it has no incidents"), "{e}");
        w.record_run(&no_go("run-2.5.0-20261124T101530Z"), &POLICY).unwrap();
        let e = w.note("INC-9", "x", "y").unwrap_err();
        assert!(e.to_string().contains("newest: INC-1"), "{e}");
        let go = run("run-2.5.0-20261124T101600Z", "full", true, vec![]);
        let e = w.open_from(&go, OpenRequest::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Warroom);
        assert!(e.to_string().contains("run-2.5.0-20261124T101600Z is GO"), "{e}");
        let e = w.open_incident(
            &dir.path().join("none"),
            OpenRequest {
                run_id: Some("run-2.5.0-20200101T000000Z".into()),
                ..Default::default()
            },
        );
        let e = e.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Warroom);
        assert!(e.to_string().contains("it has no runs"), "{e}");
        assert!(Severity::parse("sev5").is_err());
        assert_eq!(Status::parse("Mitigated").unwrap(), Status::Mitigated);
    }

    #[test]
    fn an_override_sets_key_severity_title_owner_labels() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warroom::open(dir.path()).unwrap();
        let req = OpenRequest {
            dedup_key: Some("kv-loss".into()),
            severity: Some(Severity::Sev1),
            title: Some("Lost writes".into()),
            owner: Some("ana".into()),
            labels: vec!["kv".into(), "chaos".into(), "kv".into()],
            who: Some("ana".into()),
            ..Default::default()
        };
        let o = w.open_from(&no_go("run-2.5.0-20261124T101530Z"), req.clone()).unwrap();
        let inc = o.incident;
        assert_eq!(
            (inc.dedup_key.as_str(), inc.severity, inc.title.as_str()),
            ("kv-loss", Severity::Sev1, "Lost writes")
        );
        assert_eq!(inc.labels, ["chaos", "kv"]);
        assert_eq!(inc.timeline[0].who, "ana");
        let j = serde_json::to_value(&inc).unwrap();
        assert_eq!(j["severity"], "sev1");
        assert_eq!(j["timeline"][0]["what"], "opened");
        let back: Incident = serde_json::from_value(j).unwrap();
        assert_eq!(back, inc);
    }

    #[test]
    fn threads_with_their_own_connections_open_one_incident() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let outcomes: Vec<bool> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..6)
                .map(|i| {
                    let path = path.clone();
                    s.spawn(move || {
                        let w = Warroom::open(&path).unwrap();
                        let r = no_go(&format!("run-2.5.0-20261124T1015{i:02}Z"));
                        w.record_run(&r, &POLICY).unwrap().unwrap().created
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|c| **c).count(), 1);
        let w = Warroom::open(&path).unwrap();
        let all = w.incidents(None).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].runs.len(), 6);
    }
}
