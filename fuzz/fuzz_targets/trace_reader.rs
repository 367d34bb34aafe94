//! Any bytes as two JSON Lines traces (split at the first NUL; without one, the trace and its first half) through
//! the drift localiser: a line that is not JSON is a `Json` error naming trace A or B and a line of it, never a
//! panic. The result does not depend on the order of the two traces (the events swap sides), a found
//! divergence holds two different events, a trace never diverges from itself nor from its own events
//! re-printed compactly, and a trace cut short diverges where the shorter one ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use toron_core::runner::first_divergence;
use toron_core::ErrorKind;

/// The events of a trace that is JSON Lines throughout, re-printed compactly; `None` otherwise.
fn reprinted(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).ok()?;
        out.push_str(&v.to_string());
        out.push('\n');
        n += 1;
    }
    Some((out, n))
}

fn check_err(e: &toron_core::Error, a: &str, b: &str) {
    let text = if e.message().starts_with("trace A is not JSON Lines: ") {
        a
    } else {
        assert!(e.message().starts_with("trace B is not JSON Lines: "), "{e}");
        b
    };
    toron_fuzz::check_error(e, &[ErrorKind::Json], text, None);
    assert!(e.line().is_some(), "{e}");
}

fuzz_target!(|data: &[u8]| {
    let (a, b) = toron_fuzz::split_nul(data);
    let Ok(a) = std::str::from_utf8(a) else {
        return;
    };
    let half;
    let b = match b {
        Some(b) => match std::str::from_utf8(b) {
            Ok(b) => b,
            Err(_) => return,
        },
        None => {
            let lines: Vec<&str> = a.split_inclusive('\n').collect();
            half = lines[..lines.len() / 2].concat();
            &half
        }
    };
    let ab = first_divergence(a, b);
    let ba = first_divergence(b, a);
    match (&ab, &ba) {
        (Ok(None), Ok(None)) => {}
        (Ok(Some(d)), Ok(Some(e))) => {
            assert_ne!(d.a, d.b, "a divergence of equal events");
            assert_eq!((&e.a, &e.b), (&d.b, &d.a), "swapped traces swap the events");
        }
        (Err(x), Err(y)) => {
            check_err(x, a, b);
            check_err(y, b, a);
        }
        _ => panic!("first_divergence(a, b) = {ab:?} but first_divergence(b, a) = {ba:?}"),
    }
    for t in [a, b] {
        match first_divergence(t, t) {
            Ok(found) => assert_eq!(found, None, "a trace diverges from itself"),
            Err(e) => check_err(&e, t, t),
        }
        if let Some((compact, _)) = reprinted(t) {
            assert_eq!(first_divergence(t, &compact).expect("both parse"), None);
        }
    }
    // A proper prefix (in events) of a: the divergence is a's next event, against the end of b.
    if let (Some((ca, na)), Some((cb, nb))) = (reprinted(a), reprinted(b)) {
        if nb < na && ca.starts_with(&cb) {
            let d = first_divergence(a, b).expect("both parse").expect("a is longer");
            assert_eq!(d.b, None);
            let next: Value = serde_json::from_str(ca.lines().nth(nb).expect("a has it")).expect("JSON");
            assert_eq!(d.a, Some(next));
        }
    }
});
