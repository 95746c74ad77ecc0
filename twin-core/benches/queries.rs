//! Query and update speed of the city model: kNN (k = 10) and 500 m radius queries over 1,000,000
//! entities in a 30 × 30 km box around Da Nang, and `apply_batch` with 100,000 moving entities.
//! After criterion's figures, a plain loop prints per-query latency percentiles.
//!
//! `cargo bench -p twin-core --bench queries -- --measurement-time 3 --warm-up-time 1`
//! Without `--bench` (as `cargo test --benches` runs it) sizes shrink so the check stays quick.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use twin_core::{EntityKind, KindFilter, Observation, Position, Timestamp, Twin, TwinConfig};

const BOX: (f64, f64, f64, f64) = (108.1, 15.95, 108.35, 16.15);
const KINDS: [EntityKind; 6] = [
    EntityKind::Bus,
    EntityKind::Vessel,
    EntityKind::FishingBoat,
    EntityKind::FloodSensor,
    EntityKind::Camera,
    EntityKind::CitizenReport,
];

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// SplitMix64: a deterministic, dependency-free source of spread-out positions.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn position(&mut self) -> Position {
        Position::new(BOX.0 + self.next_f64() * (BOX.2 - BOX.0), BOX.1 + self.next_f64() * (BOX.3 - BOX.1))
    }
}

fn observations(n: usize, time: i64, rng: &mut Rng) -> Vec<Observation> {
    (0..n)
        .map(|i| {
            let p = rng.position();
            let mut o = Observation::new(KINDS[i % KINDS.len()], format!("e{i}"), Timestamp(time)).at(p.lon, p.lat);
            o.speed = Some(5.0);
            o
        })
        .collect()
}

fn populated(n: usize) -> Twin {
    let mut twin = Twin::new(TwinConfig { track_capacity: 8, ..TwinConfig::default() });
    let mut rng = Rng(7);
    for chunk in observations(n, 0, &mut rng).chunks(10_000) {
        twin.apply_batch(chunk);
    }
    twin
}

fn big_twin() -> &'static Twin {
    static TWIN: OnceLock<Twin> = OnceLock::new();
    TWIN.get_or_init(|| {
        let n = if bench_mode() { 1_000_000 } else { 10_000 };
        let start = Instant::now();
        let twin = populated(n);
        println!("built a model of {n} entities with apply_batch in {:.2?}", start.elapsed());
        twin
    })
}

fn queries(c: &mut Criterion) {
    let twin = big_twin();
    let mut group = c.benchmark_group("query_1m");
    group.throughput(Throughput::Elements(1));
    let mut rng = Rng(99);
    group.bench_function("nearest_k10", |b| {
        b.iter(|| black_box(twin.nearest(rng.position(), 10, KindFilter::ALL).len()))
    });
    group.bench_function("nearest_k10_one_kind", |b| {
        b.iter(|| black_box(twin.nearest(rng.position(), 10, KindFilter::only(EntityKind::Bus)).len()))
    });
    group.bench_function("radius_500m", |b| {
        b.iter(|| black_box(twin.within_radius(rng.position(), 500.0, KindFilter::ALL).len()))
    });
    group.finish();
}

fn apply(c: &mut Criterion) {
    let n = if bench_mode() { 100_000 } else { 1_000 };
    let mut twin = populated(n);
    let mut rng = Rng(3);
    let mut time = 1_000;
    let mut group = c.benchmark_group("apply_batch");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("move_100k_entities", |b| {
        b.iter_batched(
            || {
                time += 1_000;
                observations(n, time, &mut rng)
            },
            |batch| black_box(twin.apply_batch(&batch).changes.len()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// CPU time this thread has run, from the kernel's scheduler statistics (the machine is shared, so
/// wall time alone overstates costs). `None` where the file is missing.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn per_cpu_second(n: usize, cpu: Option<Duration>) -> String {
    match cpu {
        Some(c) if !c.is_zero() => format!("{:.0}/CPU-s", n as f64 / c.as_secs_f64()),
        _ => "n/a per CPU-s".into(),
    }
}

/// Per-query latencies of a plain loop (criterion reports means, not tails), plus throughput per
/// second of wall time and per second of this thread's CPU time.
fn latency_report() {
    let twin = big_twin();
    let n = if bench_mode() { 20_000 } else { 100 };
    let mut rng = Rng(12345);
    type Query = dyn Fn(&Twin, Position) -> usize;
    let cases: [(&str, Box<Query>); 4] = [
        ("nearest k=10", Box::new(|t, p| t.nearest(p, 10, KindFilter::ALL).len())),
        ("nearest k=10 (bus)", Box::new(|t, p| t.nearest(p, 10, KindFilter::only(EntityKind::Bus)).len())),
        ("radius 500 m", Box::new(|t, p| t.within_radius(p, 500.0, KindFilter::ALL).len())),
        // Cost grows with the answer: a smaller disc shows the per-query overhead.
        ("radius 100 m", Box::new(|t, p| t.within_radius(p, 100.0, KindFilter::ALL).len())),
    ];
    for (name, query) in cases {
        let mut lat: Vec<Duration> = Vec::with_capacity(n);
        let mut results = 0usize;
        let (start, cpu0) = (Instant::now(), thread_cpu());
        for _ in 0..n {
            let p = rng.position();
            let t0 = Instant::now();
            results += black_box(query(twin, p));
            lat.push(t0.elapsed());
        }
        let (total, cpu) = (start.elapsed(), thread_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a)));
        lat.sort_unstable();
        let pct = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        println!(
            "{name} over {} entities: {:.0} queries/s wall, {}, p50 {:.1?}, p99 {:.1?}, max {:.1?}, {:.1} results/query",
            twin.len(),
            n as f64 / total.as_secs_f64(),
            per_cpu_second(n, cpu),
            pct(0.50),
            pct(0.99),
            lat[lat.len() - 1],
            results as f64 / n as f64
        );
    }
    // What a restart pays in the model (the log's decoding aside): rebuilding both indexes. Expiry
    // is switched on for one kind so the tick below has to scan every id.
    let parts = twin.to_parts();
    let config = twin.config().clone().with_expiry(EntityKind::CitizenReport, Some(3_600_000));
    let (start, cpu0) = (Instant::now(), thread_cpu());
    match Twin::from_parts(config, twin.rules().clone(), parts) {
        Ok(mut rebuilt) => {
            let cpu = thread_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a)).unwrap_or_default();
            println!("from_parts rebuilding {} entities: {:.2?} wall, {cpu:.2?} CPU", rebuilt.len(), start.elapsed());
            let start = Instant::now();
            let removed = rebuilt.tick(Timestamp(1_000)).changes.len();
            println!("tick over {} entities, expiry on, {removed} due: {:.2?}", rebuilt.len(), start.elapsed());
        }
        Err(e) => println!("from_parts failed: {e}"),
    }

    let n = if bench_mode() { 100_000 } else { 1_000 };
    let mut twin = populated(n);
    let mut rng = Rng(5);
    for round in 1..=3 {
        let batch = observations(n, round * 1_000, &mut rng);
        let (start, cpu0) = (Instant::now(), thread_cpu());
        black_box(twin.apply_batch(&batch).changes.len());
        let (wall, cpu) = (start.elapsed(), thread_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a)));
        println!(
            "apply_batch moving {n} entities: {:.0} observations/s wall, {}",
            n as f64 / wall.as_secs_f64(),
            per_cpu_second(n, cpu)
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    queries(&mut c);
    apply(&mut c);
    latency_report();
    c.final_summary();
}
