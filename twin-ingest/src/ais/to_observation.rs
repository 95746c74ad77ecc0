//! From AIS messages to model [`Observation`]s, with static data (types 5, 19, 24) remembered
//! per MMSI so later position reports carry the vessel's name, type and size.

use std::collections::HashMap;

use twin_core::{EntityKind, Observation, Position, Properties, PropertyValue, Timestamp};

use super::messages::*;

/// Metres per second in one knot.
pub const KNOTS_TO_MPS: f64 = 1852.0 / 3600.0;
/// Ship-and-cargo type code for fishing vessels.
pub const SHIPTYPE_FISHING: u8 = 30;
/// Source name used for AIS observations unless the caller sets another.
pub const SOURCE: &str = "ais";

/// What a vessel has told us about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VesselStatic {
    pub shipname: Option<String>,
    pub callsign: Option<String>,
    pub shiptype: Option<u8>,
    pub destination: Option<String>,
    pub imo: Option<u32>,
    pub draught: Option<f64>,
    pub dimensions: Option<Dimensions>,
}

impl VesselStatic {
    /// Fishing boats by ship type 30; every other vessel is a Vessel.
    pub fn kind(&self) -> EntityKind {
        if self.shiptype == Some(SHIPTYPE_FISHING) {
            EntityKind::FishingBoat
        } else {
            EntityKind::Vessel
        }
    }

    fn merge_from(&mut self, msg: &AisMessage) {
        fn text(s: &str) -> Option<String> {
            (!s.is_empty()).then(|| s.to_owned())
        }
        fn dims(d: &Dimensions) -> Option<Dimensions> {
            (*d != Dimensions::default()).then_some(*d)
        }
        match msg {
            AisMessage::StaticVoyage(m) => {
                self.shipname = text(&m.shipname).or(self.shipname.take());
                self.callsign = text(&m.callsign).or(self.callsign.take());
                self.destination = text(&m.destination).or(self.destination.take());
                self.shiptype = (m.shiptype != 0).then_some(m.shiptype).or(self.shiptype);
                self.imo = (m.imo != 0).then_some(m.imo).or(self.imo);
                self.draught = m.draught.or(self.draught);
                self.dimensions = dims(&m.dimensions).or(self.dimensions);
            }
            AisMessage::ClassBExtended(m) => {
                self.shipname = text(&m.shipname).or(self.shipname.take());
                self.shiptype = (m.shiptype != 0).then_some(m.shiptype).or(self.shiptype);
                self.dimensions = dims(&m.dimensions).or(self.dimensions);
            }
            AisMessage::StaticDataA(m) => {
                self.shipname = text(&m.shipname).or(self.shipname.take());
            }
            AisMessage::StaticDataB(m) => {
                self.callsign = text(&m.callsign).or(self.callsign.take());
                self.shiptype = (m.shiptype != 0).then_some(m.shiptype).or(self.shiptype);
                self.dimensions = dims(&m.dimensions).or(self.dimensions);
            }
            _ => {}
        }
    }

    fn write_properties(&self, p: &mut Properties) {
        let mut put = |k: &str, v: PropertyValue| {
            p.insert(k.to_owned(), v);
        };
        if let Some(s) = &self.shipname {
            put("shipname", PropertyValue::Text(s.clone()));
        }
        if let Some(s) = &self.callsign {
            put("callsign", PropertyValue::Text(s.clone()));
        }
        if let Some(s) = &self.destination {
            put("destination", PropertyValue::Text(s.clone()));
        }
        if let Some(t) = self.shiptype {
            put("shiptype", PropertyValue::Int(i64::from(t)));
            put("shiptype_text", PropertyValue::Text(shiptype_text(t).to_owned()));
        }
        if let Some(imo) = self.imo {
            put("imo", PropertyValue::Int(i64::from(imo)));
        }
        if let Some(d) = self.draught {
            put("draught_m", PropertyValue::Float(d));
        }
        if let Some(d) = &self.dimensions {
            let (length, beam) = d.length_beam();
            if let Some(l) = length {
                put("length_m", PropertyValue::Int(i64::from(l)));
            }
            if let Some(b) = beam {
                put("beam_m", PropertyValue::Int(i64::from(b)));
            }
        }
    }
}

/// Remembers static data per MMSI (bounded) and turns messages into observations.
#[derive(Debug, Clone)]
pub struct VesselRegistry {
    vessels: HashMap<u32, VesselStatic>,
    capacity: usize,
}

impl Default for VesselRegistry {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl VesselRegistry {
    /// `capacity`: most vessels remembered; beyond it an arbitrary one is forgotten.
    pub fn new(capacity: usize) -> Self {
        Self { vessels: HashMap::new(), capacity: capacity.max(1) }
    }

    pub fn get(&self, mmsi: u32) -> Option<&VesselStatic> {
        self.vessels.get(&mmsi)
    }

    pub fn len(&self) -> usize {
        self.vessels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vessels.is_empty()
    }

    /// Records static data from `msg` (if any) and returns the observation it gives, if any.
    pub fn observe(&mut self, msg: &AisMessage, time: Timestamp) -> Option<Observation> {
        let mmsi = msg.mmsi();
        let is_static = matches!(
            msg,
            AisMessage::StaticVoyage(_)
                | AisMessage::ClassBExtended(_)
                | AisMessage::StaticDataA(_)
                | AisMessage::StaticDataB(_)
        );
        if is_static {
            if !self.vessels.contains_key(&mmsi) && self.vessels.len() >= self.capacity {
                if let Some(&victim) = self.vessels.keys().next() {
                    self.vessels.remove(&victim);
                }
            }
            self.vessels.entry(mmsi).or_default().merge_from(msg);
        }
        let known = self.vessels.get(&mmsi);
        build(msg, time, known)
    }
}

/// A message as an observation without remembered static data: the kind comes from the
/// message itself when it carries a ship type, else Vessel. Base stations, aids to navigation
/// and unsupported types give `None`.
pub fn to_observation(msg: &AisMessage, time: Timestamp) -> Option<Observation> {
    let mut own = VesselStatic::default();
    own.merge_from(msg);
    build(msg, time, Some(&own))
}

struct Motion {
    lon: Option<f64>,
    lat: Option<f64>,
    speed_kn: Option<f64>,
    course: Option<f64>,
    heading: Option<u16>,
}

fn build(msg: &AisMessage, time: Timestamp, known: Option<&VesselStatic>) -> Option<Observation> {
    let mut props = Properties::new();
    let (motion, status, class) = match msg {
        AisMessage::Position(m) => {
            props.insert("nav_status".into(), PropertyValue::Int(i64::from(m.status)));
            let motion = Motion { lon: m.lon, lat: m.lat, speed_kn: m.speed, course: m.course, heading: m.heading };
            (Some(motion), Some(m.status), "A")
        }
        AisMessage::ClassBPosition(m) => {
            let motion = Motion { lon: m.lon, lat: m.lat, speed_kn: m.speed, course: m.course, heading: m.heading };
            (Some(motion), None, "B")
        }
        AisMessage::ClassBExtended(m) => {
            let motion = Motion { lon: m.lon, lat: m.lat, speed_kn: m.speed, course: m.course, heading: m.heading };
            (Some(motion), None, "B")
        }
        AisMessage::LongRange(m) => {
            props.insert("nav_status".into(), PropertyValue::Int(i64::from(m.status)));
            props.insert("long_range".into(), PropertyValue::Bool(true));
            let motion = Motion {
                lon: m.lon,
                lat: m.lat,
                speed_kn: m.speed.map(f64::from),
                course: m.course.map(f64::from),
                heading: None,
            };
            (Some(motion), Some(m.status), "A")
        }
        AisMessage::StaticVoyage(_) => (None, None, "A"),
        AisMessage::StaticDataA(_) | AisMessage::StaticDataB(_) => (None, None, "B"),
        AisMessage::BaseStation(_) | AisMessage::AidToNavigation(_) | AisMessage::Unsupported(_) => return None,
    };
    let kind = known.map_or(EntityKind::Vessel, VesselStatic::kind);
    let mut obs = Observation::new(kind, msg.mmsi().to_string(), time);
    obs.source = SOURCE.to_owned();
    props.insert("ais_class".into(), PropertyValue::Text(class.to_owned()));
    if let Some(k) = known {
        k.write_properties(&mut props);
    }
    if let Some(m) = motion {
        if let (Some(lon), Some(lat)) = (m.lon, m.lat) {
            let p = Position::new(lon, lat);
            obs.position = p.is_valid().then_some(p);
        }
        let course = m.course.filter(|c| (0.0..360.0).contains(c));
        if let Some(c) = course {
            props.insert("course".into(), PropertyValue::Float(c));
        }
        // True heading when the vessel reports one, else its course over ground.
        obs.heading = m.heading.filter(|h| *h < 360).map(f64::from).or(course);
        // 102.2 means "102.2 knots or more": not a usable measurement.
        obs.speed = m.speed_kn.filter(|s| (0.0..102.2).contains(s)).map(|s| s * KNOTS_TO_MPS);
    }
    obs.status = status.map(status_code);
    obs.properties = props;
    Some(obs)
}

/// Navigational status as a snake_case word (`moored`, `engaged_in_fishing`).
fn status_code(status: u8) -> String {
    let text = nav_status_text(status);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}
