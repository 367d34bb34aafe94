//! Every refusal of the API as one JSON shape, `{"error": {"status", "kind", "message", "field"?, ...}}`, with
//! the HTTP status that fits it: a client can branch on `kind` and show `message`, which names what was wrong,
//! where (the JSON path in `field`) and what was expected.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use toron_core::ErrorKind;

/// An API error: a status, a machine-readable kind and a message for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// `invalid_request`, `not_found`, `unauthorized`, `forbidden`, `too_large`, `rate_limited`, `conflict`,
    /// or the core's error kind (`manifest`, `snapshot`, `warroom`...).
    pub kind: String,
    /// What was wrong, where, and what was expected.
    pub message: String,
    /// The request field (a JSON path such as `suites[1]`), when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The file the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its line (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Its column (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Seconds to wait before retrying (429).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

impl ApiError {
    /// An error with a status and kind.
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: status.as_u16(),
            kind: kind.to_string(),
            message: message.into(),
            field: None,
            file: None,
            line: None,
            column: None,
            retry_after: None,
        }
    }

    /// 422: the request is well-formed HTTP but its content is not what the endpoint expects.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message).with_field(field)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500: a fault of the server, never of the request.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Name the field to blame.
    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// A core error: bad arguments and bad documents are the request's fault (422); files that cannot be read
    /// or written, runs that cannot start, are the server's (500).
    pub fn from_core(e: &toron_core::Error) -> ApiError {
        let status = match e.kind() {
            ErrorKind::Io | ErrorKind::Run | ErrorKind::Archive | ErrorKind::Sim | ErrorKind::Cancelled => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let kind = if status == StatusCode::UNPROCESSABLE_ENTITY && e.kind() == ErrorKind::InvalidArgument {
            "invalid_request"
        } else {
            e.kind().name()
        };
        ApiError {
            status: status.as_u16(),
            kind: kind.to_string(),
            message: e.message().to_string(),
            field: e.field().map(str::to_string).or_else(|| e.path().map(str::to_string)),
            file: e.file().map(|f| f.display().to_string()),
            line: e.line(),
            column: e.column(),
            retry_after: None,
        }
    }
}

impl From<toron_core::Error> for ApiError {
    fn from(e: toron_core::Error) -> ApiError {
        ApiError::from_core(&e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} {}: field {field}: {}", self.status, self.kind, self.message),
            None => write!(f, "{} {}: {}", self.status, self.kind, self.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let mut response = (status, axum::Json(ErrorBody { error: self })).into_response();
        let headers = response.headers_mut();
        if unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"toron\""),
            );
        }
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
