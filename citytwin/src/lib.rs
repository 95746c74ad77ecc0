//! The `citytwin` server: the composition root. It holds HTTP (REST, OGC API, tiles, WebSocket,
//! SSE), the CLI and the config aggregate; the domain lives in the `twin-*` crates. `main.rs` is
//! only the CLI around [`serve`].

// `Problem` (the HTTP error body) is the error type of most handlers and helpers; it is built once per
// failed request, so boxing it would cost more than the larger `Result` it avoids.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod auth;
pub mod boot;
pub mod cli;
pub mod config;
pub mod decode_cli;
pub mod http_feeds;
pub mod http_metrics;
pub mod listener;
pub mod ogc;
pub mod params;
pub mod postgis_backend;
pub mod problem;
pub mod routes;
pub mod serve;
pub mod simulate_cli;
pub mod state;
pub mod tiles_cli;
pub mod users_cli;
#[cfg(feature = "cameras")]
pub mod vision_cli;
