//! Encodings of the model's types for the log and snapshots. Enum tags are written out explicitly
//! (never `as u8` of a Rust enum) because they are part of the on-disk format.
//!
//! A log payload is `u64 seq, u8 tag, body` (little-endian; `str` = u32 byte length + UTF-8,
//! `bytes` = u32 length + raw, `opt` = u8 0/1 + value). Tags are only ever added:
//!
//! | tag | record | body |
//! |---|---|---|
//! | 0 | observations, before attribution | u32 n, n × observation (decoded with actor [`UNATTRIBUTED`]) |
//! | 1 | tick | i64 ms |
//! | 2 | remove, before attribution | u64 entity id (decoded with actor [`UNATTRIBUTED`]) |
//! | 3 | observations | str actor, u32 n, n × observation |
//! | 4 | remove | str actor, u64 entity id |
//! | 5 | raise alert | str actor, i64 time, u8 rule kind, u8 severity, str rule, subject, str message, properties detail, opt position |
//! | 6 | extension | str actor, str stream, u16 version, bytes payload |
//!
//! A subject is `u8 0, u64 id` (entity), `u8 1, u8 kind, str external id` (key) or
//! `u8 2, str name, u8 kind` (feed).

mod parts;

use super::codec::{CodecError, Reader, Writer};
use super::extension::StreamName;
use super::{LogRecord, UNATTRIBUTED};
use crate::rules::{AlertSubject, RaiseAlert};
use crate::{
    ActorId, EntityId, EntityKind, Observation, Position, Properties, PropertyValue, RuleKind, Severity, Timestamp,
};

pub use parts::{decode_parts, encode_parts};
pub(crate) use parts::{get_entity, get_parts, get_sections, put_entity, put_sections, MIN_ENTITY, PARTS_V2};

// Smallest encodings, used to refuse impossible counts before allocating.
const MIN_OBSERVATION: usize = 4 + 1 + 4 + 8 + 4 + 4;
const MIN_PROPERTY: usize = 4 + 2;

const RECORD_OBSERVATIONS_UNATTRIBUTED: u8 = 0;
const RECORD_TICK: u8 = 1;
const RECORD_REMOVE_UNATTRIBUTED: u8 = 2;
const RECORD_OBSERVATIONS: u8 = 3;
const RECORD_REMOVE: u8 = 4;
const RECORD_RAISE_ALERT: u8 = 5;
const RECORD_EXTENSION: u8 = 6;

const SUBJECT_ENTITY: u8 = 0;
const SUBJECT_KEY: u8 = 1;
const SUBJECT_FEED: u8 = 2;

/// Appends a log payload: the sequence number, then the record.
pub(crate) fn put_record(buf: &mut Vec<u8>, seq: u64, record: &LogRecord) {
    let mut w = Writer::new(buf);
    w.u64(seq);
    match record {
        LogRecord::Observations { actor, batch } => {
            w.u8(RECORD_OBSERVATIONS);
            w.str(actor.as_str());
            w.len(batch.len());
            for o in batch {
                put_observation(&mut w, o);
            }
        }
        LogRecord::Tick(t) => {
            w.u8(RECORD_TICK);
            w.i64(t.0);
        }
        LogRecord::Remove { actor, id } => {
            w.u8(RECORD_REMOVE);
            w.str(actor.as_str());
            w.u64(id.0);
        }
        LogRecord::RaiseAlert { actor, alert } => {
            w.u8(RECORD_RAISE_ALERT);
            w.str(actor.as_str());
            put_raise(&mut w, alert);
        }
        LogRecord::Extension { actor, stream, version, payload } => {
            w.u8(RECORD_EXTENSION);
            w.str(actor.as_str());
            w.str(stream.as_str());
            w.u16(*version);
            w.bytes(payload);
        }
    }
}

/// Encodes one log payload (sequence number and record) into a fresh buffer.
pub fn encode_record(seq: u64, record: &LogRecord) -> Vec<u8> {
    let mut buf = Vec::new();
    put_record(&mut buf, seq, record);
    buf
}

/// The length of the payload [`encode_record`] produces for `record`, without encoding it: what
/// the writer checks against the record size limit before anything is logged.
pub fn encoded_len(record: &LogRecord) -> usize {
    const SEQ_AND_TAG: usize = 8 + 1;
    SEQ_AND_TAG
        + match record {
            LogRecord::Observations { actor, batch } => {
                str_len(actor.as_str()) + 4 + batch.iter().map(observation_len).sum::<usize>()
            }
            LogRecord::Tick(_) => 8,
            LogRecord::Remove { actor, .. } => str_len(actor.as_str()) + 8,
            LogRecord::RaiseAlert { actor, alert } => str_len(actor.as_str()) + raise_len(alert),
            LogRecord::Extension { actor, stream, payload, .. } => {
                str_len(actor.as_str()) + str_len(stream.as_str()) + 2 + 4 + payload.len()
            }
        }
}

fn str_len(s: &str) -> usize {
    4 + s.len()
}

const POSITION_LEN: usize = 16;

fn observation_len(o: &Observation) -> usize {
    let opt = |present: bool, len: usize| 1 + if present { len } else { 0 };
    str_len(&o.source)
        + 1
        + str_len(&o.external_id)
        + 8
        + opt(o.position.is_some(), POSITION_LEN)
        + opt(o.heading.is_some(), 8)
        + opt(o.speed.is_some(), 8)
        + opt(o.status.is_some(), o.status.as_deref().map_or(0, str_len))
        + properties_len(&o.properties)
}

fn properties_len(props: &Properties) -> usize {
    4 + props
        .iter()
        .map(|(k, v)| {
            str_len(k)
                + 1
                + match v {
                    PropertyValue::Bool(_) => 1,
                    PropertyValue::Int(_) | PropertyValue::Float(_) => 8,
                    PropertyValue::Text(s) => str_len(s),
                }
        })
        .sum::<usize>()
}

fn raise_len(a: &RaiseAlert) -> usize {
    let subject = match &a.subject {
        AlertSubject::Entity(_) => 8,
        AlertSubject::Key { external_id, .. } => 1 + str_len(external_id),
        AlertSubject::Feed { name, .. } => str_len(name) + 1,
    };
    8 + 1
        + 1
        + str_len(&a.rule)
        + 1
        + subject
        + str_len(&a.message)
        + properties_len(&a.detail)
        + 1
        + if a.position.is_some() { POSITION_LEN } else { 0 }
}

/// Decodes one log payload (as framed in a segment, without the length and CRC) into its sequence
/// number and record. Never panics, whatever the bytes.
pub fn decode_record(payload: &[u8]) -> Result<(u64, LogRecord), CodecError> {
    let mut r = Reader::new(payload);
    let seq = r.u64()?;
    let at = r.pos();
    let unattributed = || ActorId(UNATTRIBUTED.to_owned());
    let record = match r.u8()? {
        RECORD_OBSERVATIONS_UNATTRIBUTED => {
            LogRecord::Observations { actor: unattributed(), batch: get_batch(&mut r)? }
        }
        RECORD_TICK => LogRecord::Tick(Timestamp(r.i64()?)),
        RECORD_REMOVE_UNATTRIBUTED => LogRecord::Remove { actor: unattributed(), id: EntityId(r.u64()?) },
        RECORD_OBSERVATIONS => {
            let actor = ActorId(r.str()?);
            LogRecord::Observations { actor, batch: get_batch(&mut r)? }
        }
        RECORD_REMOVE => LogRecord::Remove { actor: ActorId(r.str()?), id: EntityId(r.u64()?) },
        RECORD_RAISE_ALERT => LogRecord::RaiseAlert { actor: ActorId(r.str()?), alert: get_raise(&mut r)? },
        RECORD_EXTENSION => LogRecord::Extension {
            actor: ActorId(r.str()?),
            stream: get_stream(&mut r)?,
            version: r.u16()?,
            payload: r.bytes()?,
        },
        tag => return Err(CodecError::Tag { what: "log record", tag, at }),
    };
    r.finish()?;
    Ok((seq, record))
}

fn get_batch(r: &mut Reader<'_>) -> Result<Vec<Observation>, CodecError> {
    let n = r.count("observation", MIN_OBSERVATION)?;
    let mut batch = Vec::with_capacity(n);
    for _ in 0..n {
        batch.push(get_observation(r)?);
    }
    Ok(batch)
}

fn get_stream(r: &mut Reader<'_>) -> Result<StreamName, CodecError> {
    let at = r.pos();
    StreamName::new(r.str()?).map_err(|_| CodecError::Invalid { what: "stream name", at })
}

fn put_raise(w: &mut Writer<'_>, a: &RaiseAlert) {
    w.i64(a.time.0);
    w.u8(rule_kind_tag(a.kind));
    w.u8(severity_tag(a.severity));
    w.str(&a.rule);
    match &a.subject {
        AlertSubject::Entity(id) => {
            w.u8(SUBJECT_ENTITY);
            w.u64(id.0);
        }
        AlertSubject::Key { kind, external_id } => {
            w.u8(SUBJECT_KEY);
            put_kind(w, *kind);
            w.str(external_id);
        }
        AlertSubject::Feed { name, kind } => {
            w.u8(SUBJECT_FEED);
            w.str(name);
            put_kind(w, *kind);
        }
    }
    w.str(&a.message);
    put_properties(w, &a.detail);
    w.opt(a.position, put_position);
}

fn get_raise(r: &mut Reader<'_>) -> Result<RaiseAlert, CodecError> {
    let time = Timestamp(r.i64()?);
    let kind = get_rule_kind(r)?;
    let severity = get_severity(r)?;
    let rule = r.str()?;
    let at = r.pos();
    let subject = match r.u8()? {
        SUBJECT_ENTITY => AlertSubject::Entity(EntityId(r.u64()?)),
        SUBJECT_KEY => AlertSubject::Key { kind: get_kind(r)?, external_id: r.str()? },
        SUBJECT_FEED => AlertSubject::Feed { name: r.str()?, kind: get_kind(r)? },
        tag => return Err(CodecError::Tag { what: "alert subject", tag, at }),
    };
    Ok(RaiseAlert {
        time,
        kind,
        rule,
        severity,
        subject,
        message: r.str()?,
        detail: get_properties(r)?,
        position: r.opt(get_position)?,
    })
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

fn rule_kind_tag(k: RuleKind) -> u8 {
    match k {
        RuleKind::GeofenceEnter => 0,
        RuleKind::GeofenceExit => 1,
        RuleKind::ThresholdAbove => 2,
        RuleKind::ThresholdBelow => 3,
        RuleKind::Stale => 4,
        RuleKind::FeedStale => 5,
        RuleKind::CameraQueue => 6,
        RuleKind::CameraStoppedVehicle => 7,
        RuleKind::CameraRestrictedZone => 8,
        RuleKind::FireAlarm => 9,
    }
}

fn get_rule_kind(r: &mut Reader<'_>) -> Result<RuleKind, CodecError> {
    let at = r.pos();
    Ok(match r.u8()? {
        0 => RuleKind::GeofenceEnter,
        1 => RuleKind::GeofenceExit,
        2 => RuleKind::ThresholdAbove,
        3 => RuleKind::ThresholdBelow,
        4 => RuleKind::Stale,
        5 => RuleKind::FeedStale,
        6 => RuleKind::CameraQueue,
        7 => RuleKind::CameraStoppedVehicle,
        8 => RuleKind::CameraRestrictedZone,
        9 => RuleKind::FireAlarm,
        tag => return Err(CodecError::Tag { what: "rule kind", tag, at }),
    })
}

fn get_severity(r: &mut Reader<'_>) -> Result<Severity, CodecError> {
    let at = r.pos();
    Ok(match r.u8()? {
        0 => Severity::Minor,
        1 => Severity::Moderate,
        2 => Severity::Severe,
        3 => Severity::Extreme,
        tag => return Err(CodecError::Tag { what: "severity", tag, at }),
    })
}

fn severity_tag(s: Severity) -> u8 {
    match s {
        Severity::Minor => 0,
        Severity::Moderate => 1,
        Severity::Severe => 2,
        Severity::Extreme => 3,
    }
}
