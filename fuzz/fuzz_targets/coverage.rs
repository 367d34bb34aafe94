//! Any text as lcov and as Cobertura XML: an error is an `InvalidArgument` error naming the file (and a line of
//! it, when it names one), never a panic. Parsed coverage is consistent (covered <= valid lines, per-file totals
//! add up, a rate in 0..=1, merging with itself changes nothing), and for lcov, parsing two texts joined by an
//! `end_of_record` is merging their two parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use toron_core::report::coverage::Coverage;
use toron_core::ErrorKind;

fn consistent(cov: &Coverage) {
    let (valid, covered) = (cov.lines_valid(), cov.lines_covered());
    assert!(covered <= valid);
    let files: Vec<_> = cov.files().collect();
    assert_eq!(files.iter().map(|f| f.lines_valid).sum::<u64>(), valid);
    assert_eq!(files.iter().map(|f| f.lines_covered).sum::<u64>(), covered);
    assert!(
        files.windows(2).all(|w| w[0].path < w[1].path),
        "files sorted, each once"
    );
    match cov.line_rate() {
        Some(rate) => assert!((0.0..=1.0).contains(&rate) && valid > 0),
        None => assert_eq!(valid, 0),
    }
    assert_eq!(cov.is_empty(), files.is_empty());
    let mut twice = cov.clone();
    twice.merge(cov);
    assert_eq!(&twice, cov);
}

fn check(parsed: toron_core::Result<Coverage>, text: &str, file: &Path) -> Option<Coverage> {
    match parsed {
        Ok(cov) => {
            consistent(&cov);
            Some(cov)
        }
        Err(e) => {
            assert_eq!(e.file(), Some(file), "{e}");
            toron_fuzz::check_error(&e, &[ErrorKind::InvalidArgument], text, Some(file));
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = Path::new("/repo");
    let (lcov, xml) = (Path::new("lcov.info"), Path::new("coverage.xml"));
    check(Coverage::parse_cobertura(text, root, xml), text, xml);
    check(Coverage::parse_lcov(text, root, lcov), text, lcov);
    // Split at the middle line: each half alone, then both joined by an end_of_record.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    let (a, b) = (a.concat(), b.concat());
    let (Some(mut ca), Some(cb)) = (
        check(Coverage::parse_lcov(&a, root, lcov), &a, lcov),
        check(Coverage::parse_lcov(&b, root, lcov), &b, lcov),
    ) else {
        return;
    };
    let joined = format!("{a}\nend_of_record\n{b}");
    let both = Coverage::parse_lcov(&joined, root, lcov).expect("two lcov texts that parse, joined, parse");
    ca.merge(&cb);
    assert_eq!(both, ca);
});
