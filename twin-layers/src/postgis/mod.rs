//! PostGIS backend (feature `postgis`): reference layers loaded into and read from PostGIS tables,
//! vector tiles of any PostGIS table or view with `ST_AsMVT` ([`tiles`]), and entity snapshots
//! ([`snapshots`]).
//!
//! Everything here is async on sqlx + Tokio; the feature is the only thing that brings Tokio into
//! twin-layers, and twin-core never sees it. Pools must be created inside a Tokio runtime.

pub mod snapshots;
pub mod tiles;

use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;

use crate::{Feature, Layer};

pub use snapshots::{spawn_snapshots, SnapshotStore, SnapshotWrite};
/// The pool type of [`connect`], for callers that do not depend on sqlx themselves.
pub use sqlx::postgres::PgPool as Pool;
pub use tiles::{PostgisLayerConfig, PostgisTileLayer};

#[derive(Debug, thiserror::Error)]
pub enum PostgisError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("{0}")]
    Config(#[from] crate::postgis_config::PostgisConfigError),
    #[error("invalid SQL identifier {0:?}")]
    Identifier(String),
    #[error("geometry of feature {index}: {reason}")]
    Geometry { index: usize, reason: String },
    #[error("PostGIS is not installed in this database (CREATE EXTENSION postgis): {0}")]
    MissingExtension(String),
}

/// Rows per INSERT when loading a layer: large enough to amortise round trips, small enough to keep
/// each statement's arrays modest.
const BATCH: usize = 2_000;

/// Connects a small pool (must be called inside a Tokio runtime) and checks that PostGIS is there,
/// so a missing extension fails here with a clear message rather than on the first query.
pub async fn connect(url: &str) -> Result<PgPool, PostgisError> {
    let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
    let version: Result<String, _> = sqlx::query_scalar("SELECT postgis_lib_version()").fetch_one(&pool).await;
    match version {
        Ok(v) => {
            tracing::debug!(postgis = %v, "connected to PostGIS");
            Ok(pool)
        }
        Err(e) => Err(PostgisError::MissingExtension(e.to_string())),
    }
}

/// Quotes a possibly schema-qualified name (`schema.table`) as SQL identifiers. Names come from the
/// city config, so anything but plain identifier parts is refused rather than escaped.
pub fn quote_ident(name: &str) -> Result<String, PostgisError> {
    let parts: Vec<&str> = name.split('.').collect();
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !p.starts_with(|c: char| c.is_ascii_digit())
    };
    if parts.len() > 2 || !parts.iter().all(|p| ok(p)) {
        return Err(PostgisError::Identifier(name.to_owned()));
    }
    Ok(parts.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join("."))
}

/// Replaces the contents of `table` (created if absent: `id bigint`, `geom geometry(Geometry,4326)`,
/// `properties jsonb`, with a GiST index) with the features of `layer`, in batched INSERTs of WKB.
/// Returns the number of rows written.
pub async fn load_layer(pool: &PgPool, table: &str, layer: &Layer) -> Result<u64, PostgisError> {
    let t = quote_ident(table)?;
    let index = quote_ident(&format!("{}_geom_gist", table.rsplit('.').next().unwrap_or(table)))?;
    let mut tx = pool.begin().await?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (id bigint PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL, \
         properties jsonb NOT NULL DEFAULT '{{}}')"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {index} ON {t} USING gist (geom)")).execute(&mut *tx).await?;
    sqlx::query(&format!("DELETE FROM {t}")).execute(&mut *tx).await?;
    let mut written = 0;
    for (n, chunk) in layer.features.chunks(BATCH).enumerate() {
        let mut ids = Vec::with_capacity(chunk.len());
        let mut wkbs = Vec::with_capacity(chunk.len());
        let mut props = Vec::with_capacity(chunk.len());
        for (i, f) in chunk.iter().enumerate() {
            let index = n * BATCH + i;
            let wkb = f
                .geometry
                .to_wkb(CoordDimensions::xy())
                .map_err(|e| PostgisError::Geometry { index, reason: e.to_string() })?;
            ids.push(index as i64);
            wkbs.push(wkb);
            props.push(serde_json::Value::Object(f.properties.clone()).to_string());
        }
        let r = sqlx::query(&format!(
            "INSERT INTO {t} (id, geom, properties) SELECT id, ST_SetSRID(ST_GeomFromWKB(g), 4326), p::jsonb \
             FROM UNNEST($1::int8[], $2::bytea[], $3::text[]) AS u(id, g, p)"
        ))
        .bind(ids)
        .bind(wkbs)
        .bind(props)
        .execute(&mut *tx)
        .await?;
        written += r.rows_affected();
    }
    tx.commit().await?;
    // Fresh statistics so the planner uses the index right away.
    sqlx::query(&format!("ANALYZE {t}")).execute(pool).await?;
    Ok(written)
}

/// Reads any PostGIS table or view into a layer: geometries from `geometry_column` (transformed to
/// WGS 84), every other column as a property.
pub async fn read_layer(pool: &PgPool, name: &str, table: &str, geometry_column: &str) -> Result<Layer, PostgisError> {
    let t = quote_ident(table)?;
    let g = quote_ident(geometry_column)?;
    let sql = format!(
        "SELECT ST_AsBinary(ST_Transform(t.{g}, 4326)) AS wkb, (to_jsonb(t) - $1)::text AS props \
         FROM {t} t WHERE t.{g} IS NOT NULL"
    );
    let rows = sqlx::query(&sql).bind(geometry_column).fetch_all(pool).await?;
    let mut features = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let wkb: Vec<u8> = row.try_get("wkb")?;
        let props: String = row.try_get("props")?;
        let geometry = Wkb(wkb).to_geo().map_err(|e| PostgisError::Geometry { index, reason: e.to_string() })?;
        let properties = match serde_json::from_str(&props) {
            Ok(serde_json::Value::Object(m)) => flatten_loaded(m),
            _ => serde_json::Map::new(),
        };
        features.push(Feature { geometry, properties });
    }
    Ok(Layer { name: name.to_owned(), features })
}

/// A table written by [`load_layer`] keeps the properties in a `properties` jsonb column: lift them
/// back to the top level so a round trip gives the original feature.
fn flatten_loaded(mut m: serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
    if let Some(serde_json::Value::Object(inner)) = m.remove("properties") {
        m.remove("id");
        m.extend(inner);
    }
    m
}
