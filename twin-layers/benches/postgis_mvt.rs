//! PostGIS `ST_AsMVT` on the same 100k points as the twin-tiles live-tile bench (same seeded
//! generator, bbox and attributes; the same tiles at z14, z12 and z10), to compare ms per tile.
//! Needs the `postgis` feature and the test database:
//! `cargo bench -p twin-layers --features postgis --bench postgis_mvt`
//! At z10 PostGIS encodes the raw points; our tiles aggregate them into H3 cells at that zoom.

#![allow(clippy::unwrap_used)] // a bench may unwrap

use std::time::Instant;

use twin_layers::postgis::{self, PostgisLayerConfig, PostgisTileLayer};

const ENTITIES: usize = 100_000;
const BBOX: [f64; 4] = [107.95, 15.90, 108.40, 16.25];
const RUNS: usize = 30;

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url =
        std::env::var("CITYTWIN_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let pool = postgis::connect(&url).await.unwrap();
    sqlx::query("DROP SCHEMA IF EXISTS bench_mvt CASCADE").execute(&pool).await.unwrap();
    sqlx::query("CREATE SCHEMA bench_mvt").execute(&pool).await.unwrap();
    sqlx::query(
        "CREATE TABLE bench_mvt.live (id bigint PRIMARY KEY, kind text, name text, agency text, status text, \
         speed float8, heading float8, geom geometry(Point, 4326))",
    )
    .execute(&pool)
    .await
    .unwrap();
    // The generator of twin-tiles/benches/tiles.rs, draw for draw.
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let kinds = ["bus", "vessel", "ambulance", "flood_sensor", "drone"];
    let (mut ids, mut ks, mut lons, mut lats, mut speeds, mut headings) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..ENTITIES {
        lons.push(BBOX[0] + next() * (BBOX[2] - BBOX[0]));
        lats.push(BBOX[1] + next() * (BBOX[3] - BBOX[1]));
        speeds.push(next() * 20.0);
        headings.push(next() * 359.0);
        ids.push(i as i64);
        ks.push(kinds[i % kinds.len()].to_owned());
    }
    sqlx::query(
        "INSERT INTO bench_mvt.live SELECT id, k, 'Unit ' || id, 'DN', 'active', sp, h, ST_SetSRID(ST_MakePoint(lo, la), 4326) \
         FROM UNNEST($1::int8[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[]) AS u(id, k, lo, la, sp, h)",
    )
    .bind(ids)
    .bind(ks)
    .bind(lons)
    .bind(lats)
    .bind(speeds)
    .bind(headings)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("CREATE INDEX ON bench_mvt.live USING gist (geom)").execute(&pool).await.unwrap();
    sqlx::query("ANALYZE bench_mvt.live").execute(&pool).await.unwrap();
    let config = PostgisLayerConfig {
        name: "live".into(),
        table: "bench_mvt.live".into(),
        geometry_column: "geom".into(),
        properties: ["id", "kind", "name", "agency", "status", "speed", "heading"].map(String::from).to_vec(),
        ..Default::default()
    };
    let layer = PostgisTileLayer::new(&pool, config).await.unwrap();
    for z in [14u8, 12, 10] {
        let (x, y) = tile_of(108.22, 16.06, z);
        let bytes = layer.tile(&pool, z, x, y).await.unwrap();
        let mut ms: Vec<f64> = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            std::hint::black_box(layer.tile(&pool, z, x, y).await.unwrap());
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        println!(
            "PostGIS ST_AsMVT z{z} tile {z}/{x}/{y}: {} bytes; mean {mean:.2} ms, median {:.2} ms, min {:.2} ms ({RUNS} runs)",
            bytes.len(),
            ms[ms.len() / 2],
            ms[0]
        );
    }
    sqlx::query("DROP SCHEMA bench_mvt CASCADE").execute(&pool).await.unwrap();
}
