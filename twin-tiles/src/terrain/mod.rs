//! Terrain: a DEM read from a GeoTIFF without GDAL, sampled bilinearly into Terrarium-encoded PNG
//! tiles (`elevation = R×256 + G + B/256 − 32768`) that MapLibre's `raster-dem` source reads.

mod dem;
mod terrarium;

pub use dem::Dem;
pub use terrarium::{decode_terrarium, encode_terrarium, terrain_png, TERRAIN_TILE_SIZE};
