//! Helpers shared by the integration tests.
#![allow(dead_code)]

use serde_json::Value;

pub fn gpsd_file(name: &str) -> String {
    let path = format!("{}/tests/data/ais/gpsd/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Differences between the fields gpsd reports and ours (`class`, `device`, `scaled` aside).
pub fn diff(gpsd: &Value, ours: &Value, tolerance: f64) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(g), Some(o)) = (gpsd.as_object(), ours.as_object()) else {
        return vec!["not objects".into()];
    };
    for (k, gv) in g {
        if matches!(k.as_str(), "class" | "device" | "scaled") {
            continue;
        }
        let Some(ov) = o.get(k) else {
            out.push(format!("{k}: missing (gpsd {gv})"));
            continue;
        };
        let same = match (gv, ov) {
            (Value::Number(a), Value::Number(b)) => {
                (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(f64::NAN)).abs() <= tolerance
            }
            _ => gv == ov,
        };
        if !same {
            out.push(format!("{k}: gpsd {gv} ours {ov}"));
        }
    }
    out
}

/// A minimal AIVDM encoder for behaviour tests (golden tests use real captures instead).
#[derive(Default)]
pub struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    pub fn put(&mut self, value: i64, width: usize) -> &mut Self {
        for i in (0..width).rev() {
            self.bits.push((value >> i) & 1 == 1);
        }
        self
    }

    /// Armoured payload and fill-bit count.
    pub fn armor(&self) -> (String, u8) {
        let fill = (6 - self.bits.len() % 6) % 6;
        let mut bits = self.bits.clone();
        bits.extend(std::iter::repeat_n(false, fill));
        let payload = bits
            .chunks(6)
            .map(|c| {
                let v = c.iter().fold(0u8, |a, &b| (a << 1) | u8::from(b));
                char::from(if v < 40 { v + 48 } else { v + 56 })
            })
            .collect();
        (payload, fill as u8)
    }

    /// A single-sentence `!AIVDM` with a correct checksum.
    pub fn sentence(&self) -> String {
        let (payload, fill) = self.armor();
        with_checksum(&format!("AIVDM,1,1,,A,{payload},{fill}"))
    }
}

/// `!{body}*hh` with the NMEA XOR checksum of `body`.
pub fn with_checksum(body: &str) -> String {
    let cs = body.bytes().fold(0u8, |a, c| a ^ c);
    format!("!{body}*{cs:02X}")
}

/// Fields of a type 1 position report, in transmitted units.
#[derive(Debug, Clone, Copy)]
pub struct Type1 {
    pub mmsi: u32,
    pub status: u8,
    pub turn: i8,
    pub speed_tenths: u16,
    pub accuracy: bool,
    pub lon_e4min: i32,
    pub lat_e4min: i32,
    pub course_tenths: u16,
    pub heading: u16,
    pub second: u8,
}

impl Type1 {
    pub fn encode(&self) -> String {
        let mut w = BitWriter::default();
        w.put(1, 6).put(0, 2).put(self.mmsi.into(), 30).put(self.status.into(), 4).put(self.turn.into(), 8);
        w.put(self.speed_tenths.into(), 10).put(self.accuracy.into(), 1);
        w.put(self.lon_e4min.into(), 28).put(self.lat_e4min.into(), 27);
        w.put(self.course_tenths.into(), 12).put(self.heading.into(), 9).put(self.second.into(), 6);
        w.put(0, 2).put(0, 3).put(0, 1).put(0, 19);
        w.sentence()
    }
}
