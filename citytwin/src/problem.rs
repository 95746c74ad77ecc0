//! RFC 9457 problem details: the one error type every handler returns.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use twin_runtime::SubmitError;
use utoipa::ToSchema;

/// One refused item of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectedItem {
    /// Position of the item in the batch (0-based).
    pub index: usize,
    /// 1-based line of an NDJSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub error: String,
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The offending field or query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// 1-based line of an NDJSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Index of the offending item of a JSON array body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Byte offset in the body where parsing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Items of the batch that were refused (422 on ingest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Vec<RejectedItem>>,
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// The `WWW-Authenticate` challenge of a 401.
    #[serde(skip)]
    pub www_authenticate: Option<String>,
}

/// The one mapping of a refused submission: 503 with Retry-After, 1 s for a full queue (it drains
/// in milliseconds), 5 s when the writer stopped (a restart or an operator is needed), 30 s when
/// the disk is full (ingest resumes by itself once space returns); 413 for a batch too large for
/// one log record (split it).
impl From<SubmitError> for Problem {
    fn from(e: SubmitError) -> Self {
        let (slug, detail, retry) = match e {
            SubmitError::QueueFull => ("queue-full", "the ingest queue is full; retry shortly".to_owned(), 1),
            SubmitError::Unavailable(reason) => ("ingest-unavailable", reason, 5),
            SubmitError::StorageFull(reason) => ("storage-full", reason, 30),
            e @ SubmitError::TooLarge { .. } => {
                return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "batch-too-large", e.to_string()).field("body");
            }
            SubmitError::Invalid(e) => {
                return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-record", e.to_string());
            }
        };
        let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, slug, detail);
        p.retry_after = Some(retry);
        p
    }
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("https://citytwin.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            field: None,
            line: None,
            index: None,
            offset: None,
            rejected: None,
            retry_after: None,
            www_authenticate: None,
        }
    }

    /// 400 for a bad query or path parameter.
    pub fn bad_param(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-parameter", detail).field(field)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(v) = self.www_authenticate.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

/// Unknown route.
pub async fn not_found_fallback(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("no route for {}", uri.path())).instance(uri.path().to_owned())
}

/// Known route, wrong method.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
    .instance(uri.path().to_owned())
}
