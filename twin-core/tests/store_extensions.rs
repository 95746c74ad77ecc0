//! Extension records and snapshot sections handed back on recovery, raised alerts replayed with
//! the same ids, and logs and snapshots written before either existed still opening.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod store_common;

use std::fs;

use store_common::*;
use twin_core::store::{
    CollectExtensions, ExtensionSection, ExtensionSections, LogRecord, ReplaySink, SinkError, Store, StoreError,
    UNATTRIBUTED,
};
use twin_core::{
    ActorId, Alert, AlertId, AlertSubject, Applied, EntityId, EntityKind, Position, RaiseAlert, RuleKind, Severity,
    Timestamp,
};

fn open_collecting(dir: &std::path::Path) -> (Store, twin_core::Twin, CollectExtensions) {
    let mut sink = CollectExtensions::default();
    let (store, twin, _) = Store::open_with(store_config(dir), twin_config(), rules(), &mut sink).unwrap();
    (store, twin, sink)
}

fn extensions_after(records: &[LogRecord], seq: u64) -> Vec<(u64, LogRecord)> {
    (1u64..)
        .zip(records.iter().cloned())
        .filter(|(s, r)| *s > seq && matches!(r, LogRecord::Extension { .. }))
        .collect()
}

fn sections(state: &[u8]) -> ExtensionSections {
    let mut s = ExtensionSections::new();
    s.insert(stream("cases"), ExtensionSection { version: 2, payload: state.to_vec() });
    s.insert(stream("dispatch"), ExtensionSection { version: 1, payload: Vec::new() });
    s
}

#[test]
fn snapshot_sections_and_later_extension_records_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(11, 150);
    assert!(records.iter().filter(|r| matches!(r, LogRecord::Extension { .. })).count() > 10);
    assert!(records.iter().filter(|r| matches!(r, LogRecord::RaiseAlert { .. })).count() > 10);
    let (mut store, mut twin, sink) = open_collecting(dir.path());
    assert_eq!(sink, CollectExtensions::default());
    append_all(&mut store, &mut twin, &records[..90]);
    store.snapshot_with(&twin, &sections(b"state at 90")).unwrap();
    append_all(&mut store, &mut twin, &records[90..]);
    drop(store);

    let (_, recovered, sink) = open_collecting(dir.path());
    assert_eq!(sink.snapshot_seq, Some(90));
    assert_eq!(sink.sections, sections(b"state at 90"));
    assert_eq!(sink.records, extensions_after(&records, 90));
    assert_same(&recovered, &twin);
    assert_same(&recovered, &reference(&records));
    assert!(recovered.alerts().iter().any(|a| a.rule_kind.is_raised()));
    assert!(recovered.alerts().iter().any(|a| !a.rule_kind.is_raised()));
    recovered.check_invariants().unwrap();

    // Without a snapshot every extension record comes back, from seq 1, and no sections.
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut twin, _) = open_collecting(dir.path());
    append_all(&mut store, &mut twin, &records);
    drop(store);
    let (_, _, sink) = open_collecting(dir.path());
    assert_eq!((sink.snapshot_seq, sink.sections.len()), (None, 0));
    assert_eq!(sink.records, extensions_after(&records, 0));
}

/// Sees every replayed record with what the model made of it.
#[derive(Default)]
struct Recorder {
    seen: Vec<(u64, Option<ActorId>, Vec<Alert>)>,
    fail_at: Option<u64>,
}

impl ReplaySink for Recorder {
    fn record(&mut self, seq: u64, record: &LogRecord, applied: &Applied) -> Result<(), SinkError> {
        if self.fail_at == Some(seq) {
            return Err("cannot read my own record".into());
        }
        self.seen.push((seq, record.actor().cloned(), applied.alerts.clone()));
        Ok(())
    }
}

#[test]
fn replay_hands_every_record_with_the_alerts_it_raised_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(12, 120);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    let mut live = Vec::new();
    for (seq, r) in (1u64..).zip(&records) {
        store.append(std::slice::from_ref(r)).unwrap();
        let applied = twin.apply_record(r);
        if seq > 40 {
            live.push((seq, r.actor().cloned(), applied.alerts));
        }
        if seq == 40 {
            store.snapshot(&twin).unwrap();
        }
    }
    drop(store);
    let mut sink = Recorder::default();
    let (_, recovered, report) = Store::open_with(store_config(dir.path()), twin_config(), rules(), &mut sink).unwrap();
    assert_eq!(report.replayed_records, 80);
    assert_eq!(sink.seen, live);
    assert!(live.iter().any(|(_, _, alerts)| alerts.iter().any(|a| a.rule_kind.is_raised())));
    assert_same(&recovered, &twin);

    // A consumer that refuses a record stops recovery and says which.
    let mut sink = Recorder { fail_at: Some(57), ..Recorder::default() };
    match Store::open_with(store_config(dir.path()), twin_config(), rules(), &mut sink) {
        Err(StoreError::Replay { seq: Some(57), source }) => {
            assert_eq!(source.to_string(), "cannot read my own record")
        }
        Err(e) => panic!("expected a replay error, got {e}"),
        Ok(_) => panic!("expected a replay error"),
    }
    assert_eq!(sink.seen.len(), 16);
}

#[test]
fn snapshot_falls_back_with_its_own_sections() {
    let dir = tempfile::tempdir().unwrap();
    let records = workload(13, 100);
    let (mut store, mut twin, _) = open(store_config(dir.path())).unwrap();
    append_all(&mut store, &mut twin, &records[..30]);
    store.snapshot_with(&twin, &sections(b"at 30")).unwrap();
    append_all(&mut store, &mut twin, &records[30..70]);
    store.snapshot_with(&twin, &sections(b"at 70")).unwrap();
    append_all(&mut store, &mut twin, &records[70..]);
    drop(store);
    // Damage the newest snapshot: recovery starts from the older one, with the older sections.
    let newest = dir.path().join("snapshots").join(format!("snapshot-{:020}.bin", 70));
    let mut data = fs::read(&newest).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    fs::write(&newest, data).unwrap();
    let (_, recovered, sink) = open_collecting(dir.path());
    assert_eq!((sink.snapshot_seq, sink.sections), (Some(30), sections(b"at 30")));
    assert_eq!(sink.records, extensions_after(&records, 30));
    assert_same(&recovered, &twin);
}

// --- Files written before this format change, built by hand from the documented layouts. ---

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_pos(out: &mut Vec<u8>, lon: f64, lat: f64) {
    out.push(1);
    out.extend_from_slice(&lon.to_le_bytes());
    out.extend_from_slice(&lat.to_le_bytes());
}

/// A version-1 snapshot at seq 5: one bus (id 0) inside the "centre" fence, one geofence_enter
/// alert about it (id 3, next 4), the bus inside the fence in the rule state.
fn v1_snapshot() -> Vec<u8> {
    let mut entity = Vec::new();
    entity.extend_from_slice(&0u64.to_le_bytes());
    entity.push(EntityKind::Bus.index() as u8);
    put_str(&mut entity, "43B-001");
    put_str(&mut entity, "test");
    entity.extend_from_slice(&T0.to_le_bytes());
    put_pos(&mut entity, 108.22, 16.06);
    entity.extend_from_slice(&[0, 0, 0]); // heading, speed, status
    entity.extend_from_slice(&0u32.to_le_bytes()); // properties
    entity.extend_from_slice(&1u32.to_le_bytes()); // one track point
    entity.extend_from_slice(&T0.to_le_bytes());
    entity.extend_from_slice(&108.22f64.to_le_bytes());
    entity.extend_from_slice(&16.06f64.to_le_bytes());
    entity.extend_from_slice(&[0, 0]);
    entity.extend_from_slice(&0f64.to_le_bytes()); // mean interval

    let mut data = b"CTWINSNP".to_vec();
    data.extend_from_slice(&1u32.to_le_bytes());
    data.extend_from_slice(&5u64.to_le_bytes()); // seq
    data.extend_from_slice(&1u64.to_le_bytes()); // next entity id
    data.extend_from_slice(&4u64.to_le_bytes()); // next alert id
    data.extend_from_slice(&1u32.to_le_bytes()); // one entity chunk
    data.extend_from_slice(&(4 + entity.len() as u64).to_le_bytes());
    data.extend_from_slice(&1u32.to_le_bytes());
    data.extend_from_slice(&entity);
    data.extend_from_slice(&1u32.to_le_bytes()); // one alert, v1 layout
    data.extend_from_slice(&3u64.to_le_bytes());
    data.extend_from_slice(&T0.to_le_bytes());
    data.extend_from_slice(&0u64.to_le_bytes()); // entity
    data.push(EntityKind::Bus.index() as u8);
    put_str(&mut data, "43B-001");
    put_str(&mut data, "centre");
    data.push(0); // geofence_enter
    data.push(1); // moderate
    put_str(&mut data, "bus entered Centre");
    put_pos(&mut data, 108.22, 16.06);
    data.extend_from_slice(&1u32.to_le_bytes()); // rule state: inside
    data.extend_from_slice(&0u64.to_le_bytes());
    put_str(&mut data, "centre");
    data.extend_from_slice(&0u32.to_le_bytes()); // holding
    data.extend_from_slice(&0u32.to_le_bytes()); // stale
    let crc = crc32fast::hash(&data);
    data.extend_from_slice(&crc.to_le_bytes());
    data
}

/// A version-1 segment from seq 6: the bus leaves the fence (tag 0, no actor), then a removal of
/// an unknown entity (tag 2).
fn v1_segment() -> Vec<u8> {
    let mut obs = 6u64.to_le_bytes().to_vec();
    obs.push(0);
    obs.extend_from_slice(&1u32.to_le_bytes());
    put_str(&mut obs, "test");
    obs.push(EntityKind::Bus.index() as u8);
    put_str(&mut obs, "43B-001");
    obs.extend_from_slice(&(T0 + 1_000).to_le_bytes());
    put_pos(&mut obs, 108.10, 16.06);
    obs.extend_from_slice(&[0, 0, 0]);
    obs.extend_from_slice(&0u32.to_le_bytes());
    let mut remove = 7u64.to_le_bytes().to_vec();
    remove.push(2);
    remove.extend_from_slice(&99u64.to_le_bytes());

    let mut data = b"CTWINLOG".to_vec();
    data.extend_from_slice(&1u32.to_le_bytes());
    for payload in [obs, remove] {
        data.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        data.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        data.extend_from_slice(&payload);
    }
    data
}

#[test]
fn version_1_snapshot_and_log_written_before_still_open() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("snapshots")).unwrap();
    fs::create_dir_all(dir.path().join("log")).unwrap();
    fs::write(dir.path().join("snapshots").join(format!("snapshot-{:020}.bin", 5)), v1_snapshot()).unwrap();
    fs::write(dir.path().join("log").join(format!("{:020}.log", 6)), v1_segment()).unwrap();

    let mut sink = Recorder::default();
    let (mut store, mut twin, report) =
        Store::open_with(store_config(dir.path()), twin_config(), rules(), &mut sink).unwrap();
    assert_eq!((report.snapshot_seq, report.replayed_records), (Some(5), 2));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let unattributed = Some(ActorId(UNATTRIBUTED.into()));
    let seen: Vec<_> = sink.seen.iter().map(|(seq, actor, _)| (*seq, actor.clone())).collect();
    assert_eq!(seen, [(6, unattributed.clone()), (7, unattributed)]);
    // The bus left the fence: an exit alert numbered after the snapshot's alert.
    let exit = &sink.seen[0].2;
    assert_eq!(exit.len(), 1);
    assert_eq!(
        (exit[0].id, exit[0].rule_kind, exit[0].entity),
        (AlertId(4), RuleKind::GeofenceExit, Some(EntityId(0)))
    );
    let old = &twin.alerts()[0];
    assert_eq!((old.id, old.entity, old.rule.as_str()), (AlertId(3), Some(EntityId(0)), "centre"));
    assert_eq!(old.position, Some(Position::new(108.22, 16.06)));
    assert!(old.detail.is_empty());
    assert_eq!(twin.get(EntityId(0)).unwrap().position, Some(Position::new(108.10, 16.06)));
    twin.check_invariants().unwrap();

    // New records follow on, and a raised alert continues the same sequence.
    let subject = AlertSubject::Key { kind: EntityKind::Bus, external_id: "43B-001".into() };
    let raise = RaiseAlert::new(Timestamp(T0 + 2_000), RuleKind::FireAlarm, "panel-3", Severity::Extreme, subject, "");
    let record = LogRecord::RaiseAlert { actor: ActorId("device:panel-3".into()), alert: raise };
    assert_eq!(store.append(std::slice::from_ref(&record)).unwrap(), 8);
    assert_eq!(twin.apply_record(&record).alerts[0].id, AlertId(5));
    store.snapshot(&twin).unwrap();
    drop(store);
    let (_, reopened, report) = open(store_config(dir.path())).unwrap();
    assert_eq!((report.snapshot_seq, report.replayed_records), (Some(8), 0));
    assert_same(&reopened, &twin);
}
