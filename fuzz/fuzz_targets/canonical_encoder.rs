//! Any text through the strict parser; whatever parses must encode canonically, re-parse to the same
//! bytes, and give the same bytes from its pretty form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toron_core::canon;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = canon::parse_json(text) else {
        return;
    };
    let bytes = canon::canonical_bytes(&value).expect("a parsed value always encodes");
    let again = canon::parse_json(std::str::from_utf8(&bytes).expect("canonical bytes are UTF-8"))
        .expect("canonical text parses");
    assert_eq!(canon::canonical_bytes(&again).expect("encodes"), bytes);
    let pretty = canon::to_pretty(&value).expect("a parsed value always prints");
    assert_eq!(
        canon::canonical_bytes(&canon::parse_json(&pretty).expect("pretty parses"))
            .expect("encodes"),
        bytes
    );
});
