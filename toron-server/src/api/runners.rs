//! The remote runners' protocol (`toron serve --runners 0`, `toron runner`): register, claim a run under a
//! lease, heartbeat, send its events, upload its archive objects and logs, finish it. Only tokens with the
//! role `runner` (or `maintainer`) may call these, and a runner token may call nothing else.

use super::{AppState, JsonBody};
use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::remote::{ClaimedRun, FinishRun, HeartbeatAck, IncomingEvent, Remote};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

/// `POST /v1/runners/register`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRunner {
    /// A name for people (its host name, by default): the runner's id is `<name>-<n>`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// Runs it runs at once (default 1).
    #[schema(minimum = 1)]
    pub jobs: Option<usize>,
    /// Its engine version (must be the server's: the archive is written by one version).
    pub version: Option<String>,
}

/// A registered runner.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// Its id: claims, heartbeats and uploads name it.
    pub id: String,
    /// The lease of a claimed run, in seconds.
    pub lease_seconds: f64,
    /// How often to heartbeat (a third of the lease).
    pub heartbeat_seconds: f64,
}

/// The answer to a claim.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Claim {
    /// The run now leased to the runner, or null when none is queued (or the runner is at its `jobs`).
    pub run: Option<ClaimedRun>,
}

/// `POST /v1/runners/{id}/heartbeat`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The runs the runner is running.
    #[serde(default)]
    pub running: Vec<String>,
    /// Hold the answer up to this long (at most a third of the lease) unless one of its runs is cancelled
    /// or the server stops meanwhile: a long poll, so cancels reach the runner at once. Default 0: answer
    /// now.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub wait_seconds: Option<f64>,
}

/// `POST /v1/test-runs/{id}/events` (from a runner).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// The runner's id.
    pub runner: String,
    /// Events in seq order; those already received are skipped.
    pub events: Vec<IncomingEvent>,
}

/// Events received.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsAck {
    /// The last runner seq the server has: send from the next one.
    pub received: u64,
}

/// `POST /v1/test-runs/{id}/finish`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// The runner's id.
    pub runner: String,
    /// The run's tag in the runner's archive (its uploaded `runs/<tag>/manifest.json`).
    pub tag: Option<String>,
    /// The runner could not run it: why.
    pub error: Option<String>,
}

/// The run's end as the server recorded it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Finished {
    /// The run's final state.
    pub state: String,
}

fn remote(app: &AppState) -> ApiResult<&Remote> {
    app.remote.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "this server runs runs in-process (--runners {}): remote runners work with a server started \
                 with --runners 0",
                app.config.runners
            ),
        )
    })
}

fn check_name(name: &str) -> ApiResult<()> {
    let ok =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "name",
            format!("{name:?} (expected 1 to 64 letters, digits, `-`, `_` or `.`)"),
        ))
    }
}

/// Register a runner: it gets its id and the lease it must heartbeat within.
#[utoipa::path(
    post, path = "/v1/runners/register", tag = "runners", request_body = RegisterRunner,
    responses((status = 201, body = Registered), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn register(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    JsonBody(req): JsonBody<RegisterRunner>,
) -> ApiResult<Response> {
    who.require_runner("register as a runner")?;
    let remote = remote(&app)?;
    check_name(&req.name)?;
    if req.jobs == Some(0) {
        return Err(ApiError::invalid("jobs", "is 0 (expected a positive number)"));
    }
    if let Some(v) = req.version.as_deref().filter(|v| *v != toron_core::VERSION) {
        return Err(ApiError::invalid(
            "version",
            format!(
                "the runner is toron {v}, the server {} (expected the same version: one version writes the archive)",
                toron_core::VERSION
            ),
        ));
    }
    let id = remote.register(&who.name, &req.name, req.jobs.unwrap_or(1));
    let lease = remote.lease().as_secs_f64();
    eprintln!("toron-server: runner {id} registered ({})", who.name);
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            id,
            lease_seconds: lease,
            heartbeat_seconds: lease / 3.0,
        }),
    )
        .into_response())
}

/// Claim the next queued run: it is leased to the runner until its heartbeats stop for a lease.
#[utoipa::path(
    post, path = "/v1/runners/{id}/claim", tag = "runners", params(("id" = String, Path, description = "The runner id")),
    responses((status = 200, body = Claim), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn claim(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> ApiResult<Json<Claim>> {
    who.require_runner("claim runs")?;
    remote(&app)?;
    let app2 = app.clone();
    let run = super::blocking(move || {
        let remote = remote(&app2)?;
        remote.claim(&app2, &id, &who.name)
    })
    .await?;
    Ok(Json(Claim { run }))
}

/// A runner's heartbeat: it renews the leases of its runs, and hears which to cancel or abandon.
#[utoipa::path(
    post, path = "/v1/runners/{id}/heartbeat", tag = "runners", request_body = Heartbeat,
    params(("id" = String, Path, description = "The runner id")),
    responses((status = 200, body = HeartbeatAck), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn heartbeat(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<Heartbeat>,
) -> ApiResult<Json<HeartbeatAck>> {
    who.require_runner("heartbeat")?;
    let remote = remote(&app)?;
    let wait = match req.wait_seconds {
        None => 0.0,
        Some(w) if w.is_finite() && w >= 0.0 => w,
        Some(w) => {
            return Err(ApiError::invalid(
                "wait_seconds",
                format!("is {w} (expected a number of seconds, 0 or more)"),
            ))
        }
    };
    // Subscribed before looking: a cancel between the look and the wait still wakes it.
    let mut changed = remote.subscribe();
    changed.borrow_and_update();
    let (mut ack, news) = remote.beat(&id, &who.name, &req.running)?;
    // Held within the lease it just renewed, a third of it at most; at once with news.
    let hold = std::time::Duration::from_secs_f64(wait.min(remote.lease().as_secs_f64() / 3.0));
    if !news && ack.abandon.is_empty() && !hold.is_zero() && !remote.stopping() {
        let deadline = tokio::time::Instant::now() + hold;
        while let Ok(Ok(())) = tokio::time::timeout_at(deadline, changed.changed()).await {
            let (cancel, news) = remote.cancels_for(&id);
            ack.cancel = cancel;
            if news || remote.stopping() {
                break;
            }
        }
    }
    Ok(Json(ack))
}

/// A batch of a claimed run's events from its runner, in seq order; a batch sent again is taken once.
#[utoipa::path(
    post, path = "/v1/test-runs/{id}/events", tag = "runners", request_body = EventBatch,
    params(("id" = String, Path, description = "The run id")),
    responses((status = 200, body = EventsAck), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn events(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(run): Path<String>,
    JsonBody(req): JsonBody<EventBatch>,
) -> ApiResult<Json<EventsAck>> {
    who.require_runner("send run events")?;
    crate::state::check_run_id(&run)?;
    remote(&app)?;
    let app2 = app.clone();
    let received = super::blocking(move || {
        let remote = remote(&app2)?;
        remote.ingest(&app2, &run, &req.runner, &who.name, &req.events)
    })
    .await?;
    Ok(Json(EventsAck { received }))
}

/// Upload a file of a claimed run: an archive object or pack (`objects/...`), the run's manifest
/// (`runs/<tag>/manifest.json`) or a captured log (`logs/<tag>/...`). At most `--upload-limit` bytes; the path
/// is checked (no `..`, nothing hidden). The runner names itself in `X-Toron-Runner`.
#[utoipa::path(
    put, path = "/v1/test-runs/{id}/objects/{path}", tag = "runners",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    params(("id" = String, Path, description = "The run id"),
           ("path" = String, Path, description = "objects/..., runs/<tag>/manifest.json or logs/<tag>/..."),
           ("X-Toron-Runner" = String, Header, description = "The runner id")),
    responses((status = 204, description = "Stored"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_object(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path((run, path)): Path<(String, String)>,
    req: Request,
) -> ApiResult<StatusCode> {
    // The body is read before any refusal: an answer sent before the body is read closes the connection
    // under a client that reuses it.
    let runner = req
        .headers()
        .get("x-toron-runner")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = super::read_body_limited(req.into_body(), app.config.upload_limit, "--upload-limit").await?;
    who.require_runner("upload run files")?;
    crate::state::check_run_id(&run)?;
    remote(&app)?;
    crate::remote::check_upload_path(&path)?;
    let runner = runner.ok_or_else(|| ApiError::invalid("X-Toron-Runner", "is missing (expected the runner id)"))?;
    let app2 = app.clone();
    super::blocking(move || {
        let remote = remote(&app2)?;
        remote.put_object(&app2, &run, &runner, &who.name, &path, &bytes)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The runner's end of a claimed run, after its uploads: the server files them under its run id, records
/// the run in its warroom, renders its reports and writes `run.finished`.
#[utoipa::path(
    post, path = "/v1/test-runs/{id}/finish", tag = "runners", request_body = FinishRequest,
    params(("id" = String, Path, description = "The run id")),
    responses((status = 200, body = Finished), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn finish(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(run): Path<String>,
    JsonBody(req): JsonBody<FinishRequest>,
) -> ApiResult<Json<Finished>> {
    who.require_runner("finish runs")?;
    crate::state::check_run_id(&run)?;
    remote(&app)?;
    let app2 = app.clone();
    let state = super::blocking(move || {
        let remote = remote(&app2)?;
        let body = FinishRun {
            tag: req.tag,
            error: req.error,
        };
        remote.finish(&app2, &run, &req.runner, &who.name, &body)
    })
    .await?;
    Ok(Json(Finished {
        state: state.name().to_string(),
    }))
}
