//! Any text as a gate rule (`latency.p99 <= 50ms`) and as a scope (`suite/case`): an error is a message, never a
//! panic; a rule re-parses from its own text to itself, and its meaning (metric, comparator, threshold) printed
//! plainly (`latency.p99 <= 0.05`, `coverage >= 0.98`, `throughput >= baseline * 1.1`) parses back to the
//! same meaning; a scope re-parses from its key to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toron_core::gate::{Rule, Scope, Threshold};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Rule::parse(text) {
        Ok(rule) => {
            assert_eq!(rule.text(), text.trim());
            assert_eq!(Rule::parse(rule.text()).as_ref(), Ok(&rule));
            assert_eq!(rule.to_string(), rule.text());
            let rhs = match rule.threshold() {
                Threshold::Value(v) => {
                    assert!(v.is_finite() && v >= 0.0, "threshold {v} of {text:?}");
                    format!("{v:?}")
                }
                Threshold::Baseline { factor } => {
                    assert!(factor.is_finite() && factor >= 0.0, "factor {factor} of {text:?}");
                    format!("baseline * {factor:?}")
                }
            };
            let plain = format!("{} {} {rhs}", rule.metric().name(), rule.comparator().symbol());
            let again = Rule::parse(&plain).unwrap_or_else(|e| panic!("{plain:?} (from {text:?}): {e}"));
            assert_eq!(
                (again.metric(), again.comparator(), again.threshold()),
                (rule.metric(), rule.comparator(), rule.threshold()),
                "{plain:?} from {text:?}"
            );
        }
        Err(message) => assert!(!message.trim().is_empty(), "no message for {text:?}"),
    }
    match Scope::parse(text) {
        Ok(scope) => {
            let key = scope.key().expect("a parsed scope is a suite or a case");
            assert_eq!(Scope::parse(&key), Ok(scope));
        }
        Err(message) => assert!(!message.trim().is_empty(), "no message for {text:?}"),
    }
});
