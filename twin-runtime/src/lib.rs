//! The CityTwin runtime: the live server core without HTTP.
//!
//! [`boot::start`] recovers the model from the durable log and starts the single [`writer`]; every
//! feed submits through its [`writer::IngestHandle`]. After each commit the [`live`] hub fans the
//! changes out to sessions and commit observers: the [`tile_service`] (dirty tiles, tile versions)
//! and the [`series`] store. [`clock`] is the one place that reads the wall clock; [`geojson`] turns
//! entities and alerts into the JSON every channel speaks.

pub mod boot;
pub mod clock;
pub mod geojson;
pub mod live;
pub mod metrics;
pub mod series;
pub mod tile_service;
pub mod tile_ws;
pub mod writer;

pub use boot::{start, Core, Running, RuntimeOptions};
pub use writer::{Accepted, IngestHandle, SubmitError, WriterConfig};
