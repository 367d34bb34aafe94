//! Any bytes as a JSON Patch (and as the document it applies to): errors are fine, panics are not, and a
//! failed patch changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use toron_core::diff::apply_patch;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let doc = json!({"a": [1, 2, {"b": null}], "c~/": {"d": "e"}, "": [[]]});
    // The whole input as a patch on a fixed document.
    if let Ok(patch) = toron_core::canon::parse_json(text) {
        let before = doc.clone();
        let _ = apply_patch(&doc, &patch);
        assert_eq!(doc, before);
    }
    // Split at the first newline: a document, then a patch.
    if let Some((d, p)) = text.split_once('\n') {
        if let (Ok(d), Ok(p)) = (
            toron_core::canon::parse_json(d),
            toron_core::canon::parse_json(p),
        ) {
            if let Err(e) = apply_patch(&d, &p) {
                assert_eq!(e.kind(), toron_core::ErrorKind::Patch);
            }
        }
    }
});
