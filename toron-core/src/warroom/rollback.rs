//! Rollbacks: a golden rewritten from the output an earlier run archived, atomically, and recorded.
//!
//! Everything is checked before anything is written ([`plan`]): the run exists, it archived an output for
//! every case, the case names are valid. Then each golden is written in its own transaction ([`apply`]): the
//! rollback's row (and the incident's timeline entry) is inserted, the file written (temporary file, fsync,
//! rename, fsync of the directory), and the transaction committed. A kill before the commit may leave the new
//! golden without its record, never a torn golden nor a record of a write that did not happen.

use super::db::sql;
use super::incident::{self, Extra};
use super::{werr, who_or_default, Rollback, RollbackRequest, What};
use crate::diff::{self, DiffOptions, Format};
use crate::snapshot::archive::Archive;
use crate::snapshot::{fsutil, Golden, Snapshots, UtcTime};
use crate::{Error, ErrorKind, Result};
use rusqlite::{params, Connection};
use serde_json::Value;
use std::path::Path;

/// A rollback checked and ready to write.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub rollback: Rollback,
    golden: Golden,
}

impl Planned {
    pub fn into_rollback(self) -> Rollback {
        self.rollback
    }
}

fn newest(archive: &Archive) -> Result<Vec<String>> {
    Ok(archive.runs()?.into_iter().map(|r| r.tag).collect())
}

fn unknown_run(archive: &Archive, id: &str, field: &str) -> Result<Error> {
    let tags = newest(archive)?;
    let listed = if tags.is_empty() {
        "it has no runs".to_string()
    } else {
        format!(
            "newest: {}",
            tags.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )
    };
    Ok(werr(format!(
        "no run {id:?} in the archive {} ({listed})",
        archive.root().display()
    ))
    .with_field(field))
}

/// Check `request` and work out each golden's change; nothing is written.
pub(crate) fn plan(request: &RollbackRequest) -> Result<Vec<Planned>> {
    let archive = Archive::open(&request.archive_root);
    let tags = newest(&archive)?;
    if !tags.contains(&request.to) {
        return Err(unknown_run(&archive, &request.to, "to")?);
    }
    let mut cases: Vec<String> = Vec::new();
    for c in &request.cases {
        let c = c.trim().to_string();
        if !c.is_empty() && !cases.contains(&c) {
            cases.push(c);
        }
    }
    if let Some(failed_run) = &request.all_failed {
        if !tags.contains(failed_run) {
            return Err(unknown_run(&archive, failed_run, "all_failed")?);
        }
        let run = crate::runner::load_run(&request.archive_root, failed_run)?;
        for c in &run.cases {
            let failed = c
                .last()
                .and_then(|a| a.golden.as_ref())
                .is_some_and(|g| g.status == "failed" || g.status == "missing");
            if failed && !cases.contains(&c.id()) {
                cases.push(c.id());
            }
        }
    }
    if cases.is_empty() {
        return Err(werr(match &request.all_failed {
            Some(r) => format!("no case to roll back: run {r} has no failed golden case"),
            None => "no case to roll back (name suite/case cases, or a run with all_failed)".to_string(),
        })
        .with_field("cases"));
    }
    let from_case = match request.from_case.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if cases.len() == 1 => Some(c.to_string()),
        Some(c) => {
            return Err(werr(format!(
                "from_case {c:?} names one case's output, but {} cases are to be rolled back ({})",
                cases.len(),
                cases.join(", ")
            ))
            .with_field("from_case"))
        }
    };
    let manifest = archive.manifest(&request.to)?;
    let snapshots = Snapshots::new(&request.snapshots_root);
    let who = who_or_default(request.who.as_deref());
    let when = UtcTime::now().rfc3339();
    // Every run's manifest, newest first, read once: to name the run each replaced golden came from.
    let mut manifests = None;
    let mut out = Vec::new();
    for case in cases {
        let golden_path = snapshots
            .golden_path(&case)
            .map_err(|e| werr(e.message().to_string()).with_field("cases"))?;
        let (source, field) = match &from_case {
            Some(c) => (c, "from_case"),
            None => (&case, "cases"),
        };
        let Some(entry) = manifest.cases.get(source) else {
            let known: Vec<&str> = manifest.cases.keys().map(String::as_str).take(10).collect();
            let hint = if from_case.is_none() {
                " (to take another case's output, name it with from_case, `--from` on the command line)"
            } else {
                ""
            };
            return Err(werr(format!(
                "run {} archived no output for case {source:?} (its cases: {}){hint}",
                request.to,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
            .with_field(field));
        };
        let value = archive.get(&entry.object)?;
        if value.is_null() {
            return Err(werr(format!(
                "run {} archived no output for case {source:?} (the case produced none)",
                request.to
            ))
            .with_field(field));
        }
        // An unreadable golden (edited into invalid JSON, say) is replaced like a missing one.
        let current = match snapshots.read(&case) {
            Ok(g) => g,
            Err(e) if e.kind() == ErrorKind::Snapshot => None,
            Err(e) => return Err(e),
        };
        let from = current.as_ref().map(|g| crate::canon::digest(&g.value)).transpose()?;
        let to = crate::canon::digest(&value)?;
        let d = diff::diff(
            current.as_ref().map_or(&Value::Null, |g| &g.value),
            &value,
            &DiffOptions::default(),
        )?;
        let from_run = match &from {
            None => None,
            Some(digest) => {
                let all = match &manifests {
                    Some(m) => m,
                    None => manifests.insert(archive.manifests()?),
                };
                all.iter()
                    .find(|m| m.cases.get(&case).is_some_and(|e| e.object.as_str() == digest))
                    .map(|m| m.tag.clone())
            }
        };
        let golden = Golden {
            meta: current.and_then(|g| g.meta),
            ..Golden::new(case.clone(), value)
        };
        out.push(Planned {
            rollback: Rollback {
                id: None,
                case,
                golden: golden_path,
                from,
                from_run,
                to,
                source_run: request.to.clone(),
                source_case: from_case.clone(),
                summary: if d.is_empty() {
                    "no differences".to_string()
                } else {
                    d.summary()
                },
                diff: d.render(Format::Text),
                incident: request.incident.clone(),
                who: who.clone(),
                when: when.clone(),
                dry_run: request.dry_run,
            },
            golden,
        });
    }
    Ok(out)
}

/// Record and write one planned rollback, in the caller's transaction.
pub(crate) fn apply(tx: &Connection, path: &Path, planned: Planned) -> Result<Rollback> {
    let n: i64 = tx
        .query_row("SELECT COALESCE(MAX(n), 0) + 1 FROM rollbacks", [], |r| r.get(0))
        .map_err(|e| sql(e, path))?;
    let mut r = planned.rollback;
    r.id = Some(n as u64);
    let data = serde_json::to_string(&r).map_err(|e| werr(format!("cannot encode a rollback: {e}")))?;
    tx.execute(
        "INSERT INTO rollbacks (n, at, who, case_id, source_run, from_digest, to_digest, incident, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![n, r.when, r.who, r.case, r.source_run, r.from, r.to, r.incident, data],
    )
    .map_err(|e| sql(e, path))?;
    if let Some(id) = &r.incident {
        let inc = incident::number(tx, path, id)?;
        let of = r.source_case.as_ref().map(|c| format!(" of {c}")).unwrap_or_default();
        let text = format!(
            "golden {} rolled back to the output{of} of run {} ({})",
            r.case, r.source_run, r.summary
        );
        let extra = Extra {
            run_id: Some(r.source_run.clone()),
            rollback: Some(n as u64),
            ..Default::default()
        };
        incident::append(tx, path, inc, &r.who, What::Rollback, text, extra)?;
    }
    let text = planned.golden.to_text()?;
    if let Some(dir) = r.golden.parent().filter(|d| !d.as_os_str().is_empty()) {
        fsutil::create_dir_all(dir)?;
    }
    fsutil::atomic_write(&r.golden, text.as_bytes()).map_err(|e| Error::write(&e, &r.golden))?;
    Ok(r)
}

/// Every rollback recorded (made for `incident`: only those), oldest first.
pub(crate) fn list(c: &Connection, path: &Path, incident: Option<&str>) -> Result<Vec<Rollback>> {
    let mut stmt = c
        .prepare("SELECT data FROM rollbacks WHERE ?1 IS NULL OR incident = ?1 ORDER BY n")
        .map_err(|e| sql(e, path))?;
    let rows: Vec<String> = stmt
        .query_map(params![incident], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql(e, path))?;
    rows.iter()
        .map(|d| {
            serde_json::from_str(d).map_err(|e| werr(format!("a rollback record is unreadable: {e}")).with_file(path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Warroom;
    use super::*;
    use crate::snapshot::archive::CaseRecord;
    use serde_json::json;

    fn archived(archive: &Archive, t: i64, outputs: &[(&str, Value)]) -> String {
        let mut w = archive
            .new_run_at("2.5.0", Value::Null, UtcTime::from_unix(1_795_515_330 + t))
            .unwrap();
        for (case, v) in outputs {
            w.add_case(case, v, CaseRecord::new()).unwrap();
        }
        w.finish().unwrap().tag
    }

    #[test]
    fn a_rollback_rewrites_the_golden_and_a_rollback_to_the_replaced_run_undoes_it() {
        let dir = tempfile::tempdir().unwrap();
        let (arch, snaps) = (dir.path().join(".toron"), dir.path().join("snapshots"));
        let archive = Archive::open(&arch);
        let old = archived(&archive, 0, &[("sim/q", json!({"n": 1})), ("sim/r", Value::Null)]);
        let new = archived(&archive, 1, &[("sim/q", json!({"n": 2}))]);
        let s = Snapshots::new(&snaps).update(true);
        s.check("sim/q", &json!({"n": 1}), &DiffOptions::default()).unwrap();
        let before = std::fs::read(s.golden_path("sim/q").unwrap()).unwrap();
        let w = Warroom::open(dir.path().join("warroom")).unwrap();
        let req = |to: &str, dry: bool| RollbackRequest {
            archive_root: arch.clone(),
            snapshots_root: snaps.clone(),
            cases: vec!["sim/q".into()],
            to: to.to_string(),
            dry_run: dry,
            ..Default::default()
        };
        let dry = w.rollback(req(&new, true)).unwrap();
        assert_eq!((dry[0].id, dry[0].dry_run), (None, true));
        assert_eq!(std::fs::read(s.golden_path("sim/q").unwrap()).unwrap(), before);
        assert!(w.rollbacks().unwrap().is_empty());
        let done = w.rollback(req(&new, false)).unwrap();
        let r = &done[0];
        assert_eq!(r.id, Some(1));
        assert_eq!(
            r.from.as_deref(),
            Some(crate::canon::digest(&json!({"n": 1})).unwrap().as_str())
        );
        assert_eq!(r.from_run.as_deref(), Some(old.as_str()));
        assert_eq!(r.summary, "1 changed, 0 added, 0 removed");
        assert!(r.diff.contains("/n"), "{}", r.diff);
        // The golden now holds the new output, and Snapshots::check reads it.
        let opts = DiffOptions::default();
        assert!(Snapshots::new(&snaps)
            .check("sim/q", &json!({"n": 2}), &opts)
            .unwrap()
            .passed());
        // Undo: back to the run it replaced, byte for byte.
        let undo = w.rollback(req(r.from_run.as_deref().unwrap(), false)).unwrap();
        assert_eq!(undo[0].to, r.from.clone().unwrap());
        assert_eq!(std::fs::read(s.golden_path("sim/q").unwrap()).unwrap(), before);
        assert_eq!(w.rollbacks().unwrap().len(), 2);

        // Bad input: unknown run, a case with no archived output, no case, unknown incident.
        let e = w.rollback(req("run-2.5.0-20000101T000000Z", false)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Warroom);
        assert!(e.to_string().contains(&format!("newest: {new}, {old}")), "{e}");
        let mut missing = req(&new, false);
        missing.cases = vec!["sim/q".into(), "sim/zz".into()];
        let e = w.rollback(missing).unwrap_err();
        assert!(e.to_string().contains("archived no output for case \"sim/zz\""), "{e}");
        assert_eq!(w.rollbacks().unwrap().len(), 2, "nothing written for a refused request");
        let mut null = req(&old, false);
        null.cases = vec!["sim/r".into()];
        assert!(w.rollback(null).unwrap_err().to_string().contains("produced none"));
        let mut none = req(&new, false);
        none.cases.clear();
        assert!(w
            .rollback(none)
            .unwrap_err()
            .to_string()
            .contains("no case to roll back"));
        let mut inc = req(&new, false);
        inc.incident = Some("INC-4".into());
        assert_eq!(w.rollback(inc).unwrap_err().kind(), ErrorKind::Warroom);
    }

    #[test]
    fn from_case_takes_another_cases_output_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let (arch, snaps) = (dir.path().join(".toron"), dir.path().join("snapshots"));
        let archive = Archive::open(&arch);
        // The `full` profile ran sim/queue; the golden of drifted/queue (same scenario) was refreshed wrongly.
        let full = archived(&archive, 0, &[("sim/queue", json!({"rate": 4}))]);
        Snapshots::new(&snaps)
            .update(true)
            .check("drifted/queue", &json!({"rate": 4.5}), &DiffOptions::default())
            .unwrap();
        let w = Warroom::open(dir.path().join("warroom")).unwrap();
        let req = |cases: &[&str], from: Option<&str>| RollbackRequest {
            archive_root: arch.clone(),
            snapshots_root: snaps.clone(),
            cases: cases.iter().map(|c| c.to_string()).collect(),
            from_case: from.map(str::to_string),
            to: full.clone(),
            ..Default::default()
        };
        let e = w.rollback(req(&["drifted/queue"], None)).unwrap_err();
        assert!(e.to_string().contains("name it with from_case"), "{e}");
        let done = w.rollback(req(&["drifted/queue"], Some("sim/queue"))).unwrap();
        assert_eq!(done[0].source_case.as_deref(), Some("sim/queue"));
        assert_eq!(w.rollbacks().unwrap()[0].source_case.as_deref(), Some("sim/queue"));
        let opts = DiffOptions::default();
        assert!(Snapshots::new(&snaps)
            .check("drifted/queue", &json!({"rate": 4}), &opts)
            .unwrap()
            .passed());
        // Bad input: a from_case the run has no output of; from_case with two cases.
        let e = w.rollback(req(&["drifted/queue"], Some("sim/nope"))).unwrap_err();
        assert_eq!((e.kind(), e.field()), (ErrorKind::Warroom, Some("from_case")));
        assert!(e.to_string().contains("\"sim/nope\""), "{e}");
        let e = w
            .rollback(req(&["drifted/queue", "sim/queue"], Some("sim/queue")))
            .unwrap_err();
        assert!(e.to_string().contains("2 cases are to be rolled back"), "{e}");
        assert_eq!(w.rollbacks().unwrap().len(), 1);
    }
}
