//! Bit layouts of the supported message types (ITU-R M.1371-5), from de-armoured bits to
//! [`AisMessage`].

use super::armor::Bits;
use super::messages::*;
use super::AisError;

/// Bits every message needs: type, repeat indicator, MMSI.
const HEADER_BITS: usize = 38;

const LON_NA: i32 = 181 * 600_000;
const LAT_NA: i32 = 91 * 600_000;

/// Decodes one complete message payload.
pub fn decode_bits(b: &Bits) -> Result<AisMessage, AisError> {
    let bits = b.len();
    let msg_type = b.u(0, 6) as u8;
    need(msg_type, bits, HEADER_BITS)?;
    let header = Header { msg_type, repeat: b.u(6, 2) as u8, mmsi: b.u(8, 30) };
    Ok(match msg_type {
        1..=3 => AisMessage::Position(position(b, header)?),
        4 => AisMessage::BaseStation(base_station(b, header)?),
        5 => AisMessage::StaticVoyage(Box::new(static_voyage(b, header)?)),
        18 => AisMessage::ClassBPosition(class_b(b, header)?),
        19 => AisMessage::ClassBExtended(Box::new(class_b_extended(b, header)?)),
        21 => AisMessage::AidToNavigation(Box::new(aid_to_navigation(b, header)?)),
        24 => static_data(b, header)?,
        27 => AisMessage::LongRange(long_range(b, header)?),
        _ => AisMessage::Unsupported(Unsupported { header, bits }),
    })
}

fn need(msg_type: u8, bits: usize, needed: usize) -> Result<(), AisError> {
    if bits < needed {
        return Err(AisError::TruncatedPayload { msg_type, bits, needed });
    }
    Ok(())
}

/// Longitude/latitude in 1/10000 minute.
fn lon_lat(b: &Bits, lon_at: usize, lat_at: usize) -> (Option<f64>, Option<f64>) {
    let lon = b.i(lon_at, 28);
    let lat = b.i(lat_at, 27);
    ((lon != LON_NA).then(|| f64::from(lon) / 600_000.0), (lat != LAT_NA).then(|| f64::from(lat) / 600_000.0))
}

/// Speed over ground in 1/10 knot, 1023 = not available.
fn speed(b: &Bits, at: usize) -> Option<f64> {
    let v = b.u(at, 10);
    (v != 1023).then(|| f64::from(v) / 10.0)
}

/// Course over ground in 1/10 degree, 3600 = not available.
fn course(b: &Bits, at: usize) -> Option<f64> {
    let v = b.u(at, 12);
    (v != 3600).then(|| f64::from(v) / 10.0)
}

/// True heading in degrees, 511 = not available.
fn heading(b: &Bits, at: usize) -> Option<u16> {
    let v = b.u(at, 9) as u16;
    (v != 511).then_some(v)
}

/// The radio-status field at the end of a slot; a short message carries only its first bits,
/// read as a narrower field (what gpsd reports for such messages).
fn radio(b: &Bits, at: usize, width: usize) -> u32 {
    b.u(at, width.min(b.len().saturating_sub(at)))
}

fn dimensions(b: &Bits, at: usize) -> Dimensions {
    Dimensions {
        to_bow: b.u(at, 9) as u16,
        to_stern: b.u(at + 9, 9) as u16,
        to_port: b.u(at + 18, 6) as u8,
        to_starboard: b.u(at + 24, 6) as u8,
    }
}

fn position(b: &Bits, header: Header) -> Result<PositionReport, AisError> {
    // Up to and including the RAIM flag; the radio status may be cut short.
    need(header.msg_type, b.len(), 149)?;
    let turn = b.i(42, 8) as i8;
    let (lon, lat) = lon_lat(b, 61, 89);
    Ok(PositionReport {
        header,
        status: b.u(38, 4) as u8,
        turn: (turn != -128).then_some(turn),
        speed: speed(b, 50),
        accuracy: b.flag(60),
        lon,
        lat,
        course: course(b, 116),
        heading: heading(b, 128),
        second: b.u(137, 6) as u8,
        maneuver: b.u(143, 2) as u8,
        raim: b.flag(148),
        radio: radio(b, 149, 19),
    })
}

fn base_station(b: &Bits, header: Header) -> Result<BaseStationReport, AisError> {
    need(header.msg_type, b.len(), 149)?;
    let (lon, lat) = lon_lat(b, 79, 107);
    Ok(BaseStationReport {
        header,
        time: AisDateTime {
            year: b.u(38, 14) as u16,
            month: b.u(52, 4) as u8,
            day: b.u(56, 5) as u8,
            hour: b.u(61, 5) as u8,
            minute: b.u(66, 6) as u8,
            second: b.u(72, 6) as u8,
        },
        accuracy: b.flag(78),
        lon,
        lat,
        epfd: b.u(134, 4) as u8,
        raim: b.flag(148),
        radio: radio(b, 149, 19),
    })
}

fn static_voyage(b: &Bits, header: Header) -> Result<StaticVoyage, AisError> {
    // 424 by the standard; many transmitters send 420 (the last two fill bits miscounted).
    need(header.msg_type, b.len(), 420)?;
    let draught = b.u(294, 8);
    Ok(StaticVoyage {
        header,
        ais_version: b.u(38, 2) as u8,
        imo: b.u(40, 30),
        callsign: b.text(70, 7),
        shipname: b.text(112, 20),
        shiptype: b.u(232, 8) as u8,
        dimensions: dimensions(b, 240),
        epfd: b.u(270, 4) as u8,
        eta: Eta {
            month: b.u(274, 4) as u8,
            day: b.u(278, 5) as u8,
            hour: b.u(283, 5) as u8,
            minute: b.u(288, 6) as u8,
        },
        draught: (draught != 0).then(|| f64::from(draught) / 10.0),
        destination: b.text(302, 20),
        dte: b.flag(422),
    })
}

fn class_b(b: &Bits, header: Header) -> Result<ClassBPosition, AisError> {
    need(header.msg_type, b.len(), 148)?;
    let (lon, lat) = lon_lat(b, 57, 85);
    Ok(ClassBPosition {
        header,
        reserved: b.u(38, 8) as u8,
        speed: speed(b, 46),
        accuracy: b.flag(56),
        lon,
        lat,
        course: course(b, 112),
        heading: heading(b, 124),
        second: b.u(133, 6) as u8,
        regional: b.u(139, 2) as u8,
        cs: b.flag(141),
        display: b.flag(142),
        dsc: b.flag(143),
        band: b.flag(144),
        msg22: b.flag(145),
        assigned: b.flag(146),
        raim: b.flag(147),
        radio: radio(b, 148, 20),
    })
}

fn class_b_extended(b: &Bits, header: Header) -> Result<ClassBExtended, AisError> {
    need(header.msg_type, b.len(), 308)?;
    let (lon, lat) = lon_lat(b, 57, 85);
    Ok(ClassBExtended {
        header,
        reserved: b.u(38, 8) as u8,
        speed: speed(b, 46),
        accuracy: b.flag(56),
        lon,
        lat,
        course: course(b, 112),
        heading: heading(b, 124),
        second: b.u(133, 6) as u8,
        regional: b.u(139, 4) as u8,
        shipname: b.text(143, 20),
        shiptype: b.u(263, 8) as u8,
        dimensions: dimensions(b, 271),
        epfd: b.u(301, 4) as u8,
        raim: b.flag(305),
        dte: b.flag(306),
        assigned: b.flag(307),
    })
}

fn aid_to_navigation(b: &Bits, header: Header) -> Result<AidToNavigation, AisError> {
    need(header.msg_type, b.len(), 272)?;
    let (lon, lat) = lon_lat(b, 164, 192);
    let mut name = b.text(43, 20);
    // The name extension fills whole 6-bit characters after bit 272 (at most 14).
    let ext_chars = ((b.len() - 272) / 6).min(14);
    if ext_chars > 0 && name.len() == 20 {
        name.push_str(&b.text(272, ext_chars));
    }
    Ok(AidToNavigation {
        header,
        aid_type: b.u(38, 5) as u8,
        name,
        accuracy: b.flag(163),
        lon,
        lat,
        dimensions: dimensions(b, 219),
        epfd: b.u(249, 4) as u8,
        second: b.u(253, 6) as u8,
        off_position: b.flag(259),
        regional: b.u(260, 8) as u8,
        raim: b.flag(268),
        virtual_aid: b.flag(269),
        assigned: b.flag(270),
    })
}

fn static_data(b: &Bits, header: Header) -> Result<AisMessage, AisError> {
    need(header.msg_type, b.len(), 40)?;
    match b.u(38, 2) {
        0 => {
            need(header.msg_type, b.len(), 160)?;
            Ok(AisMessage::StaticDataA(Box::new(StaticDataA { header, shipname: b.text(40, 20) })))
        }
        1 => {
            need(header.msg_type, b.len(), 162)?;
            // Auxiliary craft (MMSI 98XXXYYYY) carry their mothership's MMSI instead of dimensions.
            let auxiliary = header.mmsi / 10_000_000 == 98;
            Ok(AisMessage::StaticDataB(Box::new(StaticDataB {
                header,
                shiptype: b.u(40, 8) as u8,
                vendorid: b.text(48, 7),
                model: b.u(66, 4) as u8,
                serial: b.u(70, 20),
                callsign: b.text(90, 7),
                dimensions: if auxiliary { Dimensions::default() } else { dimensions(b, 132) },
                mothership_mmsi: auxiliary.then(|| b.u(132, 30)),
            })))
        }
        // Parts C and D are not defined by ITU-R M.1371-5; some units send them anyway.
        _ => Ok(AisMessage::Unsupported(Unsupported { header, bits: b.len() })),
    }
}

fn long_range(b: &Bits, header: Header) -> Result<LongRange, AisError> {
    need(header.msg_type, b.len(), 96)?;
    // 1/10 minute resolution here.
    let lon = b.i(44, 18);
    let lat = b.i(62, 17);
    let speed = b.u(79, 6) as u8;
    let course = b.u(85, 9) as u16;
    Ok(LongRange {
        header,
        accuracy: b.flag(38),
        raim: b.flag(39),
        status: b.u(40, 4) as u8,
        lon: (lon != 181 * 600).then(|| f64::from(lon) / 600.0),
        lat: (lat != 91 * 600).then(|| f64::from(lat) / 600.0),
        speed: (speed != 63).then_some(speed),
        course: (course != 511).then_some(course),
        gnss: b.flag(94),
    })
}
