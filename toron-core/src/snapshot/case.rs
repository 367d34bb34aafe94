//! Case names and where their golden files live.
//!
//! A case name is one or more `/`-separated segments (`suite/case`), each a non-empty file name: no `.` or
//! `..`, no leading `.` (hidden files are the module's temporary files), no `\`, no control characters, and the
//! name is not absolute. The golden file of case `suite/case` is `<root>/suite/case.json`; its pending
//! candidate is `<root>/suite/case.json.new`.

use std::path::{Path, PathBuf};

use crate::{Error, ErrorKind, Result};

/// Extension of a golden file.
pub(crate) const GOLDEN_EXT: &str = ".json";
/// Extension of a pending candidate.
pub(crate) const PENDING_EXT: &str = ".json.new";

/// Check a case name, returning an `InvalidArgument` error that says what is wrong.
pub(crate) fn check_case(case: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("case name {case:?} {why} (expected `name` or `suite/name`, segments without `..` or `\\`)"),
        )
        .with_field("case"))
    };
    if case.is_empty() {
        return bad("is empty");
    }
    if case.starts_with('/') {
        return bad("is an absolute path");
    }
    if case.len() > 1024 {
        return bad("is longer than 1024 bytes");
    }
    if case.chars().any(|c| c.is_control()) {
        return bad("contains a control character");
    }
    if case.contains('\\') {
        return bad("contains a backslash");
    }
    if case.contains(':') {
        return bad("contains a colon");
    }
    for segment in case.split('/') {
        if segment.is_empty() {
            return bad("has an empty segment");
        }
        if segment == "." || segment == ".." {
            return bad("has a `.` or `..` segment");
        }
        if segment.starts_with('.') {
            return bad("has a segment starting with `.`");
        }
    }
    Ok(())
}

/// `<root>/<case>.json`.
pub(crate) fn golden_path(root: &Path, case: &str) -> Result<PathBuf> {
    check_case(case)?;
    Ok(root.join(format!("{case}{GOLDEN_EXT}")))
}

/// `<root>/<case>.json.new`.
pub(crate) fn pending_path(root: &Path, case: &str) -> Result<PathBuf> {
    check_case(case)?;
    Ok(root.join(format!("{case}{PENDING_EXT}")))
}

/// Every file under `root` whose name ends with `ext`, as sorted case names. Hidden entries (temporary files)
/// and names that are not valid cases are skipped.
pub(crate) fn walk_cases(root: &Path, ext: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    walk(root, "", ext, &mut out, 0)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, ext: &str, out: &mut Vec<String>, depth: usize) -> Result<()> {
    if depth > 64 {
        return Ok(());
    }
    for entry in super::fsutil::list_dir(dir)? {
        if entry.name.starts_with('.') {
            continue;
        }
        if entry.is_dir {
            let sub = format!("{prefix}{}/", entry.name);
            walk(&entry.path, &sub, ext, out, depth + 1)?;
        } else if let Some(stem) = entry.name.strip_suffix(ext) {
            let case = format!("{prefix}{stem}");
            if check_case(&case).is_ok() {
                out.push(case);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_nested_names() {
        for ok in ["a", "suite/case", "a.b/c-d_e", "x/y/z"] {
            assert!(check_case(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_escapes_and_empty_segments() {
        for bad in [
            "", "/abs", "../up", "a/../b", "a//b", "a/", "./a", "a\\b", ".hidden", "a\nb", "c:x",
        ] {
            let e = check_case(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(e.to_string().contains("case name"), "{e}");
        }
    }

    #[test]
    fn paths() {
        let root = Path::new("snapshots");
        assert_eq!(golden_path(root, "s/c").unwrap(), Path::new("snapshots/s/c.json"));
        assert_eq!(pending_path(root, "s/c").unwrap(), Path::new("snapshots/s/c.json.new"));
        assert!(golden_path(root, "../x").is_err());
    }
}
