//! Request counting for `/metrics`: by method, matched route (never the raw path, so the label set
//! stays bounded) and status.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use twin_runtime::metrics::Metrics;

/// Middleware counting requests by matched route (not raw path, to bound the label set).
pub async fn track_http(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    // Both clones are reference counts or inline values: nothing is allocated per request.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    tracing::debug!(
        method = method.as_str(),
        route,
        status,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    metrics.count_http(method.as_str(), route, status);
    res
}
