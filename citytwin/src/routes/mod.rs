//! HTTP handlers, one file per resource.

pub mod audit;
#[cfg(feature = "cameras")]
pub mod cameras;
pub mod docs;
pub mod entities;
pub mod feeds;
pub mod fonts;
pub mod history;
pub mod ingest;
pub mod layers;
pub mod live;
pub mod ogc;
pub mod ops;
pub mod osmand;
pub mod reports;
pub mod scenarios;
pub mod tiles;
pub mod viewer;

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::problem::Problem;

/// Runs a reader's heavy part (a big copy, a polygon or CQL2 filter, a large serialisation) on the
/// blocking pool, so the async workers keep serving while it runs. The closure takes the model's
/// read lock itself, only to copy what it needs.
pub async fn off_workers<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "reader task failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the query failed")
    })
}

/// A JSON body serialised off the async workers (documents of up to a million features).
pub async fn json_off_workers(
    content_type: &'static str,
    f: impl FnOnce() -> serde_json::Value + Send + 'static,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let bytes = off_workers(move || serde_json::to_vec(&f())).await?.map_err(|e| {
        tracing::error!(error = %e, "serialising a response failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the response could not be written")
    })?;
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// A body that could not be read: over the limit (413) or broken.
pub fn body_problem(e: &BytesRejection, limit: usize) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", format!("the body is larger than {limit} bytes"))
            .field("body")
    } else {
        Problem::new(StatusCode::BAD_REQUEST, "unreadable-body", e.body_text()).field("body")
    }
}
