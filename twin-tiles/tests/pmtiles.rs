//! PMTiles archives written, then read back with our reader and checked field by field against the
//! v3 specification's byte layout.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::PathBuf;

use twin_layers::{LayerPaths, ReferenceLayers};
use twin_tiles::export::{archive_info, covering_tiles, export_tile, ExportOptions};
use twin_tiles::pmtiles::{tile_id, write_pmtiles, ArchiveInfo, PmtilesReader, HEADER_LEN, ROOT_MAX};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::{TileCoord, TileRenderer};

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn exported_reference_layers_read_back_and_follow_the_spec_layout() {
    let paths = LayerPaths {
        roads: Some("osm/danang_haichau_roads.geojson".into()),
        buildings: Some("osm/danang_haichau_buildings.geojson".into()),
        ..Default::default()
    };
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let renderer = TileRenderer::new(ReferenceIndex::build(&ReferenceLayers::load(&paths, &data).unwrap()));
    let opts = ExportOptions { layers: vec![], minzoom: 10, maxzoom: 15, bounds: [108.20, 16.04, 108.24, 16.08] };
    let tiles: Vec<(TileCoord, Vec<u8>)> =
        covering_tiles(&opts).unwrap().into_iter().map(|t| (t, export_tile(&renderer, &opts, t))).collect();
    let non_empty = tiles.iter().filter(|(_, d)| !d.is_empty()).count();
    assert!(non_empty > 10);
    let info = archive_info(&renderer, &opts, "Hải Châu", "© OpenStreetMap contributors");
    let mut buf = Vec::new();
    let stats = write_pmtiles(&mut buf, tiles.clone(), &info).unwrap();
    assert_eq!(stats.addressed_tiles as usize, non_empty);

    // Raw header bytes, by the spec's offsets.
    assert_eq!(&buf[..7], b"PMTiles");
    assert_eq!(buf[7], 3);
    let (root_off, root_len) = (le64(&buf, 8), le64(&buf, 16));
    let (meta_off, meta_len) = (le64(&buf, 24), le64(&buf, 32));
    let (leaf_off, leaf_len) = (le64(&buf, 40), le64(&buf, 48));
    let (data_off, data_len) = (le64(&buf, 56), le64(&buf, 64));
    assert_eq!(root_off, HEADER_LEN as u64);
    assert!(root_off + root_len <= ROOT_MAX as u64);
    assert_eq!(meta_off, root_off + root_len);
    assert_eq!(leaf_off, meta_off + meta_len);
    assert_eq!(data_off, leaf_off + leaf_len);
    assert_eq!(data_off + data_len, buf.len() as u64);
    assert_eq!(le64(&buf, 72), non_empty as u64);
    assert_eq!((buf[96], buf[97], buf[98], buf[99], buf[100], buf[101]), (1, 2, 2, 1, 10, 15));
    let min_lon = i32::from_le_bytes(buf[102..106].try_into().unwrap());
    assert_eq!(min_lon, 1_082_000_000);

    let r = PmtilesReader::from_bytes(buf).unwrap();
    let h = r.header();
    assert_eq!((h.tile_entries, h.tile_contents), (stats.tile_entries, stats.tile_contents));
    let entries = r.entries().unwrap();
    assert!(entries.windows(2).all(|w| w[0].tile_id < w[1].tile_id), "sorted by tile id");
    // Clustered: data offsets never go backwards for new contents.
    for (t, data) in &tiles {
        let got = r.get(*t).unwrap();
        if data.is_empty() {
            assert!(got.is_none(), "{t}");
        } else {
            assert_eq!(got.as_deref(), Some(&data[..]), "{t}");
        }
    }
    assert!(r.get(TileCoord::new(3, 0, 0).unwrap()).unwrap().is_none());
    let meta = r.metadata().unwrap();
    let ids: Vec<&str> = meta["vector_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["roads", "buildings"]);
}

#[test]
fn large_archives_use_leaf_directories_and_runs() {
    // 40,000 scattered z12 tiles of irregular sizes cannot fit a 16 KiB root; 1,024 identical
    // neighbours along a Hilbert run at z10 collapse into run-length entries.
    let mut tiles = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while tiles.len() < 40_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let (x, y) = ((state % 4096) as u32, ((state >> 20) % 4096) as u32);
        if seen.insert((x, y)) {
            let len = 1 + (state >> 40) as usize % 300;
            let mut body = format!("{x}/{y}").into_bytes();
            body.resize(len.max(body.len()), b'.');
            tiles.push((TileCoord::new(12, x, y).unwrap(), body));
        }
    }
    for x in 0..32u32 {
        for y in 0..32u32 {
            tiles.push((TileCoord::new(10, x, y).unwrap(), b"sea".to_vec()));
        }
    }
    let info = ArchiveInfo {
        tile_type: twin_tiles::pmtiles::TILE_TYPE_PNG,
        minzoom: 10,
        maxzoom: 12,
        bounds: [-180.0, -85.0, 180.0, 85.0],
        center: [0.0, 0.0],
        center_zoom: 10,
        metadata: serde_json::json!({"name": "synthetic"}),
    };
    let mut buf = Vec::new();
    let stats = write_pmtiles(&mut buf, tiles.clone(), &info).unwrap();
    assert!(stats.leaf_directories > 0);
    assert_eq!(stats.addressed_tiles, 40_000 + 1024);
    assert_eq!(stats.tile_contents, 40_001);
    assert!(stats.tile_entries < stats.addressed_tiles);
    let r = PmtilesReader::from_bytes(buf).unwrap();
    assert!(r.root().iter().all(|e| e.run_length == 0));
    for (t, data) in tiles.iter().step_by(97) {
        assert_eq!(r.get(*t).unwrap().as_deref(), Some(&data[..]), "{t} id {}", tile_id(*t));
    }
    assert!(r.get(TileCoord::new(9, 0, 0).unwrap()).unwrap().is_none());
    assert!(r.get(TileCoord::new(10, 40, 40).unwrap()).unwrap().is_none());
}
