//! Any text as a golden file: a parse error is fine (it must be a `Snapshot` error naming the file), a panic
//! is not, and whatever parses writes back to text that parses to the same golden.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use toron_core::snapshot::Golden;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("snapshots/fuzz.json");
    match Golden::parse(text, file) {
        Ok(golden) => {
            let again = golden.to_text().expect("a parsed golden encodes");
            let reparsed = Golden::parse(&again, file).expect("written text parses");
            assert_eq!(reparsed.to_text().expect("encodes"), again);
        }
        Err(e) => {
            assert_eq!(e.kind(), toron_core::ErrorKind::Snapshot);
            assert_eq!(e.file(), Some(file));
        }
    }
});
