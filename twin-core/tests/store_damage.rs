//! Damaged logs: a torn tail is cut, damage in the middle stops start-up naming file and offset,
//! and `repair` cuts there, moving the rest aside.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod store_common;

use std::fs;
use std::path::Path;

use store_common::*;
use twin_core::store::{LogRecord, StoreConfig, StoreError};

/// Writes `records` one append each into a fresh store in `dir`; returns the last segment's path.
fn build(dir: &Path, records: &[LogRecord], config: &StoreConfig) -> std::path::PathBuf {
    let (mut store, mut twin, _) = open(config.clone()).unwrap();
    append_all(&mut store, &mut twin, records);
    drop(store);
    segments(dir).pop().unwrap()
}

#[test]
fn torn_tail_at_every_byte_of_the_last_record_is_truncated() {
    let records = workload(11, 12);
    let template = tempfile::tempdir().unwrap();
    let seg = build(template.path(), &records, &store_config(template.path()));
    let data = fs::read(&seg).unwrap();
    let last = *frame_offsets(&data).last().unwrap();
    let expected = reference(&records[..11]);
    let name = seg.file_name().unwrap();
    for cut in last..data.len() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("log")).unwrap();
        let path = dir.path().join("log").join(name);
        fs::write(&path, &data[..cut]).unwrap();
        let (mut store, twin, report) = open(store_config(dir.path())).unwrap();
        let want = (cut > last).then(|| (path.clone(), last as u64, (cut - last) as u64));
        assert_eq!(report.truncated, want, "cut at {cut}");
        assert_eq!(report.replayed_records, 11);
        assert_same(&twin, &expected);
        assert_eq!(fs::metadata(&path).unwrap().len(), last as u64);
        // Appending continues right after the kept records.
        assert_eq!(store.append(&records[11..]).unwrap(), 12);
        drop(store);
        let (_, twin, report) = open(store_config(dir.path())).unwrap();
        assert_eq!(report.truncated, None);
        assert_same(&twin, &reference(&records));
    }
}

#[test]
fn flipped_byte_in_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(12, 10);
    let seg = build(dir.path(), &records, &store_config(dir.path()));
    let mut data = fs::read(&seg).unwrap();
    let last = *frame_offsets(&data).last().unwrap();
    let n = data.len();
    data[n - 2] ^= 0x10;
    fs::write(&seg, &data).unwrap();
    let (_, twin, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.truncated, Some((seg, last as u64, (n - last) as u64)));
    assert_same(&twin, &reference(&records[..9]));
}

#[test]
fn corrupt_byte_in_a_middle_record_names_file_and_offset() {
    let records = workload(13, 20);
    let template = tempfile::tempdir().unwrap();
    let seg = build(template.path(), &records, &store_config(template.path()));
    let data = fs::read(&seg).unwrap();
    let offsets = frame_offsets(&data);
    let bad = offsets[7];
    // The length field, the CRC field, and payload bytes (sequence number, body, last byte).
    for at in [bad, bad + 2, bad + 5, bad + 9, bad + 20, offsets[8] - 1] {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("log")).unwrap();
        let path = dir.path().join("log").join(seg.file_name().unwrap());
        let mut d = data.clone();
        d[at] ^= 0x5a;
        fs::write(&path, &d).unwrap();
        match open(store_config(dir.path())) {
            Err(StoreError::Corrupt { path: p, offset, reason }) => {
                assert_eq!((p, offset), (path.clone(), bad as u64), "byte {at}: {reason}");
            }
            other => panic!("byte {at}: expected Corrupt, got {:?}", other.map(|(_, _, r)| r)),
        }
        // Nothing was changed on disk.
        assert_eq!(fs::read(&path).unwrap(), d);
    }
}

#[test]
fn repair_cuts_at_the_damage_and_quarantines_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(14, 20);
    let seg = build(dir.path(), &records, &store_config(dir.path()));
    let mut data = fs::read(&seg).unwrap();
    let bad = frame_offsets(&data)[7];
    data[bad + 12] ^= 0x01;
    fs::write(&seg, &data).unwrap();

    let config = StoreConfig { repair: true, ..store_config(dir.path()) };
    let (mut store, twin, report) = open(config.clone()).unwrap();
    let (cut_file, offset, moved_to) = report.repaired.clone().unwrap();
    assert_eq!((cut_file, offset), (seg.clone(), bad as u64));
    assert!(moved_to.starts_with(dir.path().join("quarantine")));
    assert_eq!(fs::read(&moved_to).unwrap(), &data[bad..], "the cut bytes are kept verbatim");
    assert_eq!(fs::metadata(&seg).unwrap().len(), bad as u64);
    assert!(!report.warnings.is_empty());
    assert_same(&twin, &reference(&records[..7]));

    // The repaired log accepts appends and reopens cleanly without `repair`.
    assert_eq!(store.append(&records[7..9]).unwrap(), 9);
    drop(store);
    let (_, twin, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.repaired, None);
    assert_same(&twin, &reference(&records[..9]));
}

#[test]
fn damage_in_an_older_segment_is_corrupt_even_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 2048, ..store_config(dir.path()) };
    let records = workload(15, 120);
    build(dir.path(), &records, &config);
    let files = segments(dir.path());
    assert!(files.len() >= 3);
    let victim = &files[1];
    let mut data = fs::read(victim).unwrap();
    let last = *frame_offsets(&data).last().unwrap();
    let n = data.len();
    data[n - 1] ^= 0x80;
    fs::write(victim, &data).unwrap();

    match open(config.clone()) {
        Err(StoreError::Corrupt { path, offset, .. }) => assert_eq!((&path, offset), (victim, last as u64)),
        other => panic!("expected Corrupt, got {:?}", other.map(|(_, _, r)| r)),
    }

    let (_, twin, report) = open(StoreConfig { repair: true, ..config }).unwrap();
    let first_of_victim: usize = victim.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let kept = first_of_victim - 1 + frame_offsets(&data).len() - 1;
    assert_same(&twin, &reference(&records[..kept]));
    assert!(report.repaired.is_some());
    // Later segments were moved, not deleted.
    let quarantined = fs::read_dir(dir.path().join("quarantine")).unwrap().count();
    assert_eq!(quarantined, 1 + files.len() - 2);
    assert_eq!(segments(dir.path()).len(), 2);
}

#[test]
fn missing_middle_segment_is_a_sequence_gap() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_bytes: 2048, ..store_config(dir.path()) };
    build(dir.path(), &workload(16, 120), &config);
    let files = segments(dir.path());
    fs::remove_file(&files[1]).unwrap();
    match open(config) {
        Err(StoreError::Corrupt { path, offset: 0, reason }) => {
            assert_eq!(path, files[2]);
            assert!(reason.contains("gap"), "{reason}");
        }
        other => panic!("expected Corrupt, got {:?}", other.map(|(_, _, r)| r)),
    }
}

#[test]
fn segment_from_another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let seg = build(dir.path(), &workload(17, 5), &store_config(dir.path()));
    let mut data = fs::read(&seg).unwrap();
    data[8..12].copy_from_slice(&2u32.to_le_bytes());
    fs::write(&seg, &data).unwrap();
    match open(store_config(dir.path())) {
        Err(StoreError::Version { path, found: 2, expected: 1 }) => assert_eq!(path, seg),
        other => panic!("expected Version, got {:?}", other.map(|(_, _, r)| r)),
    }
}

#[test]
fn torn_header_of_a_new_last_segment_is_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(18, 10);
    build(dir.path(), &records, &store_config(dir.path()));
    // A crash right after a rotation created the next segment but before its header was written.
    let next = dir.path().join("log").join(format!("{:020}.log", 11));
    fs::write(&next, b"CTWIN").unwrap();
    let (mut store, twin, report) = open(store_config(dir.path())).unwrap();
    assert_eq!(report.truncated, Some((next.clone(), 0, 5)));
    assert_same(&twin, &reference(&records));
    assert_eq!(store.append(&workload(19, 1)).unwrap(), 11);
}

/// One log of 30 records, built once; cases write damaged copies of its only segment.
fn template() -> &'static (Vec<LogRecord>, Vec<u8>, std::ffi::OsString) {
    static TEMPLATE: std::sync::OnceLock<(Vec<LogRecord>, Vec<u8>, std::ffi::OsString)> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let records = workload(40, 30);
        let seg = build(dir.path(), &records, &store_config(dir.path()));
        (records, fs::read(&seg).unwrap(), seg.file_name().unwrap().to_owned())
    })
}

fn open_copy(
    bytes: &[u8],
) -> (tempfile::TempDir, Result<(twin_core::Twin, twin_core::store::RecoveryReport), StoreError>) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("log")).unwrap();
    fs::write(dir.path().join("log").join(&template().2), bytes).unwrap();
    let result = open(store_config(dir.path())).map(|(_, twin, report)| (twin, report));
    (dir, result)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// A crash can stop a write at any byte: recovery keeps exactly the records written whole.
    #[test]
    fn cut_anywhere_keeps_every_whole_record(cut in 12usize..10_000) {
        let (records, data, _) = template();
        let cut = cut.min(data.len());
        let offsets = frame_offsets(data);
        let whole = offsets.iter().skip(1).chain(std::iter::once(&data.len())).filter(|&&end| end <= cut).count();
        let (_dir, result) = open_copy(&data[..cut]);
        let (twin, report) = result.unwrap();
        proptest::prop_assert_eq!(report.replayed_records, whole as u64);
        proptest::prop_assert_eq!(report.truncated.is_some(), offsets.get(whole).is_some_and(|&o| o < cut));
        assert_same(&twin, &reference(&records[..whole]));
    }

    /// One damaged byte: in the last record it is a torn tail, anywhere before it names the
    /// frame that holds the byte.
    #[test]
    fn one_bad_byte_is_found_where_it_is(at in 12usize..10_000, xor in 1u8..=255) {
        let (records, data, name) = template();
        let at = 12 + at % (data.len() - 12);
        let offsets = frame_offsets(data);
        let frame = offsets.iter().rposition(|&o| o <= at).unwrap();
        let mut bad = data.clone();
        bad[at] ^= xor;
        let (dir, result) = open_copy(&bad);
        if frame + 1 == offsets.len() {
            let (twin, report) = result.unwrap();
            proptest::prop_assert_eq!(report.truncated.map(|t| t.1), Some(offsets[frame] as u64));
            assert_same(&twin, &reference(&records[..frame]));
        } else {
            match result {
                Err(StoreError::Corrupt { path, offset, .. }) => {
                    proptest::prop_assert_eq!(path, dir.path().join("log").join(name));
                    proptest::prop_assert_eq!(offset, offsets[frame] as u64);
                }
                other => proptest::prop_assert!(false, "byte {}: expected Corrupt, got {:?}", at, other.map(|(_, r)| r)),
            }
        }
    }
}
