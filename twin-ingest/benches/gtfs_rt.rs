//! GTFS-realtime decode throughput: protobuf decode alone, and decode plus conversion to
//! observations, on the real Bull Runner VehiclePositions feed.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twin_ingest::gtfs_rt::{decode_feed, to_observations, ObservationOptions};

fn feed_bytes() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gtfs/usf_bullrunner_vehicle_positions.pb");
    std::fs::read(path).expect("test feed present")
}

fn bench(c: &mut Criterion) {
    let bytes = feed_bytes();
    let entities = decode_feed(&bytes).expect("feed decodes").entity.len() as u64;
    let opts = ObservationOptions::default();
    let mut group = c.benchmark_group("gtfs_rt");
    group.throughput(Throughput::Elements(entities));
    group.bench_function("decode_feed", |b| b.iter(|| decode_feed(std::hint::black_box(&bytes))));
    group.bench_function("decode_to_observations", |b| {
        b.iter(|| {
            let feed = decode_feed(std::hint::black_box(&bytes)).expect("feed decodes");
            to_observations(&feed, &opts)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
