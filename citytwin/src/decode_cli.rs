//! `citytwin decode <ais|gtfs-rt|osmand> FILE|-`: prints every decoded record as NDJSON, one
//! object per message, and `{"error": "...", "line": N}` for input it cannot decode, so a feed
//! can be debugged and decodes compared with other tools.
//!
//! - `ais`: NMEA 0183 lines; gpsd's JSON names and scaling (`gpsdecode -j`).
//! - `gtfs-rt`: one serialized FeedMessage; one protobuf-JSON object per feed entity.
//! - `osmand`: one report per line: a query string (`id=..&lat=..`, also a request line or URL
//!   containing `?`) or a Traccar Client JSON body; fixes in SI units (speed m/s, time ms).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde_json::{json, Value};
use twin_core::Timestamp;
use twin_ingest::{ais, gtfs_rt, osmand};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecodeFormat {
    /// AIVDM/AIVDO sentences.
    Ais,
    /// A GTFS-realtime FeedMessage (protobuf).
    GtfsRt,
    /// OsmAnd query strings or Traccar Client JSON, one per line.
    Osmand,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeCliError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write output: {0}")]
    Write(#[from] std::io::Error),
}

/// How many records and errors were printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: usize,
    pub errors: usize,
}

/// Reads `input` (`-` for stdin) and writes NDJSON to stdout.
pub fn run(format: DecodeFormat, input: &Path) -> Result<Counts, DecodeCliError> {
    let read_err = |source| DecodeCliError::Read { path: input.to_owned(), source };
    let bytes = if input == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).map_err(read_err)?;
        buf
    } else {
        std::fs::read(input).map_err(read_err)?
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let counts = decode_to(format, &bytes, &mut out)?;
    out.flush()?;
    Ok(counts)
}

/// Decodes `bytes` and writes one JSON object per line to `out`.
pub fn decode_to(format: DecodeFormat, bytes: &[u8], out: &mut impl Write) -> std::io::Result<Counts> {
    let mut counts = Counts::default();
    let mut emit = |v: Value, error: bool| -> std::io::Result<()> {
        if error {
            counts.errors += 1;
        } else {
            counts.records += 1;
        }
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")
    };
    match format {
        DecodeFormat::Ais => {
            let mut decoder = ais::Decoder::default();
            // Files carry no receive time; fragments are matched by order, not by clock.
            let t = Timestamp::from_millis(0);
            for line in bytes.split(|b| *b == b'\n') {
                let text = String::from_utf8_lossy(line);
                match decoder.push(&text, t) {
                    Some(Ok(d)) => emit(ais::to_gpsd_json(&d.message), false)?,
                    Some(Err(e)) => emit(ais::error_to_json(&e), true)?,
                    None => {}
                }
                for e in decoder.take_orphans() {
                    emit(ais::error_to_json(&e), true)?;
                }
            }
            for e in decoder.finish() {
                emit(ais::error_to_json(&e), true)?;
            }
        }
        DecodeFormat::GtfsRt => match gtfs_rt::decode_feed(bytes) {
            Ok(feed) => {
                for e in &feed.entity {
                    emit(gtfs_rt::entity_to_json(e), false)?;
                }
            }
            Err(e) => emit(json!({"error": e.to_string(), "reason": e.reason(), "line": 1}), true)?,
        },
        DecodeFormat::Osmand => {
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let text = String::from_utf8_lossy(line);
                let text = text.trim();
                if text.is_empty() || text.starts_with('#') {
                    continue;
                }
                match osmand_line(text) {
                    Ok(fixes) => {
                        for f in &fixes {
                            emit(fix_json(f), false)?;
                        }
                    }
                    Err(e) => emit(json!({"error": e.to_string(), "reason": e.reason(), "line": i + 1}), true)?,
                }
            }
        }
    }
    Ok(counts)
}

fn osmand_line(text: &str) -> Result<Vec<osmand::Fix>, osmand::OsmandError> {
    if text.starts_with('{') {
        return osmand::parse_json(text.as_bytes());
    }
    // `GET /?id=..&lat=.. HTTP/1.1` or a URL: the part after `?` up to whitespace.
    let query = match text.split_once('?') {
        Some((_, rest)) => rest.split_whitespace().next().unwrap_or(""),
        None => text,
    };
    osmand::parse_query(query).map(|f| vec![f])
}

fn fix_json(f: &osmand::Fix) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), f.device_id.clone().into());
    if let Some(t) = f.time {
        o.insert("time".into(), t.as_millis().into());
    }
    if let Some(p) = f.position {
        o.insert("lat".into(), p.lat.into());
        o.insert("lon".into(), p.lon.into());
    }
    let mut num = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            o.insert(k.into(), v.into());
        }
    };
    num("speed", f.speed_mps);
    num("heading", f.heading);
    num("altitude", f.altitude_m);
    num("accuracy", f.accuracy_m);
    num("battery", f.battery_percent);
    num("odometer", f.odometer_m);
    if let Some(c) = f.charging {
        o.insert("charging".into(), c.into());
    }
    Value::Object(o)
}
