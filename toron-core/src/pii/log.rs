//! The scrubber's log, `logs/pii_scrubber.log`: JSON Lines, one object per finding, never the value.

use super::{Finding, Kind};
use crate::snapshot::UtcTime;
use crate::{Error, Result};
use serde_json::json;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default log file, relative to the project root.
pub const LOG_PATH: &str = "logs/pii_scrubber.log";

/// What was done with the artifact a finding was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// The value was replaced by its placeholder.
    Redacted,
    /// Strict mode refused the artifact and moved it to quarantine.
    Quarantined,
}

impl Action {
    /// `redacted` or `quarantined`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Redacted => "redacted",
            Action::Quarantined => "quarantined",
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// RFC 3339 UTC time, for humans (the only wall-clock time in the module).
    pub time: String,
    /// The run id (empty outside a run).
    pub run: String,
    /// The case (empty outside a run).
    pub case: String,
    /// The artifact: a file path or a name such as `output`.
    pub artifact: String,
    /// The kind found.
    pub kind: Kind,
    /// Where in the artifact (`12:5` or a JSON pointer).
    pub location: String,
    /// The placeholder that replaced it.
    pub placeholder: String,
    /// What was done.
    pub action: Action,
}

impl LogEntry {
    /// The entry of `finding`, stamped now.
    pub fn new(run: &str, case: &str, artifact: &str, finding: &Finding, action: Action) -> LogEntry {
        LogEntry {
            time: UtcTime::now().rfc3339(),
            run: run.to_owned(),
            case: case.to_owned(),
            artifact: artifact.to_owned(),
            kind: finding.kind,
            location: finding.location.to_string(),
            placeholder: finding.placeholder.clone(),
            action,
        }
    }

    /// The JSON line (without the newline), fields in a fixed order.
    pub fn to_json_line(&self) -> String {
        json!({
            "time": self.time,
            "run": self.run,
            "case": self.case,
            "artifact": self.artifact,
            "kind": self.kind.name(),
            "location": self.location,
            "placeholder": self.placeholder,
            "action": self.action.name(),
        })
        .to_string()
    }
}

/// The log file, opened for appending. Each line is one `write` on a file opened with `O_APPEND`, so lines
/// of concurrent writers (threads or processes) never interleave.
#[derive(Debug)]
pub struct ScrubLog {
    file: File,
    path: PathBuf,
}

impl ScrubLog {
    /// Open (create, with its directory) the log at `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> Result<ScrubLog> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(&e, dir))?;
        }
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| Error::io(&e, path))?;
        Ok(ScrubLog {
            file,
            path: path.to_owned(),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one line per entry.
    pub fn append(&self, entries: &[LogEntry]) -> Result<()> {
        for e in entries {
            let mut line = e.to_json_line();
            line.push('\n');
            let bytes = line.as_bytes();
            let mut f = &self.file;
            let n = f.write(bytes).map_err(|err| Error::io(&err, &self.path))?;
            if n < bytes.len() {
                f.write_all(&bytes[n..]).map_err(|err| Error::io(&err, &self.path))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{Key, Policy, Scrubber};

    #[test]
    fn lines_never_hold_the_value_and_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/pii_scrubber.log");
        let s = Scrubber::new(&Policy::default(), Key::from_text("k")).unwrap();
        let findings = s.scan_text("a alice@corp.io b 4111111111111111");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (path, findings) = (&path, &findings);
                scope.spawn(move || {
                    let log = ScrubLog::open(path).unwrap();
                    for _ in 0..50 {
                        let entries: Vec<LogEntry> = findings
                            .iter()
                            .map(|f| LogEntry::new("run-1", &format!("case{t}"), "out.txt", f, Action::Redacted))
                            .collect();
                        log.append(&entries).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 400);
        assert!(!text.contains("alice") && !text.contains("4111"));
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for k in [
                "time",
                "run",
                "case",
                "artifact",
                "kind",
                "location",
                "placeholder",
                "action",
            ] {
                assert!(v.get(k).is_some(), "{k} missing in {line}");
            }
            assert_eq!(v["action"], "redacted");
        }
    }
}
