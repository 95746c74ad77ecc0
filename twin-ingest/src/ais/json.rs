//! gpsd-compatible JSON (`gpsdecode -j`): gpsd's field names and scaled values, so decodes can
//! be compared with gpsd line by line. "Not available" is written as the code gpsd writes
//! (lon 181, lat 91, speed 102.3, course 360, heading 511).

use serde_json::{json, Map, Value};

use super::messages::*;
use super::stream::DecodeError;

/// One message as a gpsd `class:"AIS"` object.
pub fn to_gpsd_json(msg: &AisMessage) -> Value {
    let h = msg.header();
    let mut o = Map::new();
    o.insert("class".into(), json!("AIS"));
    o.insert("type".into(), json!(h.msg_type));
    o.insert("repeat".into(), json!(h.repeat));
    o.insert("mmsi".into(), json!(h.mmsi));
    o.insert("scaled".into(), json!(true));
    let fields = match msg {
        AisMessage::Position(m) => json!({
            "status": m.status,
            "status_text": nav_status_text(m.status),
            "turn": turn_text(m.turn),
            "speed": speed(m.speed),
            "accuracy": m.accuracy,
            "lon": lon(m.lon),
            "lat": lat(m.lat),
            "course": course(m.course),
            "heading": m.heading.unwrap_or(511),
            "second": m.second,
            "maneuver": m.maneuver,
            "raim": m.raim,
            "radio": m.radio,
        }),
        AisMessage::BaseStation(m) => {
            let t = m.time;
            json!({
                "timestamp": format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year, t.month, t.day, t.hour, t.minute, t.second),
                "accuracy": m.accuracy,
                "lon": lon(m.lon),
                "lat": lat(m.lat),
                "epfd": m.epfd,
                "epfd_text": epfd_text(m.epfd),
                "raim": m.raim,
                "radio": m.radio,
            })
        }
        AisMessage::StaticVoyage(m) => {
            let mut v = json!({
                "imo": m.imo,
                "ais_version": m.ais_version,
                "callsign": m.callsign,
                "shipname": m.shipname,
                "shiptype": m.shiptype,
                "shiptype_text": shiptype_text(m.shiptype),
                "epfd": m.epfd,
                "epfd_text": epfd_text(m.epfd),
                "eta": format!("{:02}-{:02}T{:02}:{:02}Z", m.eta.month, m.eta.day, m.eta.hour, m.eta.minute),
                "draught": m.draught.unwrap_or(0.0),
                "destination": m.destination,
                "dte": u8::from(m.dte),
            });
            add_dimensions(&mut v, &m.dimensions);
            v
        }
        AisMessage::ClassBPosition(m) => json!({
            "reserved": m.reserved,
            "speed": speed(m.speed),
            "accuracy": m.accuracy,
            "lon": lon(m.lon),
            "lat": lat(m.lat),
            "course": course(m.course),
            "heading": m.heading.unwrap_or(511),
            "second": m.second,
            "regional": m.regional,
            "cs": m.cs,
            "display": m.display,
            "dsc": m.dsc,
            "band": m.band,
            "msg22": m.msg22,
            "assigned": m.assigned,
            "raim": m.raim,
            "radio": m.radio,
        }),
        AisMessage::ClassBExtended(m) => {
            let mut v = json!({
                "reserved": m.reserved,
                "speed": speed(m.speed),
                "accuracy": m.accuracy,
                "lon": lon(m.lon),
                "lat": lat(m.lat),
                "course": course(m.course),
                "heading": m.heading.unwrap_or(511),
                "second": m.second,
                "regional": m.regional,
                "shipname": m.shipname,
                "shiptype": m.shiptype,
                "shiptype_text": shiptype_text(m.shiptype),
                "epfd": m.epfd,
                "epfd_text": epfd_text(m.epfd),
                "raim": m.raim,
                "dte": u8::from(m.dte),
                "assigned": m.assigned,
            });
            add_dimensions(&mut v, &m.dimensions);
            v
        }
        AisMessage::AidToNavigation(m) => {
            let mut v = json!({
                "aid_type": m.aid_type,
                "aid_type_text": aid_type_text(m.aid_type),
                "name": m.name,
                "lon": lon(m.lon),
                "lat": lat(m.lat),
                "accuracy": m.accuracy,
                "epfd": m.epfd,
                "epfd_text": epfd_text(m.epfd),
                "second": m.second,
                "regional": m.regional,
                "off_position": m.off_position,
                "raim": m.raim,
                "virtual_aid": m.virtual_aid,
                "assigned": m.assigned,
            });
            add_dimensions(&mut v, &m.dimensions);
            v
        }
        AisMessage::StaticDataA(m) => json!({ "part": "A", "shipname": m.shipname }),
        AisMessage::StaticDataB(m) => {
            let mut v = json!({
                "part": "B",
                "shiptype": m.shiptype,
                "shiptype_text": shiptype_text(m.shiptype),
                "vendorid": m.vendorid,
                "model": m.model,
                "serial": m.serial,
                "callsign": m.callsign,
            });
            match m.mothership_mmsi {
                Some(mother) => {
                    v["mothership_mmsi"] = json!(mother);
                }
                None => add_dimensions(&mut v, &m.dimensions),
            }
            v
        }
        AisMessage::LongRange(m) => json!({
            "status": m.status,
            "status_text": nav_status_text(m.status),
            "accuracy": m.accuracy,
            "lon": round(m.lon.unwrap_or(181.0), 1e4),
            "lat": round(m.lat.unwrap_or(91.0), 1e4),
            "speed": m.speed.unwrap_or(63),
            "course": m.course.unwrap_or(511),
            "raim": m.raim,
            "gnss": m.gnss,
        }),
        AisMessage::Unsupported(u) => json!({ "unsupported": true, "bits": u.bits }),
    };
    if let Value::Object(f) = fields {
        o.extend(f);
    }
    Value::Object(o)
}

/// A line that could not be decoded, as the `decode` CLI prints it.
pub fn error_to_json(e: &DecodeError) -> Value {
    json!({ "error": e.error.to_string(), "reason": e.error.reason(), "line": e.line })
}

fn add_dimensions(v: &mut Value, d: &Dimensions) {
    v["to_bow"] = json!(d.to_bow);
    v["to_stern"] = json!(d.to_stern);
    v["to_port"] = json!(d.to_port);
    v["to_starboard"] = json!(d.to_starboard);
}

/// gpsd prints positions with 7 decimals (and 4 for type 27).
fn round(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

fn lon(v: Option<f64>) -> f64 {
    round(v.unwrap_or(181.0), 1e7)
}

fn lat(v: Option<f64>) -> f64 {
    round(v.unwrap_or(91.0), 1e7)
}

fn speed(v: Option<f64>) -> f64 {
    round(v.unwrap_or(102.3), 10.0)
}

fn course(v: Option<f64>) -> f64 {
    round(v.unwrap_or(360.0), 10.0)
}

/// Rate of turn as gpsd writes it when scaling: a legend for the special codes, otherwise the
/// indicator converted to degrees per minute ((raw / 4.733)², keeping the sign).
fn turn_text(turn: Option<i8>) -> String {
    match turn {
        None => "n/a".into(),
        Some(-127) => "fastleft".into(),
        Some(127) => "fastright".into(),
        Some(raw) => {
            let r = f64::from(raw) / 4.733;
            format!("{:.2}", r * r * f64::from(raw).signum())
        }
    }
}
