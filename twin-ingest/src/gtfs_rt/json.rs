//! A feed as protobuf-JSON (proto field names, only the fields present, enums by name, 64-bit
//! integers as strings), the form the official bindings print, so decodes can be compared.

use serde_json::{Map, Value};

use super::proto::{
    feed_header, trip_descriptor, trip_update, vehicle_position, FeedEntity, FeedMessage, Position, TripDescriptor,
    TripUpdate, VehicleDescriptor, VehiclePosition,
};

/// The whole feed message.
pub fn feed_to_json(feed: &FeedMessage) -> Value {
    let mut header = Map::new();
    header.insert("gtfs_realtime_version".into(), feed.header.gtfs_realtime_version.clone().into());
    enum_field(&mut header, "incrementality", feed.header.incrementality, |v| {
        feed_header::Incrementality::try_from(v).ok().map(|e| e.as_str_name())
    });
    if let Some(t) = feed.header.timestamp {
        header.insert("timestamp".into(), t.to_string().into());
    }
    text(&mut header, "feed_version", &feed.header.feed_version);
    let mut out = Map::new();
    out.insert("header".into(), header.into());
    if !feed.entity.is_empty() {
        out.insert("entity".into(), feed.entity.iter().map(entity_to_json).collect());
    }
    out.into()
}

/// One feed entity.
pub fn entity_to_json(e: &FeedEntity) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), e.id.clone().into());
    if let Some(d) = e.is_deleted {
        m.insert("is_deleted".into(), d.into());
    }
    if let Some(t) = &e.trip_update {
        m.insert("trip_update".into(), trip_update_json(t));
    }
    if let Some(v) = &e.vehicle {
        m.insert("vehicle".into(), vehicle_position_json(v));
    }
    m.into()
}

fn vehicle_position_json(v: &VehiclePosition) -> Value {
    let mut m = Map::new();
    if let Some(t) = &v.trip {
        m.insert("trip".into(), trip_json(t));
    }
    if let Some(d) = &v.vehicle {
        m.insert("vehicle".into(), vehicle_json(d));
    }
    if let Some(p) = &v.position {
        m.insert("position".into(), position_json(p));
    }
    if let Some(s) = v.current_stop_sequence {
        m.insert("current_stop_sequence".into(), s.into());
    }
    text(&mut m, "stop_id", &v.stop_id);
    enum_field(&mut m, "current_status", v.current_status, |x| {
        vehicle_position::VehicleStopStatus::try_from(x).ok().map(|e| e.as_str_name())
    });
    if let Some(t) = v.timestamp {
        m.insert("timestamp".into(), t.to_string().into());
    }
    enum_field(&mut m, "congestion_level", v.congestion_level, |x| {
        vehicle_position::CongestionLevel::try_from(x).ok().map(|e| e.as_str_name())
    });
    enum_field(&mut m, "occupancy_status", v.occupancy_status, |x| {
        vehicle_position::OccupancyStatus::try_from(x).ok().map(|e| e.as_str_name())
    });
    if let Some(p) = v.occupancy_percentage {
        m.insert("occupancy_percentage".into(), p.into());
    }
    m.into()
}

fn trip_update_json(t: &TripUpdate) -> Value {
    let mut m = Map::new();
    m.insert("trip".into(), trip_json(&t.trip));
    if let Some(d) = &t.vehicle {
        m.insert("vehicle".into(), vehicle_json(d));
    }
    if !t.stop_time_update.is_empty() {
        let updates = t
            .stop_time_update
            .iter()
            .map(|u| {
                let mut s = Map::new();
                if let Some(q) = u.stop_sequence {
                    s.insert("stop_sequence".into(), q.into());
                }
                text(&mut s, "stop_id", &u.stop_id);
                if let Some(a) = &u.arrival {
                    s.insert("arrival".into(), event_json(a));
                }
                if let Some(d) = &u.departure {
                    s.insert("departure".into(), event_json(d));
                }
                enum_field(&mut s, "schedule_relationship", u.schedule_relationship, |x| {
                    trip_update::stop_time_update::ScheduleRelationship::try_from(x).ok().map(|e| e.as_str_name())
                });
                Value::Object(s)
            })
            .collect();
        m.insert("stop_time_update".into(), updates);
    }
    if let Some(ts) = t.timestamp {
        m.insert("timestamp".into(), ts.to_string().into());
    }
    if let Some(d) = t.delay {
        m.insert("delay".into(), d.into());
    }
    m.into()
}

fn event_json(e: &trip_update::StopTimeEvent) -> Value {
    let mut m = Map::new();
    if let Some(d) = e.delay {
        m.insert("delay".into(), d.into());
    }
    if let Some(t) = e.time {
        m.insert("time".into(), t.to_string().into());
    }
    if let Some(u) = e.uncertainty {
        m.insert("uncertainty".into(), u.into());
    }
    if let Some(t) = e.scheduled_time {
        m.insert("scheduled_time".into(), t.to_string().into());
    }
    m.into()
}

fn trip_json(t: &TripDescriptor) -> Value {
    let mut m = Map::new();
    text(&mut m, "trip_id", &t.trip_id);
    text(&mut m, "route_id", &t.route_id);
    if let Some(d) = t.direction_id {
        m.insert("direction_id".into(), d.into());
    }
    text(&mut m, "start_time", &t.start_time);
    text(&mut m, "start_date", &t.start_date);
    enum_field(&mut m, "schedule_relationship", t.schedule_relationship, |x| {
        trip_descriptor::ScheduleRelationship::try_from(x).ok().map(|e| e.as_str_name())
    });
    m.into()
}

fn vehicle_json(v: &VehicleDescriptor) -> Value {
    let mut m = Map::new();
    text(&mut m, "id", &v.id);
    text(&mut m, "label", &v.label);
    text(&mut m, "license_plate", &v.license_plate);
    m.into()
}

fn position_json(p: &Position) -> Value {
    let mut m = Map::new();
    m.insert("latitude".into(), float32(p.latitude));
    m.insert("longitude".into(), float32(p.longitude));
    if let Some(b) = p.bearing {
        m.insert("bearing".into(), float32(b));
    }
    if let Some(o) = p.odometer {
        m.insert("odometer".into(), o.into());
    }
    if let Some(s) = p.speed {
        m.insert("speed".into(), float32(s));
    }
    m.into()
}

/// A 32-bit float as the shortest decimal that reads back to it (what protobuf JSON prints),
/// rather than its exact binary value widened to f64 (28.066221 instead of 28.066221237182617).
/// Non-finite values become strings, as in protobuf JSON.
pub(crate) fn float32(x: f32) -> Value {
    if !x.is_finite() {
        return Value::String(
            if x.is_nan() {
                "NaN"
            } else if x > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }
            .into(),
        );
    }
    decimal_f32(x).into()
}

/// The shortest decimal reading of an f32, as f64.
pub(crate) fn decimal_f32(x: f32) -> f64 {
    x.to_string().parse::<f64>().unwrap_or(f64::from(x))
}

fn text(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(s) = v {
        m.insert(key.into(), s.clone().into());
    }
}

/// Known enum values by name, unknown ones by number (as protobuf JSON does).
fn enum_field(m: &mut Map<String, Value>, key: &str, v: Option<i32>, name: impl Fn(i32) -> Option<&'static str>) {
    if let Some(v) = v {
        m.insert(key.into(), name(v).map_or_else(|| Value::from(v), Value::from));
    }
}
