//! Errors of the tile crate.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("zoom {z} is outside 0..={max}")]
    ZoomOutOfRange { z: u8, max: u8 },
    #[error("tile {z}/{x}/{y} does not exist: x and y must be below 2^{z}")]
    TileOutOfRange { z: u8, x: u32, y: u32 },
    #[error("({lon}, {lat}) is not a position")]
    InvalidPosition { lon: f64, lat: f64 },
    #[error("unknown tile layer {0:?}")]
    UnknownLayer(String),
    #[error("unknown style {0:?}")]
    UnknownStyle(String),
    #[error("cannot read {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{path} is not a DEM this reader supports: {reason}")]
    Dem { path: PathBuf, reason: String },
    #[error("cannot encode a PNG: {0}")]
    Png(String),
    #[error("archive: {0}")]
    Archive(String),
    #[error("H3: {0}")]
    H3(String),
}
