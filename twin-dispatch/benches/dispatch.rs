//! Recommendation latency: the 5 best of 500 units (three quarters eligible) for a case, on the
//! Hải Châu roads and on a 100k-junction synthetic grid. Each iteration includes snapping the
//! case and every unit. `cargo run --release -p twin-dispatch --example latency` prints p50/p99.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use twin_dispatch::SearchBuffers;

mod setup;

fn bench(c: &mut Criterion) {
    for s in [setup::danang(500, 256), setup::grid(500, 256)] {
        let costs = s.dispatcher.free_flow();
        let mut buf = SearchBuffers::new();
        let mut i = 0;
        c.bench_function(&format!("recommend_k5_of_500_{}", s.name), |b| {
            b.iter(|| {
                i = (i + 1) % s.cases.len();
                let r = s.dispatcher.recommend(s.cases[i], &s.units, setup::ambulances_of_health, 5, &costs, &mut buf);
                black_box(r.map(|r| r.best.len()))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
