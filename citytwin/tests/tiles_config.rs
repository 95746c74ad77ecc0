//! `[tiles]` max_zoom and cache_mb: defaults, bad values, and their effect on served tiles.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::Path;

use citytwin::config::LoadedConfig;
use common::*;
use twin_core::EntityKind;
use twin_tiles::TileCoord;

const CITY: &str = "[city]\nname = \"Test\"\nbbox = [107.9, 15.9, 108.35, 16.2]\n";

fn parse(extra: &str) -> Result<LoadedConfig, String> {
    LoadedConfig::parse(&format!("{CITY}{extra}"), Path::new("t.toml"), Path::new(".")).map_err(|e| e.to_string())
}

#[test]
fn tiles_section_defaults_and_bad_values() {
    let c = parse("").unwrap();
    assert_eq!((c.raw.tiles.max_zoom, c.raw.tiles.cache_mb, c.raw.tiles.dem.is_none()), (18, 256, true));
    let c = parse("[tiles]\nmax_zoom = 20\ncache_mb = 32\n").unwrap();
    assert_eq!((c.raw.tiles.max_zoom, c.raw.tiles.cache_mb), (20, 32));
    let err = parse("[tiles]\nmax_zoom = 30\n").unwrap_err();
    assert!(err.contains("max_zoom 30 is above 24"), "{err}");
    assert!(err.contains("line 5"), "the message names the line: {err}");
    assert!(parse("[tiles]\ncache_mb = -1\n").is_err());
    assert!(parse("[tiles]\nmaxzoom = 12\n").unwrap_err().contains("unknown field"));
}

#[tokio::test]
async fn max_zoom_bounds_the_served_tiles_and_tilejson() {
    let s = TestServer::start();
    s.submit(vec![obs(EntityKind::Bus, "b1", T0, 108.2208, 16.0678)]).await;
    let tile = |z: u8| {
        let t = TileCoord::containing(108.2208, 16.0678, z).unwrap();
        format!("/tiles/bus/{z}/{}/{}.mvt", t.x(), t.y())
    };
    // Default: up to 18.
    assert_eq!(s.get(&tile(18)).await.0, 200);
    assert_eq!(s.get(&tile(19)).await.0, 400);
    let (_, _, doc) = s.get("/tiles/live.json").await;
    assert_eq!(doc["maxzoom"], 18);

    let section: twin_runtime::tile_service::TilesSection = toml::from_str("max_zoom = 16\ncache_mb = 1").unwrap();
    s.state.tiles.configure(&section, Path::new(".")).unwrap();
    assert_eq!(s.state.tiles.max_zoom(), 16);
    assert_eq!(s.get(&tile(16)).await.0, 200);
    let (status, ct, body) = s.get(&tile(17)).await;
    assert_eq!((status.as_u16(), ct.as_str()), (400, "application/problem+json"));
    assert!(body["detail"].as_str().unwrap().contains("zoom 17"), "{body}");
    let (_, _, doc) = s.get("/tiles/live.json").await;
    assert_eq!(doc["maxzoom"], 16);
}

#[tokio::test]
async fn a_zero_cache_serves_every_tile_fresh() {
    let s = TestServer::start();
    s.submit(vec![obs(EntityKind::Bus, "b1", T0, 108.2208, 16.0678)]).await;
    let section: twin_runtime::tile_service::TilesSection = toml::from_str("cache_mb = 0").unwrap();
    s.state.tiles.configure(&section, Path::new(".")).unwrap();
    let t = TileCoord::containing(108.2208, 16.0678, 14).unwrap();
    let uri = format!("/tiles/bus/14/{}/{}.mvt", t.x(), t.y());
    for _ in 0..3 {
        assert_eq!(s.get(&uri).await.0, 200);
    }
    assert_eq!(s.state.tiles.cache_stats().entries, 0);
}
