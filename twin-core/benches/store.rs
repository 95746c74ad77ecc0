//! Durable-log benchmarks: apply throughput with the log on (append + apply of 1,000-observation
//! batches over 100k entities) per fsync policy, snapshot writing, and restart of 1M entities.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use twin_core::store::{FsyncPolicy, LogRecord, Store, StoreConfig};
use twin_core::{ActorId, EntityKind, Observation, PropertyValue, RuleSet, Timestamp, Twin, TwinConfig};

const BATCH: usize = 1_000;
const T0: i64 = 1_795_000_000_000;

/// Observations for entities `first..first + n` (cycling over `population`) at time `t`, spread
/// over the Da Nang area.
fn batch(first: usize, n: usize, population: usize, t: i64) -> Vec<Observation> {
    (first..first + n)
        .map(|i| {
            let e = i % population;
            let kind = if e.is_multiple_of(3) { EntityKind::Vessel } else { EntityKind::Bus };
            let (fx, fy) = ((e % 1000) as f64 / 1000.0, (e / 1000 % 1000) as f64 / 1000.0);
            let jitter = ((i / population) % 100) as f64 * 1e-5;
            let mut o = Observation::new(kind, format!("veh-{e:07}"), Timestamp(t))
                .at(108.10 + fx * 0.2 + jitter, 15.95 + fy * 0.2);
            o.source = "bench".into();
            o.heading = Some((e % 360) as f64);
            o.speed = Some(8.5);
            o.properties.insert("route".into(), PropertyValue::Text(format!("R{}", e % 40)));
            o
        })
        .collect()
}

fn twin_config() -> TwinConfig {
    TwinConfig { track_capacity: 16, ..TwinConfig::default() }
}

fn store_config(dir: &std::path::Path, fsync: FsyncPolicy) -> StoreConfig {
    StoreConfig { fsync, snapshot_after_bytes: u64::MAX, ..StoreConfig::new(dir) }
}

/// A store holding `population` entities, all logged.
fn populated(dir: &std::path::Path, fsync: FsyncPolicy, population: usize) -> (Store, Twin) {
    let (mut store, mut twin, _) =
        Store::open(store_config(dir, fsync), twin_config(), RuleSet::default()).expect("open store");
    for first in (0..population).step_by(10 * BATCH) {
        let b = batch(first, (10 * BATCH).min(population - first), population, T0);
        store.append(&[LogRecord::Observations { actor: ActorId::system(), batch: b.clone() }]).expect("append");
        twin.apply_batch(&b);
    }
    (store, twin)
}

fn apply_with_log(c: &mut Criterion) {
    const POPULATION: usize = 100_000;
    let mut group = c.benchmark_group("apply_with_log_100k_entities");
    group.throughput(Throughput::Elements(BATCH as u64));
    let policies = [
        ("fsync_always", FsyncPolicy::Always),
        ("fsync_interval_100ms", FsyncPolicy::Interval(Duration::from_millis(100))),
    ];
    for (name, fsync) in policies {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, mut twin) = populated(dir.path(), fsync, POPULATION);
        let mut next = 0usize;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    next += BATCH;
                    LogRecord::Observations {
                        actor: ActorId::system(),
                        batch: batch(next, BATCH, POPULATION, T0 + next as i64),
                    }
                },
                |record| {
                    // Durable first, then applied: the order the server's writer uses.
                    store.append(std::slice::from_ref(&record)).expect("append");
                    if let LogRecord::Observations { batch: obs, .. } = &record {
                        twin.apply_batch(obs);
                    }
                    record
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn restart(c: &mut Criterion) {
    const POPULATION: usize = 1_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut store, mut twin) = populated(dir.path(), FsyncPolicy::Interval(Duration::from_secs(1)), POPULATION);

    let mut group = c.benchmark_group("store_1m_entities");
    group.sample_size(10);
    group.bench_function("snapshot_write", |b| b.iter(|| store.snapshot(&twin).expect("snapshot")));
    // A short log tail after the snapshot: 10 batches of 1,000.
    for i in 0..10 {
        let b = batch(i * BATCH, BATCH, POPULATION, T0 + 1 + i as i64);
        store.append(&[LogRecord::Observations { actor: ActorId::system(), batch: b.clone() }]).expect("append");
        twin.apply_batch(&b);
    }
    store.sync().expect("sync");
    drop(store);
    // Timed by hand so that dropping the recovered million entities is not counted.
    group.bench_function("restart_snapshot_plus_10k_tail", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let config = store_config(dir.path(), FsyncPolicy::Always);
                let started = Instant::now();
                let (store, recovered, report) =
                    Store::open(config, twin_config(), RuleSet::default()).expect("reopen");
                total += started.elapsed();
                assert_eq!(report.replayed_observations, 10 * BATCH as u64);
                assert_eq!(recovered.len(), POPULATION);
                drop((store, recovered));
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, apply_with_log, restart);
criterion_main!(benches);
