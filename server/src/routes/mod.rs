//! HTTP handlers, one file per resource.

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

/// A body that could not be read: over the limit (413) or broken.
pub fn body_problem(e: &BytesRejection, limit: usize) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", format!("the body is larger than {limit} bytes"))
            .field("body")
    } else {
        Problem::new(StatusCode::BAD_REQUEST, "unreadable-body", e.body_text()).field("body")
    }
}
