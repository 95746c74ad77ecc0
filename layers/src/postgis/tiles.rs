//! Vector tiles of a PostGIS table or view, encoded by PostGIS itself (`ST_AsMVTGeom` clips and
//! quantises into the tile, `ST_AsMVT` writes the Mapbox Vector Tile 2.1 layer).

use serde::Deserialize;
use sqlx::postgres::PgPool;

use super::{quote_ident, PostgisError};

/// One `[[postgis_layers]]` entry of the city config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgisLayerConfig {
    /// Tile layer name (also the MVT layer name inside each tile).
    pub name: String,
    /// Table or view, optionally `schema.table`.
    pub table: String,
    #[serde(default = "default_geometry_column")]
    pub geometry_column: String,
    /// Columns written as feature attributes.
    #[serde(default)]
    pub properties: Vec<String>,
}

fn default_geometry_column() -> String {
    "geom".to_owned()
}

/// MVT extent and clip buffer, the same values as our own tile encoder.
pub const EXTENT: i32 = 4096;
pub const BUFFER: i32 = 64;

/// A tile layer served from PostGIS. The SQL is built once from the (validated) config.
#[derive(Debug, Clone)]
pub struct PostgisTileLayer {
    pub config: PostgisLayerConfig,
    sql: String,
}

impl PostgisTileLayer {
    /// Prepares the layer: checks the names and reads the geometry column's SRID, so the tile
    /// envelope is transformed once per tile and the GiST index on the column is used.
    pub async fn new(pool: &PgPool, config: PostgisLayerConfig) -> Result<Self, PostgisError> {
        let t = quote_ident(&config.table)?;
        let g = quote_ident(&config.geometry_column)?;
        let cols = config
            .properties
            .iter()
            .map(|c| quote_ident(c).map(|q| format!(", t.{q}")))
            .collect::<Result<String, _>>()?;
        let srid: Option<i32> =
            sqlx::query_scalar(&format!("SELECT ST_SRID({g}) FROM {t} WHERE {g} IS NOT NULL LIMIT 1"))
                .fetch_optional(pool)
                .await?;
        // An empty table has no SRID to read; 4326 is what load_layer writes.
        let srid = srid.filter(|s| *s > 0).unwrap_or(4326);
        let sql = format!(
            "WITH env AS (SELECT ST_TileEnvelope($1, $2, $3) AS e), \
             rows AS (SELECT ST_AsMVTGeom(ST_Transform(t.{g}, 3857), env.e, {EXTENT}, {BUFFER}, true) AS mvt_geom{cols} \
               FROM {t} t, env \
               WHERE t.{g} && ST_Transform(ST_Expand(env.e, (ST_XMax(env.e) - ST_XMin(env.e)) * {BUFFER}.0 / {EXTENT}), {srid})) \
             SELECT COALESCE(ST_AsMVT(rows.*, $4, {EXTENT}, 'mvt_geom'), ''::bytea) FROM rows WHERE mvt_geom IS NOT NULL"
        );
        Ok(Self { config, sql })
    }

    /// The tile `z/x/y` as MVT bytes (empty when no feature touches it). Coordinates must be in
    /// range; PostGIS rejects others with an error.
    pub async fn tile(&self, pool: &PgPool, z: u8, x: u32, y: u32) -> Result<Vec<u8>, PostgisError> {
        let bytes: Vec<u8> = sqlx::query_scalar(&self.sql)
            .bind(i32::from(z))
            .bind(i64::from(x) as i32)
            .bind(i64::from(y) as i32)
            .bind(&self.config.name)
            .fetch_one(pool)
            .await?;
        tracing::trace!(layer = %self.config.name, z, x, y, bytes = bytes.len(), "PostGIS tile");
        Ok(bytes)
    }
}
