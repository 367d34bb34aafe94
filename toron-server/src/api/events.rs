//! `GET /v1/test-runs/{id}/events`: a run's events as Server-Sent Events — `id:` the event's seq, `event:` its
//! type, `data:` the same JSON line as the archive's events file. `Last-Event-ID` (a reconnecting
//! `EventSource` sends it) or `?after=` resumes after that seq with nothing lost or doubled; the stream ends
//! after `run.finished`. A live run of this process is read from its feed; any other run (finished,
//! interrupted, or running in another process on the same data directory) from its events file, followed
//! until it ends.

use super::runs::{overview, query};
use super::AppState;
use crate::auth::{Identity, Role, TICKET_LIFETIME};
use crate::error::{ApiError, ApiResult};
use crate::feed::{Copied, Feed, FeedEvent};
use crate::state::{check_run_id, App};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use toron_core::runner::{events_path, read_events, RunState};

/// Stream parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this seq (the `Last-Event-ID` header wins when both are given).
    pub after: Option<u64>,
    /// A stream ticket from `POST /v1/stream-tickets`, for clients that cannot send headers.
    pub ticket: Option<String>,
}

/// A stream ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Pass it as `?ticket=` to an event stream.
    pub ticket: String,
    /// When it expires (unix seconds).
    pub expires: u64,
    /// Its lifetime in seconds.
    pub lifetime: u64,
}

/// A short-lived signed ticket that opens event streams as the caller: an `EventSource` cannot send the
/// bearer token, and the token must never be in a URL.
#[utoipa::path(
    post, path = "/v1/stream-tickets", tag = "runs",
    responses((status = 200, body = Ticket), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn ticket(State(app): State<AppState>, Extension(who): Extension<Identity>) -> ApiResult<Json<Ticket>> {
    who.require(Role::Viewer, "open event streams")?;
    let (ticket, expires) = app.tickets.issue(&who);
    Ok(Json(Ticket {
        ticket,
        expires,
        lifetime: TICKET_LIFETIME.as_secs(),
    }))
}

/// One server-sent event of a run's stream, as an SSE client parses it (keep-alive comments are not events):
/// what the document says each event of `text/event-stream` is, so a schema-based tool checks every one.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StreamEvent {
    /// The event's `seq` (1, 2, 3, ...): send it back as `Last-Event-ID` to resume after it.
    #[schema(pattern = "^[1-9][0-9]*$")]
    pub id: String,
    /// The event's type (`run.scheduled`, `case.finished`, `run.finished`, ...).
    pub event: String,
    /// The event as one line of JSON, the same line as the archive's events file.
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

/// The run's events as SSE, from `Last-Event-ID` / `after`, live until the run ends.
#[utoipa::path(
    get, path = "/v1/test-runs/{id}/events", tag = "runs",
    params(("id" = String, Path, description = "The run id"), EventsQuery,
           ("Last-Event-ID" = Option<String>, Header, description = "Resume after this seq")),
    responses(
        (status = 200, description = "text/event-stream: `id:` seq, `event:` type, `data:` the event JSON",
         content_type = "text/event-stream", body = StreamEvent),
        (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn stream(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let q: EventsQuery = query(&uri)?;
    check_run_id(&id)?;
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::invalid("Last-Event-ID", "is not an event seq (expected a non-negative integer)")
            })?,
        None => q.after.unwrap_or(0),
    };
    // A run of this process, or a remote runner's run still going: its feed; else its events file.
    let source = match app.feed(&id) {
        Some(feed) => Source::Feed {
            rx: feed.subscribe(),
            feed,
        },
        None => {
            let app2 = app.clone();
            let id2 = id.clone();
            // 404 for an unknown run.
            super::blocking(move || overview(&app2, &id2)).await?;
            Source::File {
                path: events_path(&app.dirs.archive, &id),
                settle: false,
            }
        }
    };
    app.counters.streams.fetch_add(1, Ordering::Relaxed);
    let state = StreamState {
        app: app.clone(),
        id,
        next: after,
        pending: VecDeque::new(),
        source,
        done: false,
        last_write: Instant::now(),
    };
    let chunks = futures_util::stream::unfold(state, |mut st| async move {
        let chunk = st.next_chunk().await?;
        st.last_write = Instant::now();
        Some((Ok::<_, Infallible>(chunk), st))
    });
    // A body of our own rather than axum's `Sse`: that one formats each event for each stream and sends it as a
    // frame of its own; here the feed renders a frame once and a stream sends every frame it has waiting in one
    // write (500 streams of a 1 000-case run: see benches/README.md).
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

enum Source {
    Feed {
        feed: Arc<Feed>,
        rx: watch::Receiver<(usize, bool)>,
    },
    File {
        path: PathBuf,
        /// The run has ended: one last read, then the stream ends.
        settle: bool,
    },
}

struct StreamState {
    app: Arc<App>,
    id: String,
    /// The last seq sent.
    next: u64,
    /// Events read from a file, not sent yet.
    pending: VecDeque<FeedEvent>,
    source: Source,
    done: bool,
    /// When the stream last wrote (keep-alive comments go out after `keep_alive` of silence).
    last_write: Instant,
}

impl Drop for StreamState {
    fn drop(&mut self) {
        self.app.counters.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How often a run of another process is looked at for new events.
const FILE_POLL: Duration = Duration::from_millis(200);

/// About how much one write of a stream carries (a stream that fell behind catches up in writes this big).
const CHUNK_BYTES: usize = 256 * 1024;

/// The comment an idle stream sends so that proxies and clients keep the connection.
const KEEP_ALIVE: &[u8] = b":keep-alive\n\n";

impl StreamState {
    /// The next write of the stream: every event waiting for it, a keep-alive comment, or `None` at the end.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if !self.pending.is_empty() {
                let mut out = BytesMut::new();
                let mut copied = Copied {
                    last_seq: self.next,
                    ..Copied::default()
                };
                let now = Instant::now();
                while let Some(e) = self.pending.pop_front() {
                    // Seqs have no gaps; anything at or before what was sent is not sent again.
                    if e.seq <= self.next {
                        continue;
                    }
                    self.next = e.seq;
                    out.extend_from_slice(&e.frame);
                    copied.add(&e, now);
                    if e.last || out.len() >= CHUNK_BYTES {
                        break;
                    }
                }
                if copied.events > 0 {
                    return Some(self.sent(out, copied));
                }
                continue;
            }
            if self.done {
                return None;
            }
            let idle = self.app.config.keep_alive.saturating_sub(self.last_write.elapsed());
            match &mut self.source {
                Source::Feed { feed, rx } => {
                    // Read before looking at the value, so no event pushed in between is missed.
                    rx.borrow_and_update();
                    let finished = feed.finished();
                    let mut out = BytesMut::new();
                    let copied = feed.copy_after(self.next, CHUNK_BYTES, &mut out);
                    if copied.events > 0 {
                        self.next = copied.last_seq;
                        return Some(self.sent(out, copied));
                    }
                    if finished {
                        return None;
                    }
                    match tokio::time::timeout(idle, rx.changed()).await {
                        Err(_) => return Some(Bytes::from_static(KEEP_ALIVE)),
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => {
                            // The feed is gone: whatever it had is in the file.
                            self.source = Source::File {
                                path: events_path(&self.app.dirs.archive, &self.id),
                                settle: true,
                            };
                        }
                    }
                }
                Source::File { path, settle } => {
                    let (path2, after) = (path.clone(), self.next);
                    let app = self.app.clone();
                    let id = self.id.clone();
                    let (events, ended) = super::blocking(move || {
                        let events: Vec<FeedEvent> = read_events(&path2)
                            .unwrap_or_default()
                            .iter()
                            .filter(|e| e.seq > after)
                            .map(|e| FeedEvent::from_event(e, None))
                            .collect();
                        let ended = overview(&app, &id)
                            .map(|o| !matches!(o.state, RunState::Scheduled | RunState::Running))
                            .unwrap_or(true);
                        Ok((events, ended))
                    })
                    .await
                    .unwrap_or_default();
                    if !events.is_empty() {
                        self.pending.extend(events);
                        continue;
                    }
                    if *settle {
                        return None;
                    }
                    if ended {
                        // Its last lines may still be on their way to the file.
                        *settle = true;
                    }
                    if idle.is_zero() {
                        return Some(Bytes::from_static(KEEP_ALIVE));
                    }
                    tokio::time::sleep(FILE_POLL.min(idle)).await;
                }
            }
        }
    }

    /// Count what a write carries (once per write, not per event: the counters are shared by every stream).
    fn sent(&mut self, out: BytesMut, copied: Copied) -> Bytes {
        self.done |= copied.finished;
        let c = &self.app.counters;
        c.events_sent.fetch_add(copied.events, Ordering::Relaxed);
        if copied.lag_samples > 0 {
            c.lag_sum_us.fetch_add(copied.lag_sum_us, Ordering::Relaxed);
            c.lag_samples.fetch_add(copied.lag_samples, Ordering::Relaxed);
            c.max_lag_us.fetch_max(copied.lag_max_us, Ordering::Relaxed);
        }
        out.freeze()
    }
}
