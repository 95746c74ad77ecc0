//! Decoded AIS message types, in physical units with "not available" mapped to `None`.
//!
//! Conventions: positions in WGS84 degrees, speeds in knots, courses and headings in degrees,
//! dimensions in metres. Values outside their valid range but not equal to the "not available"
//! code are kept as transmitted (gpsd does the same); consumers validate before use.

pub use super::texts::{aid_type_text, epfd_text, nav_status_text, shiptype_text};

/// Fields every message starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub msg_type: u8,
    pub repeat: u8,
    pub mmsi: u32,
}

/// Types 1, 2, 3: class A position report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionReport {
    pub header: Header,
    /// Navigational status code (0..=15, 15 = not defined); see [`nav_status_text`].
    pub status: u8,
    /// Raw rate-of-turn indicator (-127..=127); `None` when not available (-128).
    pub turn: Option<i8>,
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub heading: Option<u16>,
    /// UTC second of the fix (60 = not available, 61–63 special).
    pub second: u8,
    pub maneuver: u8,
    pub raim: bool,
    pub radio: u32,
}

/// A UTC date and time as transmitted; zero / 24 / 60 mean "not available" per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AisDateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Type 4: base station report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaseStationReport {
    pub header: Header,
    pub time: AisDateTime,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub epfd: u8,
    pub raim: bool,
    pub radio: u32,
}

/// Hull dimensions relative to the position reference point, in metres (0 = not available).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dimensions {
    pub to_bow: u16,
    pub to_stern: u16,
    pub to_port: u8,
    pub to_starboard: u8,
}

impl Dimensions {
    /// Length and beam in metres. A zero side is legitimate (reference point at the bow or on
    /// the side), so only a zero sum means "not available".
    pub fn length_beam(&self) -> (Option<u16>, Option<u16>) {
        let len = self.to_bow + self.to_stern;
        let beam = u16::from(self.to_port) + u16::from(self.to_starboard);
        ((len > 0).then_some(len), (beam > 0).then_some(beam))
    }
}

/// Estimated time of arrival (month, day, hour, minute; 0/0/24/60 = not available).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eta {
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

/// Type 5: class A static and voyage-related data.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticVoyage {
    pub header: Header,
    pub ais_version: u8,
    pub imo: u32,
    pub callsign: String,
    pub shipname: String,
    pub shiptype: u8,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub eta: Eta,
    /// Metres; `None` when 0 (not available).
    pub draught: Option<f64>,
    pub destination: String,
    /// Data terminal equipment not ready.
    pub dte: bool,
}

/// Type 18: class B position report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassBPosition {
    pub header: Header,
    pub reserved: u8,
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub heading: Option<u16>,
    pub second: u8,
    pub regional: u8,
    /// Carrier-sense (CS) unit rather than SOTDMA.
    pub cs: bool,
    pub display: bool,
    pub dsc: bool,
    pub band: bool,
    pub msg22: bool,
    pub assigned: bool,
    pub raim: bool,
    pub radio: u32,
}

/// Type 19: extended class B position report (with static data).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBExtended {
    pub header: Header,
    pub reserved: u8,
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub heading: Option<u16>,
    pub second: u8,
    pub regional: u8,
    pub shipname: String,
    pub shiptype: u8,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub raim: bool,
    pub dte: bool,
    pub assigned: bool,
}

/// Type 21: aid-to-navigation report.
#[derive(Debug, Clone, PartialEq)]
pub struct AidToNavigation {
    pub header: Header,
    pub aid_type: u8,
    /// Name including the name extension.
    pub name: String,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub second: u8,
    pub off_position: bool,
    pub regional: u8,
    pub raim: bool,
    pub virtual_aid: bool,
    pub assigned: bool,
}

/// Type 24 part A: class B static data, vessel name.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticDataA {
    pub header: Header,
    pub shipname: String,
}

/// Type 24 part B: class B static data, type, vendor, call sign and dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticDataB {
    pub header: Header,
    pub shiptype: u8,
    /// Vendor id read as the 7-character field of ITU-R M.1371-1 (gpsd's reading; newer
    /// revisions split it into a 3-character manufacturer, `model` and `serial`).
    pub vendorid: String,
    pub model: u8,
    pub serial: u32,
    pub callsign: String,
    /// Zero for auxiliary craft, which send `mothership_mmsi` in the same bits.
    pub dimensions: Dimensions,
    /// Only for auxiliary craft (MMSI 98xxxxxxx).
    pub mothership_mmsi: Option<u32>,
}

/// Type 27: long-range position report (coarse: 1/10 minute, whole knots and degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongRange {
    pub header: Header,
    pub accuracy: bool,
    pub raim: bool,
    pub status: u8,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Knots; `None` when 63.
    pub speed: Option<u8>,
    /// Degrees; `None` when 511.
    pub course: Option<u16>,
    /// Position latency flag ("gnss" in gpsd: false = latency > 5 s... as transmitted).
    pub gnss: bool,
}

/// A message type this decoder does not decode field by field (still counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported {
    pub header: Header,
    /// Payload length in bits.
    pub bits: usize,
}

/// One decoded AIS message.
#[derive(Debug, Clone, PartialEq)]
pub enum AisMessage {
    /// Types 1, 2, 3.
    Position(PositionReport),
    /// Type 4.
    BaseStation(BaseStationReport),
    /// Type 5.
    StaticVoyage(Box<StaticVoyage>),
    /// Type 18.
    ClassBPosition(ClassBPosition),
    /// Type 19.
    ClassBExtended(Box<ClassBExtended>),
    /// Type 21.
    AidToNavigation(Box<AidToNavigation>),
    /// Type 24 part A.
    StaticDataA(Box<StaticDataA>),
    /// Type 24 part B.
    StaticDataB(Box<StaticDataB>),
    /// Type 27.
    LongRange(LongRange),
    /// Any other type.
    Unsupported(Unsupported),
}

impl AisMessage {
    pub fn header(&self) -> &Header {
        match self {
            AisMessage::Position(m) => &m.header,
            AisMessage::BaseStation(m) => &m.header,
            AisMessage::StaticVoyage(m) => &m.header,
            AisMessage::ClassBPosition(m) => &m.header,
            AisMessage::ClassBExtended(m) => &m.header,
            AisMessage::AidToNavigation(m) => &m.header,
            AisMessage::StaticDataA(m) => &m.header,
            AisMessage::StaticDataB(m) => &m.header,
            AisMessage::LongRange(m) => &m.header,
            AisMessage::Unsupported(m) => &m.header,
        }
    }

    pub fn msg_type(&self) -> u8 {
        self.header().msg_type
    }

    pub fn mmsi(&self) -> u32 {
        self.header().mmsi
    }
}
