//! GPX 1.0 / 1.1 reading with quick-xml: tracks, segments, points (lat, lon, ele, time), and
//! counts of waypoints and routes. Namespaces and extensions are ignored.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use twin_core::Timestamp;

use super::{Gpx, GpxError, Track, TrackPoint};

/// What text we are inside of, for the few text elements we read.
#[derive(Clone, Copy, PartialEq)]
enum Text {
    None,
    Ele,
    Time,
    TrackName,
}

/// Parses a GPX document.
pub fn parse(xml: &[u8]) -> Result<Gpx, GpxError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut gpx = Gpx::default();
    let mut seen_root = false;
    // Element nesting by local name, to know whether a <name>/<time> belongs to a track point.
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = Text::None;
    let mut point: Option<TrackPoint> = None;
    let mut points_seen = 0usize;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| GpxError::Xml { position: reader.error_position(), reason: e.to_string() })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_vec();
                if !seen_root {
                    if name != b"gpx" {
                        return Err(GpxError::NotGpx(String::from_utf8_lossy(&name).into_owned()));
                    }
                    seen_root = true;
                    gpx.version = attr(e, b"version");
                    gpx.creator = attr(e, b"creator");
                }
                let parent = stack.last().map(Vec::as_slice);
                match (name.as_slice(), parent) {
                    (b"wpt", Some(b"gpx")) => gpx.waypoints += 1,
                    (b"rte", Some(b"gpx")) => gpx.routes += 1,
                    (b"trk", Some(b"gpx")) => gpx.tracks.push(Track::default()),
                    (b"trkseg", Some(b"trk")) => {
                        if let Some(t) = gpx.tracks.last_mut() {
                            t.segments.push(Vec::new());
                        }
                    }
                    (b"trkpt", Some(b"trkseg")) => {
                        let p = read_point(e, points_seen)?;
                        points_seen += 1;
                        if empty {
                            push_point(&mut gpx, p);
                        } else {
                            point = Some(p);
                        }
                    }
                    (b"ele", Some(b"trkpt")) => text = Text::Ele,
                    (b"time", Some(b"trkpt")) => text = Text::Time,
                    (b"name", Some(b"trk")) => text = Text::TrackName,
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::Text(t) => {
                let value = t
                    .decode()
                    .map_err(|e| GpxError::Xml { position: reader.error_position(), reason: e.to_string() })?;
                let value = value.trim();
                match text {
                    Text::Ele => {
                        if let Some(p) = point.as_mut() {
                            let ele = value.parse::<f64>().ok().filter(|v| v.is_finite());
                            p.ele = Some(ele.ok_or_else(|| bad(points_seen - 1, "ele", value))?);
                        }
                    }
                    Text::Time => {
                        if let Some(p) = point.as_mut() {
                            p.time = Some(parse_time(value).ok_or_else(|| bad(points_seen - 1, "time", value))?);
                        }
                    }
                    Text::TrackName => {
                        if let Some(t) = gpx.tracks.last_mut() {
                            t.name = Some(value.to_owned());
                        }
                    }
                    Text::None => {}
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_vec();
                stack.pop();
                text = Text::None;
                if name == b"trkpt" {
                    if let Some(p) = point.take() {
                        push_point(&mut gpx, p);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(GpxError::NotGpx(String::new()));
    }
    Ok(gpx)
}

fn push_point(gpx: &mut Gpx, p: TrackPoint) {
    if let Some(seg) = gpx.tracks.last_mut().and_then(|t| t.segments.last_mut()) {
        seg.push(p);
    }
}

fn bad(index: usize, field: &'static str, value: &str) -> GpxError {
    GpxError::BadValue { index, field, value: value.to_owned() }
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn read_point(e: &BytesStart<'_>, index: usize) -> Result<TrackPoint, GpxError> {
    let coord = |key: &[u8], field: &'static str, limit: f64| {
        let raw = attr(e, key).unwrap_or_default();
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && v.abs() <= limit)
            .ok_or_else(|| bad(index, field, &raw))
    };
    Ok(TrackPoint { lat: coord(b"lat", "lat", 90.0)?, lon: coord(b"lon", "lon", 180.0)?, ele: None, time: None })
}

/// GPX times are xsd:dateTime, normally UTC with `Z`; a time without zone is read as UTC.
fn parse_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::from_millis(t.timestamp_millis()));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| Timestamp::from_millis(t.and_utc().timestamp_millis()))
}
