//! The file layer shared by golden files and the run archive: atomic writes, temporary-file names, and sorted
//! directory walks.
//!
//! An atomic write creates a temporary file *in the destination's directory* (so the rename never crosses a
//! file system), writes the bytes, flushes them to disk (`fsync`), renames the temporary file over the
//! destination and finally flushes the directory, so that after a crash the destination holds either its old
//! bytes or its new bytes, never a mix. A writer killed half way leaves at most a temporary file, named
//! `.<destination name>.<pid>.<n>.tmp`, which readers skip and `verify` reports as a leftover.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Suffix of every temporary file this module creates.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `name` (a file name, not a path) is a temporary file left by [`atomic_write`].
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// A fresh temporary path beside `dest`, unique in this process (counter) and across processes (pid).
pub(crate) fn temp_path_for(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = format!(".{name}.{}.{n}{TEMP_SUFFIX}", std::process::id());
    dest.with_file_name(temp)
}

/// Flush a directory's entries to disk, so a rename or a new entry in it survives a crash.
///
/// Only Unix lets a directory be opened and synced; elsewhere this is a no-op.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Write `bytes` to `dest` atomically: temporary file in the same directory, write, fsync, rename, fsync the
/// directory. The parent directory must exist. On error the temporary file is removed (best effort).
pub(crate) fn atomic_write(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(dest);
    let temp = temp_path_for(dest);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, dest)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Like [`atomic_write`], but leaves the file alone (bytes and modification time) when it already holds exactly
/// `bytes`. Returns whether the file was written.
pub(crate) fn write_if_changed(dest: &Path, bytes: &[u8]) -> io::Result<bool> {
    match fs::read(dest) {
        Ok(existing) if existing == bytes => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    atomic_write(dest, bytes)?;
    Ok(true)
}

/// Rename `from` over `to` atomically and flush the directory entries of both.
pub(crate) fn atomic_rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    sync_dir(parent_dir(to))?;
    let from_dir = parent_dir(from);
    if from_dir != parent_dir(to) {
        sync_dir(from_dir)?;
    }
    Ok(())
}

/// Remove a file; a file that is already gone is not an error. Returns whether a file was removed.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Create `dir` and its parents, as an [`Error`] of kind `Io` naming the directory.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::write(&e, dir))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    /// The file name, lossily converted to UTF-8.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// Whether the entry is a directory (symbolic links are followed).
    pub is_dir: bool,
}

/// The entries of `dir` sorted by name; a missing directory is empty.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<Entry>> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&e, dir)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io(&e, dir))?;
        let path = entry.path();
        let is_dir = fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
        out.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            path,
            is_dir,
        });
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.json");
        atomic_write(&dest, b"one").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"one");
        atomic_write(&dest, b"two").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"two");
        let names: Vec<_> = list_dir(dir.path()).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, vec!["a.json".to_string()]);
    }

    #[test]
    fn write_if_changed_keeps_identical_files() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.json");
        assert!(write_if_changed(&dest, b"x").unwrap());
        let before = fs::metadata(&dest).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&dest, b"x").unwrap());
        assert_eq!(fs::metadata(&dest).unwrap().modified().unwrap(), before);
        assert!(write_if_changed(&dest, b"y").unwrap());
        assert_eq!(fs::read(&dest).unwrap(), b"y");
    }

    #[test]
    fn atomic_write_into_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("missing").join("a.json");
        assert!(atomic_write(&dest, b"x").is_err());
        assert!(!dest.exists());
    }

    #[test]
    fn temp_names_are_recognised() {
        let t = temp_path_for(Path::new("/x/abc.json"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name), "{name}");
        assert!(!is_temp_name("abc.json"));
        assert!(!is_temp_name("abc.json.new"));
    }

    #[test]
    fn list_dir_is_sorted_and_tolerates_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list_dir(&dir.path().join("nope")).unwrap().is_empty());
        for n in ["b", "a", "c"] {
            fs::write(dir.path().join(n), b"").unwrap();
        }
        let names: Vec<_> = list_dir(dir.path()).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
