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

    /// Checks what the model relies on: a non-empty id, a valid position, a finite heading and
    /// speed, and every text within its limit ([`MAX_EXTERNAL_ID_BYTES`] and the other `MAX_*`
    /// constants of this module), so that no single observation can make an entity large.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let invalid = |field: &'static str, reason: String| Err(crate::Error::InvalidObservation { field, reason });
        if self.external_id.is_empty() {
            return invalid("id", "must not be empty".into());
        }
        if let Some(reason) = too_long(&self.external_id, MAX_EXTERNAL_ID_BYTES) {
            return invalid("id", reason);
        }
        if let Some(reason) = too_long(&self.source, MAX_SOURCE_BYTES) {
            return invalid("source", reason);
        }
        if let Some(reason) = self.status.as_deref().and_then(|s| too_long(s, MAX_STATUS_BYTES)) {
            return invalid("status", reason);
        }
        if let Some(p) = self.position {
            if !p.is_valid() {
                return invalid("lon/lat", format!("({}, {}) is not a WGS84 position", p.lon, p.lat));
            }
        }
        if let Some(h) = self.heading {
            if !h.is_finite() || !(0.0..=360.0).contains(&h) {
                return invalid("heading", format!("{h} is not in [0, 360]"));
            }
        }
        if let Some(s) = self.speed {
            if !s.is_finite() || s < 0.0 {
                return invalid("speed", format!("{s} is not a speed in m/s"));
            }
        }
        if self.properties.len() > MAX_PROPERTIES {
            return invalid("properties", format!("{} properties, at most {MAX_PROPERTIES}", self.properties.len()));
        }
        let mut text_bytes = 0usize;
        for (k, v) in &self.properties {
            if let Some(reason) = too_long(k, MAX_PROPERTY_NAME_BYTES) {
                return invalid("properties", format!("name: {reason}"));
            }
            match v {
                PropertyValue::Float(f) if !f.is_finite() => {
                    return invalid("properties", format!("{k} is not a finite number"));
                }
                PropertyValue::Text(s) => {
                    if let Some(reason) = too_long(s, MAX_TEXT_PROPERTY_BYTES) {
                        return invalid("properties", format!("{k}: {reason}"));
                    }
                    text_bytes += s.len();
                }
                _ => {}
            }
        }
        if text_bytes > MAX_TEXT_PROPERTIES_TOTAL_BYTES {
            return invalid(
                "properties",
                format!("{text_bytes} bytes of text, at most {MAX_TEXT_PROPERTIES_TOTAL_BYTES} together"),
            );
        }
        Ok(())
    }

    /// [`Observation::validate`], and not more than [`MAX_FUTURE_MS`] after `now`: a forged
    /// far-future time would pin the entity (older observations never replace a newer one). The
    /// model reads no clock, so whoever accepts observations passes its own `now`; replay does not
    /// check it again (what was in time when logged stays valid).
    pub fn validate_at(&self, now: Timestamp) -> Result<(), crate::Error> {
        self.validate()?;
        let latest = now.plus_millis(MAX_FUTURE_MS);
        if self.time > latest {
            return Err(crate::Error::InvalidObservation {
                field: "time",
                reason: format!(
                    "{} ms is more than {MAX_FUTURE_MS} ms after the server's clock ({} ms)",
                    self.time.as_millis(),
                    now.as_millis()
                ),
            });
        }
        Ok(())
    }
}

/// Longest external id, in bytes (MMSIs, plates and sensor ids are far shorter).
pub const MAX_EXTERNAL_ID_BYTES: usize = 128;
/// Longest status, in bytes.
pub const MAX_STATUS_BYTES: usize = 64;
/// Longest property name, in bytes.
pub const MAX_PROPERTY_NAME_BYTES: usize = 64;
/// Longest text property value, in bytes: room for a citizen report's description (2000
/// characters, Vietnamese letters taking two or three bytes each).
pub const MAX_TEXT_PROPERTY_BYTES: usize = 8 * 1024;
/// Most text, in bytes, all text property values of one observation may carry together, so that
/// [`MAX_PROPERTIES`] long values cannot add up.
pub const MAX_TEXT_PROPERTIES_TOTAL_BYTES: usize = 16 * 1024;
/// Most properties one observation may carry.
pub const MAX_PROPERTIES: usize = 64;
/// Longest source name, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64;
/// How far after the accepting server's clock an observation's time may be, in milliseconds:
/// room for devices whose clocks run a little fast, not for a time that would pin an entity.
pub const MAX_FUTURE_MS: i64 = 5 * 60_000;

/// Why `s` is over `max` bytes, if it is.
fn too_long(s: &str, max: usize) -> Option<String> {
    (s.len() > max).then(|| format!("{} bytes, at most {max}", s.len()))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::Error;

    fn obs() -> Observation {
        let mut o = Observation::new(EntityKind::Bus, "b1", Timestamp(1_000)).at(106.7, 10.8);
        o.source = "http".into();
        o
    }

    /// The field a refusal names.
    fn field_of(o: &Observation) -> &'static str {
        match o.validate() {
            Err(Error::InvalidObservation { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn external_id_is_limited() {
        let mut o = obs();
        o.external_id = "x".repeat(MAX_EXTERNAL_ID_BYTES);
        assert!(o.validate().is_ok());
        // Bytes, not characters: 65 two-byte letters are 130 bytes.
        o.external_id = "ư".repeat(MAX_EXTERNAL_ID_BYTES / 2 + 1);
        assert_eq!(field_of(&o), "id");
    }

    #[test]
    fn status_is_limited() {
        let mut o = obs();
        o.status = Some("s".repeat(MAX_STATUS_BYTES));
        assert!(o.validate().is_ok());
        o.status = Some("s".repeat(MAX_STATUS_BYTES + 1));
        assert_eq!(field_of(&o), "status");
    }

    #[test]
    fn source_is_limited() {
        let mut o = obs();
        o.source = "s".repeat(MAX_SOURCE_BYTES);
        assert!(o.validate().is_ok());
        o.source = "s".repeat(MAX_SOURCE_BYTES + 1);
        assert_eq!(field_of(&o), "source");
    }

    #[test]
    fn property_names_are_limited() {
        let mut o = obs();
        o.properties.insert("k".repeat(MAX_PROPERTY_NAME_BYTES), PropertyValue::Int(1));
        assert!(o.validate().is_ok());
        o.properties.insert("k".repeat(MAX_PROPERTY_NAME_BYTES + 1), PropertyValue::Int(1));
        assert_eq!(field_of(&o), "properties");
    }

    #[test]
    fn text_values_are_limited() {
        let mut o = obs();
        o.properties.insert("description".into(), PropertyValue::Text("d".repeat(MAX_TEXT_PROPERTY_BYTES)));
        assert!(o.validate().is_ok());
        o.properties.insert("description".into(), PropertyValue::Text("d".repeat(MAX_TEXT_PROPERTY_BYTES + 1)));
        assert_eq!(field_of(&o), "properties");
        let Err(Error::InvalidObservation { reason, .. }) = o.validate() else { unreachable!() };
        assert!(reason.starts_with("description:"), "{reason}");
    }

    #[test]
    fn text_values_together_are_limited() {
        let mut o = obs();
        let per = MAX_TEXT_PROPERTY_BYTES;
        let fit = MAX_TEXT_PROPERTIES_TOTAL_BYTES / per;
        for i in 0..fit {
            o.properties.insert(format!("t{i}"), PropertyValue::Text("v".repeat(per)));
        }
        assert!(o.validate().is_ok());
        o.properties.insert("one_more".into(), PropertyValue::Text("v".into()));
        assert_eq!(field_of(&o), "properties");
    }

    #[test]
    fn property_count_is_limited() {
        let mut o = obs();
        for i in 0..MAX_PROPERTIES {
            o.properties.insert(format!("p{i}"), PropertyValue::Bool(true));
        }
        assert!(o.validate().is_ok());
        o.properties.insert("one_more".into(), PropertyValue::Bool(true));
        assert_eq!(field_of(&o), "properties");
    }

    #[test]
    fn far_future_times_are_refused_against_the_given_now() {
        let now = Timestamp(1_764_000_000_000);
        let mut o = obs();
        o.time = now.plus_millis(MAX_FUTURE_MS);
        assert!(o.validate_at(now).is_ok());
        o.time = now.plus_millis(MAX_FUTURE_MS + 1);
        assert!(o.validate().is_ok(), "the plain check reads no clock");
        match o.validate_at(now) {
            Err(Error::InvalidObservation { field, .. }) => assert_eq!(field, "time"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // The rest of validate still applies, and the past is fine.
        o.time = Timestamp(0);
        assert!(o.validate_at(now).is_ok());
        o.external_id.clear();
        assert!(o.validate_at(now).is_err());
    }
}
