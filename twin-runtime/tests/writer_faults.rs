//! Faults that must not spiral: far-future fixes, batches too large for a log record, a snapshot
//! that keeps failing and a full disk. Each runs the real writer over a real store.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use twin_core::entity::MAX_FUTURE_MS;
use twin_core::rules::RuleSet;
use twin_core::store::{Store, StoreConfig};
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp, Twin, TwinConfig};
use twin_runtime::clock::now;
use twin_runtime::live::LiveHub;
use twin_runtime::metrics::Metrics;
use twin_runtime::writer::{LogHealth, SubmitError, Writer, WriterConfig};

/// Opens the store in `dir` and starts a writer over it.
fn start(dir: &Path, config: WriterConfig, store: impl FnOnce(&mut StoreConfig)) -> (Writer, Arc<RwLock<Twin>>) {
    let mut cfg = StoreConfig::new(dir);
    store(&mut cfg);
    let (store, twin, _) = Store::open(cfg, TwinConfig::default(), RuleSet::default()).unwrap();
    let seq = store.last_seq();
    let twin = Arc::new(RwLock::new(twin));
    let writer =
        Writer::spawn(store, twin.clone(), LiveHub::new(16), Arc::new(Metrics::default()), config, seq).unwrap();
    (writer, twin)
}

/// No ticks during the test: what the log holds is only what the test submits.
fn quiet() -> WriterConfig {
    WriterConfig { tick_interval: Duration::from_secs(3600), ..WriterConfig::default() }
}

fn bus(id: &str, time: Timestamp) -> Observation {
    Observation::new(EntityKind::Bus, id, time).at(108.2, 16.05)
}

/// Polls `cond` (at most a minute, so a broken build fails instead of hanging).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_future_fixes_are_refused_before_logging() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, twin) = start(dir.path(), quiet(), |_| {});
    let ingest = writer.handle();
    let t = now();
    let batch = vec![
        bus("ok-1", t),
        // Every channel stamps its own time; a forged one far ahead would pin the entity.
        bus("forged", t.plus_millis(24 * 3_600_000)),
        // A clock a little fast is fine.
        bus("ok-2", t.plus_millis(MAX_FUTURE_MS / 2)),
    ];
    let a = ingest.submit("http", batch).await.unwrap();
    assert_eq!(a.accepted, 2);
    assert_eq!(a.rejected.len(), 1);
    assert_eq!(a.rejected[0].0, 1);
    assert!(a.rejected[0].1.contains("time"), "{}", a.rejected[0].1);
    assert!(twin.read().id_of(EntityKind::Bus, "forged").is_none());

    // A batch of nothing but forged times logs nothing at all.
    let seq = ingest.shared().seq.load(Ordering::Relaxed);
    let a = ingest.submit("http", vec![bus("forged", t.plus_millis(MAX_FUTURE_MS + 60_000))]).await.unwrap();
    assert_eq!((a.accepted, a.rejected.len()), (0, 1));
    assert_eq!(ingest.shared().seq.load(Ordering::Relaxed), seq);
    writer.shutdown();

    // Replay agrees: the forged fix never reached the log.
    let (writer, twin) = start(dir.path(), quiet(), |_| {});
    assert!(twin.read().id_of(EntityKind::Bus, "ok-1").is_some());
    assert!(twin.read().id_of(EntityKind::Bus, "ok-2").is_some());
    assert!(twin.read().id_of(EntityKind::Bus, "forged").is_none());
    writer.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_for_one_record_is_the_clients_error() {
    let dir = tempfile::tempdir().unwrap();
    let max = 16 * 1024;
    let (writer, twin) = start(dir.path(), WriterConfig { max_record_bytes: max, ..quiet() }, |_| {});
    let ingest = writer.handle();
    let t = now();
    let big: Vec<Observation> = (0..40)
        .map(|i| {
            let mut o = bus(&format!("big-{i}"), t);
            o.properties.insert("note".into(), PropertyValue::Text("n".repeat(1000)));
            o
        })
        .collect();
    match ingest.submit("http", big).await {
        Err(SubmitError::TooLarge { bytes, max: m }) => {
            assert_eq!(m, max);
            assert!(bytes > max, "{bytes}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(ingest.health(), LogHealth::Ok);
    assert_eq!(ingest.shared().seq.load(Ordering::Relaxed), 0, "nothing was logged");
    // Ingest goes on.
    let a = ingest.submit("http", vec![bus("small", t)]).await.unwrap();
    assert_eq!(a.accepted, 1);
    assert!(twin.read().id_of(EntityKind::Bus, "small").is_some());
    assert!(twin.read().id_of(EntityKind::Bus, "big-0").is_none());
    writer.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_snapshot_backs_off_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = Duration::from_millis(40);
    let config = WriterConfig { snapshot_retry: first, snapshot_retry_max: Duration::from_secs(60), ..quiet() };
    let (writer, _twin) = start(dir.path(), config, |c| c.snapshot_after_bytes = 1);
    let ingest = writer.handle();
    // The snapshot after record 1 is `snapshot-…1.bin`: a directory squats on that name, so the
    // temporary file is written and its rename fails, every time.
    let snaps = dir.path().join("snapshots");
    std::fs::create_dir_all(snaps.join(format!("snapshot-{:020}.bin", 1)).join("squatter")).unwrap();
    let started = Instant::now();
    ingest.submit("http", vec![bus("b", now())]).await.unwrap();
    let failures = || ingest.shared().snapshot_failures.load(Ordering::Relaxed);
    wait_for("four failed snapshots", || failures() >= 4);
    let elapsed = started.elapsed();
    let n = failures();
    // Try k comes at least first × (2^k − 1) after the first, so in `elapsed` at most
    // 1 + log2(elapsed / first + 1) tries fit (the loop itself turns every 100 ms or faster).
    let bound = 1 + (elapsed.as_secs_f64() / first.as_secs_f64() + 1.0).log2().floor() as u64;
    assert!(n <= bound, "{n} snapshot attempts in {elapsed:?}, at most {bound} expected");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The log is fine meanwhile.
    assert_eq!(ingest.health(), LogHealth::Ok);
    writer.shutdown();
}

/// A small tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (with the reason printed) where mounting is not allowed, e.g. not root.
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(at).output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(at.to_path_buf())),
            Ok(o) => {
                eprintln!("skipped: cannot mount a tmpfs: {}", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes `path` until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0xAAu8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC, got {e}");
                break;
            }
        }
    }
    // The last partial chunk leaves a few bytes: take them one by one.
    while f.write(&[0xAA]).is_ok_and(|n| n == 1) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_ingest_then_resumes_without_losing_anything() {
    let mnt = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = Tmpfs::mount(mnt.path(), "2m") else { return };
    let data = mnt.path().join("data");
    // Ticks are the periodic retry; small segments so that a rotation meets the full disk too.
    let config = WriterConfig { tick_interval: Duration::from_millis(10), ..WriterConfig::default() };
    let small_segments = |c: &mut StoreConfig| c.segment_bytes = 256 * 1024;
    let (writer, _twin) = start(&data, config.clone(), small_segments);
    let ingest = writer.handle();
    let filler = mnt.path().join("filler");
    fill(&filler);

    let t = now();
    let batch = |n: usize| {
        let mut o = bus(&format!("bus-{n}"), t);
        o.properties.insert("note".into(), PropertyValue::Text("x".repeat(2000)));
        vec![o]
    };
    // What still fits in the segment's last page is taken; then the disk refuses.
    let mut acked = Vec::new();
    let refusal = loop {
        assert!(acked.len() < 1000, "the disk never filled");
        match ingest.submit("http", batch(acked.len())).await {
            Ok(a) => {
                assert_eq!(a.accepted, 1);
                acked.push(acked.len());
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(refusal, SubmitError::StorageFull(_)), "{refusal:?}");
    let LogHealth::StorageFull(reason) = ingest.health() else { panic!("health: {:?}", ingest.health()) };
    assert!(ingest.shared().log_error().is_some_and(|e| e == reason));
    // Refused while full, however often it is asked, and the writer stays up.
    for _ in 0..20 {
        assert!(matches!(ingest.submit("http", batch(9999)).await, Err(SubmitError::StorageFull(_))));
    }

    std::fs::remove_file(&filler).unwrap();
    wait_for("ingest to resume", || ingest.health() == LogHealth::Ok);
    for _ in 0..300 {
        let a = ingest.submit("http", batch(acked.len())).await.unwrap();
        assert_eq!(a.accepted, 1);
        acked.push(acked.len());
    }
    writer.shutdown();

    // Everything acknowledged is in the log, refused batches are not.
    let (writer, twin) = start(&data, config, small_segments);
    let twin = twin.read();
    for n in &acked {
        assert!(twin.id_of(EntityKind::Bus, &format!("bus-{n}")).is_some(), "bus-{n} lost");
    }
    assert!(twin.id_of(EntityKind::Bus, "bus-9999").is_none());
    drop(twin);
    writer.shutdown();
}
