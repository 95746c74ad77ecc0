//! Feed decoders and connectors.
//!
//! Decoders are pure functions from bytes to values (no I/O, no async runtime), so they can be
//! tested on captures, fuzzed and benchmarked in isolation.

pub mod ais;
pub mod gpx;
pub mod gtfs;
pub mod gtfs_rt;
pub mod health;
pub mod mqtt;
pub mod observations;
pub mod osmand;
pub mod reports;
