//! Quarantine: artifacts strict mode refused, kept out of reports and archives until someone releases or
//! purges them. `<root>/<run-id>/<id>` holds the bytes (mode 0600, directories 0700) and
//! `<root>/<run-id>/<id>.json` the metadata: id, run, case, artifact, kinds, locations, size and sha (blake3
//! of the bytes) — never the values.

use super::placeholder::create_private;
use super::Finding;
use crate::{Error, ErrorKind, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default quarantine root, relative to the project root.
pub const QUARANTINE_ROOT: &str = ".toron/quarantine";

/// A quarantined artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QuarantineEntry {
    /// The run it came from.
    pub run: String,
    /// Its id (16 hex digits), unique in the quarantine.
    pub id: String,
    /// The case.
    pub case: String,
    /// The artifact's name or original path.
    pub artifact: String,
    /// The kinds found, sorted, each once.
    pub kinds: Vec<String>,
    /// The locations of the findings, in order.
    pub locations: Vec<String>,
    /// Its size in bytes.
    pub size: u64,
    /// blake3 of its bytes, hex.
    pub sha: String,
    /// Where the bytes are.
    pub path: PathBuf,
}

impl QuarantineEntry {
    /// The metadata as JSON (what the `.json` file holds, plus `path`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "run": self.run, "case": self.case, "artifact": self.artifact,
            "kinds": self.kinds, "locations": self.locations, "size": self.size, "sha": self.sha,
            "path": self.path.to_string_lossy(),
        })
    }
}

/// The quarantine under a root directory (normally [`QUARANTINE_ROOT`]).
#[derive(Debug, Clone)]
pub struct Quarantine {
    root: PathBuf,
}

fn pii_err(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Pii, message)
}

fn check_component(s: &str, what: &str) -> Result<()> {
    if s.is_empty() || s == "." || s == ".." || s.contains(['/', '\\', '\0']) {
        return Err(pii_err(format!(
            "invalid {what} {s:?} (expected a non-empty name without / or \\)"
        ))
        .with_field(what));
    }
    Ok(())
}

fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(&e, dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| Error::io(&e, dir))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let res = (|| -> std::io::Result<()> {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(|e| Error::io(&e, path))
}

impl Quarantine {
    /// The quarantine at `root` (created on the first `put`).
    pub fn new(root: impl Into<PathBuf>) -> Quarantine {
        Quarantine { root: root.into() }
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Keep `bytes` (the artifact `artifact` of `case` in run `run_id`) with the metadata of `findings`.
    pub fn put(
        &self,
        run_id: &str,
        case: &str,
        artifact: &str,
        bytes: &[u8],
        findings: &[Finding],
    ) -> Result<QuarantineEntry> {
        check_component(run_id, "run")?;
        private_dir(&self.root)?;
        let dir = self.root.join(run_id);
        private_dir(&dir)?;
        let mut h = blake3::Hasher::new();
        for part in [run_id.as_bytes(), case.as_bytes(), artifact.as_bytes()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(bytes);
        let id = h.finalize().to_hex()[..16].to_owned();
        let mut kinds: Vec<String> = findings.iter().map(|f| f.kind.name().to_owned()).collect();
        kinds.sort();
        kinds.dedup();
        let entry = QuarantineEntry {
            run: run_id.to_owned(),
            id: id.clone(),
            case: case.to_owned(),
            artifact: artifact.to_owned(),
            kinds,
            locations: findings.iter().map(|f| f.location.to_string()).collect(),
            size: bytes.len() as u64,
            sha: blake3::hash(bytes).to_hex().to_string(),
            path: dir.join(&id),
        };
        write_private(&entry.path, bytes)?;
        let mut meta = entry.to_json();
        if let Some(m) = meta.as_object_mut() {
            m.remove("path");
        }
        write_private(&dir.join(format!("{id}.json")), format!("{meta:#}\n").as_bytes())?;
        Ok(entry)
    }

    /// Every quarantined artifact, sorted by run then id.
    pub fn list(&self) -> Result<Vec<QuarantineEntry>> {
        let mut out = Vec::new();
        let runs = match std::fs::read_dir(&self.root) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&e, &self.root)),
        };
        for run in runs {
            let run = run.map_err(|e| Error::io(&e, &self.root))?;
            if !run.path().is_dir() {
                continue;
            }
            let dir = run.path();
            for f in std::fs::read_dir(&dir).map_err(|e| Error::io(&e, &dir))? {
                let f = f.map_err(|e| Error::io(&e, &dir))?;
                let p = f.path();
                if p.extension().and_then(|x| x.to_str()) != Some("json") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&e, &p))?;
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| pii_err(format!("quarantine metadata is not JSON: {e}")).with_file(&p))?;
                let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                let list = |k: &str| -> Vec<String> {
                    v.get(k)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default()
                };
                let id = s("id");
                out.push(QuarantineEntry {
                    run: s("run"),
                    path: dir.join(&id),
                    id,
                    case: s("case"),
                    artifact: s("artifact"),
                    kinds: list("kinds"),
                    locations: list("locations"),
                    size: v.get("size").and_then(Value::as_u64).unwrap_or(0),
                    sha: s("sha"),
                });
            }
        }
        out.sort();
        Ok(out)
    }

    fn get(&self, id: &str) -> Result<QuarantineEntry> {
        let all = self.list()?;
        if let Some(e) = all.iter().find(|e| e.id == id) {
            return Ok(e.clone());
        }
        let known = if all.is_empty() {
            "quarantine is empty".to_owned()
        } else {
            format!(
                "expected one of: {}",
                all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        Err(pii_err(format!("unknown quarantine id {id:?} ({known})")).with_field("id"))
    }

    /// Move the artifact `id` out to `to` (a directory: the artifact's file name inside it, or a file path)
    /// and forget it. Returns where it went.
    pub fn release(&self, id: &str, to: &Path) -> Result<PathBuf> {
        let e = self.get(id)?;
        let dest = if to.is_dir() {
            let name = Path::new(&e.artifact)
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(&e.id));
            to.join(name)
        } else {
            to.to_owned()
        };
        if dest.exists() {
            return Err(pii_err("the release destination exists already (expected a new path)").with_file(&dest));
        }
        if std::fs::rename(&e.path, &dest).is_err() {
            // Another file system: copy, then remove.
            std::fs::copy(&e.path, &dest).map_err(|err| Error::io(&err, &dest))?;
            std::fs::remove_file(&e.path).map_err(|err| Error::io(&err, &e.path))?;
        }
        let meta = e.path.with_extension("json");
        std::fs::remove_file(&meta).map_err(|err| Error::io(&err, &meta))?;
        Ok(dest)
    }

    /// Delete the artifact `id` and its metadata.
    pub fn purge(&self, id: &str) -> Result<()> {
        let e = self.get(id)?;
        std::fs::remove_file(&e.path).map_err(|err| Error::io(&err, &e.path))?;
        let meta = e.path.with_extension("json");
        std::fs::remove_file(&meta).map_err(|err| Error::io(&err, &meta))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{Key, Policy, Scrubber};

    #[test]
    fn put_list_release_purge() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::new(dir.path().join(".toron/quarantine"));
        let e = q.purge("nope").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Pii);
        assert!(e.to_string().contains("quarantine is empty"), "{e}");
        let s = Scrubber::new(&Policy::default(), Key::from_text("k")).unwrap();
        let body = b"user alice@corp.io\n";
        let findings = s.scan_text(std::str::from_utf8(body).unwrap());
        let a = q.put("run-1", "c1", "out/a.txt", body, &findings).unwrap();
        let b = q
            .put(
                "run-1",
                "c2",
                "out/b.txt",
                b"x 4111111111111111",
                &s.scan_text("x 4111111111111111"),
            )
            .unwrap();
        assert_eq!(a.kinds, vec!["email"]);
        assert_eq!(a.locations, vec!["1:6"]);
        let meta = std::fs::read_to_string(a.path.with_extension("json")).unwrap();
        assert!(!meta.contains("alice"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&a.path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(
                std::fs::metadata(a.path.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(q.list().unwrap(), want);
        let e = q.release("zzz", dir.path()).unwrap_err();
        assert!(e.to_string().contains(&a.id) && e.to_string().contains(&b.id), "{e}");
        let out = q.release(&a.id, dir.path()).unwrap();
        assert_eq!(out, dir.path().join("a.txt"));
        assert_eq!(std::fs::read(&out).unwrap(), body);
        q.purge(&b.id).unwrap();
        assert!(q.list().unwrap().is_empty());
        assert!(q.put("../x", "c", "a", b"", &[]).is_err());
    }
}
