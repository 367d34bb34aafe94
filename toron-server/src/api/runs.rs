//! Runs: start one (`POST /v1/test-runs`), list them, look at one, cancel it, triage its failed cases, and
//! the history across runs the dashboard charts.

use super::{AppState, JsonBody};
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ApiResult};
use crate::feed::{Feed, Progress};
use crate::state::{check_run_id, LiveRun, RunRecord, Triage, TRIAGE_LABELS};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use toron_core::runner::{list_overviews, load_overview, load_run, Run, RunOptions, RunOverview, RunState};

/// `POST /v1/test-runs`: what to run. Give a profile or suites (neither: every suite of the manifest).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// A profile of the manifest (`offline`, `full`, ...).
    pub profile: Option<String>,
    /// Suites to run instead of a profile.
    pub suites: Option<Vec<String>>,
    /// The seed of cases that name none (0 to 2^53).
    #[schema(minimum = 0, maximum = 9_007_199_254_740_992_u64)]
    pub seed: Option<u64>,
    /// A `[[dataset]]` of the manifest, generated for every case of the run.
    pub dataset: Option<String>,
    /// The manifest, by its `[project] name` (default: the server's first).
    pub manifest: Option<String>,
    /// Cases run in parallel (default: the manifest's).
    #[schema(minimum = 1)]
    pub jobs: Option<usize>,
}

/// The largest seed a run started over the API may have: 2^53, the largest integer the archive's canonical
/// JSON keeps exactly.
pub const MAX_SEED: u64 = 1 << 53;

/// The answer to `POST /v1/test-runs` (202).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunAccepted {
    /// The run id.
    pub id: String,
    /// `scheduled`.
    pub state: String,
    /// The run's URL.
    pub location: String,
    /// Its event stream.
    pub events: String,
    /// Its report, once it has finished.
    pub report: String,
}

/// A run as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    /// The run id.
    pub id: String,
    /// `scheduled`, `running`, `passed`, `failed`, `errored`, `cancelled`.
    pub state: String,
    /// Why it errored (`interrupted`: its process died).
    pub error: Option<String>,
    /// The profile.
    pub profile: Option<String>,
    /// The suites.
    pub suites: Vec<String>,
    /// The run-level seed.
    pub seed: Option<u64>,
    /// When it started (RFC 3339 UTC).
    pub started: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Cases run.
    pub cases: usize,
    /// `GO`, `NO-GO`, or `none`.
    pub verdict: String,
    /// Whether it is GO.
    pub go: bool,
    /// The run's and each suite's KPIs.
    #[schema(value_type = Object)]
    pub kpis: Value,
    /// The incident it opened or joined.
    #[schema(value_type = Option<Object>)]
    pub incident: Option<Value>,
    /// How far it is.
    pub progress: Progress,
    /// Who started it (runs started over the API).
    pub started_by: Option<String>,
    /// Triage labels of its failed cases.
    pub triage: BTreeMap<String, Triage>,
    /// Its event stream, report and page.
    pub links: Links,
}

/// Where a run's parts are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Links {
    /// This run.
    #[serde(rename = "self")]
    pub this: String,
    /// The event stream.
    pub events: String,
    /// report.json (index.html with `Accept: text/html`).
    pub report: String,
}

/// A page of runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunList {
    /// Newest first.
    pub runs: Vec<RunView>,
    /// Runs matching the filter.
    pub total: usize,
    /// The first run's index.
    pub offset: usize,
    /// The page size.
    pub limit: usize,
}

/// `GET /v1/test-runs` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only runs in this state.
    pub state: Option<String>,
    /// Only runs of this profile.
    pub profile: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// Runs to skip.
    pub offset: Option<usize>,
}

/// `PUT /v1/test-runs/{id}/triage`: label a failed case (or clear its label with `label: null`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// The case, `suite/name`.
    pub case: String,
    /// `product-bug`, `test-issue`, `environment`, or null to clear.
    pub label: Option<String>,
    /// A note.
    pub note: Option<String>,
}

/// Parse a query string strictly (unknown parameters and bad values are 422, naming them).
pub fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> ApiResult<T> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))
}

fn links(id: &str) -> Links {
    Links {
        this: format!("/v1/test-runs/{id}"),
        events: format!("/v1/test-runs/{id}/events"),
        report: format!("/v1/reports/{id}"),
    }
}

/// The warroom's incidents by the runs they name (the run that opened one and every run that joined it), as
/// [`RunView::incident`] shows them: an incident opened after the run (`POST /v1/warroom/incidents`) is not in
/// the run's archived overview, yet it is the run's incident. Empty when there is no warroom yet.
pub fn incidents_by_run(app: &crate::state::App) -> BTreeMap<String, Value> {
    let mut by_run = BTreeMap::new();
    if !app.dirs.warroom.join(toron_core::warroom::DB_FILE).exists() {
        return by_run;
    }
    let Ok(incidents) = toron_core::warroom::Warroom::open(&app.dirs.warroom).and_then(|w| w.incidents(None)) else {
        return by_run;
    };
    // Newest first: a run in several incidents shows the newest.
    for i in &incidents {
        for run in std::iter::once(&i.run_id).chain(i.runs.iter()) {
            by_run.entry(run.clone()).or_insert_with(|| {
                json!({ "id": i.id, "created": *run == i.run_id, "severity": i.severity.name(),
                        "status": i.status.name() })
            });
        }
    }
    by_run
}

/// A run's view: its overview, with live progress when this process runs it, and its incident.
pub fn view(app: &crate::state::App, o: RunOverview) -> RunView {
    let incidents = incidents_by_run(app);
    view_with(app, o, &incidents)
}

/// [`view`] with the warroom's incidents read once (a page of runs reads them once, not per run).
pub fn view_with(app: &crate::state::App, o: RunOverview, incidents: &BTreeMap<String, Value>) -> RunView {
    let live = app.live(&o.id);
    let progress = match (&live, o.state) {
        (Some(l), _) => l.feed.progress(),
        (None, RunState::Scheduled | RunState::Running) => {
            app.remote.as_ref().and_then(|r| r.progress(&o.id)).unwrap_or_default()
        }
        (None, _) => Progress {
            done: o.cases,
            total: Some(o.cases),
            warning: None,
        },
    };
    let record = app.record(&o.id);
    RunView {
        links: links(&o.id),
        state: o.state.name().to_string(),
        kpis: serde_json::to_value(&o.kpis).unwrap_or(Value::Null),
        incident: incidents
            .get(&o.id)
            .cloned()
            .or_else(|| o.incident.as_ref().and_then(|i| serde_json::to_value(i).ok())),
        id: o.id,
        error: o.error,
        profile: o.profile,
        suites: o.suites,
        seed: o.seed,
        started: o.started,
        duration: o.duration,
        cases: o.cases,
        verdict: o.verdict,
        go: o.go,
        progress,
        started_by: record.started_by,
        triage: record.triage,
    }
}

/// The overview of one run; 404 naming the newest runs when there is none.
pub fn overview(app: &crate::state::App, id: &str) -> ApiResult<RunOverview> {
    check_run_id(id)?;
    load_overview(&app.dirs.archive, id).map_err(|e| {
        if e.kind() == toron_core::ErrorKind::InvalidArgument {
            ApiError::not_found(e.message()).with_field("id")
        } else {
            ApiError::from_core(&e)
        }
    })
}

/// Start a run of the manifest's suites, with a seed and a synthetic data set. The run is queued at once
/// (state `scheduled`); follow it on its event stream.
#[utoipa::path(
    post, path = "/v1/test-runs", tag = "runs", request_body = StartRun,
    responses(
        (status = 202, description = "The run is scheduled", body = RunAccepted,
         headers(("Location" = String, description = "The run's URL"))),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 422, description = "A field is not what was expected", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn start(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    JsonBody(req): JsonBody<StartRun>,
) -> ApiResult<Response> {
    who.require(Role::Operator, "start runs")?;
    if req.profile.is_some() && req.suites.is_some() {
        return Err(ApiError::invalid("suites", "give a profile or suites, not both"));
    }
    if req.suites.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::invalid(
            "suites",
            "is empty (expected at least one suite, or leave it out)",
        ));
    }
    if req.jobs == Some(0) {
        return Err(ApiError::invalid("jobs", "is 0 (expected a positive number)"));
    }
    // The archive's canonical JSON (RFC 8785) holds numbers as IEEE doubles: a larger seed cannot be recorded
    // exactly, and the run would error after it was accepted.
    if let Some(seed) = req.seed.filter(|s| *s > MAX_SEED) {
        return Err(ApiError::invalid(
            "seed",
            format!(
                "{seed} is above 2^53 (expected 0 to {MAX_SEED}: the archive records seeds exactly only up to there)"
            ),
        ));
    }
    let manifest = app.manifest(req.manifest.as_deref())?.clone();
    if app.remote.is_some() {
        return start_remote(app, who, req, manifest).await;
    }
    let options = RunOptions {
        profile: req.profile.clone(),
        suites: req.suites.clone().unwrap_or_default(),
        seed: req.seed,
        jobs: req.jobs,
        // The server runs as CI does: goldens are compared, never written.
        check: true,
        archive: Some(app.dirs.archive.clone()),
        datasets: req.dataset.clone().into_iter().collect(),
        queue: Some(app.queue.clone()),
        worker: app.config.worker.clone(),
        nice: app.config.run_nice,
        ..Default::default()
    };
    let app2 = app.clone();
    let live = super::blocking(move || -> ApiResult<Arc<LiveRun>> {
        let handle = Arc::new(Run::start(&manifest, options).map_err(|e| {
            let mut e = ApiError::from_core(&e);
            // The core names options (`datasets[0]`); the request names them its way.
            e.field = e.field.map(|f| match f.as_str() {
                f if f.starts_with("datasets") => "dataset".to_string(),
                "profile" | "suites" | "seed" | "jobs" => f.to_string(),
                f if f.starts_with("suite") => "suites".to_string(),
                f => f.to_string(),
            });
            e
        })?);
        let feed =
            Feed::follow(handle.clone()).map_err(|e| ApiError::internal(format!("cannot follow the run: {e}")))?;
        let live = Arc::new(LiveRun { handle, feed });
        app2.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(live.handle.id().to_string(), live.clone());
        Ok(live)
    })
    .await?;
    let id = live.handle.id().to_string();
    app.write_record(
        &id,
        &RunRecord {
            started_by: Some(who.name.clone()),
            request: serde_json::to_value(&req).unwrap_or(Value::Null),
            triage: BTreeMap::new(),
        },
    )?;
    // When the run ends, this process stops holding it: the archive has it all.
    let app3 = app.clone();
    std::thread::Builder::new()
        .name(format!("reap-{id}"))
        .spawn(move || {
            let _ = live.handle.wait_shared();
            while !live.feed.finished() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            app3.live
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(live.handle.id());
        })
        .map_err(|e| ApiError::internal(format!("cannot watch the run: {e}")))?;
    let l = links(&id);
    let body = RunAccepted {
        location: l.this.clone(),
        events: l.events,
        report: l.report,
        state: "scheduled".to_string(),
        id,
    };
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, l.this)], Json(body)).into_response())
}

/// [`start`] with remote runners: the run is recorded and queued for the next runner that claims it.
async fn start_remote(
    app: AppState,
    who: Identity,
    req: StartRun,
    manifest: toron_core::runner::Manifest,
) -> ApiResult<Response> {
    let app2 = app.clone();
    let req2 = req.clone();
    let id = super::blocking(move || match &app2.remote {
        Some(remote) => remote.start(&app2, &manifest, &req2),
        None => Err(ApiError::internal("the server has no remote runners (a bug)")),
    })
    .await?;
    app.write_record(
        &id,
        &RunRecord {
            started_by: Some(who.name.clone()),
            request: serde_json::to_value(&req).unwrap_or(Value::Null),
            triage: BTreeMap::new(),
        },
    )?;
    let l = links(&id);
    let body = RunAccepted {
        location: l.this.clone(),
        events: l.events,
        report: l.report,
        state: "scheduled".to_string(),
        id,
    };
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, l.this)], Json(body)).into_response())
}

/// Runs, newest first, filtered by state and profile, a page at a time.
#[utoipa::path(
    get, path = "/v1/test-runs", tag = "runs", params(ListQuery),
    responses((status = 200, body = RunList), (status = 401, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(State(app): State<AppState>, uri: axum::http::Uri) -> ApiResult<Json<RunList>> {
    let q: ListQuery = query(&uri)?;
    if let Some(s) = &q.state {
        const STATES: [&str; 6] = ["scheduled", "running", "passed", "failed", "errored", "cancelled"];
        if !STATES.contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "state",
                format!("{s:?} (expected one of {})", STATES.join(", ")),
            ));
        }
    }
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(ApiError::invalid("limit", format!("{limit} (expected 1 to 500)")));
    }
    let offset = q.offset.unwrap_or(0);
    let app2 = app.clone();
    let list = super::blocking(move || -> ApiResult<RunList> {
        let all: Vec<RunOverview> = list_overviews(&app2.dirs.archive)?
            .into_iter()
            .filter(|o| q.state.as_deref().is_none_or(|s| o.state.name() == s))
            .filter(|o| q.profile.as_deref().is_none_or(|p| o.profile.as_deref() == Some(p)))
            .collect();
        let total = all.len();
        let incidents = incidents_by_run(&app2);
        let runs = all
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|o| view_with(&app2, o, &incidents))
            .collect();
        Ok(RunList {
            runs,
            total,
            offset,
            limit,
        })
    })
    .await?;
    Ok(Json(list))
}

/// One run: state, verdict, KPIs, progress, triage.
#[utoipa::path(
    get, path = "/v1/test-runs/{id}", tag = "runs", params(("id" = String, Path, description = "The run id")),
    responses((status = 200, body = RunView), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<RunView>> {
    let app2 = app.clone();
    super::blocking(move || overview(&app2, &id).map(|o| Json(view(&app2, o)))).await
}

/// Cancel a run: running attempts are stopped, pending cases recorded as cancelled. A run that has ended
/// is left as it is (409).
#[utoipa::path(
    post, path = "/v1/test-runs/{id}/cancel", tag = "runs", params(("id" = String, Path, description = "The run id")),
    responses((status = 202, body = RunView), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "The run has ended", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn cancel(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    who.require(Role::Operator, "cancel runs")?;
    check_run_id(&id)?;
    if app.remote.is_some() {
        let (app2, id2) = (app.clone(), id.clone());
        let ours = super::blocking(move || Ok(app2.remote.as_ref().is_some_and(|r| r.cancel(&app2, &id2)))).await?;
        if ours {
            let app2 = app.clone();
            let o = super::blocking(move || overview(&app2, &id)).await?;
            return Ok((StatusCode::ACCEPTED, Json(view(&app, o))).into_response());
        }
    }
    let live = app
        .live(&id)
        .filter(|l| matches!(l.handle.state(), RunState::Scheduled | RunState::Running));
    let Some(live) = live else {
        let o = overview(&app, &id)?;
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("run {id} has ended ({}): there is nothing to cancel", o.state.name()),
        ));
    };
    live.handle.cancel();
    let app2 = app.clone();
    let o = super::blocking(move || overview(&app2, &id)).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&app, o))).into_response())
}

/// Label a failed case of a run (product bug, test issue, environment); the label is kept with the run.
#[utoipa::path(
    put, path = "/v1/test-runs/{id}/triage", tag = "runs", request_body = TriageRequest,
    params(("id" = String, Path, description = "The run id")),
    responses((status = 200, body = RunView), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn triage(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<TriageRequest>,
) -> ApiResult<Json<RunView>> {
    who.require(Role::Operator, "triage cases")?;
    if let Some(label) = &req.label {
        if !TRIAGE_LABELS.contains(&label.as_str()) {
            return Err(ApiError::invalid(
                "label",
                format!(
                    "{label:?} (expected one of {}, or null to clear)",
                    TRIAGE_LABELS.join(", ")
                ),
            ));
        }
    }
    let app2 = app.clone();
    super::blocking(move || {
        let o = overview(&app2, &id)?;
        let result = load_run(&app2.dirs.archive, &id)?;
        if !result.cases.iter().any(|c| c.id() == req.case) {
            return Err(ApiError::invalid(
                "case",
                format!("run {id} has no case {:?} (expected suite/name)", req.case),
            ));
        }
        let mut record = app2.record(&id);
        match req.label {
            Some(label) => {
                record.triage.insert(
                    req.case,
                    Triage {
                        label,
                        note: req.note,
                        by: who.name.clone(),
                        at: toron_core::snapshot::UtcTime::now().rfc3339(),
                    },
                );
            }
            None => {
                record.triage.remove(&req.case);
            }
        }
        app2.write_record(&id, &record)?;
        Ok(Json(view(&app2, o)))
    })
    .await
}

/// `GET /v1/history` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only runs of this profile.
    pub profile: Option<String>,
    /// How many of the newest finished runs (default 20, at most 100).
    pub limit: Option<usize>,
}

/// The history of cases across runs: each case's outcome per run (oldest first), the flakiest and most
/// failed cases, and the runs' pass rate, KPIs and durations for trends.
#[utoipa::path(
    get, path = "/v1/history", tag = "runs", params(HistoryQuery),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn history(State(app): State<AppState>, uri: axum::http::Uri) -> ApiResult<Json<Value>> {
    let q: HistoryQuery = query(&uri)?;
    let limit = q.limit.unwrap_or(20);
    if limit == 0 || limit > 100 {
        return Err(ApiError::invalid("limit", format!("{limit} (expected 1 to 100)")));
    }
    let app2 = app.clone();
    super::blocking(move || -> ApiResult<Json<Value>> {
        let mut chosen: Vec<RunOverview> = list_overviews(&app2.dirs.archive)?
            .into_iter()
            .filter(|o| !matches!(o.state, RunState::Scheduled | RunState::Running))
            .filter(|o| q.profile.as_deref().is_none_or(|p| o.profile.as_deref() == Some(p)))
            .take(limit)
            .collect();
        chosen.reverse();
        Ok(Json(history_of(&app2, &chosen)))
    })
    .await
}

fn history_of(app: &crate::state::App, runs: &[RunOverview]) -> Value {
    #[derive(Default)]
    struct CaseLine {
        outcomes: Vec<Value>,
        durations: Vec<Value>,
        failed: usize,
        flaky: usize,
        ran: usize,
        passed: usize,
        changes: usize,
        last: Option<&'static str>,
    }
    let mut cases: BTreeMap<String, CaseLine> = BTreeMap::new();
    let mut run_rows = Vec::new();
    for (i, o) in runs.iter().enumerate() {
        let Ok(r) = load_run(&app.dirs.archive, &o.id) else {
            continue;
        };
        let record = app.record(&o.id);
        let (mut passed, mut counted) = (0usize, 0usize);
        for c in &r.cases {
            let line = cases.entry(c.id()).or_default();
            while line.outcomes.len() < i {
                line.outcomes.push(Value::Null);
                line.durations.push(Value::Null);
            }
            let name = c.outcome.name();
            line.outcomes.push(json!(name));
            line.durations.push(json!(c.duration));
            line.ran += 1;
            use toron_core::runner::CaseOutcome::*;
            match c.outcome {
                Passed => line.passed += 1,
                Flaky => {
                    line.flaky += 1;
                    line.passed += 1;
                }
                Failed | Errored | TimedOut => line.failed += 1,
                Skipped | Cancelled => {}
            }
            let bad = matches!(c.outcome, Failed | Errored | TimedOut);
            let state: &'static str = if bad { "bad" } else { "good" };
            if !matches!(c.outcome, Skipped | Cancelled) {
                if line.last.is_some_and(|l| l != state) {
                    line.changes += 1;
                }
                line.last = Some(state);
                counted += 1;
                if !bad {
                    passed += 1;
                }
            }
        }
        run_rows.push(json!({
            "id": o.id, "started": o.started, "state": o.state.name(), "verdict": o.verdict, "go": o.go,
            "duration": o.duration, "cases": o.cases,
            "pass_rate": if counted == 0 { Value::Null } else { json!(passed as f64 / counted as f64) },
            "kpis": serde_json::to_value(&o.kpis.run).unwrap_or(Value::Null),
            "triage": serde_json::to_value(&record.triage).unwrap_or(Value::Null),
        }));
    }
    let n = run_rows.len();
    let mut rows: Vec<Value> = Vec::new();
    let mut ranked: Vec<(String, usize, usize, usize)> = Vec::new();
    for (case, mut line) in cases {
        while line.outcomes.len() < n {
            line.outcomes.push(Value::Null);
            line.durations.push(Value::Null);
        }
        ranked.push((case.clone(), line.flaky + line.changes, line.failed, line.ran));
        rows.push(json!({
            "case": case, "outcomes": line.outcomes, "durations": line.durations, "ran": line.ran,
            "failed": line.failed, "flaky": line.flaky, "changes": line.changes,
            "pass_rate": if line.ran == 0 { Value::Null } else { json!(line.passed as f64 / line.ran as f64) },
        }));
    }
    // Ties are broken by case name: the ranking is the same on every call.
    let mut flakiest: Vec<_> = ranked.iter().filter(|r| r.1 > 0).cloned().collect();
    flakiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut most_failed: Vec<_> = ranked.iter().filter(|r| r.2 > 0).cloned().collect();
    most_failed.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    json!({
        "runs": run_rows,
        "cases": rows,
        "flakiest": flakiest.iter().take(10).map(|r| json!({"case": r.0, "score": r.1, "ran": r.3})).collect::<Vec<_>>(),
        "most_failed": most_failed.iter().take(10).map(|r| json!({"case": r.0, "failed": r.2, "ran": r.3})).collect::<Vec<_>>(),
    })
}
