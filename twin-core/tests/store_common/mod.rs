//! Shared fixtures for the store tests: a deterministic workload that exercises entities, tracks,
//! expiry, removals and all three rule kinds, and a model comparison.
#![allow(dead_code)]

use std::path::Path;

use geo::{polygon, MultiPolygon};
use twin_core::rules::{Comparison, Geofence, StaleRule, ThresholdRule};
use twin_core::store::{LogRecord, RecoveryReport, Store, StoreConfig, StoreError, StreamName};
use twin_core::{
    ActorId, AlertSubject, BBox, EntityId, EntityKind, KindFilter, Observation, PropertyValue, RaiseAlert, RuleKind,
    RuleSet, Severity, Timestamp, Twin, TwinConfig,
};

pub const T0: i64 = 1_795_000_000_000;

pub fn rules() -> RuleSet {
    let area: MultiPolygon<f64> = polygon![
        (x: 108.20, y: 16.04), (x: 108.24, y: 16.04), (x: 108.24, y: 16.08), (x: 108.20, y: 16.08),
    ]
    .into();
    RuleSet {
        geofences: vec![Geofence {
            id: "centre".into(),
            name: "Centre".into(),
            area,
            kinds: KindFilter::ALL,
            hysteresis_m: 5.0,
            alert_on_enter: true,
            alert_on_exit: true,
            severity: Severity::Moderate,
        }],
        thresholds: vec![ThresholdRule {
            id: "flood".into(),
            name: "Water high".into(),
            kinds: KindFilter::only(EntityKind::FloodSensor),
            property: "water_level_cm".into(),
            comparison: Comparison::Above,
            threshold: 30.0,
            duration_ms: 20_000,
            severity: Severity::Severe,
        }],
        stale: vec![StaleRule {
            id: "silent".into(),
            kinds: KindFilter::only(EntityKind::FloodSensor),
            factor: 3.0,
            min_silence_ms: 30_000,
            severity: Severity::Minor,
        }],
    }
}

pub fn twin_config() -> TwinConfig {
    TwinConfig { track_capacity: 8, ..TwinConfig::default() }.with_expiry(EntityKind::CitizenReport, Some(60_000))
}

pub fn fresh_twin() -> Twin {
    Twin::with_rules(twin_config(), rules()).unwrap()
}

pub fn store_config(dir: &Path) -> StoreConfig {
    StoreConfig { snapshot_after_bytes: 1 << 40, ..StoreConfig::new(dir) }
}

pub fn open(config: StoreConfig) -> Result<(Store, Twin, RecoveryReport), StoreError> {
    Store::open(config, twin_config(), rules())
}

/// Small xorshift generator: deterministic workloads without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn actor(name: &str) -> ActorId {
    ActorId(name.to_owned())
}

pub fn stream(name: &str) -> StreamName {
    StreamName::new(name).unwrap()
}

/// A raised alert about one of the workload's subjects: an entity by key or by id (live or not),
/// or a feed.
pub fn raised(rng: &mut Rng, t: i64) -> RaiseAlert {
    let subject = match rng.below(3) {
        0 => AlertSubject::Key { kind: EntityKind::Bus, external_id: format!("bus-{}", rng.below(12)) },
        1 => AlertSubject::Entity(EntityId(rng.below(40))),
        _ => AlertSubject::Feed { name: "ais:tcp:4001".into(), kind: EntityKind::Vessel },
    };
    let kinds = [RuleKind::FeedStale, RuleKind::CameraQueue, RuleKind::CameraStoppedVehicle, RuleKind::FireAlarm];
    let kind = kinds[rng.below(kinds.len() as u64) as usize];
    let mut a = RaiseAlert::new(Timestamp(t), kind, "monitor", Severity::Moderate, subject, format!("{kind} at {t}"));
    a.detail.insert("vehicles".into(), PropertyValue::Int(rng.below(30) as i64));
    if rng.below(2) == 0 {
        a.position = Some(twin_core::Position::new(108.2 + rng.unit() * 0.05, 16.05));
    }
    a
}

/// `n` records: mostly observation batches over a few dozen entities, with ticks, removals, raised
/// alerts and extension records.
pub fn workload(seed: u64, n: usize) -> Vec<LogRecord> {
    let mut rng = Rng::new(seed);
    let kinds = [EntityKind::Bus, EntityKind::FloodSensor, EntityKind::CitizenReport, EntityKind::Vessel];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = T0 + i as i64 * 5_000;
        match rng.below(12) {
            0 => out.push(LogRecord::Tick(Timestamp(t))),
            1 => out.push(LogRecord::Remove { actor: actor("user:op"), id: EntityId(rng.below(40)) }),
            2 => out.push(LogRecord::RaiseAlert { actor: actor("system"), alert: raised(&mut rng, t) }),
            3 => out.push(LogRecord::Extension {
                actor: actor("user:op"),
                stream: stream(if rng.below(2) == 0 { "cases" } else { "dispatch" }),
                version: 1,
                payload: (0..rng.below(20)).map(|_| rng.below(256) as u8).collect(),
            }),
            _ => {
                let batch = (0..1 + rng.below(6))
                    .map(|j| {
                        let kind = kinds[rng.below(kinds.len() as u64) as usize];
                        let mut o =
                            Observation::new(kind, format!("{kind}-{}", rng.below(12)), Timestamp(t + j as i64))
                                .at(108.18 + rng.unit() * 0.08, 16.02 + rng.unit() * 0.08);
                        o.source = "test".into();
                        o.heading = (rng.below(2) == 0).then(|| rng.unit() * 359.0);
                        o.speed = Some(rng.unit() * 12.0);
                        o.status = (rng.below(3) == 0).then(|| "on route".to_string());
                        o.properties.insert("water_level_cm".into(), PropertyValue::Float(rng.unit() * 60.0));
                        o.properties.insert("name".into(), PropertyValue::Text(format!("Đà Nẵng {j}")));
                        o.properties.insert("ok".into(), PropertyValue::Bool(rng.below(2) == 0));
                        o.properties.insert("n".into(), PropertyValue::Int(rng.below(1000) as i64 - 500));
                        o
                    })
                    .collect();
                out.push(LogRecord::Observations { actor: actor("device:test"), batch });
            }
        }
    }
    out
}

pub fn apply(twin: &mut Twin, record: &LogRecord) {
    twin.apply_record(record);
}

/// The model obtained by applying `records` to a fresh twin, without any store.
pub fn reference(records: &[LogRecord]) -> Twin {
    let mut twin = fresh_twin();
    for r in records {
        apply(&mut twin, r);
    }
    twin
}

/// Appends each record and applies it, as the server's writer does.
pub fn append_all(store: &mut Store, twin: &mut Twin, records: &[LogRecord]) {
    for r in records {
        store.append(std::slice::from_ref(r)).unwrap();
        apply(twin, r);
    }
}

/// Same entities (with tracks), counts, alerts, rule state and id counters; indexes answer alike.
pub fn assert_same(actual: &Twin, expected: &Twin) {
    assert_eq!(actual.len(), expected.len());
    assert_eq!(actual.counts(), expected.counts());
    assert_eq!(actual.alerts(), expected.alerts());
    assert_eq!(actual.to_parts(), expected.to_parts());
    let bbox = BBox::new(108.19, 16.03, 108.23, 16.07).unwrap();
    let ids = |t: &Twin| t.in_bbox(bbox, KindFilter::ALL).iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(actual), ids(expected));
}

/// Byte offsets of every frame of a segment file, parsed independently of the store code from the
/// documented layout: 12-byte header, then `[u32 len][u32 crc][payload]`.
pub fn frame_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 12;
    while pos + 8 <= data.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 8 + len;
    }
    assert_eq!(pos, data.len(), "segment does not end on a frame boundary");
    offsets
}

pub fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("log")).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}
