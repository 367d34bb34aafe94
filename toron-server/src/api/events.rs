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
use crate::feed::{Feed, FeedEvent};
use crate::state::{check_run_id, App};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::{Extension, Json};
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
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
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
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
    let source = match app.live(&id) {
        Some(live) => Source::Feed {
            rx: live.feed.subscribe(),
            feed: live.feed.clone(),
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
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        let e = st.next_event().await?;
        Some((Ok(e), st))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(app.config.keep_alive).text("keep-alive")))
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
    pending: VecDeque<FeedEvent>,
    source: Source,
    done: bool,
}

impl Drop for StreamState {
    fn drop(&mut self) {
        self.app.counters.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How often a run of another process is looked at for new events.
const FILE_POLL: Duration = Duration::from_millis(200);

impl StreamState {
    async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                // Seqs have no gaps; anything at or before what was sent is not sent again.
                if e.seq <= self.next {
                    continue;
                }
                self.next = e.seq;
                self.sent(&e);
                if e.kind == "run.finished" {
                    self.done = true;
                }
                return Some(
                    SseEvent::default()
                        .id(e.seq.to_string())
                        .event(e.kind.as_str())
                        .data(&*e.json),
                );
            }
            if self.done {
                return None;
            }
            match &mut self.source {
                Source::Feed { feed, rx } => {
                    let finished = feed.finished();
                    let batch = feed.after(self.next, 512);
                    if batch.is_empty() {
                        if finished {
                            return None;
                        }
                        if rx.changed().await.is_err() {
                            // The feed is gone: whatever it had is in the file.
                            self.source = Source::File {
                                path: events_path(&self.app.dirs.archive, &self.id),
                                settle: true,
                            };
                        }
                        continue;
                    }
                    self.pending.extend(batch);
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
                    tokio::time::sleep(FILE_POLL).await;
                }
            }
        }
    }

    fn sent(&self, e: &FeedEvent) {
        let c = &self.app.counters;
        c.events_sent.fetch_add(1, Ordering::Relaxed);
        if let Some(at) = e.received {
            let lag = at.elapsed().as_micros() as u64;
            c.lag_sum_us.fetch_add(lag, Ordering::Relaxed);
            c.lag_samples.fetch_add(1, Ordering::Relaxed);
            c.max_lag_us.fetch_max(lag, Ordering::Relaxed);
        }
    }
}
