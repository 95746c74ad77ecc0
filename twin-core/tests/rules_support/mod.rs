//! Helpers shared by the rules tests: entities built by hand, metric offsets, a tiny seeded RNG.
#![allow(dead_code)]

use std::collections::VecDeque;

use geo::{MultiPolygon, Polygon};
use twin_core::rules::{Geofence, Severity};
use twin_core::{Entity, EntityId, EntityKind, KindFilter, Position, Properties, PropertyValue, Timestamp};

/// Near Hải Châu, Da Nang.
pub const ORIGIN: Position = Position::new(108.2200, 16.0600);

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// The point `east_m` / `north_m` metres from `origin` (local flat approximation).
pub fn offset(origin: Position, east_m: f64, north_m: f64) -> Position {
    let lat = origin.lat + north_m / M_PER_DEG;
    let lon = origin.lon + east_m / (M_PER_DEG * origin.lat.to_radians().cos());
    Position::new(lon, lat)
}

pub fn entity(id: u64, kind: EntityKind, external_id: &str) -> Entity {
    Entity {
        id: EntityId(id),
        kind,
        external_id: external_id.to_owned(),
        source: "test".to_owned(),
        last_seen: Timestamp(0),
        position: None,
        heading: None,
        speed: None,
        status: None,
        properties: Properties::new(),
        track: VecDeque::new(),
        mean_interval_ms: 0.0,
    }
}

pub fn bus(id: u64) -> Entity {
    entity(id, EntityKind::Bus, &format!("43B-{id:03}"))
}

/// Moves the entity and stamps it as seen at `t`.
pub fn moved(mut e: Entity, p: Position, t: i64) -> Entity {
    e.position = Some(p);
    e.last_seen = Timestamp(t);
    e
}

pub fn with_value(mut e: Entity, key: &str, v: PropertyValue, t: i64) -> Entity {
    e.properties.insert(key.to_owned(), v);
    e.last_seen = Timestamp(t);
    e
}

/// A square `half_m` metres either side of `center` (west edge at `center - half_m` east).
pub fn square_area(center: Position, half_m: f64) -> MultiPolygon<f64> {
    let corners = [(-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m)];
    let ring: Vec<(f64, f64)> = corners
        .iter()
        .map(|&(e, n)| {
            let p = offset(center, e, n);
            (p.lon, p.lat)
        })
        .collect();
    MultiPolygon::new(vec![Polygon::new(ring.into(), vec![])])
}

pub fn fence(id: &str, name: &str, area: MultiPolygon<f64>, hysteresis_m: f64) -> Geofence {
    Geofence {
        id: id.to_owned(),
        name: name.to_owned(),
        area,
        kinds: KindFilter::ALL,
        hysteresis_m,
        alert_on_enter: true,
        alert_on_exit: true,
        severity: Severity::Moderate,
    }
}

/// xorshift64*: deterministic, good enough for jitter.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// Uniform in [-1, 1).
    pub fn signed_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}
