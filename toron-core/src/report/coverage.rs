//! Line coverage from Cobertura XML (as coverage.py writes it) and lcov `.info` files.
//!
//! Files are merged line by line: a line counts as covered when any file covers it. Paths are made relative to
//! the repository root (the manifest's directory) with `/` separators, so two tools naming the same file by an
//! absolute and a relative path agree. For one coverage.py file the line rate is exactly coverage.py's own
//! total (covered statements / statements) when branch coverage is off.
//!
//! ```
//! use toron_core::report::coverage::Coverage;
//! let lcov = "SF:/repo/src/a.py\nDA:1,1\nDA:2,0\nend_of_record\n";
//! let cov = Coverage::parse_lcov(lcov, "/repo".as_ref(), "lcov.info".as_ref())?;
//! assert_eq!(cov.line_rate(), Some(0.5));
//! assert_eq!(cov.files().next().map(|f| f.path), Some("src/a.py".to_string()));
//! # Ok::<(), toron_core::Error>(())
//! ```

use crate::{Error, ErrorKind, Result};
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Merged line coverage: repository-relative path → line number → hits (the largest seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    files: BTreeMap<String, BTreeMap<u64, u64>>,
}

/// One file's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileCoverage {
    /// Repository-relative path, `/`-separated.
    pub path: String,
    /// Lines that can be covered.
    pub lines_valid: u64,
    /// Lines covered at least once.
    pub lines_covered: u64,
}

impl Coverage {
    /// No lines.
    pub fn new() -> Self {
        Coverage::default()
    }

    /// Read a coverage file, Cobertura XML or lcov (told apart by content), with paths made relative to `root`.
    pub fn read(path: impl AsRef<Path>, root: impl AsRef<Path>) -> Result<Coverage> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(&e, path))?;
        if text.trim_start().starts_with('<') {
            Coverage::parse_cobertura(&text, root.as_ref(), path)
        } else {
            Coverage::parse_lcov(&text, root.as_ref(), path)
        }
    }

    /// Read several files and merge them.
    pub fn read_all<P: AsRef<Path>>(paths: &[P], root: impl AsRef<Path>) -> Result<Coverage> {
        let mut all = Coverage::new();
        for p in paths {
            all.merge(&Coverage::read(p, root.as_ref())?);
        }
        Ok(all)
    }

    /// Parse lcov text (`SF:`, `DA:<line>,<hits>`, `end_of_record`); other records are ignored. `file` is named
    /// in errors.
    pub fn parse_lcov(text: &str, root: &Path, file: &Path) -> Result<Coverage> {
        let root = absolute(root);
        let mut cov = Coverage::new();
        let mut current: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let bad = |what: &str| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("invalid lcov record {line:?}: {what}"),
                )
                .with_file(file)
                .with_line(i + 1, None)
            };
            if let Some(sf) = line.strip_prefix("SF:") {
                current = Some(relative(&root, Path::new(sf.trim()), None));
            } else if let Some(da) = line.strip_prefix("DA:") {
                let path = current
                    .as_ref()
                    .ok_or_else(|| bad("a DA line before any SF line (expected SF:<path> first)"))?;
                let mut parts = da.split(',');
                let number = parts.next().and_then(|n| n.trim().parse::<u64>().ok());
                let hits = parts.next().and_then(|h| parse_hits(h.trim()));
                match (number, hits) {
                    (Some(n), Some(h)) => cov.add(path.clone(), n, h),
                    _ => return Err(bad("expected DA:<line number>,<hits>")),
                }
            } else if line == "end_of_record" {
                current = None;
            }
        }
        Ok(cov)
    }

    /// Parse Cobertura XML: `<source>` roots, `<class filename=...>`, `<line number=... hits=...>`.
    pub fn parse_cobertura(text: &str, root: &Path, file: &Path) -> Result<Coverage> {
        let root = absolute(root);
        let mut reader = quick_xml::Reader::from_str(text);
        let mut sources: Vec<PathBuf> = Vec::new();
        let mut in_source = false;
        let mut class: Option<String> = None;
        let mut raw: Vec<(String, u64, u64)> = Vec::new();
        let mut saw_root = false;
        let err = |reader: &quick_xml::Reader<&[u8]>, msg: String| {
            let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let line = text
                .get(..pos.min(text.len()))
                .map_or(1, |t| t.matches('\n').count() + 1);
            Error::new(ErrorKind::InvalidArgument, msg)
                .with_file(file)
                .with_line(line, None)
        };
        loop {
            let event = reader
                .read_event()
                .map_err(|e| err(&reader, format!("invalid Cobertura XML: {e}")))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    match e.name().as_ref() {
                        b"coverage" => saw_root = true,
                        b"source" => in_source = !empty,
                        b"class" => {
                            let name = attr(e, b"filename").ok_or_else(|| {
                                err(&reader, "a <class> without filename (expected filename=\"...\")".into())
                            })?;
                            class = if empty { None } else { Some(name) };
                        }
                        b"line" => {
                            // `<line>` also appears under `<method>`; each line is listed again under the class.
                            if let Some(c) = &class {
                                let number = attr(e, b"number").and_then(|n| n.parse::<u64>().ok());
                                let hits = attr(e, b"hits").and_then(|h| parse_hits(&h));
                                match (number, hits) {
                                    (Some(n), Some(h)) => raw.push((c.clone(), n, h)),
                                    _ => {
                                        return Err(err(
                                            &reader,
                                            format!("a <line> in {c} without a valid number and hits (expected e.g. <line number=\"3\" hits=\"1\"/>)"),
                                        ))
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Event::Text(t) if in_source => {
                    let s = t
                        .decode()
                        .map_err(|e| err(&reader, format!("invalid text in <source>: {e}")))?;
                    let s = s.trim();
                    if !s.is_empty() {
                        sources.push(PathBuf::from(s));
                    }
                }
                Event::End(ref e) => match e.name().as_ref() {
                    b"source" => in_source = false,
                    b"class" => class = None,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "not a Cobertura coverage file: no <coverage> element (expected coverage.py's coverage.xml)",
            )
            .with_file(file));
        }
        let mut cov = Coverage::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (name, n, h) in raw {
            let path = match seen.get(&name) {
                Some(p) => p.clone(),
                None => {
                    let p = relative(&root, Path::new(&name), Some(&sources));
                    seen.insert(name, p.clone());
                    p
                }
            };
            cov.add(path, n, h);
        }
        Ok(cov)
    }

    fn add(&mut self, path: String, line: u64, hits: u64) {
        let h = self.files.entry(path).or_default().entry(line).or_insert(0);
        *h = (*h).max(hits);
    }

    /// Merge `other` in: a line is covered when either covers it.
    pub fn merge(&mut self, other: &Coverage) {
        for (path, lines) in &other.files {
            for (&n, &h) in lines {
                self.add(path.clone(), n, h);
            }
        }
    }

    /// Lines that can be covered, over every file.
    pub fn lines_valid(&self) -> u64 {
        self.files.values().map(|l| l.len() as u64).sum()
    }

    /// Lines covered at least once.
    pub fn lines_covered(&self) -> u64 {
        self.files
            .values()
            .map(|l| l.values().filter(|h| **h > 0).count() as u64)
            .sum()
    }

    /// Covered / valid, or `None` when there are no lines.
    pub fn line_rate(&self) -> Option<f64> {
        let valid = self.lines_valid();
        (valid > 0).then(|| self.lines_covered() as f64 / valid as f64)
    }

    /// Per file, sorted by path.
    pub fn files(&self) -> impl Iterator<Item = FileCoverage> + '_ {
        self.files.iter().map(|(path, lines)| FileCoverage {
            path: path.clone(),
            lines_valid: lines.len() as u64,
            lines_covered: lines.values().filter(|h| **h > 0).count() as u64,
        })
    }

    /// Whether there is no line at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == name).and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

/// Hits are integers; some tools write `1.0` or a huge count.
fn parse_hits(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().or_else(|| {
        s.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// Lexical normalisation: drop `.`, resolve `..`.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `name` made relative to `root`: joined to the first `source` under which it exists (else the first), made
/// absolute, then stripped of `root` when under it.
fn relative(root: &Path, name: &Path, sources: Option<&[PathBuf]>) -> String {
    let joined = match sources {
        Some(srcs) if !name.is_absolute() && !srcs.is_empty() => {
            let abs: Vec<PathBuf> = srcs
                .iter()
                .map(|s| if s.is_absolute() { s.clone() } else { root.join(s) })
                .collect();
            abs.iter()
                .map(|s| s.join(name))
                .find(|p| p.exists())
                .unwrap_or_else(|| abs[0].join(name))
        }
        _ if name.is_absolute() => name.to_path_buf(),
        _ => root.join(name),
    };
    let full = normalize(&joined);
    let rel = full.strip_prefix(root).unwrap_or(&full);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const COBERTURA: &str = r#"<?xml version="1.0" ?>
<coverage version="7.6.1" timestamp="1732500000000" lines-valid="7" lines-covered="5" line-rate="0.7143" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
	<sources>
		<source>/repo/backend</source>
	</sources>
	<packages>
		<package name="." line-rate="0.7143" branch-rate="0" complexity="0">
			<classes>
				<class name="app.py" filename="app.py" complexity="0" line-rate="0.75" branch-rate="0">
					<methods/>
					<lines>
						<line number="1" hits="1"/>
						<line number="2" hits="1"/>
						<line number="4" hits="0"/>
						<line number="5" hits="3"/>
					</lines>
				</class>
				<class name="util.py" filename="sub/util.py" complexity="0" line-rate="0.6667" branch-rate="0">
					<methods/>
					<lines>
						<line number="1" hits="1"/>
						<line number="2" hits="0"/>
						<line number="3" hits="1"/>
					</lines>
				</class>
			</classes>
		</package>
	</packages>
</coverage>
"#;

    #[test]
    fn cobertura_rate_equals_the_files_own_total() {
        let cov = Coverage::parse_cobertura(COBERTURA, Path::new("/repo"), Path::new("coverage.xml")).unwrap();
        assert_eq!((cov.lines_valid(), cov.lines_covered()), (7, 5));
        assert_eq!(cov.line_rate(), Some(5.0 / 7.0));
        let files: Vec<_> = cov.files().collect();
        assert_eq!(files[0].path, "backend/app.py");
        assert_eq!(files[1].path, "backend/sub/util.py");
        assert_eq!((files[1].lines_valid, files[1].lines_covered), (3, 2));
    }

    #[test]
    fn lcov_and_cobertura_merge_line_by_line() {
        let cob = Coverage::parse_cobertura(COBERTURA, Path::new("/repo"), Path::new("coverage.xml")).unwrap();
        // The same file by a relative path; covers line 4 of app.py, plus a new file.
        let lcov = "TN:\nSF:backend/app.py\nDA:4,2\nDA:5,0\nend_of_record\nSF:/repo/web/x.js\nDA:1,0\nend_of_record\n";
        let other = Coverage::parse_lcov(lcov, Path::new("/repo"), Path::new("lcov.info")).unwrap();
        let mut all = cob.clone();
        all.merge(&other);
        assert_eq!((all.lines_valid(), all.lines_covered()), (8, 6));
        let paths: Vec<_> = all.files().map(|f| f.path).collect();
        assert_eq!(paths, ["backend/app.py", "backend/sub/util.py", "web/x.js"]);
        // Merging is order-independent.
        let mut rev = other;
        rev.merge(&cob);
        assert_eq!(rev, all);
    }

    #[test]
    fn bad_files_are_errors_with_a_line() {
        let e = Coverage::parse_lcov("DA:1,1\n", Path::new("/r"), Path::new("l.info")).unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::InvalidArgument, Some(1)));
        let e = Coverage::parse_lcov("SF:a\nDA:x,1\n", Path::new("/r"), Path::new("l.info")).unwrap_err();
        assert_eq!(e.line(), Some(2));
        let e = Coverage::parse_cobertura(
            "<coverage><class filename=\"a\"><line number=\"1\"/></class></coverage>",
            Path::new("/r"),
            Path::new("c.xml"),
        )
        .unwrap_err();
        assert!(e.message().contains("without a valid number and hits"), "{e}");
        assert!(Coverage::parse_cobertura("<html/>", Path::new("/r"), Path::new("c.xml")).is_err());
        assert!(
            Coverage::parse_cobertura("<coverage><unclosed></coverage>", Path::new("/r"), Path::new("c.xml")).is_err()
        );
    }

    proptest::proptest! {
        /// Any text is a coverage or an error, never a panic; rates stay within [0, 1].
        #[test]
        fn never_panics_on_any_text(text in "(?s).{0,400}", xml in "(<coverage>|<class filename=\"a\">|<line number=\"[0-9]{1,3}\" hits=\"[0-9x.]{1,3}\"/>|</class>|</coverage>|<source>[a-z/]{0,6}</source>|&amp;|<){0,12}") {
            let root = Path::new("/r");
            for t in [&text, &xml] {
                for cov in [Coverage::parse_lcov(t, root, Path::new("l")), Coverage::parse_cobertura(t, root, Path::new("c"))].into_iter().flatten() {
                    if let Some(r) = cov.line_rate() {
                        proptest::prop_assert!((0.0..=1.0).contains(&r));
                    }
                }
            }
        }
    }

    #[test]
    fn empty_coverage_has_no_rate() {
        assert_eq!(Coverage::new().line_rate(), None);
    }
}
