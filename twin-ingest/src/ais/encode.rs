//! AIS encoder: message fields → 6-bit armoured `!AIVDM` sentences (types 1, 5, 18, 24).
//!
//! Used by simulators that must speak the real protocol (the demo's vessels go through the same
//! decoder and connector as a real receiver). Text is upper-cased and folded to the AIS 6-bit
//! character set; characters it cannot carry become `?`.

/// Accumulates a message MSB first.
#[derive(Debug, Default, Clone)]
pub struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    pub fn uint(&mut self, value: u64, width: usize) -> &mut Self {
        for i in (0..width).rev() {
            self.bits.push((value >> i) & 1 == 1);
        }
        self
    }

    /// Two's complement in `width` bits.
    pub fn int(&mut self, value: i64, width: usize) -> &mut Self {
        let mask = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
        self.uint((value as u64) & mask, width)
    }

    pub fn flag(&mut self, b: bool) -> &mut Self {
        self.bits.push(b);
        self
    }

    /// `chars` six-bit characters, padded with `@` (0).
    pub fn text(&mut self, s: &str, chars: usize) -> &mut Self {
        let codes: Vec<u8> = s.chars().map(sixbit_char).take(chars).collect();
        for i in 0..chars {
            self.uint(u64::from(codes.get(i).copied().unwrap_or(0)), 6);
        }
        self
    }

    pub fn len(&self) -> usize {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Armoured payload and the fill bits added to complete the last character.
    pub fn armor(&self) -> (String, u8) {
        let fill = (6 - self.bits.len() % 6) % 6;
        let mut out = String::with_capacity(self.bits.len().div_ceil(6));
        for chunk in self.bits.chunks(6) {
            let mut v = 0u8;
            for i in 0..6 {
                v = (v << 1) | u8::from(chunk.get(i).copied().unwrap_or(false));
            }
            out.push(char::from(if v < 40 { v + 48 } else { v + 56 }));
        }
        (out, fill as u8)
    }
}

/// A character in the AIS 6-bit set (`@A–Z[\]^_ !"#…?`), after folding Vietnamese letters.
fn sixbit_char(c: char) -> u8 {
    let c = fold(c).to_ascii_uppercase();
    match c {
        '@'..='_' => c as u8 - 64,
        ' '..='?' => c as u8,
        _ => b'?',
    }
}

/// Vietnamese (and common Latin) letters without their marks.
fn fold(c: char) -> char {
    const GROUPS: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'A'),
        ("èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ", 'E'),
        ("ìíỉĩịÌÍỈĨỊ", 'I'),
        ("òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'O'),
        ("ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ", 'U'),
        ("ỳýỷỹỵỲÝỶỸỴ", 'Y'),
        ("đĐ", 'D'),
    ];
    if c.is_ascii() {
        return c;
    }
    GROUPS.iter().find(|(set, _)| set.contains(c)).map_or('?', |(_, base)| *base)
}

/// XOR checksum of the characters between `!` and `*`.
pub fn checksum(body: &str) -> u8 {
    body.bytes().fold(0, |acc, b| acc ^ b)
}

/// Splits an armoured payload into `!AIVDM` sentences of at most 60 payload characters.
/// `seq_id` ties the fragments of a multi-sentence message (0..=9).
pub fn sentences(payload: &str, fill: u8, channel: char, seq_id: u8) -> Vec<String> {
    let chunks: Vec<&str> = if payload.is_empty() {
        vec![""]
    } else {
        payload.as_bytes().chunks(60).map(|c| std::str::from_utf8(c).unwrap_or("")).collect()
    };
    let total = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let seq = if total > 1 { (seq_id % 10).to_string() } else { String::new() };
            let f = if i + 1 == total { fill } else { 0 };
            let body = format!("AIVDM,{total},{},{seq},{channel},{chunk},{f}", i + 1);
            format!("!{body}*{:02X}", checksum(&body))
        })
        .collect()
}

/// Dynamic state of a vessel for position reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    pub mmsi: u32,
    pub lon: f64,
    pub lat: f64,
    /// Knots.
    pub speed_kn: Option<f64>,
    /// Degrees.
    pub course: Option<f64>,
    /// Whole degrees.
    pub heading: Option<u16>,
    /// UTC second of the fix.
    pub second: u8,
    /// Navigational status (class A only): 0 under way using engine, 7 engaged in fishing, …
    pub status: u8,
}

fn speed_field(kn: Option<f64>) -> u64 {
    kn.filter(|s| s.is_finite() && *s >= 0.0).map_or(1023, |s| ((s * 10.0).round() as u64).min(1022))
}

fn course_field(c: Option<f64>) -> u64 {
    c.filter(|c| c.is_finite()).map_or(3600, |c| ((c.rem_euclid(360.0) * 10.0).round() as u64) % 3600)
}

fn coord(v: f64, limit: f64, missing: f64) -> i64 {
    let v = if v.is_finite() && v.abs() <= limit { v } else { missing };
    (v * 600_000.0).round() as i64
}

/// Type 1 (class A position report).
pub fn position_a(m: &Motion) -> BitWriter {
    let mut w = BitWriter::default();
    w.uint(1, 6).uint(0, 2).uint(u64::from(m.mmsi), 30).uint(u64::from(m.status.min(15)), 4);
    w.int(-128, 8).uint(speed_field(m.speed_kn), 10).flag(false);
    w.int(coord(m.lon, 180.0, 181.0), 28).int(coord(m.lat, 90.0, 91.0), 27);
    w.uint(course_field(m.course), 12).uint(u64::from(m.heading.filter(|h| *h < 360).unwrap_or(511)), 9);
    w.uint(u64::from(m.second.min(63)), 6).uint(0, 2).uint(0, 3).flag(false).uint(0, 19);
    w
}

/// Type 18 (class B position report, CS unit).
pub fn position_b(m: &Motion) -> BitWriter {
    let mut w = BitWriter::default();
    w.uint(18, 6).uint(0, 2).uint(u64::from(m.mmsi), 30).uint(0, 8);
    w.uint(speed_field(m.speed_kn), 10).flag(false);
    w.int(coord(m.lon, 180.0, 181.0), 28).int(coord(m.lat, 90.0, 91.0), 27);
    w.uint(course_field(m.course), 12).uint(u64::from(m.heading.filter(|h| *h < 360).unwrap_or(511)), 9);
    w.uint(u64::from(m.second.min(63)), 6).uint(0, 2);
    // CS unit, no display, no DSC, whole band, no message 22, autonomous mode, no RAIM, SOTDMA.
    w.flag(true).flag(false).flag(false).flag(true).flag(false).flag(false).flag(false).flag(true).uint(0, 19);
    w
}

/// Static identity of a vessel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identity {
    pub mmsi: u32,
    pub imo: u32,
    pub callsign: String,
    pub shipname: String,
    /// AIS ship and cargo type (30 fishing, 52 tug, 60 passenger, 70 cargo, 80 tanker, …).
    pub ship_type: u8,
    /// Metres from the GPS antenna to bow, stern, port, starboard.
    pub dims: [u16; 4],
    pub draught_m: f64,
    pub destination: String,
}

fn dims(w: &mut BitWriter, d: [u16; 4]) {
    w.uint(u64::from(d[0].min(511)), 9).uint(u64::from(d[1].min(511)), 9);
    w.uint(u64::from(d[2].min(63)), 6).uint(u64::from(d[3].min(63)), 6);
}

/// Type 5 (class A static and voyage data; two sentences).
pub fn static_voyage(id: &Identity) -> BitWriter {
    let mut w = BitWriter::default();
    w.uint(5, 6).uint(0, 2).uint(u64::from(id.mmsi), 30).uint(0, 2).uint(u64::from(id.imo), 30);
    w.text(&id.callsign, 7).text(&id.shipname, 20).uint(u64::from(id.ship_type), 8);
    dims(&mut w, id.dims);
    // GPS fix; ETA not available (month 0, day 0, hour 24, minute 60).
    w.uint(1, 4).uint(0, 4).uint(0, 5).uint(24, 5).uint(60, 6);
    let draught = if id.draught_m.is_finite() { (id.draught_m * 10.0).round().clamp(0.0, 255.0) as u64 } else { 0 };
    w.uint(draught, 8).text(&id.destination, 20).flag(false).flag(false);
    w
}

/// Type 24 part A (class B name).
pub fn static_b_name(id: &Identity) -> BitWriter {
    let mut w = BitWriter::default();
    w.uint(24, 6).uint(0, 2).uint(u64::from(id.mmsi), 30).uint(0, 2).text(&id.shipname, 20);
    w
}

/// Type 24 part B (class B ship type, call sign, dimensions).
pub fn static_b_data(id: &Identity) -> BitWriter {
    let mut w = BitWriter::default();
    w.uint(24, 6).uint(0, 2).uint(u64::from(id.mmsi), 30).uint(1, 2).uint(u64::from(id.ship_type), 8);
    // Vendor id: 3 characters, 4-bit model, 20-bit serial.
    w.text("CTW", 3).uint(0, 4).uint(0, 20).text(&id.callsign, 7);
    dims(&mut w, id.dims);
    w.uint(0, 6);
    w
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::ais::{AisMessage, Decoder};
    use twin_core::Timestamp;

    fn decode_all(lines: &[String]) -> AisMessage {
        let mut d = Decoder::default();
        let mut out = None;
        for l in lines {
            if let Some(r) = d.push(l, Timestamp::from_millis(0)) {
                out = Some(r.unwrap().message);
            }
        }
        out.expect("a message")
    }

    fn motion() -> Motion {
        Motion {
            mmsi: 574_101_237,
            lon: 108.2417,
            lat: 16.1234,
            speed_kn: Some(12.3),
            course: Some(271.4),
            heading: Some(270),
            second: 42,
            status: 0,
        }
    }

    #[test]
    fn type_1_and_18_round_trip_through_the_decoder() {
        for (w, ty) in [(position_a(&motion()), 1u8), (position_b(&motion()), 18)] {
            assert_eq!(w.len(), 168);
            let (payload, fill) = w.armor();
            assert_eq!(fill, 0);
            let lines = sentences(&payload, fill, 'A', 0);
            assert_eq!(lines.len(), 1);
            let m = decode_all(&lines);
            assert_eq!(m.mmsi(), 574_101_237);
            let (lon, lat, speed, course, heading) = match &m {
                AisMessage::Position(p) => {
                    assert_eq!(p.header.msg_type, ty);
                    (p.lon, p.lat, p.speed, p.course, p.heading)
                }
                AisMessage::ClassBPosition(p) => {
                    assert_eq!(ty, 18);
                    (p.lon, p.lat, p.speed, p.course, p.heading)
                }
                other => panic!("unexpected {other:?}"),
            };
            assert!((lon.unwrap() - 108.2417).abs() < 1e-5);
            assert!((lat.unwrap() - 16.1234).abs() < 1e-5);
            assert_eq!(speed, Some(12.3));
            assert!((course.unwrap() - 271.4).abs() < 1e-9);
            assert_eq!(heading, Some(270));
        }
    }

    #[test]
    fn type_5_spans_two_sentences_and_folds_vietnamese_names() {
        let id = Identity {
            mmsi: 574_600_733,
            imo: 0,
            callsign: "XVAB1".into(),
            shipname: "ĐNa-90123-TS".into(),
            ship_type: 30,
            dims: [10, 5, 2, 3],
            draught_m: 2.5,
            destination: "Thọ Quang".into(),
        };
        let w = static_voyage(&id);
        assert_eq!(w.len(), 424);
        let (payload, fill) = w.armor();
        let lines = sentences(&payload, fill, 'B', 3);
        assert_eq!(lines.len(), 2);
        let m = decode_all(&lines);
        let AisMessage::StaticVoyage(s) = m else { panic!("{m:?}") };
        assert_eq!(s.shipname, "DNA-90123-TS");
        assert_eq!(s.callsign, "XVAB1");
        assert_eq!(s.destination, "THO QUANG");
        assert_eq!(s.shiptype, 30);
    }

    #[test]
    fn type_24_parts_decode() {
        let id = Identity {
            mmsi: 574_000_001,
            shipname: "CU LAO CHAM".into(),
            ship_type: 60,
            callsign: "3WAB".into(),
            ..Identity::default()
        };
        let a = decode_all(&sentences(&static_b_name(&id).armor().0, static_b_name(&id).armor().1, 'A', 0));
        assert_eq!(a.mmsi(), 574_000_001);
        let b = decode_all(&sentences(&static_b_data(&id).armor().0, static_b_data(&id).armor().1, 'A', 0));
        assert!(matches!(a, AisMessage::StaticDataA(ref p) if p.shipname == "CU LAO CHAM"), "{a:?}");
        assert!(matches!(b, AisMessage::StaticDataB(ref p) if p.shiptype == 60 && p.callsign == "3WAB"), "{b:?}");
    }
}
