//! CityTwin tiles: XYZ tile math, a hand-written Mapbox Vector Tile 2.1 encoder, live entity layers
//! (points per kind, H3 hexagons at low zoom), reference layers, a versioned tile cache with
//! dirty-tile invalidation, TileJSON and MapLibre styles, Terrarium terrain tiles from a GeoTIFF DEM,
//! and PMTiles archives.

pub mod cache;
pub mod compress;
pub mod coord;
pub mod dirty;
mod error;
pub mod export;
pub mod fonts;
pub mod layer;
pub mod live;
pub mod mbtiles;
pub mod mvt;
pub mod raster;
pub(crate) use mvt::wire as mvt_wire;
pub mod pmtiles;
pub mod reference;
pub mod style;
pub mod terrain;
pub mod tilejson;

pub use cache::TileCache;
pub use coord::TileCoord;
pub use dirty::DirtyTracker;
pub use error::TileError;
pub use layer::{TileLayer, TileRenderer};
