//! Vector tiles of a PostGIS table or view, encoded by PostGIS itself (`ST_AsMVTGeom` clips and
//! quantises into the tile, `ST_AsMVT` writes the Mapbox Vector Tile 2.1 layer).

use sqlx::postgres::PgPool;
use sqlx::{Column, Executor, Statement, TypeInfo};

pub use crate::postgis_config::PostgisLayerConfig;

use super::{quote_ident, PostgisError};

/// MVT extent and clip buffer, the same values as our own tile encoder.
pub const EXTENT: i32 = 4096;
pub const BUFFER: i32 = 64;

/// A tile layer served from PostGIS. The SQL is built once from the (validated) config.
#[derive(Debug, Clone)]
pub struct PostgisTileLayer {
    pub config: PostgisLayerConfig,
    /// Attributes written into each feature with their TileJSON types (`Number`, `Boolean`,
    /// `String`), read from the row source's column types.
    pub fields: Vec<(String, String)>,
    sql: String,
}

impl PostgisTileLayer {
    /// Prepares the layer: checks the names and reads the geometry column's SRID, so the tile
    /// envelope is transformed once per tile and the GiST index on the column is used.
    pub async fn new(pool: &PgPool, config: PostgisLayerConfig) -> Result<Self, PostgisError> {
        config.validate().map_err(PostgisError::Config)?;
        let source = match config.sql.as_deref() {
            Some(sql) => format!("({}) AS t", sql.trim().trim_end_matches(';')),
            None => format!("{} AS t", quote_ident(&config.table)?),
        };
        let g = quote_ident(&config.geometry_column)?;
        let id = config.id_column.as_deref().map(quote_ident).transpose()?;
        // The id column is written as the feature id, so it is not repeated as an attribute.
        let mut cols = config
            .properties
            .iter()
            .filter(|c| config.id_column.as_ref() != Some(*c))
            .map(|c| quote_ident(c).map(|q| format!(", t.{q}")))
            .collect::<Result<String, _>>()?;
        let fields = if cols.is_empty() {
            Vec::new()
        } else {
            let probe_sql = format!("SELECT {} FROM {source} LIMIT 0", &cols[2..]);
            let probe = pool.prepare(&probe_sql).await?;
            probe
                .columns()
                .iter()
                .map(|c| (c.name().to_owned(), tilejson_type(c.type_info().name()).to_owned()))
                .collect()
        };
        let id_arg = match &id {
            Some(q) => {
                cols.push_str(&format!(", t.{q}"));
                format!(", {}", sql_string(config.id_column.as_deref().unwrap_or_default()))
            }
            None => String::new(),
        };
        let srid: Option<i32> =
            sqlx::query_scalar(&format!("SELECT ST_SRID(t.{g}) FROM {source} WHERE t.{g} IS NOT NULL LIMIT 1"))
                .fetch_optional(pool)
                .await?;
        // An empty table has no SRID to read; 4326 is what load_layer writes.
        let srid = srid.filter(|s| *s > 0).unwrap_or(4326);
        let sql = format!(
            "WITH env AS (SELECT ST_TileEnvelope($1, $2, $3) AS e), \
             rows AS (SELECT ST_AsMVTGeom(ST_Transform(t.{g}, 3857), env.e, {EXTENT}, {BUFFER}, true) AS mvt_geom{cols} \
               FROM {source}, env \
               WHERE t.{g} && ST_Transform(ST_Expand(env.e, (ST_XMax(env.e) - ST_XMin(env.e)) * {BUFFER}.0 / {EXTENT}), {srid})) \
             SELECT COALESCE(ST_AsMVT(rows.*, $4, {EXTENT}, 'mvt_geom'{id_arg}), ''::bytea) FROM rows WHERE mvt_geom IS NOT NULL"
        );
        Ok(Self { config, fields, sql })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The tile `z/x/y` as MVT bytes (empty when no feature touches it). Coordinates must be in
    /// range; PostGIS rejects others with an error.
    /// Zooms outside the layer's `minzoom..=maxzoom` are empty without a query.
    pub async fn tile(&self, pool: &PgPool, z: u8, x: u32, y: u32) -> Result<Vec<u8>, PostgisError> {
        if z < self.config.minzoom || z > self.config.maxzoom {
            return Ok(Vec::new());
        }
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

/// A SQL string literal (for a column name already checked by [`quote_ident`]).
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// TileJSON field type of a PostgreSQL column type.
fn tilejson_type(pg: &str) -> &'static str {
    match pg {
        "INT2" | "INT4" | "INT8" | "FLOAT4" | "FLOAT8" | "NUMERIC" | "OID" => "Number",
        "BOOL" => "Boolean",
        _ => "String",
    }
}
