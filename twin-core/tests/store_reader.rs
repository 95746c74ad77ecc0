//! Reading the log without changing it.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod store_common;

use std::fs;

use store_common::*;
use twin_core::store::{LogReader, StoreConfig, StoreError};

#[test]
fn reads_every_record_from_any_seq_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 2048, ..store_config(dir.path()) };
    let records = workload(30, 150);
    let (mut store, mut twin, _) = open(config).unwrap();
    append_all(&mut store, &mut twin, &records);
    assert!(segments(dir.path()).len() > 3);
    // Readable while the store is open.
    for from in [0, 1, 2, 77, 150, 151] {
        let got: Vec<_> = LogReader::open(dir.path(), from).unwrap().map(Result::unwrap).collect();
        let start = from.max(1);
        let want: Vec<_> = (start..).zip(records.iter().skip(start as usize - 1).cloned()).collect();
        assert_eq!(got, want, "from {from}");
    }
}

#[test]
fn torn_tail_ends_the_log_and_damage_is_an_error_without_changing_files() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(31, 20);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &records);
    drop(store);
    let seg = segments(dir.path()).pop().unwrap();
    let data = fs::read(&seg).unwrap();
    let offsets = frame_offsets(&data);

    fs::write(&seg, &data[..data.len() - 3]).unwrap();
    let got: Vec<_> = LogReader::open(dir.path(), 0).unwrap().map(Result::unwrap).collect();
    assert_eq!(got.len(), 19);
    assert_eq!(fs::metadata(&seg).unwrap().len(), data.len() as u64 - 3);

    let mut bad = data.clone();
    bad[offsets[5] + 10] ^= 1;
    fs::write(&seg, &bad).unwrap();
    let got: Vec<_> = LogReader::open(dir.path(), 0).unwrap().collect();
    assert_eq!(got.len(), 6);
    assert!(got[..5].iter().all(Result::is_ok));
    match &got[5] {
        Err(StoreError::Corrupt { path, offset, .. }) => assert_eq!((path, *offset), (&seg, offsets[5] as u64)),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
