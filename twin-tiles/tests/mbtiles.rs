//! MBTiles written by us, read back with plain SQL against the 1.3 schema.

#![allow(clippy::unwrap_used)] // tests may unwrap

use rusqlite::Connection;
use twin_tiles::compress::gunzip;
use twin_tiles::mbtiles::{read_mbtiles_tile, write_mbtiles};
use twin_tiles::pmtiles::{ArchiveInfo, TILE_TYPE_MVT};
use twin_tiles::TileCoord;

#[test]
fn tiles_and_metadata_follow_the_schema_with_tms_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.mbtiles");
    let a = TileCoord::new(14, 13_117, 7_568).unwrap();
    let b = TileCoord::new(2, 3, 0).unwrap();
    let tiles = vec![(a, b"tile a".to_vec()), (b, b"tile b".to_vec()), (TileCoord::new(1, 0, 0).unwrap(), vec![])];
    let info = ArchiveInfo {
        tile_type: TILE_TYPE_MVT,
        minzoom: 1,
        maxzoom: 14,
        bounds: [108.1, 16.0, 108.3, 16.1],
        center: [108.2, 16.05],
        center_zoom: 12,
        metadata: serde_json::json!({"name": "Đà Nẵng", "attribution": "© OpenStreetMap contributors",
            "vector_layers": [{"id": "roads", "fields": {"name": "String"}}]}),
    };
    assert_eq!(write_mbtiles(&path, tiles, &info).unwrap(), 2);
    let conn = Connection::open(&path).unwrap();
    let meta = |k: &str| -> String {
        conn.query_row("SELECT value FROM metadata WHERE name = ?1", [k], |r| r.get(0)).unwrap()
    };
    assert_eq!(meta("format"), "pbf");
    assert_eq!(meta("name"), "Đà Nẵng");
    assert_eq!(meta("bounds"), "108.1,16,108.3,16.1");
    assert_eq!((meta("minzoom"), meta("maxzoom")), ("1".to_owned(), "14".to_owned()));
    let json: serde_json::Value = serde_json::from_str(&meta("json")).unwrap();
    assert_eq!(json["vector_layers"][0]["id"], "roads");
    // TMS: row 0 is the southern edge, so XYZ y=0 at zoom 2 is row 3.
    let blob: Vec<u8> = conn
        .query_row("SELECT tile_data FROM tiles WHERE zoom_level = 2 AND tile_column = 3 AND tile_row = 3", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(gunzip(&blob).unwrap(), b"tile b");
    assert_eq!(gunzip(&read_mbtiles_tile(&path, a).unwrap().unwrap()).unwrap(), b"tile a");
    let n: i64 = conn.query_row("SELECT count(*) FROM tiles", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
}
