//! Uncached tile generation with 100k live entities over Đà Nẵng: points at z14 and z12, H3
//! hexagons at z10; tile sizes are printed. Run briefly:
//! `cargo bench -p twin-tiles --bench tiles -- --measurement-time 3 --warm-up-time 1`

#![allow(clippy::unwrap_used)] // tests may unwrap

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use twin_core::{BBox, EntityKind, KindFilter, Observation, PropertyValue, Timestamp, Twin, TwinConfig};
use twin_tiles::compress::gzip;
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::{TileCoord, TileLayer, TileRenderer};

const ENTITIES: usize = 100_000;
/// The city config's bbox.
const BBOX: [f64; 4] = [107.95, 15.90, 108.40, 16.25];

fn city() -> Twin {
    let mut twin = Twin::new(TwinConfig::default());
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let kinds =
        [EntityKind::Bus, EntityKind::Vessel, EntityKind::Ambulance, EntityKind::FloodSensor, EntityKind::Drone];
    let batch: Vec<Observation> = (0..ENTITIES)
        .map(|i| {
            let lon = BBOX[0] + next() * (BBOX[2] - BBOX[0]);
            let lat = BBOX[1] + next() * (BBOX[3] - BBOX[1]);
            let mut o = Observation::new(kinds[i % kinds.len()], format!("unit-{i}"), Timestamp(1_795_420_800_000))
                .at(lon, lat);
            o.speed = Some(next() * 20.0);
            o.heading = Some(next() * 359.0);
            o.status = Some("active".into());
            o.properties.insert("name".into(), PropertyValue::Text(format!("Unit {i}")));
            o.properties.insert("agency".into(), PropertyValue::Text("DN".into()));
            o
        })
        .collect();
    for chunk in batch.chunks(10_000) {
        twin.apply_batch(chunk);
    }
    twin
}

fn bench(c: &mut Criterion) {
    let twin = city();
    let r = TileRenderer::new(ReferenceIndex::default());
    let now = Timestamp(1_795_420_810_000);
    for z in [14u8, 12, 10] {
        let tile = TileCoord::containing(108.22, 16.06, z).unwrap();
        let bytes = r.render(&TileLayer::Live, tile, &twin, now).unwrap();
        let features: usize = r
            .layers(&TileLayer::Live, tile, &twin, now, &twin_tiles::live::ShowAll)
            .unwrap()
            .iter()
            .map(|l| l.len())
            .sum();
        println!("z{z} tile {tile}: {features} features, {} bytes raw, {} bytes gzip", bytes.len(), gzip(&bytes).len());
        c.bench_function(&format!("live tile z{z} uncached (100k entities)"), |b| {
            b.iter(|| r.render(&TileLayer::Live, tile, &twin, now).unwrap())
        });
        if z > r.live.hexagon_max_zoom {
            // The model query alone, to see how much of a tile is the encoder.
            let bb = tile.buffered_bounds(r.live.buffer, r.live.extent);
            let bbox = BBox::new(bb.west, bb.south, bb.east, bb.north).unwrap();
            c.bench_function(&format!("model query of the z{z} tile"), |b| {
                b.iter(|| twin.in_bbox(bbox, KindFilter::ALL).len())
            });
        }
    }
}

/// Dirty-tile marking of one commit that moves 10k of the 100k entities (runs in the writer).
fn dirty(c: &mut Criterion) {
    let mut twin = city();
    let mut tracker = twin_tiles::DirtyTracker::new(18);
    // Seeded before the move: the commit below is what it has not seen yet.
    tracker.seed(&twin);
    let moved: Vec<Observation> = twin
        .entities()
        .take(10_000)
        .map(|e| {
            let p = e.position.unwrap();
            Observation::new(e.kind, e.external_id.clone(), Timestamp(1_795_420_900_000)).at(p.lon + 1e-4, p.lat)
        })
        .collect();
    let applied = twin.apply_batch(&moved);
    // Each run starts from the positions before the move (the clone is not timed).
    c.bench_function("dirty tiles of a 10k-move commit (z0..=18)", |b| {
        b.iter_batched(|| tracker.clone(), |mut t| t.apply(&twin, &applied).len(), BatchSize::LargeInput)
    });
}

criterion_group!(benches, bench, dirty);
criterion_main!(benches);
