//! Two documents (split at the first newline): the diff's patch turns the first into the second; and the
//! same bytes through the text diff never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toron_core::diff::{apply_patch, diff, text, values_equal, DiffOptions};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (a, b) = (&data[..split], &data[(split + 1).min(data.len())..]);
    let t = text::text_diff(a, b, &text::TextOptions::default());
    let _ = t.unified_bytes(3, "a", "b");
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return;
    };
    let (Ok(old), Ok(new)) = (
        toron_core::canon::parse_json(a),
        toron_core::canon::parse_json(b),
    ) else {
        return;
    };
    let d = diff(&old, &new, &DiffOptions::default()).expect("default options are valid");
    let patched = apply_patch(&old, &d.patch()).expect("a diff's patch applies");
    assert!(values_equal(&patched, &new));
});
