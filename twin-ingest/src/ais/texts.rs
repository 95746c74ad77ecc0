//! Human-readable texts for AIS code fields, worded as gpsd words them where it has them.

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
