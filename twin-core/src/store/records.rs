//! Encodings of the model's types for the log and snapshots. Enum tags are written out explicitly
//! (never `as u8` of a Rust enum) because they are part of the on-disk format.

use std::collections::VecDeque;

use super::chunks;
use super::codec::{CodecError, Reader, Writer};
use super::LogRecord;
use crate::rules::RuleState;
use crate::{
    Alert, AlertId, Entity, EntityId, EntityKind, Observation, Position, Properties, PropertyValue, RuleKind, Severity,
    Timestamp, TrackPoint, TwinParts,
};

// Smallest encodings, used to refuse impossible counts before allocating.
const MIN_OBSERVATION: usize = 4 + 1 + 4 + 8 + 4 + 4;
pub(crate) const MIN_ENTITY: usize = 8 + 1 + 4 + 4 + 8 + 4 + 4 + 4 + 8;
const MIN_ALERT: usize = 8 + 8 + 8 + 1 + 4 + 4 + 1 + 1 + 4 + 1;
const MIN_TRACK_POINT: usize = 8 + 16 + 2;
const MIN_PROPERTY: usize = 4 + 2;

const RECORD_OBSERVATIONS: u8 = 0;
const RECORD_TICK: u8 = 1;
const RECORD_REMOVE: u8 = 2;

/// Appends a log payload: the sequence number, then the record.
pub(crate) fn put_record(buf: &mut Vec<u8>, seq: u64, record: &LogRecord) {
    let mut w = Writer::new(buf);
    w.u64(seq);
    match record {
        LogRecord::Observations(batch) => {
            w.u8(RECORD_OBSERVATIONS);
            w.len(batch.len());
            for o in batch {
                put_observation(&mut w, o);
            }
        }
        LogRecord::Tick(t) => {
            w.u8(RECORD_TICK);
            w.i64(t.0);
        }
        LogRecord::Remove(id) => {
            w.u8(RECORD_REMOVE);
            w.u64(id.0);
        }
    }
}

/// Encodes one log payload (sequence number and record) into a fresh buffer.
pub fn encode_record(seq: u64, record: &LogRecord) -> Vec<u8> {
    let mut buf = Vec::new();
    put_record(&mut buf, seq, record);
    buf
}

/// Decodes one log payload (as framed in a segment, without the length and CRC) into its sequence
/// number and record. Never panics, whatever the bytes.
pub fn decode_record(payload: &[u8]) -> Result<(u64, LogRecord), CodecError> {
    let mut r = Reader::new(payload);
    let seq = r.u64()?;
    let at = r.pos();
    let record = match r.u8()? {
        RECORD_OBSERVATIONS => {
            let n = r.count("observation", MIN_OBSERVATION)?;
            let mut batch = Vec::with_capacity(n);
            for _ in 0..n {
                batch.push(get_observation(&mut r)?);
            }
            LogRecord::Observations(batch)
        }
        RECORD_TICK => LogRecord::Tick(Timestamp(r.i64()?)),
        RECORD_REMOVE => LogRecord::Remove(EntityId(r.u64()?)),
        tag => return Err(CodecError::Tag { what: "log record", tag, at }),
    };
    r.finish()?;
    Ok((seq, record))
}

/// Appends the encoding of snapshot contents.
pub fn encode_parts(buf: &mut Vec<u8>, parts: &TwinParts) {
    Writer::new(buf).u64(parts.next_id);
    Writer::new(buf).u64(parts.next_alert_id);
    chunks::put_entities(buf, &parts.entities);
    let mut w = Writer::new(buf);
    w.len(parts.alerts.len());
    for a in &parts.alerts {
        put_alert(&mut w, a);
    }
    put_rule_state(&mut w, &parts.rule_state);
}

/// Decodes snapshot contents; the whole slice must be consumed.
pub fn decode_parts(data: &[u8]) -> Result<TwinParts, CodecError> {
    let mut r = Reader::new(data);
    let next_id = r.u64()?;
    let next_alert_id = r.u64()?;
    let entities = chunks::get_entities(&mut r)?;
    let n = r.count("alert", MIN_ALERT)?;
    let mut alerts = Vec::with_capacity(n);
    for _ in 0..n {
        alerts.push(get_alert(&mut r)?);
    }
    let rule_state = get_rule_state(&mut r)?;
    r.finish()?;
    Ok(TwinParts { entities, next_id, alerts, next_alert_id, rule_state })
}

fn put_kind(w: &mut Writer<'_>, kind: EntityKind) {
    // `EntityKind::index` is documented as stable and part of the log format.
    w.u8(kind.index() as u8);
}

fn get_kind(r: &mut Reader<'_>) -> Result<EntityKind, CodecError> {
    let at = r.pos();
    let tag = r.u8()?;
    EntityKind::from_index(usize::from(tag)).ok_or(CodecError::Tag { what: "entity kind", tag, at })
}

fn put_position(w: &mut Writer<'_>, p: Position) {
    w.f64(p.lon);
    w.f64(p.lat);
}

fn get_position(r: &mut Reader<'_>) -> Result<Position, CodecError> {
    Ok(Position { lon: r.f64()?, lat: r.f64()? })
}

fn put_properties(w: &mut Writer<'_>, props: &Properties) {
    w.len(props.len());
    for (k, v) in props {
        w.str(k);
        match v {
            PropertyValue::Bool(b) => {
                w.u8(0);
                w.bool(*b);
            }
            PropertyValue::Int(i) => {
                w.u8(1);
                w.i64(*i);
            }
            PropertyValue::Float(f) => {
                w.u8(2);
                w.f64(*f);
            }
            PropertyValue::Text(s) => {
                w.u8(3);
                w.str(s);
            }
        }
    }
}

fn get_properties(r: &mut Reader<'_>) -> Result<Properties, CodecError> {
    let n = r.count("property", MIN_PROPERTY)?;
    let mut props = Properties::new();
    for _ in 0..n {
        let key = r.str()?;
        let at = r.pos();
        let value = match r.u8()? {
            0 => PropertyValue::Bool(r.bool()?),
            1 => PropertyValue::Int(r.i64()?),
            2 => PropertyValue::Float(r.f64()?),
            3 => PropertyValue::Text(r.str()?),
            tag => return Err(CodecError::Tag { what: "property value", tag, at }),
        };
        props.insert(key, value);
    }
    Ok(props)
}

fn put_observation(w: &mut Writer<'_>, o: &Observation) {
    w.str(&o.source);
    put_kind(w, o.kind);
    w.str(&o.external_id);
    w.i64(o.time.0);
    w.opt(o.position, put_position);
    w.opt(o.heading, Writer::f64);
    w.opt(o.speed, Writer::f64);
    w.opt(o.status.as_deref(), Writer::str);
    put_properties(w, &o.properties);
}

fn get_observation(r: &mut Reader<'_>) -> Result<Observation, CodecError> {
    Ok(Observation {
        source: r.str()?,
        kind: get_kind(r)?,
        external_id: r.str()?,
        time: Timestamp(r.i64()?),
        position: r.opt(get_position)?,
        heading: r.opt(Reader::f64)?,
        speed: r.opt(Reader::f64)?,
        status: r.opt(Reader::str)?,
        properties: get_properties(r)?,
    })
}

pub(crate) fn put_entity(w: &mut Writer<'_>, e: &Entity) {
    w.u64(e.id.0);
    put_kind(w, e.kind);
    w.str(&e.external_id);
    w.str(&e.source);
    w.i64(e.last_seen.0);
    w.opt(e.position, put_position);
    w.opt(e.heading, Writer::f64);
    w.opt(e.speed, Writer::f64);
    w.opt(e.status.as_deref(), Writer::str);
    put_properties(w, &e.properties);
    w.len(e.track.len());
    for p in &e.track {
        w.i64(p.time.0);
        put_position(w, p.position);
        w.opt(p.heading, Writer::f64);
        w.opt(p.speed, Writer::f64);
    }
    w.f64(e.mean_interval_ms);
}

pub(crate) fn get_entity(r: &mut Reader<'_>) -> Result<Entity, CodecError> {
    let id = EntityId(r.u64()?);
    let kind = get_kind(r)?;
    let external_id = r.str()?;
    let source = r.str()?;
    let last_seen = Timestamp(r.i64()?);
    let position = r.opt(get_position)?;
    let heading = r.opt(Reader::f64)?;
    let speed = r.opt(Reader::f64)?;
    let status = r.opt(Reader::str)?;
    let properties = get_properties(r)?;
    let n = r.count("track point", MIN_TRACK_POINT)?;
    let mut track = VecDeque::with_capacity(n);
    for _ in 0..n {
        track.push_back(TrackPoint {
            time: Timestamp(r.i64()?),
            position: get_position(r)?,
            heading: r.opt(Reader::f64)?,
            speed: r.opt(Reader::f64)?,
        });
    }
    let mean_interval_ms = r.f64()?;
    Ok(Entity {
        id,
        kind,
        external_id,
        source,
        last_seen,
        position,
        heading,
        speed,
        status,
        properties,
        track,
        mean_interval_ms,
    })
}

fn rule_kind_tag(k: RuleKind) -> u8 {
    match k {
        RuleKind::GeofenceEnter => 0,
        RuleKind::GeofenceExit => 1,
        RuleKind::ThresholdAbove => 2,
        RuleKind::ThresholdBelow => 3,
        RuleKind::Stale => 4,
    }
}

fn severity_tag(s: Severity) -> u8 {
    match s {
        Severity::Minor => 0,
        Severity::Moderate => 1,
        Severity::Severe => 2,
        Severity::Extreme => 3,
    }
}

fn put_alert(w: &mut Writer<'_>, a: &Alert) {
    w.u64(a.id.0);
    w.i64(a.time.0);
    w.u64(a.entity.0);
    put_kind(w, a.entity_kind);
    w.str(&a.external_id);
    w.str(&a.rule);
    w.u8(rule_kind_tag(a.rule_kind));
    w.u8(severity_tag(a.severity));
    w.str(&a.message);
    w.opt(a.position, put_position);
}

fn get_alert(r: &mut Reader<'_>) -> Result<Alert, CodecError> {
    let id = AlertId(r.u64()?);
    let time = Timestamp(r.i64()?);
    let entity = EntityId(r.u64()?);
    let entity_kind = get_kind(r)?;
    let external_id = r.str()?;
    let rule = r.str()?;
    let at = r.pos();
    let rule_kind = match r.u8()? {
        0 => RuleKind::GeofenceEnter,
        1 => RuleKind::GeofenceExit,
        2 => RuleKind::ThresholdAbove,
        3 => RuleKind::ThresholdBelow,
        4 => RuleKind::Stale,
        tag => return Err(CodecError::Tag { what: "rule kind", tag, at }),
    };
    let at = r.pos();
    let severity = match r.u8()? {
        0 => Severity::Minor,
        1 => Severity::Moderate,
        2 => Severity::Severe,
        3 => Severity::Extreme,
        tag => return Err(CodecError::Tag { what: "severity", tag, at }),
    };
    let message = r.str()?;
    let position = r.opt(get_position)?;
    Ok(Alert { id, time, entity, entity_kind, external_id, rule, rule_kind, severity, message, position })
}

fn put_rule_state(w: &mut Writer<'_>, s: &RuleState) {
    w.len(s.inside.len());
    for (id, rule) in &s.inside {
        w.u64(id.0);
        w.str(rule);
    }
    w.len(s.holding.len());
    for (id, rule, since, raised) in &s.holding {
        w.u64(id.0);
        w.str(rule);
        w.i64(since.0);
        w.bool(*raised);
    }
    w.len(s.stale.len());
    for (id, rule) in &s.stale {
        w.u64(id.0);
        w.str(rule);
    }
}

fn get_rule_state(r: &mut Reader<'_>) -> Result<RuleState, CodecError> {
    let n = r.count("geofence membership", 12)?;
    let mut inside = Vec::with_capacity(n);
    for _ in 0..n {
        inside.push((EntityId(r.u64()?), r.str()?));
    }
    let n = r.count("threshold state", 21)?;
    let mut holding = Vec::with_capacity(n);
    for _ in 0..n {
        holding.push((EntityId(r.u64()?), r.str()?, Timestamp(r.i64()?), r.bool()?));
    }
    let n = r.count("stale state", 12)?;
    let mut stale = Vec::with_capacity(n);
    for _ in 0..n {
        stale.push((EntityId(r.u64()?), r.str()?));
    }
    Ok(RuleState { inside, holding, stale })
}
