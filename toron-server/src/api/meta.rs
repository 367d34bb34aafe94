//! The server about itself: health and readiness probes, Prometheus metrics, the OpenAPI document, the
//! manifests it runs (for the dashboard's start form) and its runners.

use super::AppState;
use crate::error::{ApiError, ApiResult};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use toron_core::runner::{list_overviews, RunState};
use utoipa::OpenApi;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Toron TestOps API", description = "Runs, events, snapshots, reports and the warroom of Toron."),
    paths(
        super::runs::start, super::runs::list, super::runs::get, super::runs::cancel, super::runs::triage,
        super::runs::history, super::events::stream, super::events::ticket, super::snapshots::compare,
        super::reports::report, super::reports::file, super::warroom::open, super::warroom::list,
        super::warroom::get, super::warroom::status, super::warroom::note, healthz, readyz, metrics, openapi,
        manifests, runners, whoami, super::runners::register, super::runners::claim, super::runners::heartbeat,
        super::runners::events, super::runners::put_object, super::runners::finish
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ApiError)),
    modifiers(&BearerAuth),
    tags((name = "runs"), (name = "snapshots"), (name = "reports"), (name = "warroom"), (name = "server"),
         (name = "runners", description = "The remote runners' protocol (`toron serve --runners 0`, `toron runner`)"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.info.version = toron_core::VERSION.to_string();
    }
}

/// Liveness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The engine's version.
    pub version: String,
    /// Seconds since the server started.
    pub uptime: f64,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "server", responses((status = 200, body = Health)))]
pub async fn healthz(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
        version: toron_core::VERSION.to_string(),
        uptime: app.started.elapsed().as_secs_f64(),
    })
}

/// Readiness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready`, or what is wrong.
    pub status: String,
    /// Runs that may run at once.
    pub runners: usize,
    /// Runs waiting for a runner.
    pub queued: usize,
}

/// The queue as `/readyz` and `/metrics` show it: the embedded pool's, or with remote runners their queue
/// (runners: the live ones; running: runs leased).
fn queue_stats(app: &crate::state::App) -> toron_core::runner::QueueStats {
    match &app.remote {
        Some(r) => {
            let (queued, leased, live) = r.stats();
            toron_core::runner::QueueStats {
                runners: live,
                running: leased,
                waiting: queued,
            }
        }
        None => app.queue.stats(),
    }
}

/// The server can take runs: its data directory is writable. (With remote runners it is ready without
/// any: runs queue, and warn when nobody claims them.)
#[utoipa::path(get, path = "/readyz", tag = "server",
    responses((status = 200, body = Ready), (status = 503, body = crate::error::ErrorBody)))]
pub async fn readyz(State(app): State<AppState>) -> ApiResult<Json<Ready>> {
    let probe = app.dirs.server.join(".ready");
    tokio::fs::write(&probe, b"ok").await.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("{}: the data directory is not writable: {e}", app.dirs.server.display()),
        )
    })?;
    let stats = queue_stats(&app);
    Ok(Json(Ready {
        status: "ready".to_string(),
        runners: stats.runners,
        queued: stats.waiting,
    }))
}

/// Prometheus metrics (text format 0.0.4): runs by state, queue depth, runners, open streams, event lag.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, content_type = "text/plain", body = String), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn metrics(State(app): State<AppState>) -> ApiResult<Response> {
    let app2 = app.clone();
    let runs = super::blocking(move || Ok(list_overviews(&app2.dirs.archive)?)).await?;
    let mut by_state = [0usize; 6];
    const STATES: [RunState; 6] = [
        RunState::Scheduled,
        RunState::Running,
        RunState::Passed,
        RunState::Failed,
        RunState::Errored,
        RunState::Cancelled,
    ];
    for r in &runs {
        if let Some(i) = STATES.iter().position(|s| *s == r.state) {
            by_state[i] += 1;
        }
    }
    let stats = queue_stats(&app);
    let c = &app.counters;
    let mut out = String::new();
    out.push_str("# HELP toron_runs Runs in the archive by state.\n# TYPE toron_runs gauge\n");
    for (s, n) in STATES.iter().zip(by_state) {
        let _ = writeln!(out, "toron_runs{{state=\"{}\"}} {n}", s.name());
    }
    let sent = c.events_sent.load(Ordering::Relaxed);
    let lag_sum = c.lag_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
    // Only live deliveries have a lag: the summary counts those, not the replayed events.
    let lag_count = c.lag_samples.load(Ordering::Relaxed);
    let _ = write!(
        out,
        "# HELP toron_queue_depth Runs waiting for a runner.\n# TYPE toron_queue_depth gauge\ntoron_queue_depth {}\n\
         # HELP toron_runners Runs that may run at once.\n# TYPE toron_runners gauge\ntoron_runners {}\n\
         # HELP toron_runs_running Runs running now.\n# TYPE toron_runs_running gauge\ntoron_runs_running {}\n\
         # HELP toron_event_streams Event streams open now.\n# TYPE toron_event_streams gauge\ntoron_event_streams {}\n\
         # HELP toron_events_sent_total Events sent on streams.\n# TYPE toron_events_sent_total counter\ntoron_events_sent_total {sent}\n\
         # HELP toron_event_lag_seconds Delay from an event reaching a live run's feed to its stream handing it to the connection (replays from the events file are not counted).\n\
         # TYPE toron_event_lag_seconds summary\ntoron_event_lag_seconds_sum {lag_sum}\ntoron_event_lag_seconds_count {lag_count}\n\
         # HELP toron_event_lag_seconds_max The largest such delay (0 while the count is 0).\n# TYPE toron_event_lag_seconds_max gauge\n\
         toron_event_lag_seconds_max {}\n",
        stats.waiting,
        stats.runners,
        stats.running,
        c.streams.load(Ordering::Relaxed),
        c.max_lag_us.load(Ordering::Relaxed) as f64 / 1e6,
    );
    out.push_str(
        "# HELP toron_http_responses_total Responses by status class.\n# TYPE toron_http_responses_total counter\n",
    );
    for class in 1..=5 {
        let _ = writeln!(
            out,
            "toron_http_responses_total{{class=\"{class}xx\"}} {}",
            c.responses[class].load(Ordering::Relaxed)
        );
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "server", responses((status = 200, body = Object)))]
pub async fn openapi() -> Json<Value> {
    Json(serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null))
}

/// The manifests the server runs: profiles, suites and data sets, for the start form.
#[utoipa::path(get, path = "/v1/manifests", tag = "server",
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn manifests(State(app): State<AppState>) -> Json<Vec<Value>> {
    Json(
        app.manifests
            .iter()
            .map(|(name, m)| {
                json!({
                    "name": name,
                    "file": m.file().map(|f| f.display().to_string()),
                    "profiles": m.profiles,
                    "suites": m.suites.iter().map(|s| json!({"name": s.name, "cases": s.cases.len()})).collect::<Vec<_>>(),
                    "datasets": m.datasets.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// A runner.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Runner {
    /// `embedded-<n>`, or a remote runner's id (`<name>-<n>`).
    pub name: String,
    /// `embedded` (in the server's process) or `remote` (`toron runner`).
    pub kind: String,
    /// `busy`, `idle`, or `lost` (a remote runner whose heartbeats stopped for a lease).
    pub state: String,
    /// The last heartbeat (RFC 3339 UTC): an embedded runner's is now.
    pub heartbeat: String,
    /// The runs it holds (remote runners).
    pub runs: Vec<String>,
    /// Runs it runs at once.
    pub jobs: usize,
    /// When it registered (remote runners).
    pub registered: Option<String>,
    /// The name of the token it registered with (remote runners; never the token).
    pub token: Option<String>,
}

/// The runners with their last heartbeat: the server's embedded ones (`--runners N`), or with `--runners 0`
/// the remote runners that registered (`toron runner`), lost ones included.
#[utoipa::path(get, path = "/v1/runners", tag = "server",
    responses((status = 200, body = Vec<Runner>), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn runners(State(app): State<AppState>) -> Json<Vec<Runner>> {
    if let Some(remote) = &app.remote {
        return Json(remote.runners());
    }
    let stats = app.queue.stats();
    let now = toron_core::snapshot::UtcTime::now().rfc3339();
    Json(
        (0..stats.runners)
            .map(|i| Runner {
                name: format!("embedded-{}", i + 1),
                kind: "embedded".to_string(),
                state: if i < stats.running { "busy" } else { "idle" }.to_string(),
                heartbeat: now.clone(),
                runs: Vec::new(),
                jobs: 1,
                registered: None,
                token: None,
            })
            .collect(),
    )
}

/// The caller, as the server knows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// The token's name (never the token).
    pub name: String,
    /// `viewer`, `operator`, `maintainer` or `runner`.
    pub role: String,
    /// What the role may do, so a dashboard can hide what would be refused (403).
    pub may: Vec<String>,
}

/// Who the caller is: the name and role of its token (or stream ticket), and what that role may do.
#[utoipa::path(get, path = "/v1/whoami", tag = "server",
    responses((status = 200, body = WhoAmI), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn whoami(axum::Extension(who): axum::Extension<crate::auth::Identity>) -> Json<WhoAmI> {
    use crate::auth::Role;
    let mut may = vec!["read".to_string()];
    if who.role == Role::Runner {
        may = [
            "register as a runner",
            "claim runs",
            "heartbeat",
            "send run events",
            "upload run files",
            "finish runs",
        ]
        .map(String::from)
        .to_vec();
    }
    if who.role >= Role::Operator {
        // The actions handlers `require(Role::Operator, ...)` for, by the names their 403s use.
        may.extend(
            [
                "start runs",
                "cancel runs",
                "triage cases",
                "compare snapshots",
                "open incidents",
                "change incidents",
                "add notes to incidents",
            ]
            .map(String::from),
        );
    }
    Json(WhoAmI {
        role: who.role.name().to_string(),
        name: who.name,
        may,
    })
}
