//! MBTiles 1.3 archives (SQLite): `metadata(name, value)` and `tiles(zoom_level, tile_column,
//! tile_row, tile_data)` with TMS rows (y counted from the south) and gzip-compressed vector tiles.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::compress::gzip;
use crate::coord::TileCoord;
use crate::pmtiles::{ArchiveInfo, TILE_TYPE_MVT};
use crate::TileError;

fn db(e: rusqlite::Error) -> TileError {
    TileError::Archive(format!("SQLite: {e}"))
}

/// TMS row of an XYZ tile.
pub fn tms_row(t: TileCoord) -> u32 {
    ((1u64 << t.z()) - 1 - u64::from(t.y())) as u32
}

/// Writes (replacing) an MBTiles file; returns the number of tiles stored (empty ones are skipped).
pub fn write_mbtiles(path: &Path, tiles: Vec<(TileCoord, Vec<u8>)>, info: &ArchiveInfo) -> Result<u64, TileError> {
    if path.exists() {
        std::fs::remove_file(path).map_err(|e| TileError::Io { path: path.to_owned(), reason: e.to_string() })?;
    }
    let mut conn = Connection::open(path).map_err(db)?;
    conn.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )
    .map_err(db)?;
    let tx = conn.transaction().map_err(db)?;
    let vector = info.tile_type == TILE_TYPE_MVT;
    let [w, s, e, n] = info.bounds;
    let mut meta: Vec<(&str, String)> = vec![
        ("name", info.metadata.get("name").and_then(|v| v.as_str()).unwrap_or("citytwin").to_owned()),
        ("format", if vector { "pbf" } else { "png" }.to_owned()),
        ("bounds", format!("{w},{s},{e},{n}")),
        ("center", format!("{},{},{}", info.center[0], info.center[1], info.center_zoom)),
        ("minzoom", info.minzoom.to_string()),
        ("maxzoom", info.maxzoom.to_string()),
        ("type", "baselayer".to_owned()),
    ];
    if let Some(a) = info.metadata.get("attribution").and_then(|v| v.as_str()) {
        meta.push(("attribution", a.to_owned()));
    }
    if let Some(layers) = info.metadata.get("vector_layers") {
        meta.push(("json", serde_json::json!({ "vector_layers": layers }).to_string()));
    }
    let mut count = 0;
    {
        let mut m = tx.prepare("INSERT INTO metadata (name, value) VALUES (?1, ?2)").map_err(db)?;
        for (k, v) in &meta {
            m.execute(params![k, v]).map_err(db)?;
        }
        let mut t = tx
            .prepare(
                "INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db)?;
        for (tile, data) in tiles.iter().filter(|(_, d)| !d.is_empty()) {
            let blob = if vector { gzip(data) } else { data.clone() };
            t.execute(params![tile.z(), tile.x(), tms_row(*tile), blob]).map_err(db)?;
            count += 1;
        }
    }
    tx.commit().map_err(db)?;
    Ok(count)
}

/// A stored tile's bytes as stored (gzip for vector tiles); `None` when absent.
pub fn read_mbtiles_tile(path: &Path, tile: TileCoord) -> Result<Option<Vec<u8>>, TileError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.query_row(
        "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
        params![tile.z(), tile.x(), tms_row(tile)],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)
}
