//! Drift localisation: the first event where two JSON Lines traces of the same scenario and seed disagree.

use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where two traces first differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The event's index (its `i` field, else its 0-based line number).
    pub index: u64,
    /// The event's virtual time in nanoseconds (its `t` field), if it has one.
    pub time: Option<u64>,
    /// The event in the first trace (`None`: the first trace ended here).
    pub a: Option<Value>,
    /// The event in the second trace (`None`: the second trace ended here).
    pub b: Option<Value>,
}

fn events<'a>(text: &'a str, which: &str) -> impl Iterator<Item = Result<Value>> + 'a {
    let which = which.to_string();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(move |(n, l)| {
            serde_json::from_str(l).map_err(|e| {
                // The position is carried once (line of the trace, column in it), not repeated in the words.
                let full = e.to_string();
                let msg = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]);
                let (words, column) = crate::canon::json_in_user_words(msg, l, 1, e.column().max(1));
                Error::new(ErrorKind::Json, format!("trace {which} is not JSON Lines: {words}"))
                    .with_line(n + 1, Some(column))
            })
        })
}

/// Compare two JSON Lines traces event by event (as JSON values, so key order and spacing do not matter);
/// `None` when they are identical.
///
/// ```
/// use toron_core::runner::first_divergence;
/// let a = "{\"i\":0,\"t\":5,\"type\":\"arrival\"}\n{\"i\":1,\"t\":9,\"type\":\"timer\"}\n";
/// let b = "{\"i\":0,\"t\":5,\"type\":\"arrival\"}\n{\"i\":1,\"t\":8,\"type\":\"timer\"}\n";
/// let d = first_divergence(a, b)?.unwrap();
/// assert_eq!((d.index, d.time), (1, Some(9)));
/// assert_eq!(first_divergence(a, a)?, None);
/// # Ok::<(), toron_core::Error>(())
/// ```
pub fn first_divergence(a: &str, b: &str) -> Result<Option<Divergence>> {
    let mut ia = events(a, "A");
    let mut ib = events(b, "B");
    let mut line = 0u64;
    loop {
        let (ea, eb) = (ia.next().transpose()?, ib.next().transpose()?);
        if ea.is_none() && eb.is_none() {
            return Ok(None);
        }
        if ea != eb {
            let first = ea.as_ref().or(eb.as_ref());
            let index = first.and_then(|e| e.get("i")).and_then(Value::as_u64).unwrap_or(line);
            let time = first.and_then(|e| e.get("t")).and_then(Value::as_u64);
            return Ok(Some(Divergence {
                index,
                time,
                a: ea,
                b: eb,
            }));
        }
        line += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trace(events: &[Value]) -> String {
        events.iter().map(|e| format!("{e}\n")).collect()
    }

    #[test]
    fn hand_made_traces_give_the_first_divergent_event() {
        let base = vec![
            json!({"i": 0, "t": 0, "type": "arrival"}),
            json!({"i": 1, "t": 1000, "type": "deliver", "from": "client", "to": "server"}),
            json!({"i": 2, "t": 2000, "type": "timer", "node": "server", "timer": 1}),
            json!({"i": 3, "t": 3000, "type": "deadline"}),
        ];
        let mut other = base.clone();
        other[2] = json!({"i": 2, "t": 2500, "type": "timer", "node": "server", "timer": 1});
        other[3] = json!({"i": 3, "t": 9999, "type": "deadline"});
        let d = first_divergence(&trace(&base), &trace(&other)).unwrap().unwrap();
        assert_eq!((d.index, d.time), (2, Some(2000)));
        assert_eq!(d.a.as_ref(), Some(&base[2]));
        assert_eq!(d.b.as_ref(), Some(&other[2]));
    }

    #[test]
    fn key_order_and_spacing_do_not_matter() {
        let a = "{\"i\":0,\"t\":1,\"type\":\"x\"}\n";
        let b = "{ \"type\": \"x\", \"t\": 1, \"i\": 0 }\n\n";
        assert_eq!(first_divergence(a, b).unwrap(), None);
    }

    #[test]
    fn a_shorter_trace_diverges_where_it_ends() {
        let a = trace(&[json!({"i": 0, "t": 1}), json!({"i": 1, "t": 2})]);
        let b = trace(&[json!({"i": 0, "t": 1})]);
        let d = first_divergence(&a, &b).unwrap().unwrap();
        assert_eq!((d.index, d.time, d.b), (1, Some(2), None));
        let d = first_divergence(&b, &a).unwrap().unwrap();
        assert_eq!((d.index, d.a), (1, None));
    }

    #[test]
    fn a_line_that_is_not_json_is_an_error_with_its_line() {
        let e = first_divergence("{\"i\":0}\n{oops\n", "{\"i\":0}\n{\"i\":1}\n").unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::Json, Some(2)));
        assert_eq!(e.column(), Some(2));
        assert_eq!(
            e.message(),
            "trace A is not JSON Lines: key must be a string, found `oops`"
        );
        assert!(!e.to_string().contains("column 2"), "the position once: {e}");
        // Found by the trace_reader fuzz target (whose property still expected the old "trace A: " form).
        let e = first_divergence("{\"i\":0}\n", "{\"i\":0}\n{\"msg_id\":2<,\"src\":\"client\"}\n").unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(2), Some(12)), "{e}");
        assert!(
            e.message()
                .starts_with("trace B is not JSON Lines: expected `,` or `}`, found `<"),
            "{e}"
        );
    }
}
