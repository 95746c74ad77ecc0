//! The HTTP API as a reviewed document: `/openapi.json` is compared with the committed snapshot, so
//! every change to a route, a parameter or a schema shows up as a diff in review. After an intended
//! change: `INSTA_UPDATE=always cargo test -p citytwin --test openapi`, then regenerate the viewer's
//! types with `npm run --prefix web-viewer api-types`.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use axum::http::StatusCode;
use common::TestServer;

#[tokio::test]
async fn openapi_json_matches_the_reviewed_snapshot() {
    let s = TestServer::start();
    let (status, ct, doc) = s.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"), "{ct}");
    // The build's own version is not part of the contract.
    let mut doc = doc;
    doc["info"]["version"] = serde_json::json!("(any)");
    insta::assert_snapshot!("openapi", serde_json::to_string_pretty(&doc).unwrap());
}
