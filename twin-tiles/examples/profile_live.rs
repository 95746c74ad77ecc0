//! Where the time of a dense live tile goes (release): `cargo run --release -p twin-tiles --example profile_live`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use twin_core::{BBox, EntityKind, KindFilter, Observation, PropertyValue, Timestamp, Twin, TwinConfig};
use twin_tiles::live::{entity_attributes, LiveOptions};
use twin_tiles::mvt::{encode_tile, LayerBuilder};
use twin_tiles::TileCoord;

fn main() {
    let mut twin = Twin::new(TwinConfig::default());
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let batch: Vec<Observation> = (0..100_000)
        .map(|i| {
            let mut o = Observation::new(EntityKind::Bus, format!("unit-{i}"), Timestamp(1_795_420_800_000))
                .at(107.95 + next() * 0.45, 15.90 + next() * 0.35);
            o.speed = Some(next() * 20.0);
            o.heading = Some(next() * 359.0);
            o.status = Some("active".into());
            o.properties.insert("name".into(), PropertyValue::Text(format!("Unit {i}")));
            o.properties.insert("agency".into(), PropertyValue::Text("DN".into()));
            o
        })
        .collect();
    twin.apply_batch(&batch);
    let tile = TileCoord::containing(108.22, 16.06, 12).unwrap();
    let b = tile.buffered_bounds(64, 4096);
    let bbox = BBox::new(b.west, b.south, b.east, b.north).unwrap();
    let opts = LiveOptions::default();
    let now = Timestamp(1_795_420_810_000);
    for _ in 0..3 {
        let t = Instant::now();
        let hits = twin.in_bbox(bbox, KindFilter::ALL);
        let q = t.elapsed();
        let t = Instant::now();
        let mut attrs = Vec::new();
        let mut n = 0;
        for e in &hits {
            entity_attributes(e, now, &opts, &mut attrs);
            n += attrs.len();
        }
        let a = t.elapsed();
        let t = Instant::now();
        let mut proj = 0.0;
        for e in &hits {
            let p = e.position.unwrap();
            proj += tile.project(p.lon, p.lat, 4096).0;
        }
        let pr = t.elapsed();
        let t = Instant::now();
        let mut l = LayerBuilder::new("bus", 4096);
        for e in &hits {
            entity_attributes(e, now, &opts, &mut attrs);
            l.add_point(Some(e.id.0), (1, 2), &attrs);
        }
        let enc = t.elapsed();
        let t = Instant::now();
        let bytes = encode_tile(&[l]);
        let fin = t.elapsed();
        println!(
            "{} hits: query {q:?}, attrs {a:?} ({n}), project {pr:?} ({proj:.0}), attrs+add {enc:?}, finish {fin:?} ({} B)",
            hits.len(),
            bytes.len()
        );
    }
    // A long steady loop for `perf record`.
    let t = Instant::now();
    for _ in 0..200 {
        let layers =
            twin_tiles::live::live_layers(&twin, tile, KindFilter::ALL, now, &opts, &twin_tiles::live::ShowAll)
                .unwrap();
        std::hint::black_box(encode_tile(&layers));
    }
    println!("render: {:?} per tile", t.elapsed() / 200);
}
