//! A run's events: numbered 1, 2, 3... with no gaps, kept in memory for live consumers (an iterator from any
//! `seq`) and appended to the run's `events.ndjson` in the archive by a writer thread of the log, whole lines,
//! the lines that came while it wrote going out together in its next write.
//!
//! Producers never wait for consumers nor for the disk: an event is pushed, and each consumer (the writer
//! among them) reads at its own pace, so a slow consumer never slows a run down.

use crate::snapshot::UtcTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The event log's file extension: a run's events are `<archive>/events/<run id>.events.ndjson`.
pub const EVENTS_FILE: &str = "events.ndjson";

/// One event: `{"seq": 1, "run": "<id>", "type": "run.scheduled", "time": "<RFC 3339>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1, 2, 3... per run, with no gaps.
    pub seq: u64,
    /// The run id.
    pub run: String,
    /// `run.scheduled`, `run.started`, `case.started`, `case.attempt`, `case.finished`, `gate.evaluated`,
    /// `run.finished`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Wall-clock time, RFC 3339 UTC, for people only.
    pub time: String,
    /// The payload.
    pub data: Value,
}

impl Event {
    /// The event as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug)]
struct State {
    run: String,
    /// `run` as a JSON string, for the log's lines.
    run_json: String,
    events: Vec<Event>,
    /// No more events are taken (the writer drains what is pending and stops).
    closed: bool,
    /// Closed, and every line is in the file: consumers end only then, so one that read the last event and
    /// then reads the file finds it all there.
    ended: bool,
    /// Lines not yet handed to the file's writer thread (`None`: no file, or it failed).
    pending: Option<String>,
    write_error: Option<String>,
    /// Threads waiting for an event (consumers, the writer): emitting wakes them only when there are some.
    waiting: usize,
}

/// The log shared by a run and its consumers.
#[derive(Debug)]
pub(crate) struct EventLog {
    state: Mutex<State>,
    cond: Condvar,
    /// The thread appending lines to the file: the run's workers never wait for the disk, and lines that come
    /// while it writes go out together in the next write.
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl EventLog {
    pub(crate) fn new(run: &str, file: Option<&Path>) -> Arc<EventLog> {
        let (file, write_error) = match file.map(|p| std::fs::OpenOptions::new().create(true).append(true).open(p)) {
            None => (None, None),
            Some(Ok(f)) => (Some(f), None),
            Some(Err(e)) => (None, Some(format!("cannot open the event log: {e}"))),
        };
        let log = Arc::new(EventLog {
            state: Mutex::new(State {
                run: run.to_string(),
                run_json: serde_json::to_string(run).unwrap_or_default(),
                events: Vec::new(),
                closed: false,
                ended: false,
                pending: file.as_ref().map(|_| String::new()),
                write_error,
                waiting: 0,
            }),
            cond: Condvar::new(),
            writer: Mutex::new(None),
        });
        if let Some(file) = file {
            let writer = log.clone();
            match std::thread::Builder::new()
                .name(format!("toron-events-{run}"))
                .spawn(move || writer.write_lines(file))
            {
                Ok(handle) => *log.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle),
                Err(e) => {
                    let mut st = log.lock();
                    st.pending = None;
                    st.write_error = Some(format!("cannot start the event log's writer: {e}"));
                }
            }
        }
        log
    }

    /// The writer thread: append what is pending, one write per batch, until the log is closed and drained;
    /// then sync the file.
    fn write_lines(&self, mut file: File) {
        let mut st = self.lock();
        loop {
            if let Some(text) = st.pending.as_mut().filter(|p| !p.is_empty()).map(std::mem::take) {
                drop(st);
                let written = file.write_all(text.as_bytes());
                st = self.lock();
                if let Err(e) = written {
                    st.write_error = Some(format!("cannot append to the event log: {e}"));
                    st.pending = None;
                    return;
                }
                continue;
            }
            if st.closed {
                break;
            }
            st.waiting += 1;
            st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner());
            st.waiting -= 1;
        }
        drop(st);
        let _ = file.sync_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a consumer panicked; the events are still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append an event; returns its seq. Ignored after `close`.
    pub(crate) fn emit(&self, kind: &str, data: Value) -> u64 {
        // Everything but the seq is made before taking the lock, which the run's workers share.
        let time = UtcTime::now().rfc3339();
        let data_json = serde_json::to_string(&data).unwrap_or_else(|_| "null".to_string());
        let kind_json = serde_json::to_string(kind).unwrap_or_default();
        let mut st = self.lock();
        if st.closed {
            return 0;
        }
        let seq = st.events.len() as u64 + 1;
        let state = &mut *st;
        if let Some(pending) = state.pending.as_mut() {
            // The same text as `Event::to_json` (fields in declaration order), built around the data.
            let run_json = &state.run_json;
            let line = format!(
                "{{\"seq\":{seq},\"run\":{run_json},\"type\":{kind_json},\"time\":\"{time}\",\"data\":{data_json}}}\n"
            );
            pending.push_str(&line);
        }
        let event = Event {
            seq,
            run: st.run.clone(),
            kind: kind.to_string(),
            time,
            data,
        };
        st.events.push(event);
        let wake = st.waiting > 0;
        drop(st);
        if wake {
            self.cond.notify_all();
        }
        seq
    }

    /// No more events: consumers end after the last one, once every line is written and synced (when this
    /// returns).
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.cond.notify_all();
        // Held while joining: a second `close` returns only once the first's writer is done too.
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = writer.take() {
            let _ = w.join();
        }
        self.lock().ended = true;
        drop(writer);
        self.cond.notify_all();
    }

    /// The first write error, if the file could not be written.
    pub(crate) fn write_error(&self) -> Option<String> {
        self.lock().write_error.clone()
    }

    /// Every event so far.
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// The event with `seq`, waiting for it; `None` once the log is closed without it.
    /// Event `seq`, waiting for it at most `timeout` (`None`: until it comes or the log closes).
    fn wait_for(&self, seq: u64, timeout: Option<std::time::Duration>) -> Next {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let mut st = self.lock();
        loop {
            if let Some(e) = usize::try_from(seq.saturating_sub(1))
                .ok()
                .and_then(|i| st.events.get(i))
            {
                return Next::Event(e.clone());
            }
            if st.ended {
                return Next::End;
            }
            st.waiting += 1;
            st = match deadline {
                None => self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        st.waiting -= 1;
                        return Next::TimedOut;
                    }
                    self.cond.wait_timeout(st, left).unwrap_or_else(|p| p.into_inner()).0
                }
            };
            st.waiting -= 1;
        }
    }

    /// The events from `seq` on that are already there (at most `max`), without waiting.
    fn ready_from(&self, seq: u64, max: usize) -> Vec<Event> {
        let st = self.lock();
        let from = usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX);
        st.events.iter().skip(from).take(max).cloned().collect()
    }
}

/// What [`Events::next_timeout`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The next event.
    Event(Event),
    /// The run has ended and every event was read.
    End,
    /// No event came within the timeout.
    TimedOut,
}

/// A blocking iterator over a run's events, from a given `seq`; it ends when the run has finished, every
/// event was read and the events file holds them all.
#[derive(Debug)]
pub struct Events {
    log: Arc<EventLog>,
    next: u64,
}

impl Events {
    pub(crate) fn new(log: Arc<EventLog>, after: u64) -> Events {
        Events { log, next: after + 1 }
    }

    /// The next event, waiting for it at most `timeout`: for consumers that must do something else while
    /// they wait (check for Ctrl-C, flush a batch).
    pub fn next_timeout(&mut self, timeout: std::time::Duration) -> Next {
        let next = self.log.wait_for(self.next, Some(timeout));
        if let Next::Event(_) = next {
            self.next += 1;
        }
        next
    }

    /// The events already there (at most `max`), without waiting: a consumer that woke for one event takes
    /// the others that came meanwhile in one go.
    pub fn ready(&mut self, max: usize) -> Vec<Event> {
        let events = self.log.ready_from(self.next, max);
        self.next += events.len() as u64;
        events
    }
}

impl Iterator for Events {
    type Item = Event;
    fn next(&mut self) -> Option<Event> {
        match self.log.wait_for(self.next, None) {
            Next::Event(e) => {
                self.next += 1;
                Some(e)
            }
            Next::End | Next::TimedOut => None,
        }
    }
}

/// Read an `events.ndjson` file: every complete line (a torn last line, from a killed process, is skipped).
pub fn read_events(path: impl AsRef<Path>) -> crate::Result<Vec<Event>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::read(&e, path))?;
    Ok(text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| serde_json::from_str(l.trim_end()).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seq_has_no_gaps_and_consumers_resume_from_any_seq() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        let log = EventLog::new("run-x", Some(&path));
        let reader = {
            let log = log.clone();
            std::thread::spawn(move || Events::new(log, 0).map(|e| e.seq).collect::<Vec<_>>())
        };
        for i in 0..50 {
            log.emit("case.started", json!({ "i": i }));
        }
        log.close();
        assert_eq!(log.emit("late", json!(null)), 0);
        assert_eq!(reader.join().unwrap(), (1..=50).collect::<Vec<u64>>());
        let tail: Vec<u64> = Events::new(log.clone(), 47).map(|e| e.seq).collect();
        assert_eq!(tail, [48, 49, 50]);
        let on_disk = read_events(&path).unwrap();
        assert_eq!(on_disk, log.snapshot());
        assert_eq!(on_disk[0].run, "run-x");
        let line: Value = serde_json::from_str(&on_disk[0].to_json()).unwrap();
        assert_eq!(line["type"], "case.started");
        for key in ["seq", "run", "type", "time", "data"] {
            assert!(line.get(key).is_some(), "{key}");
        }
    }

    /// A consumer that read the last event and then reads the file finds every line there (`toron run
    /// --follow` and `Run.follow` compare the two): consumers end only once the writer is done.
    #[test]
    fn a_consumer_that_ended_finds_every_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..5 {
            let path = dir.path().join(format!("{round}.{EVENTS_FILE}"));
            let log = EventLog::new("run-x", Some(&path));
            let reader = {
                let (log, path) = (log.clone(), path.clone());
                std::thread::spawn(move || {
                    let read = Events::new(log, 0).count();
                    (read, read_events(&path).unwrap().len())
                })
            };
            let payload = "x".repeat(2000);
            for i in 0..2000 {
                log.emit("case.finished", json!({ "i": i, "text": payload }));
            }
            log.close();
            assert_eq!(reader.join().unwrap(), (2000, 2000), "round {round}");
        }
    }

    #[test]
    fn each_line_on_disk_is_the_event_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        let log = EventLog::new("run-\"quoted\"", Some(&path));
        log.emit("case.finished", json!({ "case": "a/b", "x": [1.5, null, "é\n"] }));
        log.emit("gate.evaluated", Value::Null);
        log.close();
        let lines: Vec<String> = log.snapshot().iter().map(|e| e.to_json() + "\n").collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), lines.concat());
    }

    #[test]
    fn timed_and_ready_reads() {
        let log = EventLog::new("r", None);
        let mut events = Events::new(log.clone(), 0);
        let t = std::time::Duration::from_millis(5);
        assert_eq!(events.next_timeout(t), Next::TimedOut);
        assert!(events.ready(10).is_empty());
        for i in 0..5 {
            log.emit("e", json!(i));
        }
        let Next::Event(first) = events.next_timeout(t) else {
            panic!("an event")
        };
        assert_eq!(first.seq, 1);
        assert_eq!(events.ready(2).iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(events.ready(10).iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        // A waiting consumer is woken by the next event.
        let waiter = {
            let log = log.clone();
            std::thread::spawn(move || Events::new(log, 5).next_timeout(std::time::Duration::from_secs(10)))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        log.emit("e", json!(5));
        assert!(matches!(waiter.join().unwrap(), Next::Event(e) if e.seq == 6));
        log.close();
        assert_eq!(events.next_timeout(t), Next::Event(log.snapshot()[5].clone()));
        assert_eq!(events.next_timeout(t), Next::End);
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        std::fs::write(
            &path,
            "{\"seq\":1,\"run\":\"r\",\"type\":\"t\",\"time\":\"x\",\"data\":null}\n{\"seq\":2,\"ru",
        )
        .unwrap();
        assert_eq!(read_events(&path).unwrap().len(), 1);
    }
}
