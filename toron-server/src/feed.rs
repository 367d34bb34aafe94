//! A live run's events for any number of streams: one thread per run copies the core's event log into the
//! feed, and each stream reads the feed from its own position and waits on a `watch` channel for more. Five
//! hundred subscribers cost five hundred positions, not five hundred threads, and none can miss or repeat an
//! event: the feed keeps all of them until the run ends (then the archive's events file does).

use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::sync::watch;
use toron_core::runner::{Event, RunHandle};

/// One event as a stream sends it.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    /// Its sequence number (the SSE `id:`).
    pub seq: u64,
    /// Its type (the SSE `event:`).
    pub kind: String,
    /// The event as one line of JSON (the SSE `data:`, the same line as the events file).
    pub json: Arc<str>,
    /// When the feed got it (for the delivery lag in `/metrics`).
    pub received: Option<Instant>,
}

impl FeedEvent {
    /// From a core event.
    pub fn from_event(e: &Event, received: Option<Instant>) -> FeedEvent {
        FeedEvent {
            seq: e.seq,
            kind: e.kind.clone(),
            json: Arc::from(e.to_json()),
            received,
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

/// The events of one live run.
#[derive(Debug)]
pub struct Feed {
    events: RwLock<Vec<FeedEvent>>,
    progress: std::sync::Mutex<Progress>,
    /// (events so far, finished).
    tx: watch::Sender<(usize, bool)>,
}

impl Feed {
    /// Start copying `handle`'s events into a new feed, on a thread of its own.
    pub fn follow(handle: Arc<RunHandle>) -> std::io::Result<Arc<Feed>> {
        let (tx, _) = watch::channel((0, false));
        let feed = Arc::new(Feed {
            events: RwLock::new(Vec::new()),
            progress: Default::default(),
            tx,
        });
        let f = feed.clone();
        std::thread::Builder::new()
            .name(format!("feed-{}", handle.id()))
            .spawn(move || {
                let mut events = handle.events(0);
                // The iterator waits for each event and ends after `run.finished`; those that came meanwhile
                // join it in one batch (one lock and one wake-up of the streams).
                while let Some(first) = events.next() {
                    let mut batch = vec![first];
                    batch.extend(events.ready(4096));
                    let now = Instant::now();
                    {
                        let mut p = f.progress.lock().unwrap_or_else(|p| p.into_inner());
                        batch.iter().for_each(|e| p.see(e));
                    }
                    f.push(batch.iter().map(|e| FeedEvent::from_event(e, Some(now))).collect());
                }
                f.tx.send_modify(|s| s.1 = true);
            })?;
        Ok(feed)
    }

    fn push(&self, batch: Vec<FeedEvent>) {
        let n = {
            let mut events = self.events.write().unwrap_or_else(|p| p.into_inner());
            events.extend(batch);
            events.len()
        };
        self.tx.send_modify(|s| s.0 = n);
    }

    /// The events after `after` (by seq), at most `max`.
    pub fn after(&self, after: u64, max: usize) -> Vec<FeedEvent> {
        let events = self.events.read().unwrap_or_else(|p| p.into_inner());
        // Seqs are 1, 2, 3... with no gap: event `seq` is at index seq - 1.
        let from = usize::try_from(after).unwrap_or(usize::MAX).min(events.len());
        events[from..].iter().take(max).cloned().collect()
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
