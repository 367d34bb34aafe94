//! `GET /v1/reports/{id}`: a run's report — `report.json`, or its `index.html` when the client prefers HTML —
//! and the other files of `reports/<id>/` under the same path.

use super::AppState;
use crate::error::{ApiError, ApiResult};
use crate::state::check_run_id;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The files of a run's report directory the API serves, with their media types.
const FILES: [(&str, &str); 5] = [
    ("report.json", "application/json"),
    ("verdict.json", "application/json"),
    ("determinism.json", "application/json"),
    ("junit.xml", "application/xml"),
    ("index.html", "text/html; charset=utf-8"),
];

/// The report of a run: report.json, or index.html with `Accept: text/html`.
#[utoipa::path(
    get, path = "/v1/reports/{id}", tag = "reports", params(("id" = String, Path, description = "The run id")),
    responses(
        (status = 200, description = "report.json (schema: toron-core/src/report/json.rs), or index.html",
         content((Object = "application/json"), (String = "text/html"))),
        (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn report(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let file = if prefers_html(&headers) {
        "index.html"
    } else {
        "report.json"
    };
    serve(&app, &id, file).await
}

/// One file of a run's report: `report.json`, `verdict.json`, `determinism.json`, `junit.xml`, `index.html`.
#[utoipa::path(
    get, path = "/v1/reports/{id}/{file}", tag = "reports",
    params(("id" = String, Path, description = "The run id"),
           ("file" = String, Path, description = "report.json, verdict.json, determinism.json, junit.xml or index.html")),
    responses(
        (status = 200, description = "The file",
         content((Object = "application/json"), (String = "application/xml"), (String = "text/html"))),
        (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn file(State(app): State<AppState>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    serve(&app, &id, &file).await
}

fn prefers_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let pos = |t: &str| accept.find(t);
    match (pos("text/html"), pos("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

async fn serve(app: &AppState, id: &str, file: &str) -> ApiResult<Response> {
    check_run_id(id)?;
    let Some((name, media)) = FILES.iter().find(|(n, _)| *n == file) else {
        let names: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        return Err(ApiError::not_found(format!(
            "a report has no file {file:?} (expected one of {})",
            names.join(", ")
        ))
        .with_field("file"));
    };
    let path = app.dirs.reports.join(id).join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            if media.starts_with("text/html") {
                // A report is a self-contained page: inline styles and SVG, no scripts at all.
                r.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
                    ),
                );
            }
            Ok(r)
        }
        Err(_) => {
            let app2 = app.clone();
            let id2 = id.to_string();
            let o = super::blocking(move || super::runs::overview(&app2, &id2)).await?;
            Err(ApiError::not_found(format!(
                "run {id} has no {name} yet (it is {}{})",
                o.state.name(),
                if matches!(
                    o.state,
                    toron_core::runner::RunState::Scheduled | toron_core::runner::RunState::Running
                ) {
                    ": its reports are written when it ends"
                } else {
                    ""
                }
            )))
        }
    }
}
