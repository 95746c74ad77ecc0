//! Append, snapshot and reopen: the recovered model equals one built by applying the same records.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod store_common;

use std::time::Duration;

use store_common::*;
use twin_core::store::{decode_record, FsyncPolicy, LogRecord, StoreConfig, StoreError, SNAPSHOT_VERSION};

#[test]
fn append_then_reopen_gives_identical_model() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(1, 120);
    let (mut store, mut twin, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.replayed_records, 0);
    assert_eq!(report.snapshot_seq, None);
    append_all(&mut store, &mut twin, &records);
    assert_eq!(store.last_seq(), 120);
    drop(store);

    let (store, recovered, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.replayed_records, 120);
    let obs: usize =
        records.iter().map(|r| if let LogRecord::Observations { batch, .. } = r { batch.len() } else { 0 }).sum();
    assert_eq!(report.replayed_observations, obs as u64);
    assert_eq!(report.truncated, None);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(!twin.alerts().is_empty(), "the workload should raise alerts");
    assert_same(&recovered, &twin);
    assert_same(&recovered, &reference(&records));
    assert_eq!(store.last_seq(), 120);
}

#[test]
fn group_commit_numbers_records_consecutively_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(2, 30);
    let (mut store, _, _) = open(store_config(dir.path())).unwrap();
    assert_eq!(store.append(&[]).unwrap(), 0);
    assert_eq!(store.append(&records[..10]).unwrap(), 10);
    assert_eq!(store.append(&records[10..11]).unwrap(), 11);
    drop(store);
    let (mut store, twin, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.replayed_records, 11);
    assert_same(&twin, &reference(&records[..11]));
    assert_eq!(store.append(&records[11..]).unwrap(), 30);
    drop(store);
    let (_, twin, _) = open(store_config(dir.path())).unwrap();
    assert_same(&twin, &reference(&records));
}

#[test]
fn snapshot_then_more_appends_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(3, 100);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &records[..60]);
    store.snapshot(&twin).unwrap();
    append_all(&mut store, &mut twin, &records[60..]);
    drop(store);

    let (_, recovered, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.snapshot_seq, Some(60));
    assert_eq!(report.replayed_records, 40);
    assert_same(&recovered, &twin);
    assert_same(&recovered, &reference(&records));
}

#[test]
fn snapshot_with_nothing_after_it_recovers_without_replay() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(4, 50);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &records);
    store.snapshot(&twin).unwrap();
    drop(store);
    let (mut store, recovered, report) = open(store_config(dir.path())).unwrap();
    assert_eq!((report.snapshot_seq, report.replayed_records), (Some(50), 0));
    assert_same(&recovered, &twin);
    assert_eq!(store.append(&records[..1]).unwrap(), 51);
}

#[test]
fn segments_rotate_and_are_named_by_their_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 2048, ..store_config(dir.path()) };
    let records = workload(5, 200);
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    append_all(&mut store, &mut twin, &records);
    drop(store);

    let files = segments(dir.path());
    assert!(files.len() > 5, "expected rotation, got {} segments", files.len());
    let mut next = 1;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let name: u64 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        assert_eq!(name, next, "{}", path.display());
        let offsets = frame_offsets(&data);
        for (i, off) in offsets.iter().enumerate() {
            let (seq, _) = decode_record(&data[off + 8..offsets.get(i + 1).copied().unwrap_or(data.len())]).unwrap();
            assert_eq!(seq, next);
            next += 1;
        }
    }
    assert_eq!(next, 201);
    let (_, recovered, _) = open(config).unwrap();
    assert_same(&recovered, &reference(&records));
}

#[test]
fn snapshots_keep_the_previous_one_and_prune_the_log_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 1024, ..store_config(dir.path()) };
    let records = workload(6, 300);
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    for (i, chunk) in records.chunks(100).enumerate() {
        append_all(&mut store, &mut twin, chunk);
        store.snapshot(&twin).unwrap();
        let snaps = std::fs::read_dir(dir.path().join("snapshots")).unwrap().count();
        assert_eq!(snaps, (i + 1).min(2));
    }
    drop(store);
    // Every remaining segment is still needed by the older kept snapshot (seq 200) or later.
    let files = segments(dir.path());
    let firsts: Vec<u64> = files.iter().map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap()).collect();
    assert!(firsts[0] > 1, "old segments should be gone");
    assert!(firsts.len() < 2 || firsts[1] > 201, "{firsts:?}");
    let (_, recovered, report) = open(config).unwrap();
    assert_eq!(report.snapshot_seq, Some(300));
    assert_same(&recovered, &reference(&records));
}

#[test]
fn corrupt_newest_snapshot_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 1024, ..store_config(dir.path()) };
    let records = workload(7, 150);
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    append_all(&mut store, &mut twin, &records[..50]);
    store.snapshot(&twin).unwrap();
    append_all(&mut store, &mut twin, &records[50..100]);
    store.snapshot(&twin).unwrap();
    append_all(&mut store, &mut twin, &records[100..]);
    drop(store);

    let newest = dir.path().join("snapshots").join(format!("snapshot-{:020}.bin", 100));
    let mut data = std::fs::read(&newest).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(&newest, data).unwrap();

    let (_, recovered, report) = open(config).unwrap();
    assert_eq!(report.snapshot_seq, Some(50));
    assert_eq!(report.replayed_records, 100);
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].contains("snapshot-00000000000000000100.bin"), "{}", report.warnings[0]);
    assert_same(&recovered, &reference(&records));
}

#[test]
fn no_valid_snapshot_and_deleted_log_is_a_snapshot_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 512, ..store_config(dir.path()) };
    let records = workload(8, 90);
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    for chunk in records.chunks(30) {
        append_all(&mut store, &mut twin, chunk);
        store.snapshot(&twin).unwrap();
    }
    drop(store);
    for entry in std::fs::read_dir(dir.path().join("snapshots")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::write(&path, b"CTWINSNP garbage").unwrap();
    }
    match open(config) {
        Err(StoreError::Snapshot { path, .. }) => assert!(path.to_string_lossy().contains("snapshot-")),
        other => panic!("expected a snapshot error, got {:?}", other.map(|(_, _, r)| r)),
    }
}

#[test]
fn snapshot_from_another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &workload(9, 10));
    store.snapshot(&twin).unwrap();
    drop(store);
    let path = dir.path().join("snapshots").join(format!("snapshot-{:020}.bin", 10));
    let mut data = std::fs::read(&path).unwrap();
    data[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&path, data).unwrap();
    match open(store_config(dir.path())) {
        Err(StoreError::Version { path: p, found: 7, expected: SNAPSHOT_VERSION }) => assert_eq!(p, path),
        other => panic!("expected a version error, got {:?}", other.map(|(_, _, r)| r)),
    }
}

#[test]
fn interval_policy_and_snapshot_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        fsync: FsyncPolicy::Interval(Duration::from_secs(3600)),
        snapshot_after_bytes: 4096,
        ..StoreConfig::new(dir.path())
    };
    let records = workload(10, 80);
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    assert!(!store.needs_snapshot());
    append_all(&mut store, &mut twin, &records);
    assert!(store.bytes_since_snapshot() > 4096);
    assert!(store.needs_snapshot());
    store.sync().unwrap();
    store.snapshot(&twin).unwrap();
    assert!(!store.needs_snapshot());
    drop(store);
    let (_, recovered, _) = open(config).unwrap();
    assert_same(&recovered, &reference(&records));
}

/// If the log lost records the snapshot already covers, new records must continue after the
/// snapshot, or a later recovery would skip them as already included.
#[test]
fn log_shorter_than_the_snapshot_continues_after_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(20, 40);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &records[..30]);
    store.snapshot(&twin).unwrap();
    drop(store);
    // Cut the only segment back to its first 20 records.
    let seg = segments(dir.path()).pop().unwrap();
    let data = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &data[..frame_offsets(&data)[20]]).unwrap();

    let (mut store, recovered, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.snapshot_seq, Some(30));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_same(&recovered, &twin);
    assert_eq!(store.append(&records[30..]).unwrap(), 40);
    drop(store);
    let (_, recovered, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.replayed_records, 10);
    assert_same(&recovered, &reference(&records));
}

#[test]
fn a_data_directory_has_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = open(store_config(dir.path())).unwrap();
    match open(store_config(dir.path())) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path().join("LOCK")),
        other => panic!("expected Locked, got {:?}", other.map(|(_, _, r)| r)),
    }
    drop(store);
    open(store_config(dir.path())).unwrap();
}
