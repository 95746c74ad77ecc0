//! From GTFS-realtime entities to Bus observations.
//!
//! A VehiclePosition gives position, bearing, speed, route, trip, occupancy. A TripUpdate gives
//! route, trip and delay; it is tied to a bus by its vehicle descriptor, so a TripUpdate that names
//! no vehicle is skipped (it describes a trip, not a bus we could place or update).

use twin_core::{EntityKind, Observation, Position, Properties, PropertyValue, Timestamp};

use super::json::decimal_f32;
use super::proto::{vehicle_position, FeedEntity, FeedMessage, TripDescriptor, TripUpdate, VehicleDescriptor};

/// Source name used for GTFS-realtime observations unless the caller sets another.
pub const SOURCE: &str = "gtfs-rt";

/// How to turn a feed into observations.
#[derive(Debug, Clone)]
pub struct ObservationOptions {
    pub source: String,
    /// Time used when neither the entity nor the feed header carries a timestamp.
    pub fallback_time: Timestamp,
}

impl Default for ObservationOptions {
    fn default() -> Self {
        Self { source: SOURCE.to_owned(), fallback_time: Timestamp::from_millis(0) }
    }
}

/// Observations decoded from one feed, with the number of entities that gave none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedObservations {
    pub observations: Vec<Observation>,
    /// Deleted entities, alerts and other entity types, TripUpdates without a vehicle.
    pub skipped: usize,
}

/// All Bus observations of a feed, in entity order.
pub fn to_observations(feed: &FeedMessage, opts: &ObservationOptions) -> FeedObservations {
    let header_time = feed.header.timestamp.and_then(seconds_to_time);
    let mut out = FeedObservations::default();
    for entity in &feed.entity {
        let obs = entity_to_observation(entity, header_time.unwrap_or(opts.fallback_time), &opts.source);
        if obs.is_empty() {
            out.skipped += 1;
        }
        out.observations.extend(obs);
    }
    out
}

/// The observations of one entity (a vehicle position and/or a trip update); `default_time` is
/// used when the entity has no timestamp of its own.
pub fn entity_to_observation(entity: &FeedEntity, default_time: Timestamp, source: &str) -> Vec<Observation> {
    let mut out = Vec::new();
    if entity.is_deleted == Some(true) {
        return out;
    }
    if let Some(v) = &entity.vehicle {
        if let Some(id) = vehicle_key(v.vehicle.as_ref()).or((!entity.id.is_empty()).then_some(entity.id.as_str())) {
            let time = v.timestamp.and_then(seconds_to_time).unwrap_or(default_time);
            let mut obs = Observation::new(EntityKind::Bus, id, time);
            obs.source = source.to_owned();
            if let Some(p) = &v.position {
                let pos = Position::new(decimal_f32(p.longitude), decimal_f32(p.latitude));
                obs.position = pos.is_valid().then_some(pos);
                obs.heading = p.bearing.map(decimal_f32).filter(|h| h.is_finite() && (0.0..=360.0).contains(h));
                obs.speed = p.speed.map(decimal_f32).filter(|s| s.is_finite() && *s >= 0.0);
                if let Some(o) = p.odometer.filter(|o| o.is_finite()) {
                    put(&mut obs.properties, "odometer_m", PropertyValue::Float(o));
                }
            }
            describe(&mut obs.properties, v.trip.as_ref(), v.vehicle.as_ref());
            vehicle_properties(&mut obs.properties, v);
            out.push(obs);
        }
    }
    if let Some(t) = &entity.trip_update {
        if let Some(id) = vehicle_key(t.vehicle.as_ref()) {
            let time = t.timestamp.and_then(seconds_to_time).unwrap_or(default_time);
            let mut obs = Observation::new(EntityKind::Bus, id, time);
            obs.source = source.to_owned();
            describe(&mut obs.properties, Some(&t.trip), t.vehicle.as_ref());
            trip_update_properties(&mut obs.properties, t);
            out.push(obs);
        }
    }
    out
}

/// The bus's external id: the vehicle id, else its label.
fn vehicle_key(v: Option<&VehicleDescriptor>) -> Option<&str> {
    let v = v?;
    v.id.as_deref().filter(|s| !s.is_empty()).or(v.label.as_deref().filter(|s| !s.is_empty()))
}

fn seconds_to_time(s: u64) -> Option<Timestamp> {
    i64::try_from(s).ok().and_then(|s| s.checked_mul(1000)).map(Timestamp::from_millis)
}

fn put(p: &mut Properties, key: &str, v: PropertyValue) {
    p.insert(key.to_owned(), v);
}

fn put_text(p: &mut Properties, key: &str, v: &Option<String>) {
    if let Some(s) = v.as_deref().filter(|s| !s.is_empty()) {
        put(p, key, PropertyValue::Text(s.to_owned()));
    }
}

fn describe(p: &mut Properties, trip: Option<&TripDescriptor>, vehicle: Option<&VehicleDescriptor>) {
    if let Some(t) = trip {
        put_text(p, "route_id", &t.route_id);
        put_text(p, "trip_id", &t.trip_id);
        put_text(p, "start_date", &t.start_date);
        put_text(p, "start_time", &t.start_time);
        if let Some(d) = t.direction_id {
            put(p, "direction_id", PropertyValue::Int(i64::from(d)));
        }
        if let Some(r) =
            t.schedule_relationship.and_then(|r| super::proto::trip_descriptor::ScheduleRelationship::try_from(r).ok())
        {
            put(p, "schedule_relationship", PropertyValue::Text(r.as_str_name().to_ascii_lowercase()));
        }
    }
    if let Some(v) = vehicle {
        put_text(p, "vehicle_label", &v.label);
        put_text(p, "license_plate", &v.license_plate);
    }
}

fn vehicle_properties(p: &mut Properties, v: &super::proto::VehiclePosition) {
    if let Some(o) = v.occupancy_status.and_then(|o| vehicle_position::OccupancyStatus::try_from(o).ok()) {
        put(p, "occupancy", PropertyValue::Text(o.as_str_name().to_ascii_lowercase()));
    }
    if let Some(o) = v.occupancy_percentage {
        put(p, "occupancy_percent", PropertyValue::Int(i64::from(o)));
    }
    if let Some(c) = v.congestion_level.and_then(|c| vehicle_position::CongestionLevel::try_from(c).ok()) {
        put(p, "congestion", PropertyValue::Text(c.as_str_name().to_ascii_lowercase()));
    }
    put_text(p, "stop_id", &v.stop_id);
    if let Some(s) = v.current_stop_sequence {
        put(p, "stop_sequence", PropertyValue::Int(i64::from(s)));
    }
    if v.current_stop_sequence.is_some() || v.stop_id.is_some() {
        let status = v
            .current_status
            .and_then(|s| vehicle_position::VehicleStopStatus::try_from(s).ok())
            .unwrap_or(vehicle_position::VehicleStopStatus::InTransitTo);
        put(p, "stop_status", PropertyValue::Text(status.as_str_name().to_ascii_lowercase()));
    }
}

/// Delay: the trip-level delay, else the first stop time update that carries one (the next stop's).
fn trip_update_properties(p: &mut Properties, t: &TripUpdate) {
    let first_stop_delay = t.stop_time_update.iter().find_map(|u| {
        let delay = u.arrival.and_then(|a| a.delay).or(u.departure.and_then(|d| d.delay))?;
        Some((delay, u))
    });
    if let Some(d) = t.delay.or(first_stop_delay.map(|(d, _)| d)) {
        put(p, "delay_s", PropertyValue::Int(i64::from(d)));
    }
    if let Some(u) = t.stop_time_update.first() {
        put_text(p, "next_stop_id", &u.stop_id);
        if let Some(s) = u.stop_sequence {
            put(p, "next_stop_sequence", PropertyValue::Int(i64::from(s)));
        }
    }
}
