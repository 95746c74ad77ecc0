//! HTTP ingest routes are feeds too: counted per route in the feed-health registry and rate limited.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use twin_feeds::feeds::REPORTS_FEED;
use twin_feeds::sink::now_ms;
use twin_feeds::Feeds;

use crate::problem::Problem;

const REPORTS_ROUTE: &str = "/api/reports";

/// HTTP ingest routes are feeds too: counted per route and rate limited (429 + Retry-After).
/// Citizen reports count as the feed [`REPORTS_FEED`].
pub async fn http_feed_layer(State(feeds): State<Arc<Feeds>>, req: Request, next: Next) -> Response {
    // The matched route, not the raw path: unknown paths must not grow the feed table. Decided
    // before anything is allocated: tile and API reads pass straight through.
    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let is_report = route == Some(REPORTS_ROUTE) && req.method() == axum::http::Method::POST;
    let Some(route) = route.filter(|r| r.starts_with("/ingest/") || is_report).map(str::to_owned) else {
        return next.run(req).await;
    };
    // Citizen reports (app, web, hotline operators) are a feed like the trackers.
    let (source, protocol) =
        if is_report { (REPORTS_FEED.to_owned(), "http-multipart") } else { (format!("http:{route}"), "http") };
    let now = now_ms();
    feeds.registry.register(&source, protocol, now);
    feeds.registry.received(&source, now);
    if let Err(wait_ms) = feeds.admit_http(&source, now) {
        feeds.registry.throttled(&source);
        feeds.registry.rejected(&source, "rate_limited", 1);
        let secs = wait_ms.div_ceil(1000).clamp(1, 3600);
        let problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("{source} is over its rate limit; retry in {secs} s"),
        );
        let mut res = problem.into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let res = next.run(req).await;
    let status = res.status();
    if status.is_success() {
        feeds.registry.accepted(&source, 1);
    } else {
        feeds.registry.rejected(&source, &format!("http_{}", status.as_u16()), 1);
    }
    res
}
