//! Entities, their kinds and the observations that update them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC). The model never reads a clock: callers pass time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    /// `self + ms`, saturating.
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

/// Identifier the model assigns to an entity the first time it sees its (kind, external id).
/// Ids are dense and never reused; replaying the same log gives the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(pub u64);

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// WGS84 longitude/latitude in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lon: f64,
    pub lat: f64,
}

impl Position {
    pub const fn new(lon: f64, lat: f64) -> Self {
        Self { lon, lat }
    }
    /// Finite and inside [-180, 180] × [-90, 90].
    pub fn is_valid(&self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && (-180.0..=180.0).contains(&self.lon)
            && (-90.0..=90.0).contains(&self.lat)
    }
}

impl From<Position> for geo::Point<f64> {
    fn from(p: Position) -> Self {
        geo::Point::new(p.lon, p.lat)
    }
}

macro_rules! entity_kinds {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// What an entity is. The order is stable: it is part of the log format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EntityKind { $($variant),+ }

        impl EntityKind {
            pub const ALL: &'static [EntityKind] = &[$(EntityKind::$variant),+];
            pub const COUNT: usize = Self::ALL.len();

            /// snake_case name used in APIs, topics and tiles.
            pub const fn as_str(self) -> &'static str {
                match self { $(EntityKind::$variant => $name),+ }
            }
            /// Dense index in `0..COUNT`, stable across versions.
            pub const fn index(self) -> usize {
                self as usize
            }
            pub fn from_index(i: usize) -> Option<Self> {
                Self::ALL.get(i).copied()
            }
        }

        impl FromStr for EntityKind {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(EntityKind::$variant),)+
                    other => Err(crate::Error::UnknownKind(other.to_owned())),
                }
            }
        }
    };
}

entity_kinds! {
    Vessel => "vessel",
    FishingBoat => "fishing_boat",
    Bus => "bus",
    Ambulance => "ambulance",
    FireTruck => "fire_truck",
    PoliceUnit => "police_unit",
    Camera => "camera",
    Drone => "drone",
    FloodSensor => "flood_sensor",
    RainGauge => "rain_gauge",
    AirQualityStation => "air_quality_station",
    WaterQualityStation => "water_quality_station",
    CitizenReport => "citizen_report",
    Incident => "incident",
    Detection => "detection",
}

/// Kinds whose external ids come from one numbering, so one id names one object whatever the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSpace {
    /// AIS MMSI: a vessel first seen by position may turn out, from its static data, to be a
    /// fishing boat; it stays one entity.
    Mmsi,
}

impl EntityKind {
    /// The id space shared with other kinds, if any. An observation naming an external id that is
    /// live under another kind of the same space reclassifies that entity instead of creating one.
    pub const fn id_space(self) -> Option<IdSpace> {
        match self {
            EntityKind::Vessel | EntityKind::FishingBoat => Some(IdSpace::Mmsi),
            _ => None,
        }
    }

    /// The kind a feed files an object under before it knows better (AIS position reports before
    /// static data arrive): it updates a more specific sibling instead of reclassifying it.
    pub const fn is_generic_in_id_space(self) -> bool {
        matches!(self, EntityKind::Vessel)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of kinds, used as a query filter. The empty filter matches nothing; use [`KindFilter::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindFilter(u32);

impl KindFilter {
    pub const ALL: KindFilter = KindFilter((1u32 << EntityKind::COUNT) - 1);
    pub const NONE: KindFilter = KindFilter(0);

    pub fn only(kind: EntityKind) -> Self {
        KindFilter(1 << kind.index())
    }
    pub fn with(self, kind: EntityKind) -> Self {
        KindFilter(self.0 | (1 << kind.index()))
    }
    pub fn contains(self, kind: EntityKind) -> bool {
        self.0 & (1 << kind.index()) != 0
    }
    pub fn kinds(self) -> impl Iterator<Item = EntityKind> {
        EntityKind::ALL.iter().copied().filter(move |k| self.contains(*k))
    }
}

impl FromIterator<EntityKind> for KindFilter {
    fn from_iter<I: IntoIterator<Item = EntityKind>>(iter: I) -> Self {
        iter.into_iter().fold(KindFilter::NONE, KindFilter::with)
    }
}

/// A typed property value. Nested objects and arrays are deliberately not supported: properties are
/// flat attributes that tiles, filters and exports can carry as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl PropertyValue {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropertyValue::Int(i) => Some(*i as f64),
            PropertyValue::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Free-form typed properties, ordered by key so encodings are deterministic.
pub type Properties = BTreeMap<String, PropertyValue>;

/// One report about one entity from one source. Observations are what the durable log stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Feed that produced it (e.g. `http`, `ais:tcp:port`, `demo:buses`).
    pub source: String,
    pub kind: EntityKind,
    /// Id in the source's namespace: MMSI, plate or vehicle id, sensor id.
    pub external_id: String,
    pub time: Timestamp,
    pub position: Option<Position>,
    /// Degrees clockwise from true north, `[0, 360)`.
    pub heading: Option<f64>,
    /// Metres per second.
    pub speed: Option<f64>,
    pub status: Option<String>,
    /// Merged into the entity's properties; a key with an empty text value is not special.
    pub properties: Properties,
}

impl Observation {
    /// A minimal observation; fill the optional fields directly.
    pub fn new(kind: EntityKind, external_id: impl Into<String>, time: Timestamp) -> Self {
        Self {
            source: String::new(),
            kind,
            external_id: external_id.into(),
            time,
            position: None,
            heading: None,
            speed: None,
            status: None,
            properties: Properties::new(),
        }
    }

    pub fn at(mut self, lon: f64, lat: f64) -> Self {
        self.position = Some(Position::new(lon, lat));
        self
    }

    /// Checks what the model relies on: a non-empty id, a valid position, a finite heading and speed.
    pub fn validate(&self) -> Result<(), crate::Error> {
        if self.external_id.is_empty() {
            return Err(crate::Error::InvalidObservation { field: "id", reason: "must not be empty".into() });
        }
        if let Some(p) = self.position {
            if !p.is_valid() {
                return Err(crate::Error::InvalidObservation {
                    field: "lon/lat",
                    reason: format!("({}, {}) is not a WGS84 position", p.lon, p.lat),
                });
            }
        }
        if let Some(h) = self.heading {
            if !h.is_finite() || !(0.0..=360.0).contains(&h) {
                return Err(crate::Error::InvalidObservation {
                    field: "heading",
                    reason: format!("{h} is not in [0, 360]"),
                });
            }
        }
        if let Some(s) = self.speed {
            if !s.is_finite() || s < 0.0 {
                return Err(crate::Error::InvalidObservation {
                    field: "speed",
                    reason: format!("{s} is not a speed in m/s"),
                });
            }
        }
        for (k, v) in &self.properties {
            if let PropertyValue::Float(f) = v {
                if !f.is_finite() {
                    return Err(crate::Error::InvalidObservation {
                        field: "properties",
                        reason: format!("{k} is not a finite number"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// One point of an entity's track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub time: Timestamp,
    pub position: Position,
    pub heading: Option<f64>,
    pub speed: Option<f64>,
}

/// The latest state of an entity and its recent track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: EntityId,
    pub kind: EntityKind,
    pub external_id: String,
    /// Source of the latest observation.
    pub source: String,
    /// Time of the latest observation (the newest `time` seen, not the arrival time).
    pub last_seen: Timestamp,
    pub position: Option<Position>,
    pub heading: Option<f64>,
    pub speed: Option<f64>,
    pub status: Option<String>,
    pub properties: Properties,
    /// Oldest first, bounded by the model's track capacity.
    pub track: std::collections::VecDeque<TrackPoint>,
    /// Smoothed interval between observations in milliseconds (0 until two have been seen);
    /// the stale rule compares silence against it.
    pub mean_interval_ms: f64,
}

impl Entity {
    /// A display name taken from the usual properties, falling back to the external id.
    pub fn name(&self) -> &str {
        ["name", "shipname", "callsign", "call_sign"]
            .iter()
            .find_map(|k| self.properties.get(*k).and_then(PropertyValue::as_str))
            .unwrap_or(&self.external_id)
    }
}

impl Entity {
    /// Merges an observation that is not older than `last_seen` into the latest state: fields present
    /// in it replace ours, properties merge key by key, and the observation interval is smoothed
    /// with weight `alpha` (the first interval is taken as it is; repeated times are ignored).
    pub(crate) fn merge_latest(&mut self, obs: &Observation, alpha: f64) {
        let dt = obs.time.as_millis().saturating_sub(self.last_seen.as_millis()) as f64;
        if dt > 0.0 {
            self.mean_interval_ms = if self.mean_interval_ms > 0.0 {
                self.mean_interval_ms + alpha * (dt - self.mean_interval_ms)
            } else {
                dt
            };
        }
        if obs.position.is_some() {
            self.position = obs.position;
        }
        if obs.heading.is_some() {
            self.heading = obs.heading;
        }
        if obs.speed.is_some() {
            self.speed = obs.speed;
        }
        if obs.status.is_some() {
            self.status.clone_from(&obs.status);
        }
        for (k, v) in &obs.properties {
            match self.properties.get_mut(k) {
                Some(slot) => slot.clone_from(v),
                None => {
                    self.properties.insert(k.clone(), v.clone());
                }
            }
        }
        self.last_seen = obs.time;
        if self.source != obs.source {
            self.source.clone_from(&obs.source);
        }
    }

    /// Inserts a track point in time order (after points of the same time), then drops the oldest
    /// points beyond `capacity` or older than `max_age_ms` before the newest point.
    pub(crate) fn record_track(&mut self, point: TrackPoint, capacity: usize, max_age_ms: i64) {
        let at = self.track.partition_point(|q| q.time <= point.time);
        self.track.insert(at, point);
        while self.track.len() > capacity {
            self.track.pop_front();
        }
        if let Some(newest) = self.track.back().map(|p| p.time) {
            let cutoff = newest.as_millis().saturating_sub(max_age_ms);
            while self.track.front().is_some_and(|p| p.time.as_millis() < cutoff) {
                self.track.pop_front();
            }
        }
    }

    /// Track in time order, within `capacity`, and not newer than `last_seen`.
    pub(crate) fn track_is_consistent(&self, capacity: usize) -> bool {
        let sorted = self.track.iter().zip(self.track.iter().skip(1)).all(|(a, b)| a.time <= b.time);
        sorted && self.track.len() <= capacity && self.track.back().is_none_or(|p| p.time <= self.last_seen)
    }
}
