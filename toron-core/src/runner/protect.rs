//! The scrubber in runs: every attempt's output, captured stdout and stderr and message are scrubbed before
//! anything is compared or written (goldens, the archive, reports, events), each finding logged to
//! `logs/pii_scrubber.log`. In strict mode (`[pii] strict = true` or `PII_STRICT=1`) an attempt with a finding
//! fails with the findings' kinds and locations, and its unscrubbed artifacts go to the quarantine
//! (`<archive>/quarantine/<run id>/`, mode 0600) instead: only placeholders reach anything else.

use super::case::{Attempt, CaseOutcome};
use super::manifest::Manifest;
use crate::pii::{self, Action, Finding, Key, LogEntry, Policy, Quarantine, ScrubLog, Scrubber};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One finding of the scrubber in an attempt, as `report.json` lists it: never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiFinding {
    /// What held it: `output` (the case's output document), `stdout`, `stderr` or `message`.
    pub artifact: String,
    /// The kind (`email`, `card`, ...).
    pub kind: String,
    /// `line:column` in text, or the JSON pointer in the output.
    pub location: String,
    /// The placeholder that replaced it.
    pub placeholder: String,
    /// `redacted`, or `quarantined` (strict mode).
    pub action: String,
    /// The quarantine entry holding the unscrubbed artifact (strict mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
}

/// A run's scrubber, its log and its quarantine.
pub(crate) struct Protect {
    scrubber: Scrubber,
    strict: bool,
    run_id: String,
    /// `None`: findings are not logged (replay and refresh re-scrub what a run already logged).
    log_path: Option<PathBuf>,
    /// Opened at the first finding: a run that finds nothing creates no log.
    log: OnceLock<std::result::Result<ScrubLog, String>>,
    quarantine: Quarantine,
}

impl Protect {
    /// The scrubber of `manifest`'s `[pii]` policy for run `run_id`, or `None` when it names no kind
    /// (`kinds = []`). The key: the variable `key_env` names (default `TORON_PII_KEY`), else the archive's.
    pub(crate) fn for_run(manifest: &Manifest, archive_root: &Path, run_id: &str) -> Result<Option<Protect>> {
        let settings = &manifest.pii;
        if settings.kinds.as_ref().is_some_and(Vec::is_empty) {
            return Ok(None);
        }
        let policy = policy_of(manifest)?;
        let key = Key::resolve(None, settings.key_env.as_deref(), archive_root)?;
        Ok(Some(Protect {
            scrubber: Scrubber::new(&policy, key)?,
            strict: settings.strict || Policy::strict_from_env(),
            run_id: run_id.to_string(),
            log_path: Some(manifest.root().join(pii::LOG_PATH)),
            log: OnceLock::new(),
            quarantine: Quarantine::new(archive_root.join("quarantine")),
        }))
    }

    /// The scrubber replay and refresh use to get the same outputs as the run: the manifest's policy (`None`
    /// for replay, which has only the archive: every kind) and the same key, never strict, logging nothing.
    pub(crate) fn quiet(manifest: Option<&Manifest>, archive_root: &Path) -> Result<Option<Protect>> {
        let (policy, key_env) = match manifest {
            Some(m) if m.pii.kinds.as_ref().is_some_and(Vec::is_empty) => return Ok(None),
            Some(m) => (policy_of(m)?, m.pii.key_env.clone()),
            None => (Policy::default(), None),
        };
        let key = Key::resolve(None, key_env.as_deref(), archive_root)?;
        Ok(Some(Protect {
            scrubber: Scrubber::new(&policy, key)?,
            strict: false,
            run_id: String::new(),
            log_path: None,
            log: OnceLock::new(),
            quarantine: Quarantine::new(archive_root.join("quarantine")),
        }))
    }

    /// Scrub attempt `a` of case `case` (`suite/name`) in place: its output, stdout, stderr and message.
    pub(crate) fn attempt(&self, case: &str, a: &mut Attempt) {
        let mut found: Vec<(&'static str, Vec<Finding>, Vec<u8>)> = Vec::new();
        if !a.output.is_null() {
            let (value, findings) = self.scrubber.scrub_value(&a.output);
            if !findings.is_empty() {
                let raw = crate::canon::canonical_bytes(&a.output).unwrap_or_default();
                a.output = value;
                found.push(("output", findings, raw));
            }
        }
        for (artifact, text) in [("stdout", &mut a.stdout), ("stderr", &mut a.stderr)] {
            if text.is_empty() {
                continue;
            }
            let s = self.scrubber.scrub_text(text);
            if !s.findings.is_empty() {
                let raw = std::mem::replace(text, s.text).into_bytes();
                found.push((artifact, s.findings, raw));
            }
        }
        if let Some(m) = &mut a.message {
            let s = self.scrubber.scrub_text(m);
            if !s.findings.is_empty() {
                let raw = std::mem::replace(m, s.text).into_bytes();
                found.push(("message", s.findings, raw));
            }
        }
        if found.is_empty() {
            return;
        }
        let action = if self.strict {
            Action::Quarantined
        } else {
            Action::Redacted
        };
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (artifact, findings, raw) in &found {
            let quarantine = if self.strict {
                match self.quarantine.put(&self.run_id, case, artifact, raw, findings) {
                    Ok(e) => Some(e.id),
                    Err(e) => {
                        problems.push(format!("quarantine of {artifact}: {e}"));
                        None
                    }
                }
            } else {
                None
            };
            for f in findings {
                entries.push(LogEntry::new(&self.run_id, case, artifact, f, action));
                a.pii.push(PiiFinding {
                    artifact: artifact.to_string(),
                    kind: f.kind.name().to_string(),
                    location: f.location.to_string(),
                    placeholder: f.placeholder.clone(),
                    action: action.name().to_string(),
                    quarantine: quarantine.clone(),
                });
            }
        }
        if let Some(path) = &self.log_path {
            if let Err(e) = self
                .log(path)
                .and_then(|log| log.append(&entries).map_err(|e| e.to_string()))
            {
                problems.push(format!("{}: {e}", path.display()));
            }
        }
        if self.strict {
            let all: Vec<Finding> = found.iter().flat_map(|(_, f, _)| f.iter().cloned()).collect();
            let mut reason = match pii::check_strict(&all) {
                Err(e) => format!("PII found ({})", e.message()),
                Ok(()) => String::from("PII found"),
            };
            let artifacts: Vec<&str> = found.iter().map(|(a, _, _)| *a).collect();
            reason.push_str(&format!(" in {}: quarantined", artifacts.join(", ")));
            if let Some(path) = &self.log_path {
                reason.push_str(&format!(", see {}", path.display()));
            }
            if !problems.is_empty() {
                reason.push_str(&format!(" ({})", problems.join("; ")));
            }
            // The golden is not compared: the case failed, and nothing unscrubbed is kept outside the
            // quarantine.
            a.fail(CaseOutcome::Failed, reason);
        } else if !problems.is_empty() && a.outcome == CaseOutcome::Passed {
            a.fail(
                CaseOutcome::Errored,
                format!("the scrubber's log: {}", problems.join("; ")),
            );
        }
    }

    /// Scrub a command's whole captured streams (`<prefix>.stdout`, `<prefix>.stderr`, under the archive's
    /// `logs/`) in place, in bounded memory: their findings are those of the attempt's stdout and stderr (the
    /// first 64 KiB), already logged, or further on in the same streams. In strict mode a stream with a finding
    /// is quarantined whole before it is replaced by its scrubbed text.
    pub(crate) fn scrub_logs(&self, case: &str, prefix: &Path) {
        for stream in ["stdout", "stderr"] {
            let path = PathBuf::from(format!("{}.{stream}", prefix.display()));
            let Ok(file) = std::fs::File::open(&path) else { continue };
            let tmp = PathBuf::from(format!("{}.{stream}.scrubbing", prefix.display()));
            let mut findings = Vec::new();
            let scrubbed = std::fs::File::create(&tmp)
                .map_err(|e| Error::io(&e, &tmp))
                .and_then(|out| {
                    let mut w = std::io::BufWriter::new(out);
                    self.scrubber
                        .scrub_stream(std::io::BufReader::new(file), &mut w, &mut |f| findings.push(f.clone()))?;
                    std::io::Write::flush(&mut w).map_err(|e| Error::io(&e, &tmp))
                });
            if scrubbed.is_err() || findings.is_empty() {
                // Nothing found (or the copy failed): the original stays, the copy goes.
                let _ = std::fs::remove_file(&tmp);
                if scrubbed.is_err() {
                    // A stream that cannot be scrubbed is not kept unscrubbed.
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            if self.strict {
                if let Ok(raw) = std::fs::read(&path) {
                    let _ = self
                        .quarantine
                        .put(&self.run_id, case, &format!("log.{stream}"), &raw, &findings);
                }
            }
            if std::fs::rename(&tmp, &path).is_err() {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }

    fn log(&self, path: &Path) -> std::result::Result<&ScrubLog, String> {
        self.log
            .get_or_init(|| ScrubLog::open(path).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The `[pii]` policy of `manifest`, checked: an unknown kind or an empty allow pattern is a manifest error
/// naming `pii.kinds[i]` / `pii.allow[i]`.
pub(crate) fn policy_of(manifest: &Manifest) -> Result<Policy> {
    let settings = &manifest.pii;
    let kinds = settings.kinds.clone().unwrap_or_default();
    let mut policy = Policy::new(&kinds, &settings.allow).map_err(|e| {
        let mut err = Error::new(ErrorKind::Manifest, e.message().to_string());
        if let Some(field) = e.field() {
            err = err.with_field(format!("pii.{field}"));
        }
        match manifest.file() {
            Some(f) => err.with_file(f),
            None => err,
        }
    })?;
    policy.strict = settings.strict;
    policy.key_env = settings.key_env.clone();
    Ok(policy)
}
