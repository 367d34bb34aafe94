//! The HTTP API: the routes, and what every request goes through — the request log, security headers, the
//! caller's identity and rate limit, strict JSON bodies.

pub mod events;
pub mod meta;
pub mod reports;
pub mod runners;
pub mod runs;
pub mod snapshots;
pub mod warroom;

use crate::error::{ApiError, ApiResult};
use crate::state::App;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use governor::clock::Clock;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Instant;

/// Shared state of the handlers.
pub type AppState = Arc<App>;

/// Every route of the server.
pub fn router(app: AppState) -> Router {
    let api = Router::new()
        .route("/v1/test-runs", post(runs::start).get(runs::list))
        .route("/v1/test-runs/{id}", get(runs::get))
        .route("/v1/test-runs/{id}/cancel", post(runs::cancel))
        .route("/v1/test-runs/{id}/triage", put(runs::triage))
        .route("/v1/test-runs/{id}/events", get(events::stream).post(runners::events))
        .route("/v1/test-runs/{id}/objects/{*path}", put(runners::put_object))
        .route("/v1/test-runs/{id}/finish", post(runners::finish))
        .route("/v1/runners/register", post(runners::register))
        .route("/v1/runners/{id}/claim", post(runners::claim))
        .route("/v1/runners/{id}/heartbeat", post(runners::heartbeat))
        .route("/v1/stream-tickets", post(events::ticket))
        .route("/v1/snapshots/compare", post(snapshots::compare))
        .route("/v1/reports/{id}", get(reports::report))
        .route("/v1/reports/{id}/{file}", get(reports::file))
        .route("/v1/warroom/incidents", post(warroom::open).get(warroom::list))
        .route("/v1/warroom/incidents/{id}", get(warroom::get))
        .route("/v1/warroom/incidents/{id}/status", post(warroom::status))
        .route("/v1/warroom/incidents/{id}/notes", post(warroom::note))
        .route("/v1/history", get(runs::history))
        .route("/v1/manifests", get(meta::manifests))
        .route("/v1/runners", get(meta::runners))
        .route("/v1/whoami", get(meta::whoami))
        .route("/metrics", get(meta::metrics))
        .layer(axum::middleware::from_fn_with_state(app.clone(), authenticate));
    let public = Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/openapi.json", get(meta::openapi))
        .merge(crate::dashboard::routes());
    Router::new()
        .merge(api)
        .merge(public)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(app.clone(), log_request))
        .with_state(app)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {} {} (the endpoints are listed at /openapi.json)",
        req.method(),
        req.uri().path()
    ))
}

/// The caller's token name, for the request log (set by [`authenticate`]).
#[derive(Debug, Clone)]
struct Caller(String);

/// One line per request on stderr: method, path (never the query, which may hold a stream ticket), status,
/// the token's name (never the token), and the time taken.
async fn log_request(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    let who = response
        .extensions()
        .get::<Caller>()
        .map_or("-", |c| c.0.as_str())
        .to_string();
    let status = response.status().as_u16();
    app.count_response(status);
    eprintln!(
        "toron-server: {method} {path} {status} {who} {:.1}ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Headers on every response; a strict content security policy on HTML: scripts only from this server,
/// never inline; styles inline (the reports and diffs are self-contained pages); nothing framed from
/// elsewhere.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                 connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
            ),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Who is calling: `Authorization: Bearer <token>`, or on an event stream a `ticket` query parameter from
/// `POST /v1/stream-tickets`. 401 without either, then the per-token rate limit (429).
async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = match bearer(req.headers()) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let identity = match (bearer, ticket(&req)) {
        (Some(token), _) => app.identify(Some(&token)).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bearer token is not one of the server's tokens",
            )
        }),
        (None, Some(t)) if req.uri().path().ends_with("/events") => app.tickets.verify(&t).map_err(|why| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("stream ticket: {why}"),
            )
        }),
        (None, _) => app.identify(None).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "authentication required: send Authorization: Bearer <token> (event streams also take a \
                 ?ticket= from POST /v1/stream-tickets)",
            )
        }),
    };
    let identity = match identity {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    if let Err(not_until) = app.limiter.check_key(&identity.name) {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "{} sent more than {} requests per second: retry after {} ms",
                identity.name,
                app.config.rate_limit,
                wait.as_millis()
            ),
        );
        e.retry_after = Some(wait.as_secs() + 1);
        return e.into_response();
    }
    if identity.role == crate::auth::Role::Runner && !runner_route(req.method(), req.uri().path()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{} has the role runner, which may only register, claim, heartbeat, send events, upload and \
                 finish runs ({} {} is none of those)",
                identity.name,
                req.method(),
                req.uri().path()
            ),
        )
        .into_response();
    }
    let name = identity.name.clone();
    req.extensions_mut().insert(identity);
    let mut response = next.run(req).await;
    response.extensions_mut().insert(Caller(name));
    response
}

/// What a `runner` token may call: the runners' protocol, and `whoami`.
fn runner_route(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        (method, parts.as_slice()),
        (&Method::GET, ["v1", "whoami"])
            | (&Method::POST, ["v1", "runners", "register"])
            | (&Method::POST, ["v1", "runners", _, "claim" | "heartbeat"])
            | (&Method::POST, ["v1", "test-runs", _, "events" | "finish"])
            | (&Method::PUT, ["v1", "test-runs", _, "objects", ..])
    )
}

fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("");
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the Authorization header is not `Bearer <token>`",
        )),
    }
}

fn ticket(req: &Request) -> Option<String> {
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "ticket")
            .map(|(_, v)| v.to_string())
    })
}

/// Run `f` (archive, warroom and file work) on the blocking pool; a panic in it is a 500, never a dropped
/// connection.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the request's work failed: {e}")))?
}

/// A strict JSON request body: `application/json`, at most `--body-limit` bytes, no unknown fields; errors
/// name the JSON path of what was wrong (413, 415, 422).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let limit = app.config.body_limit;
        let bytes = read_body_limited(req.into_body(), limit, "--body-limit").await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(JsonBody(v)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let field = if path == "." { "body".to_string() } else { path };
                let message = if inner.is_syntax() || inner.is_eof() {
                    format!("the body is not valid JSON: {inner}")
                } else {
                    inner.to_string()
                };
                Err(ApiError::invalid(field, message))
            }
        }
    }
}

/// A body too large is still read to its end (up to 64 times the limit) before the 413 goes out: a client
/// that sends its whole body before it reads the answer then gets the answer, not a reset connection.
pub(crate) async fn read_body_limited(body: axum::body::Body, limit: usize, flag: &str) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the server's limit of {limit} bytes ({flag})"),
        )
    };
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("body", format!("the body could not be read: {e}")))?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit.saturating_mul(64) {
            return Err(too_large());
        }
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(bytes)
}
