//! The `citytwin` server: the city model over HTTP (REST, GeoJSON), WebSocket and SSE, with the
//! durable ingest writer. `main.rs` is only the CLI around [`boot::start`] and [`app::app`].

// `Problem` (the HTTP error body) is the error type of most handlers and helpers; it is built once per
// failed request, so boxing it would cost more than the larger `Result` it avoids.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod boot;
pub mod broker;
pub mod cameras;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod decode_cli;
pub mod demo;
pub mod feeds;
pub mod fonts;
pub mod geojson;
pub mod ingest_parse;
pub mod live;
pub mod metrics;
pub mod ogc;
pub mod params;
pub mod postgis_backend;
pub mod problem;
pub mod report_store;
pub mod routes;
pub mod scenario_jobs;
pub mod simulate_cli;
pub mod state;
pub mod tile_service;
pub mod tile_ws;
pub mod tiles_cli;
pub mod vision_cli;
pub mod writer;
