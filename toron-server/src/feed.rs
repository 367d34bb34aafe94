//! A live run's events for any number of streams: one thread per run copies the core's event log into the
//! feed, and each stream reads the feed from its own position and waits on a `watch` channel for more. Five
//! hundred subscribers cost five hundred positions, not five hundred threads, and none can miss or repeat an
//! event: the feed keeps all of them until the run ends (then the archive's events file does).

use axum::body::Bytes;
use bytes::BytesMut;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use toron_core::runner::{Event, RunHandle};

/// One event as a stream sends it.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    /// Its sequence number (the SSE `id:`).
    pub seq: u64,
    /// Whether it is the run's last (`run.finished`).
    pub last: bool,
    /// The whole SSE frame (`id:` seq, `event:` type, `data:` the events file's JSON line, blank line),
    /// rendered once for every stream: 500 subscribers copy bytes, they do not format 500 times.
    pub frame: Bytes,
    /// When the feed got it (for the delivery lag in `/metrics`).
    pub received: Option<Instant>,
}

impl FeedEvent {
    /// From a core event.
    pub fn from_event(e: &Event, received: Option<Instant>) -> FeedEvent {
        let json = e.to_json();
        let mut frame = String::with_capacity(json.len() + e.kind.len() + 32);
        let _ = write!(frame, "id: {}\nevent: {}\n", e.seq, e.kind);
        // The events file's lines are single-line JSON; a line break would end the field, so each line gets
        // its own `data:` (what SSE clients join back with a newline).
        for line in json.lines() {
            frame.push_str("data: ");
            frame.push_str(line);
            frame.push('\n');
        }
        frame.push('\n');
        FeedEvent {
            seq: e.seq,
            last: e.kind == "run.finished",
            frame: Bytes::from(frame),
            received,
        }
    }
}

/// What [`Feed::copy_after`] appended.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Copied {
    /// The seq of the last event appended (`after` when none was).
    pub last_seq: u64,
    /// Events appended.
    pub events: u64,
    /// Whether `run.finished` was among them.
    pub finished: bool,
    /// Lag samples (feed arrival to now) of the appended events.
    pub lag_samples: u64,
    /// Their sum, in microseconds.
    pub lag_sum_us: u64,
    /// Their maximum, in microseconds.
    pub lag_max_us: u64,
}

impl Copied {
    /// Account for one event appended at `now`.
    pub fn add(&mut self, e: &FeedEvent, now: Instant) {
        self.last_seq = e.seq;
        self.events += 1;
        self.finished |= e.last;
        if let Some(at) = e.received {
            let lag = now.saturating_duration_since(at).as_micros() as u64;
            self.lag_samples += 1;
            self.lag_sum_us += lag;
            self.lag_max_us = self.lag_max_us.max(lag);
        }
    }
}

/// How far a live run is, from its events.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Cases finished.
    pub done: usize,
    /// Cases to run (known once the run started).
    pub total: Option<usize>,
    /// Why the run is still scheduled, once it has waited longer than the server's warning time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Progress {
    /// Take an event into account.
    pub(crate) fn see(&mut self, e: &Event) {
        match e.kind.as_str() {
            "run.started" => {
                self.total = e
                    .data
                    .get("cases")
                    .and_then(serde_json::Value::as_u64)
                    .map(|n| n as usize);
                self.warning = None;
            }
            "case.finished" => self.done += 1,
            "run.waiting" => {
                self.warning = e
                    .data
                    .get("reason")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string);
            }
            _ => {}
        }
    }
}

/// The shortest time between two wake-ups of a run's streams.
const COALESCE: Duration = Duration::from_millis(5);

/// The events of one live run.
#[derive(Debug)]
pub struct Feed {
    events: RwLock<Vec<FeedEvent>>,
    /// [`Feed::push_ordered`]'s events that came before one they follow (held until the gap is filled).
    early: std::sync::Mutex<std::collections::BTreeMap<u64, FeedEvent>>,
    progress: std::sync::Mutex<Progress>,
    /// (events so far, finished).
    tx: watch::Sender<(usize, bool)>,
}

impl Feed {
    /// Start copying `handle`'s events into a new feed, on a thread of its own.
    pub fn follow(handle: Arc<RunHandle>) -> std::io::Result<Arc<Feed>> {
        let feed = Feed::manual();
        let f = feed.clone();
        std::thread::Builder::new()
            .name(format!("feed-{}", handle.id()))
            .spawn(move || {
                let mut events = handle.events(0);
                // The iterator waits for each event and ends after `run.finished`; those that came meanwhile
                // join it in one batch (one lock and one wake-up of the streams).
                let mut last_push: Option<Instant> = None;
                while let Some(first) = events.next() {
                    // Lags count from here: the coalescing wait below is part of them.
                    let now = Instant::now();
                    // Streams wake at most once per `COALESCE`: the events of that window go out in one batch,
                    // so each of 500 streams makes one write for them instead of one per event (for the
                    // server and for every client alike), for at most `COALESCE` of added lag.
                    if let Some(wait) = last_push.and_then(|at| COALESCE.checked_sub(at.elapsed())) {
                        std::thread::sleep(wait);
                    }
                    let mut batch = vec![first];
                    batch.extend(events.ready(4096));
                    {
                        let mut p = f.progress.lock().unwrap_or_else(|p| p.into_inner());
                        batch.iter().for_each(|e| p.see(e));
                    }
                    f.push(batch.iter().map(|e| FeedEvent::from_event(e, Some(now))).collect());
                    last_push = Some(Instant::now());
                }
                f.tx.send_modify(|s| s.1 = true);
            })?;
        Ok(feed)
    }

    /// An empty feed: [`Feed::follow`] fills it from a run of this process, [`Feed::push_ordered`] with a remote
    /// runner's run, whose events reach the server over HTTP. Without it each of its streams would poll and re-read the run's events file (500 streams of a
    /// 1 000-case run: seconds of lag and 700 MB, benches/README.md).
    pub fn manual() -> Arc<Feed> {
        let (tx, _) = watch::channel((0, false));
        Arc::new(Feed {
            events: RwLock::new(Vec::new()),
            early: Default::default(),
            progress: Default::default(),
            tx,
        })
    }

    /// Add events in seq order, whatever order their appends came in: one at or before the last held is
    /// dropped (a file read and an append may overlap), one after a gap waits for the gap to fill. The feed is
    /// finished once `run.finished` is in.
    pub fn push_ordered(&self, batch: impl IntoIterator<Item = FeedEvent>) {
        let (n, finished) = {
            let mut events = self.events.write().unwrap_or_else(|p| p.into_inner());
            let mut early = self.early.lock().unwrap_or_else(|p| p.into_inner());
            for e in batch {
                if e.seq > events.len() as u64 {
                    early.insert(e.seq, e);
                }
            }
            while let Some(e) = early.remove(&(events.len() as u64 + 1)) {
                events.push(e);
            }
            (events.len(), events.last().is_some_and(|e| e.last))
        };
        self.tx.send_modify(|s| *s = (n, s.1 || finished));
    }

    fn push(&self, batch: Vec<FeedEvent>) {
        let n = {
            let mut events = self.events.write().unwrap_or_else(|p| p.into_inner());
            events.extend(batch);
            events.len()
        };
        self.tx.send_modify(|s| s.0 = n);
    }

    /// Append the frames of the events after `after` (by seq) to `out`, up to about `max_bytes`, stopping after
    /// `run.finished`. One read lock and one copy per batch: a stream's wake-up costs one write, however many
    /// events came meanwhile.
    pub fn copy_after(&self, after: u64, max_bytes: usize, out: &mut BytesMut) -> Copied {
        let events = self.events.read().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut copied = Copied {
            last_seq: after,
            ..Copied::default()
        };
        // Seqs are 1, 2, 3... with no gap: event `seq` is at index seq - 1.
        let from = usize::try_from(after).unwrap_or(usize::MAX).min(events.len());
        for e in &events[from..] {
            out.extend_from_slice(&e.frame);
            copied.add(e, now);
            if e.last || out.len() >= max_bytes {
                break;
            }
        }
        copied
    }

    /// How far the run is.
    pub fn progress(&self) -> Progress {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the run has ended and every event is in the feed.
    pub fn finished(&self) -> bool {
        self.tx.borrow().1
    }

    /// A receiver that wakes when events come or the run ends.
    pub fn subscribe(&self) -> watch::Receiver<(usize, bool)> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, kind: &str) -> FeedEvent {
        let e = Event {
            seq,
            run: "run-1".into(),
            kind: kind.into(),
            time: "2026-12-04T00:00:00Z".into(),
            data: serde_json::json!({}),
        };
        FeedEvent::from_event(&e, None)
    }

    #[test]
    fn a_manual_feed_holds_events_in_seq_order_once_and_finishes_with_run_finished() {
        let feed = Feed::manual();
        feed.push_ordered([event(1, "run.scheduled"), event(3, "case.finished")]);
        let mut out = BytesMut::new();
        // 3 waits for 2; 1 is there.
        assert_eq!(feed.copy_after(0, usize::MAX, &mut out).last_seq, 1);
        // An overlap (1 again) is dropped, the gap fills, run.finished ends it.
        feed.push_ordered([
            event(1, "run.scheduled"),
            event(2, "case.started"),
            event(4, "run.finished"),
        ]);
        assert!(feed.finished());
        out.clear();
        let copied = feed.copy_after(0, usize::MAX, &mut out);
        assert_eq!((copied.events, copied.last_seq, copied.finished), (4, 4, true));
        let text = String::from_utf8(out.to_vec()).unwrap();
        let ids: Vec<&str> = text.lines().filter(|l| l.starts_with("id: ")).collect();
        assert_eq!(ids, ["id: 1", "id: 2", "id: 3", "id: 4"]);
    }
}
