//! Any text as a scenario, both as TOML and as JSON: an error is a `Scenario` error with a message and a line of
//! the text (when it names one), never a panic. A scenario that parses has a structure that builds the same
//! scenario again (same id, same structure), and whose JSON text parses to it too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toron_core::scenario::{Format, Scenario};
use toron_core::ErrorKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Toml, Format::Json] {
        match Scenario::from_str(text, format) {
            Ok(s) => {
                let value = s.to_value();
                let again = Scenario::from_value(&value).expect("a scenario's structure builds it again");
                assert_eq!((again.id(), again.to_value()), (s.id(), value.clone()));
                let json = serde_json::to_string(&value).expect("a structure prints");
                let from_json = Scenario::from_str(&json, Format::Json).expect("its JSON text parses");
                assert_eq!((from_json.id(), from_json.to_value()), (s.id(), value));
                assert_eq!(s.models().len(), s.spec().nodes.len());
            }
            Err(e) => toron_fuzz::check_error(&e, &[ErrorKind::Scenario], text, None),
        }
    }
});
