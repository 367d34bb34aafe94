//! Any text as a `testops.toml` (relative paths resolved in `examples/testops`, so the seeds' scenario and
//! schema files exist): an error is a `Manifest`, `Scenario`, `Dataset` or `Io` error with a message and, when
//! it is about the text, a line of it; never a panic. A manifest that parses parses again to the same manifest,
//! its gates' rules and scopes re-parse to themselves, every profile names suites that exist, and suite names
//! (and case names within a suite) are unique.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::path::Path;
use toron_core::gate::{Rule, Scope};
use toron_core::runner::Manifest;
use toron_core::ErrorKind;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/testops");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = Path::new(ROOT);
    match Manifest::from_str(text, root) {
        Ok(m) => {
            let again = Manifest::from_str(text, root).expect("the same text parses again");
            assert_eq!(format!("{again:?}"), format!("{m:?}"));
            assert_eq!(m.root(), root);
            for gate in &m.gates {
                assert_eq!(Rule::parse(gate.rule.text()).as_ref(), Ok(&gate.rule));
                if let Some(key) = gate.scope.key() {
                    assert_eq!(Scope::parse(&key).as_ref(), Ok(&gate.scope));
                }
            }
            for (name, suites) in &m.profiles {
                let found = m.profile_suites(Some(name)).expect("a profile names suites that exist");
                assert_eq!(found.len(), suites.len(), "profile {name}");
            }
            assert_eq!(m.profile_suites(None).expect("every suite").len(), m.suites.len());
            let names: BTreeSet<&str> = m.suites.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names.len(), m.suites.len(), "suite names are unique");
            for suite in &m.suites {
                let cases: BTreeSet<&str> = suite.cases.iter().map(|c| c.name.as_str()).collect();
                assert_eq!(
                    cases.len(),
                    suite.cases.len(),
                    "case names are unique in suite {}",
                    suite.name
                );
            }
        }
        Err(e) => toron_fuzz::check_error(
            &e,
            &[
                ErrorKind::Manifest,
                ErrorKind::Scenario,
                ErrorKind::Dataset,
                ErrorKind::Io,
            ],
            text,
            None,
        ),
    }
});
