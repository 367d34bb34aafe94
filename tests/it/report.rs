//! Reports: coverage ingestion from fixtures written the way coverage.py and lcov write them.

use std::path::{Path, PathBuf};
use toron_core::report::coverage::Coverage;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runner/coverage")
        .join(name)
}

#[test]
fn coverage_py_total_is_reproduced() {
    // Hand count of coverage.xml: __init__.py 1/1, cart.py 3/4, pricing/rules.py 5/7 → 9/12 = 0.75, the file's
    // own `line-rate` (coverage.py's total with branch coverage off).
    let cov = Coverage::read(fixture("coverage.xml"), "/srv/shop").unwrap();
    assert_eq!((cov.lines_covered(), cov.lines_valid()), (9, 12));
    assert_eq!(cov.line_rate(), Some(0.75));
    let paths: Vec<String> = cov.files().map(|f| f.path).collect();
    assert_eq!(
        paths,
        ["backend/__init__.py", "backend/cart.py", "backend/pricing/rules.py"]
    );
}

#[test]
fn several_files_merge_and_a_line_is_covered_when_any_file_covers_it() {
    let cov = Coverage::read_all(&[fixture("coverage.xml"), fixture("web.info")], "/srv/shop").unwrap();
    // cart.py: line 5 now covered by lcov, line 6 new and uncovered → 5/6; web/app.js 2/3 (relative SF path).
    let files: Vec<_> = cov.files().map(|f| (f.path, f.lines_covered, f.lines_valid)).collect();
    assert_eq!(
        files,
        [
            ("backend/__init__.py".to_string(), 1, 1),
            ("backend/cart.py".to_string(), 4, 5),
            ("backend/pricing/rules.py".to_string(), 5, 7),
            ("web/app.js".to_string(), 2, 3),
        ]
    );
    assert_eq!((cov.lines_covered(), cov.lines_valid()), (12, 16));
}

#[test]
fn a_missing_coverage_file_is_an_io_error_naming_it() {
    let e = Coverage::read(fixture("nope.xml"), "/srv/shop").unwrap_err();
    assert_eq!(e.kind(), toron_core::ErrorKind::Io);
    assert!(e.to_string().contains("nope.xml"), "{e}");
}
