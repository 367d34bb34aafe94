//! The warroom over HTTP: open (or join, by dedup key) an incident for a NO-GO run's failing gates, list and
//! read incidents, change their status, add notes. Each change also rewrites `reports/incidents.html`.

use super::{blocking, AppState, JsonBody};
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toron_core::warroom::{Incident, OpenRequest, Severity, Status, Warroom};

/// `POST /v1/warroom/incidents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIncident {
    /// The NO-GO run whose failing gates the incident is about (default: the newest NO-GO run).
    pub run_id: Option<String>,
    /// Runs with the same key join one open incident (default: the profile and the failing rules).
    pub dedup_key: Option<String>,
    /// `sev1` to `sev4` (default: from the failing rules).
    pub severity: Option<String>,
    /// The title (default: made from the run and its failing rules).
    pub title: Option<String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// Labels.
    pub labels: Option<Vec<String>>,
}

/// An incident, and whether this request opened it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Opened {
    /// The incident (id, run, failing rules and cases, severity, status, timeline).
    #[schema(value_type = Object)]
    pub incident: Value,
    /// `false`: the run joined the open incident with the same dedup key.
    pub created: bool,
}

/// `POST /v1/warroom/incidents/{id}/status`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `mitigated`, `resolved` or `reopened`.
    pub status: String,
    /// Why.
    pub note: Option<String>,
}

/// `POST /v1/warroom/incidents/{id}/notes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// The note.
    pub text: String,
}

/// `GET /v1/warroom/incidents` filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Only incidents with this status (`open`, `mitigated`, `resolved`, `reopened`).
    pub status: Option<String>,
}

fn warroom(app: &App) -> ApiResult<Warroom> {
    Ok(Warroom::open(&app.dirs.warroom)?)
}

/// Rewrite `reports/incidents.html` after a change (a failure to do so does not undo the change).
fn refresh_page(app: &App, w: &Warroom) {
    if let Ok(incidents) = w.incidents(None) {
        let postmortems = incidents
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    app.dirs.warroom.join("postmortems").join(format!("{}.md", i.id)),
                )
            })
            .filter(|(_, p)| p.is_file())
            .map(|(id, p)| (id, p.display().to_string()))
            .collect();
        if let Err(e) = toron_core::report::write_incidents(&incidents, &postmortems, &app.dirs.reports) {
            eprintln!("toron-server: cannot rewrite the incidents page: {e}");
        }
    }
}

/// An incident as the API shows it: the core's, with `next`, the statuses it may move to now (what a
/// dashboard offers as buttons; any other change is refused with 422).
pub(crate) fn to_value(i: &Incident) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        let next: Vec<&str> = i.status.next().iter().map(|s| s.name()).collect();
        m.insert("next".to_string(), serde_json::json!(next));
    }
    v
}

/// Open an incident for a NO-GO run's failing gates, or join the open one with the same dedup key (200).
#[utoipa::path(
    post, path = "/v1/warroom/incidents", tag = "warroom", request_body = OpenIncident,
    responses((status = 201, description = "Opened", body = Opened), (status = 200, description = "Joined", body = Opened),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn open(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    JsonBody(req): JsonBody<OpenIncident>,
) -> ApiResult<Response> {
    who.require(Role::Operator, "open incidents")?;
    let severity = match &req.severity {
        Some(s) => Some(Severity::parse(s).map_err(|e| ApiError::from_core(&e).with_field("severity"))?),
        None => None,
    };
    if let Some(run) = &req.run_id {
        crate::state::check_run_id(run).map_err(|e| e.with_field("run_id"))?;
    }
    let opened = blocking(move || {
        if let Some(run) = &req.run_id {
            super::runs::overview(&app, run).map_err(|e| e.with_field("run_id"))?;
        }
        let w = warroom(&app)?;
        let opened = w
            .open_incident(
                &app.dirs.archive,
                OpenRequest {
                    run_id: req.run_id,
                    dedup_key: req.dedup_key,
                    severity,
                    title: req.title,
                    owner: req.owner,
                    labels: req.labels.unwrap_or_default(),
                    who: Some(who.name.clone()),
                },
            )
            .map_err(|e| {
                let mut e = ApiError::from_core(&e);
                if e.field.is_none() {
                    e.field = Some("run_id".to_string());
                }
                e
            })?;
        refresh_page(&app, &w);
        Ok(opened)
    })
    .await?;
    let status = if opened.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/warroom/incidents/{}", opened.incident.id);
    let body = Opened {
        incident: to_value(&opened.incident),
        created: opened.created,
    };
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

/// Incidents, newest first.
#[utoipa::path(
    get, path = "/v1/warroom/incidents", tag = "warroom", params(IncidentsQuery),
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(State(app): State<AppState>, uri: axum::http::Uri) -> ApiResult<Json<Vec<Value>>> {
    let q: IncidentsQuery = super::runs::query(&uri)?;
    let status = match &q.status {
        Some(s) => Some(Status::parse(s).map_err(|e| ApiError::from_core(&e).with_field("status"))?),
        None => None,
    };
    blocking(move || Ok(Json(warroom(&app)?.incidents(status)?.iter().map(to_value).collect()))).await
}

fn incident_id(id: &str) -> ApiResult<()> {
    let ok = id
        .strip_prefix("INC-")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("{id:?} is not an incident id (expected INC-<number>)")).with_field("id"))
    }
}

fn unknown(e: toron_core::Error, id: &str) -> ApiError {
    let mut e = ApiError::from_core(&e);
    if e.message.starts_with(&format!("no incident {id:?}")) {
        e.status = 404;
        e.kind = "not_found".to_string();
    }
    e
}

/// One incident with its timeline.
#[utoipa::path(
    get, path = "/v1/warroom/incidents/{id}", tag = "warroom", params(("id" = String, Path, description = "INC-<n>")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    incident_id(&id)?;
    blocking(move || {
        let i = warroom(&app)?.incident(&id).map_err(|e| unknown(e, &id))?;
        Ok(Json(to_value(&i)))
    })
    .await
}

/// Change an incident's status (`mitigated`, `resolved`, `reopened`), with a note.
#[utoipa::path(
    post, path = "/v1/warroom/incidents/{id}/status", tag = "warroom", request_body = StatusChange,
    params(("id" = String, Path, description = "INC-<n>")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn status(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<StatusChange>,
) -> ApiResult<Json<Value>> {
    who.require(Role::Operator, "change incidents")?;
    incident_id(&id)?;
    let status = Status::parse(&req.status).map_err(|e| ApiError::from_core(&e).with_field("status"))?;
    blocking(move || {
        let w = warroom(&app)?;
        w.incident(&id).map_err(|e| unknown(e, &id))?;
        let i = w
            .set_status(&id, status, &who.name, req.note.as_deref())
            .map_err(|e| ApiError::from_core(&e).with_field("status"))?;
        refresh_page(&app, &w);
        Ok(Json(to_value(&i)))
    })
    .await
}

/// Add a note to an incident's timeline.
#[utoipa::path(
    post, path = "/v1/warroom/incidents/{id}/notes", tag = "warroom", request_body = Note,
    params(("id" = String, Path, description = "INC-<n>")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn note(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<Note>,
) -> ApiResult<Json<Value>> {
    who.require(Role::Operator, "add notes to incidents")?;
    incident_id(&id)?;
    if req.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "is empty (expected the note's text)"));
    }
    blocking(move || {
        let w = warroom(&app)?;
        w.incident(&id).map_err(|e| unknown(e, &id))?;
        let i = w.note(&id, &who.name, &req.text)?;
        refresh_page(&app, &w);
        Ok(Json(to_value(&i)))
    })
    .await
}
