//! `POST /v1/snapshots/compare`: diff a current value against a golden — given inline, the project's golden
//! file of a case, or the output a case had in an archived run — with the options of `toron.diff`.

use super::{AppState, JsonBody};
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ApiResult};
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toron_core::diff::{self, DiffOptions, Format};
use toron_core::snapshot::archive::Archive;
use toron_core::snapshot::Snapshots;

/// What to compare. `current` against exactly one of: `golden` (a value), `case` (the project's golden file
/// of `suite/name`), or `run_id` + `case` (that case's output in an archived run).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// The value now.
    #[schema(value_type = Object)]
    pub current: Value,
    /// The golden value, inline.
    #[schema(value_type = Option<Object>)]
    pub golden: Option<Value>,
    /// A case, `suite/name`.
    pub case: Option<String>,
    /// An archived run: compare against the case's output in it.
    pub run_id: Option<String>,
    /// The manifest whose goldens `case` names (default: the server's first).
    pub manifest: Option<String>,
    /// Diff options: `keys`, `ignore`, `redact`, `tolerance`, `tolerances`, `budget` (as `toron.diff`).
    #[schema(value_type = Option<Object>)]
    pub options: Option<Value>,
}

/// The comparison.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompareResult {
    /// Whether the values are equal (under the options).
    pub equal: bool,
    /// `1 changed, 0 added, 2 removed`.
    pub summary: String,
    /// The RFC 6902 JSON Patch from the golden to the current value.
    #[schema(value_type = Vec<Object>)]
    pub patch: Value,
    /// Each change with its old value.
    #[schema(value_type = Vec<Object>)]
    pub changes: Value,
    /// The diff as a self-contained HTML fragment.
    pub html: String,
    /// What the golden was: `inline`, `golden:<case>` or `run:<id>/<case>`.
    pub against: String,
}

/// Compare a current value with a golden snapshot; the answer has the patch, the summary and the HTML.
#[utoipa::path(
    post, path = "/v1/snapshots/compare", tag = "snapshots", request_body = CompareRequest,
    responses((status = 200, body = CompareResult), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn compare(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    JsonBody(req): JsonBody<CompareRequest>,
) -> ApiResult<Json<CompareResult>> {
    who.require(Role::Operator, "compare snapshots")?;
    let options = DiffOptions::from_json(req.options.as_ref().unwrap_or(&Value::Null)).map_err(|e| {
        let mut e = ApiError::from_core(&e);
        e.field = Some(match e.field.take() {
            Some(f) => format!("options.{f}"),
            None => "options".to_string(),
        });
        e
    })?;
    let app2 = app.clone();
    super::blocking(move || {
        let (golden, against) = match (req.golden, req.case, req.run_id) {
            (Some(g), None, None) => (g, "inline".to_string()),
            (None, Some(case), None) => {
                let m = app2.manifest(req.manifest.as_deref())?;
                let snapshots = Snapshots::new(m.resolve(&m.project.snapshots));
                let golden = snapshots
                    .read(&case)
                    .map_err(|e| ApiError::from_core(&e).with_field("case"))?;
                match golden {
                    Some(g) => (g.value, format!("golden:{case}")),
                    None => {
                        return Err(ApiError::not_found(format!(
                            "there is no golden file for case {case:?} under {}",
                            snapshots.root().display()
                        ))
                        .with_field("case"))
                    }
                }
            }
            (None, Some(case), Some(run)) => {
                super::runs::overview(&app2, &run).map_err(|e| e.with_field("run_id"))?;
                let value = Archive::open(&app2.dirs.archive).output(&run, &case).map_err(|e| {
                    ApiError::not_found(format!("run {run} has no output for case {case:?}: {}", e.message()))
                        .with_field("case")
                })?;
                (value, format!("run:{run}/{case}"))
            }
            (None, None, Some(_)) => return Err(ApiError::invalid("case", "run_id needs a case (suite/name)")),
            (None, None, None) => {
                return Err(ApiError::invalid(
                    "golden",
                    "give golden, case, or run_id and case to compare against",
                ))
            }
            _ => {
                return Err(ApiError::invalid(
                    "golden",
                    "give only one of golden, case, or run_id and case to compare against",
                ))
            }
        };
        let d = diff::diff(&golden, &req.current, &options)?;
        let json = d.to_json();
        Ok(Json(CompareResult {
            equal: d.is_empty(),
            summary: d.summary(),
            patch: json.get("patch").cloned().unwrap_or(Value::Array(vec![])),
            changes: json.get("changes").cloned().unwrap_or(Value::Array(vec![])),
            html: d.render(Format::Html),
            against,
        }))
    })
    .await
}
