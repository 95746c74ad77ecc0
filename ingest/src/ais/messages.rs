//! Decoded AIS message types, in physical units with "not available" mapped to `None`.
//!
//! Conventions: positions in WGS84 degrees, speeds in knots, courses and headings in degrees,
//! dimensions in metres. Values outside their valid range but not equal to the "not available"
//! code are kept as transmitted (gpsd does the same); consumers validate before use.

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

/// Navigational status text (gpsd's wording).
pub fn nav_status_text(status: u8) -> &'static str {
    match status {
        0 => "Under way using engine",
        1 => "At anchor",
        2 => "Not under command",
        3 => "Restricted maneuverability",
        4 => "Constrained by her draught",
        5 => "Moored",
        6 => "Aground",
        7 => "Engaged in fishing",
        8 => "Under way sailing",
        9 => "Reserved for HSC",
        10 => "Reserved for WIG",
        11 => "Power-driven vessel towing astern",
        12 => "Power-driven vessel pushing ahead or towing alongside",
        13 => "Reserved",
        14 => "AIS-SART is active",
        _ => "Not defined",
    }
}

/// Electronic position-fixing device text.
pub fn epfd_text(epfd: u8) -> std::borrow::Cow<'static, str> {
    let s = match epfd {
        0 => "Undefined",
        1 => "GPS",
        2 => "GLONASS",
        3 => "Combined GPS/GLONASS",
        4 => "Loran-C",
        5 => "Chayka",
        6 => "Integrated navigation system",
        7 => "Surveyed",
        8 => "Galileo",
        15 => "Internal GNSS",
        other => return std::borrow::Cow::Owned(format!("Reserved ({other})")),
    };
    std::borrow::Cow::Borrowed(s)
}

/// Ship-and-cargo type text (ITU-R M.1371 table 53, gpsd's wording where gpsd has one).
pub fn shiptype_text(t: u8) -> &'static str {
    match t {
        0 => "Not available",
        1..=19 => "Reserved for future use",
        30 => "Fishing",
        31 => "Towing",
        32 => "Towing: length exceeds 200m or breadth exceeds 25m",
        33 => "Dredging or underwater ops",
        34 => "Diving ops",
        35 => "Military ops",
        36 => "Sailing",
        37 => "Pleasure Craft",
        38 | 39 => "Reserved",
        50 => "Pilot Vessel",
        51 => "Search and Rescue vessel",
        52 => "Tug",
        53 => "Port Tender",
        54 => "Anti-pollution equipment",
        55 => "Law Enforcement",
        56 | 57 => "Spare - Local Vessel",
        58 => "Medical Transport",
        59 => "Ship according to RR Resolution No. 18",
        99 => "Other Type - no additional information",
        20..=29 | 40..=49 | 60..=98 => {
            let row = match t / 10 {
                2 => &WIG,
                4 => &HSC,
                6 => &PASSENGER,
                7 => &CARGO,
                8 => &TANKER,
                _ => &OTHER,
            };
            row[usize::from(t % 10)]
        }
        _ => "Unknown",
    }
}

// The grouped ranges read "<class> - <detail>", detail chosen by the last digit.
macro_rules! grouped {
    ($name:ident, $class:literal) => {
        const $name: [&str; 10] = [
            concat!($class, " - all ships of this type"),
            concat!($class, " - Hazardous category A"),
            concat!($class, " - Hazardous category B"),
            concat!($class, " - Hazardous category C"),
            concat!($class, " - Hazardous category D"),
            concat!($class, " - Reserved for future use"),
            concat!($class, " - Reserved for future use"),
            concat!($class, " - Reserved for future use"),
            concat!($class, " - Reserved for future use"),
            concat!($class, " - No additional information"),
        ];
    };
}
grouped!(WIG, "Wing in ground (WIG)");
grouped!(HSC, "High speed craft (HSC)");
grouped!(PASSENGER, "Passenger");
grouped!(CARGO, "Cargo");
grouped!(TANKER, "Tanker");
grouped!(OTHER, "Other Type");

/// Aid-to-navigation type text (ITU-R M.1371 table 74).
pub fn aid_type_text(t: u8) -> &'static str {
    const TEXTS: [&str; 32] = [
        "Unspecified",
        "Reference point",
        "RACON",
        "Fixed offshore structure",
        "Spare, Reserved for future use.",
        "Light, without sectors",
        "Light, with sectors",
        "Leading Light Front",
        "Leading Light Rear",
        "Beacon, Cardinal N",
        "Beacon, Cardinal E",
        "Beacon, Cardinal S",
        "Beacon, Cardinal W",
        "Beacon, Port hand",
        "Beacon, Starboard hand",
        "Beacon, Preferred Channel port hand",
        "Beacon, Preferred Channel starboard hand",
        "Beacon, Isolated danger",
        "Beacon, Safe water",
        "Beacon, Special mark",
        "Cardinal Mark N",
        "Cardinal Mark E",
        "Cardinal Mark S",
        "Cardinal Mark W",
        "Port hand Mark",
        "Starboard hand Mark",
        "Preferred Channel Port hand",
        "Preferred Channel Starboard hand",
        "Isolated danger",
        "Safe Water",
        "Special Mark",
        "Light Vessel / LANBY / Rigs",
    ];
    TEXTS.get(usize::from(t)).copied().unwrap_or("Unknown")
}
