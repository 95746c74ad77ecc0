//! The PostGIS backend against the real server on 127.0.0.1:5432 (database `test`, user `postgres`,
//! PostGIS installed). Each test works in its own schema. Override with `CITYTWIN_TEST_POSTGRES`.

#![cfg(feature = "postgis")]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;

use geo::CoordsIter;
use geozero::mvt::{Message, Tile};
use sqlx::postgres::PgPool;
use twin_core::{Observation, Timestamp, Twin, TwinConfig};
use twin_layers::postgis::{self, PostgisLayerConfig, PostgisTileLayer, SnapshotStore, SnapshotWrite};
use twin_layers::Layer;

fn url() -> String {
    std::env::var("CITYTWIN_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A pool with a fresh schema of this test's name on the search path of a dedicated connection set.
async fn fresh(schema: &str) -> PgPool {
    let pool = postgis::connect(&url())
        .await
        .unwrap_or_else(|e| panic!("PostGIS test database at {} is required: {e}", url()));
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.unwrap();
    pool
}

fn osm(file: &str) -> Layer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/osm").join(file);
    Layer::from_geojson_file("l", &path).unwrap()
}

/// The XYZ tile containing a point, by the Web Mercator formulas (independent of our tile crate).
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[tokio::test]
async fn a_layer_round_trips_through_postgis() {
    let pool = fresh("t_layers_roundtrip").await;
    let roads = osm("danang_haichau_roads.geojson");
    let n = postgis::load_layer(&pool, "t_layers_roundtrip.roads", &roads).await.unwrap();
    assert_eq!(n as usize, roads.features.len());
    let back = postgis::read_layer(&pool, "roads", "t_layers_roundtrip.roads", "geom").await.unwrap();
    assert_eq!(back.features.len(), roads.features.len());
    let mut back = back.features;
    let mut orig = roads.features.clone();
    for fs in [&mut back, &mut orig] {
        fs.sort_by_cached_key(|f| format!("{:?}", f.properties.get("@id")));
    }
    for (a, b) in orig.iter().zip(&back) {
        // WKB carries the f64 coordinates bit for bit.
        assert!(a.geometry.coords_iter().eq(b.geometry.coords_iter()));
        assert_eq!(a.properties, b.properties);
    }
    // Loading again replaces the rows instead of adding to them.
    postgis::load_layer(&pool, "t_layers_roundtrip.roads", &roads).await.unwrap();
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM t_layers_roundtrip.roads").fetch_one(&pool).await.unwrap();
    assert_eq!(count as usize, roads.features.len());
}

#[tokio::test]
async fn st_asmvt_tiles_carry_every_feature_of_the_tile() {
    let pool = fresh("t_layers_mvt").await;
    let buildings = osm("danang_haichau_buildings.geojson");
    postgis::load_layer(&pool, "t_layers_mvt.buildings", &buildings).await.unwrap();
    sqlx::query(
        "CREATE VIEW t_layers_mvt.tall AS SELECT id, geom, properties->>'building' AS building, \
         (properties->>'@id')::bigint AS osm_id FROM t_layers_mvt.buildings",
    )
    .execute(&pool)
    .await
    .unwrap();
    let config = PostgisLayerConfig {
        name: "buildings".into(),
        table: "t_layers_mvt.tall".into(),
        geometry_column: "geom".into(),
        properties: vec!["building".into(), "osm_id".into()],
        ..Default::default()
    };
    let layer = PostgisTileLayer::new(&pool, config).await.unwrap();
    // The whole Hai Chau extract lies in one z12 tile, so that tile must hold every building.
    let (x, y) = tile_of(108.2045, 16.0461, 12);
    assert_eq!(tile_of(108.2245, 16.0654, 12), (x, y), "extract straddles tiles; pick another zoom");
    let bytes = layer.tile(&pool, 12, x, y).await.unwrap();
    let tile = Tile::decode(bytes.as_slice()).unwrap();
    assert_eq!(tile.layers.len(), 1);
    let l = &tile.layers[0];
    assert_eq!(l.name, "buildings");
    assert_eq!(l.extent, Some(4096));
    assert_eq!(l.features.len(), buildings.features.len());
    assert!(l.keys.contains(&"building".to_owned()) && l.keys.contains(&"osm_id".to_owned()));
    // Every OSM id of the source is in the tile.
    let id_key = l.keys.iter().position(|k| k == "osm_id").unwrap() as u32;
    let mut ids: Vec<i64> = l
        .features
        .iter()
        .filter_map(|f| {
            let v = f.tags.chunks(2).find(|kv| kv[0] == id_key)?[1];
            let v = &l.values[v as usize];
            v.int_value.or(v.sint_value).or(v.uint_value.map(|u| u as i64))
        })
        .collect();
    ids.sort_unstable();
    let mut want: Vec<i64> = buildings.features.iter().map(|f| f.properties["@id"].as_i64().unwrap()).collect();
    want.sort_unstable();
    assert_eq!(ids, want);
    // A tile far away (the Pacific) is empty, not an error.
    let (fx, fy) = tile_of(160.0, 0.0, 12);
    assert!(layer.tile(&pool, 12, fx, fy).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_table_name_is_refused_before_any_sql() {
    let pool = fresh("t_layers_names").await;
    let config = PostgisLayerConfig {
        name: "x".into(),
        table: "roads; DROP TABLE x".into(),
        geometry_column: "geom".into(),
        properties: vec![],
        ..Default::default()
    };
    let err = PostgisTileLayer::new(&pool, config).await.unwrap_err();
    assert!(matches!(err, postgis::PostgisError::Identifier(_)), "{err}");
    let missing = PostgisLayerConfig {
        name: "x".into(),
        table: "t_layers_names.nothing".into(),
        geometry_column: "geom".into(),
        properties: vec![],
        ..Default::default()
    };
    assert!(matches!(PostgisTileLayer::new(&pool, missing).await, Err(postgis::PostgisError::Sql(_))));
}

#[tokio::test]
async fn snapshots_keep_the_latest_state_of_each_entity() {
    let pool = fresh("t_layers_snap").await;
    let store = SnapshotStore::create(&pool, "t_layers_snap.entities").await.unwrap();
    let mut twin = Twin::new(TwinConfig::default());
    let t0 = Timestamp(1_795_420_800_000);
    twin.apply_batch(&[
        Observation::new(twin_core::EntityKind::Bus, "bus-1", t0).at(108.2, 16.05),
        Observation::new(twin_core::EntityKind::Vessel, "v-1", t0).at(108.25, 16.1),
    ]);
    let first: Vec<_> = twin.entities().cloned().collect();
    assert_eq!(store.write(&pool, &first).await.unwrap(), SnapshotWrite { written: 2, removed: 0 });
    twin.apply_batch(&[
        Observation::new(twin_core::EntityKind::Bus, "bus-1", Timestamp(t0.0 + 5_000)).at(108.21, 16.06)
    ]);
    let second: Vec<_> = twin.entities().cloned().collect();
    store.write(&pool, &second).await.unwrap();
    // Writing the older snapshot again changes nothing.
    assert_eq!(store.write(&pool, &first).await.unwrap(), SnapshotWrite { written: 0, removed: 0 });
    let (lon, lat, ms): (f64, f64, f64) = sqlx::query_as(
        "SELECT ST_X(geom), ST_Y(geom), (extract(epoch FROM last_seen) * 1000)::float8 FROM t_layers_snap.entities \
         WHERE external_id = 'bus-1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((lon, lat), (108.21, 16.06));
    assert_eq!(ms.round() as i64, t0.0 + 5_000);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM t_layers_snap.entities").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 2);

    // The vessel expires from the model: the next snapshot deletes its row and keeps the bus.
    let only_bus: Vec<_> = second.into_iter().filter(|e| e.external_id == "bus-1").collect();
    assert_eq!(store.write(&pool, &only_bus).await.unwrap(), SnapshotWrite { written: 0, removed: 1 });
    let left: Vec<String> =
        sqlx::query_scalar("SELECT external_id FROM t_layers_snap.entities").fetch_all(&pool).await.unwrap();
    assert_eq!(left, vec!["bus-1".to_owned()]);
    // An empty model empties the table.
    assert_eq!(store.write(&pool, &[]).await.unwrap(), SnapshotWrite { written: 0, removed: 1 });
}
