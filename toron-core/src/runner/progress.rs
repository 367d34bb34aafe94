//! A run's progress for people, rendered from its [`Event`]s: on a terminal a bar redrawn in place, elsewhere
//! (a pipe, a log file, CI) one plain line per finished case.
//!
//! It lives in the core so that a consumer renders text without looking at each event in its own language:
//! `toron run` hands the events to [`Progress`] and writes the text once per batch, instead of paying for
//! a Python dict and a Python call per event. The machine-readable side is [`Event::to_json`]: the exact line
//! (less its newline) that the run's `events.ndjson` holds for the event.
//!
//! ```
//! use serde_json::json;
//! use toron_core::runner::{Event, Progress};
//!
//! let event = |seq, kind: &str, data| Event { seq, run: "r".into(), kind: kind.into(), time: String::new(), data };
//! let events = [
//!     event(1, "run.started", json!({ "cases": 2 })),
//!     event(2, "case.started", json!({ "case": "unit/ok", "kind": "command" })),
//!     event(3, "case.finished", json!({ "case": "unit/ok", "outcome": "passed", "duration": 0.125 })),
//! ];
//!
//! // Not a terminal: one line per finished case.
//! let mut out = String::new();
//! let mut lines = Progress::lines();
//! for e in &events {
//!     lines.on(e, &mut out);
//! }
//! assert_eq!(out, "passed     unit/ok  0.12s\n");
//!
//! // A terminal: the bar, redrawn once for the whole batch; `clear` takes it off before other output.
//! let mut out = String::new();
//! let mut bar = Progress::bar(80);
//! bar.on_all(&events, &mut out);
//! assert_eq!(out, "\r\x1b[K[############............] 1/2 ");
//! bar.clear(&mut out);
//! assert!(out.ends_with("] 1/2 \r\x1b[K"));
//!
//! // The events file's line for an event.
//! assert!(events[0].to_json().starts_with(r#"{"seq":1,"run":"r","type":"run.started""#));
//! ```

use super::events::Event;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The bar's cells: `[` + this many `#` or `.` + `]`.
const CELLS: u64 = 24;

/// However narrow the terminal, the bar line keeps at least this many characters.
const MIN_WIDTH: usize = 10;

/// Go to the start of the line and erase it: what each redraw of the bar starts with.
const ERASE: &str = "\r\x1b[K";

/// The case progress of one run, rendered as text: [`Progress::bar`] for a terminal, [`Progress::lines`]
/// otherwise. Feed it the run's events in order ([`Progress::on`], or [`Progress::on_all`] for a batch) and
/// write what it appends; call [`Progress::clear`] before writing anything else to the same terminal.
#[derive(Debug, Clone)]
pub struct Progress {
    /// `Some(terminal width)`: the bar; `None`: plain lines.
    width: Option<usize>,
    /// Cases selected (`run.started`'s `cases`).
    total: u64,
    /// Cases finished.
    done: u64,
    /// Cases started and not finished, in start order; the bar names the last.
    running: Vec<String>,
    /// The bar is on the terminal (a `clear` has something to erase).
    drawn: bool,
}

impl Progress {
    /// A bar redrawn in place, `\r\x1b[K[####....] done/total current-case`, cut to `width - 1` characters
    /// (at least 10) so that it never wraps on a terminal `width` columns wide.
    pub fn bar(width: usize) -> Progress {
        Progress::new(Some(width))
    }

    /// One plain line per finished case: `{outcome:<10} {case}  {duration:.2}s`.
    pub fn lines() -> Progress {
        Progress::new(None)
    }

    fn new(width: Option<usize>) -> Progress {
        Progress {
            width,
            total: 0,
            done: 0,
            running: Vec::new(),
            drawn: false,
        }
    }

    /// Whether this is the bar (not plain lines).
    pub fn is_bar(&self) -> bool {
        self.width.is_some()
    }

    /// Take in one event and append what it shows to `out`: a finished case's line, or the bar redrawn.
    /// Events that change nothing shown (attempts, gates, the run's end) append nothing.
    pub fn on(&mut self, event: &Event, out: &mut String) {
        if self.update(event, out) {
            self.draw(out);
        }
    }

    /// Take in a batch of events, in order, and append what they show to `out`: the same lines as [`on`]
    /// for each, but the bar drawn once, as it stands after the last (what a consumer that writes once per
    /// wake-up wants; intermediate redraws would only be overwritten).
    ///
    /// [`on`]: Progress::on
    pub fn on_all<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>, out: &mut String) {
        let mut changed = false;
        for event in events {
            changed |= self.update(event, out);
        }
        if changed {
            self.draw(out);
        }
    }

    /// Erase the bar if it is drawn (appends `\r\x1b[K`), so that the next output starts on a clean line;
    /// nothing for plain lines. The next event draws it again.
    pub fn clear(&mut self, out: &mut String) {
        if self.drawn {
            out.push_str(ERASE);
            self.drawn = false;
        }
    }

    /// Record `event`; appends a plain line for a finished case, and returns whether the bar must be
    /// redrawn.
    fn update(&mut self, event: &Event, out: &mut String) -> bool {
        let data = &event.data;
        match event.kind.as_str() {
            "run.started" => self.total = data.get("cases").and_then(Value::as_u64).unwrap_or(0),
            "case.started" => self.running.push(text(&data["case"]).into_owned()),
            "case.finished" => {
                let case = text(&data["case"]);
                if let Some(i) = self.running.iter().position(|c| *c == case) {
                    self.running.remove(i);
                }
                self.done += 1;
                if self.width.is_none() {
                    let duration = data.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
                    let outcome = text(&data["outcome"]);
                    // Writing to a String cannot fail.
                    let _ = writeln!(out, "{outcome:<10} {case}  {duration:.2}s");
                }
            }
            _ => return false,
        }
        self.width.is_some()
    }

    /// Append the bar as it stands (bar mode only).
    fn draw(&mut self, out: &mut String) {
        let Some(width) = self.width else { return };
        let total = self.total.max(self.done).max(1);
        let filled = usize::try_from(CELLS.saturating_mul(self.done) / total).unwrap_or(0);
        let empty = usize::try_from(CELLS).unwrap_or(0).saturating_sub(filled);
        let current = self.running.last().map_or("", String::as_str);
        let line = format!(
            "[{}{}] {}/{} {current}",
            "#".repeat(filled),
            ".".repeat(empty),
            self.done,
            self.total
        );
        out.push_str(ERASE);
        out.extend(line.chars().take(width.saturating_sub(1).max(MIN_WIDTH)));
        self.drawn = true;
    }
}

/// A JSON string as is, anything else as its JSON text.
fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::{EventLog, Events, EVENTS_FILE};
    use super::*;
    use serde_json::json;

    fn event(seq: u64, kind: &str, data: Value) -> Event {
        Event {
            seq,
            run: "run-x".into(),
            kind: kind.into(),
            time: "2024-01-01T00:00:00Z".into(),
            data,
        }
    }

    fn started(seq: u64, case: &str) -> Event {
        event(seq, "case.started", json!({ "case": case, "kind": "sim" }))
    }

    fn finished(seq: u64, case: &str, outcome: &str, duration: f64) -> Event {
        event(
            seq,
            "case.finished",
            json!({ "case": case, "outcome": outcome, "attempts": 1, "duration": duration }),
        )
    }

    /// A run of three cases on two workers, with the events no progress shows.
    fn run() -> Vec<Event> {
        vec![
            event(1, "run.scheduled", json!({ "profile": null })),
            event(2, "run.started", json!({ "cases": 3 })),
            started(3, "unit/a"),
            started(4, "unit/b"),
            event(5, "case.attempt", json!({ "case": "unit/a", "attempt": 1 })),
            finished(6, "unit/a", "passed", 0.004),
            started(7, "sim/long-name"),
            finished(8, "unit/b", "failed", 1.5),
            finished(9, "sim/long-name", "flaky", 12.345),
            event(10, "gate.evaluated", json!({ "verdict": "NO-GO" })),
            event(11, "run.finished", json!({ "state": "failed" })),
        ]
    }

    #[test]
    fn lines_show_each_finished_case_once() {
        let mut p = Progress::lines();
        let mut out = String::new();
        for e in &run() {
            p.on(e, &mut out);
        }
        assert_eq!(
            out,
            "passed     unit/a  0.00s\nfailed     unit/b  1.50s\nflaky      sim/long-name  12.35s\n"
        );
        assert!(!p.is_bar());
        p.clear(&mut out);
        assert!(out.ends_with("12.35s\n"), "nothing to clear for lines");
        // One batch or one event at a time: the same lines.
        let mut batched = String::new();
        Progress::lines().on_all(&run(), &mut batched);
        assert_eq!(batched, out);
    }

    #[test]
    fn the_bar_is_redrawn_for_each_change() {
        let mut p = Progress::bar(80);
        let mut draws = Vec::new();
        for e in &run() {
            let mut out = String::new();
            p.on(e, &mut out);
            draws.push(out);
        }
        let expected = [
            "",
            "\r\x1b[K[........................] 0/3 ",
            "\r\x1b[K[........................] 0/3 unit/a",
            "\r\x1b[K[........................] 0/3 unit/b",
            "",
            "\r\x1b[K[########................] 1/3 unit/b",
            "\r\x1b[K[########................] 1/3 sim/long-name",
            "\r\x1b[K[################........] 2/3 sim/long-name",
            "\r\x1b[K[########################] 3/3 ",
            "",
            "",
        ];
        assert_eq!(draws, expected);
        let mut out = String::new();
        p.clear(&mut out);
        assert_eq!(out, "\r\x1b[K");
        p.clear(&mut out);
        assert_eq!(out, "\r\x1b[K", "cleared once");
    }

    #[test]
    fn a_batch_draws_the_bar_once_as_it_ends() {
        let events = run();
        let mut p = Progress::bar(80);
        let mut out = String::new();
        p.on_all(&events[..7], &mut out);
        assert_eq!(out, "\r\x1b[K[########................] 1/3 sim/long-name");
        out.clear();
        p.on_all(&events[9..], &mut out);
        assert_eq!(out, "", "nothing shown changed");
        p.on_all(&events[7..9], &mut out);
        assert_eq!(out, "\r\x1b[K[########################] 3/3 ");
    }

    #[test]
    fn the_bar_is_cut_to_the_width_but_never_below_ten() {
        let mut p = Progress::bar(30);
        let mut out = String::new();
        p.on_all(
            &[
                event(1, "run.started", json!({ "cases": 1 })),
                started(2, "sim/é-long-name"),
            ],
            &mut out,
        );
        // 29 characters after the erase.
        assert_eq!(out, "\r\x1b[K[........................] 0/");
        let mut out = String::new();
        let mut narrow = Progress::bar(0);
        narrow.on(&event(1, "run.started", json!({ "cases": 1 })), &mut out);
        assert_eq!(out, "\r\x1b[K[.........");
        let mut out = String::new();
        let mut p = Progress::bar(44);
        p.on_all(
            &[
                event(1, "run.started", json!({ "cases": 1 })),
                started(2, "sim/é-long-name"),
            ],
            &mut out,
        );
        assert_eq!(
            out, "\r\x1b[K[........................] 0/1 sim/é-long-n",
            "cut by characters, not bytes"
        );
    }

    #[test]
    fn more_finished_than_announced_and_odd_payloads_do_not_panic() {
        let mut p = Progress::bar(80);
        let mut out = String::new();
        // No run.started (a consumer that resumed after it): the total is unknown, the bar fills by done.
        p.on(&finished(5, "a/b", "passed", 0.1), &mut out);
        assert_eq!(out, "\r\x1b[K[########################] 1/0 ");
        let mut lines = Progress::lines();
        let mut out = String::new();
        lines.on(
            &event(1, "case.finished", json!({ "case": 7, "outcome": null })),
            &mut out,
        );
        assert_eq!(out, "null       7  0.00s\n");
        lines.on(&event(2, "case.finished", Value::Null), &mut out);
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn to_json_is_the_line_the_events_file_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        let log = EventLog::new("run-x", Some(&path));
        log.emit("run.started", json!({ "cases": 1 }));
        log.emit(
            "case.finished",
            json!({ "case": "u/é\"\n", "outcome": "passed", "duration": 1e-7 }),
        );
        log.close();
        let rendered: String = Events::new(log, 0).map(|e| e.to_json() + "\n").collect();
        assert_eq!(rendered, std::fs::read_to_string(&path).unwrap());
    }
}
