//! Snapshot contents: entities (in chunks), alerts and rule state, and the extension sections,
//! in snapshot layouts 1 and 2.

use std::collections::VecDeque;

use super::super::chunks;
use super::super::codec::{CodecError, Reader, Writer};
use super::super::extension::{ExtensionSection, ExtensionSections};
use super::{
    get_kind, get_position, get_properties, get_rule_kind, get_severity, get_stream, put_kind, put_position,
    put_properties, rule_kind_tag, severity_tag,
};
use crate::rules::RuleState;
use crate::{Alert, AlertId, Entity, EntityId, Properties, Timestamp, TrackPoint, TwinParts};

// Smallest encodings, used to refuse impossible counts before allocating.
pub(crate) const MIN_ENTITY: usize = 8 + 1 + 4 + 4 + 8 + 4 + 4 + 4 + 8;
const MIN_ALERT_V1: usize = 8 + 8 + 8 + 1 + 4 + 4 + 1 + 1 + 4 + 1;
const MIN_ALERT_V2: usize = 8 + 8 + 1 + 1 + 4 + 4 + 1 + 1 + 4 + 1 + 4;
const MIN_TRACK_POINT: usize = 8 + 16 + 2;
const MIN_SECTION: usize = 4 + 1 + 2 + 4;

/// Snapshot layouts: version 1 had no alert detail, an entity on every alert and no extension
/// sections.
pub(crate) const PARTS_V1: u32 = 1;
pub(crate) const PARTS_V2: u32 = 2;

/// Appends the encoding of snapshot contents (the current layout, [`crate::store::SNAPSHOT_VERSION`]).
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

/// Decodes snapshot contents of the current layout; the whole slice must be consumed.
pub fn decode_parts(data: &[u8]) -> Result<TwinParts, CodecError> {
    let mut r = Reader::new(data);
    let parts = get_parts(&mut r, PARTS_V2)?;
    r.finish()?;
    Ok(parts)
}

/// Snapshot contents in layout `version` (1 or 2).
pub(crate) fn get_parts(r: &mut Reader<'_>, version: u32) -> Result<TwinParts, CodecError> {
    let next_id = r.u64()?;
    let next_alert_id = r.u64()?;
    let entities = chunks::get_entities(r)?;
    let v1 = version == PARTS_V1;
    let n = r.count("alert", if v1 { MIN_ALERT_V1 } else { MIN_ALERT_V2 })?;
    let mut alerts = Vec::with_capacity(n);
    for _ in 0..n {
        alerts.push(if v1 { get_alert_v1(r)? } else { get_alert(r)? });
    }
    let rule_state = get_rule_state(r)?;
    Ok(TwinParts { entities, next_id, alerts, next_alert_id, rule_state })
}

/// Extension sections: `u32 n`, then per section `str stream, u16 version, bytes payload`, in
/// stream order.
pub(crate) fn put_sections(w: &mut Writer<'_>, sections: &ExtensionSections) {
    w.len(sections.len());
    for (stream, s) in sections {
        w.str(stream.as_str());
        w.u16(s.version);
        w.bytes(&s.payload);
    }
}

pub(crate) fn get_sections(r: &mut Reader<'_>) -> Result<ExtensionSections, CodecError> {
    let n = r.count("extension section", MIN_SECTION)?;
    let mut sections = ExtensionSections::new();
    for _ in 0..n {
        let at = r.pos();
        let stream = get_stream(r)?;
        let section = ExtensionSection { version: r.u16()?, payload: r.bytes()? };
        if sections.insert(stream, section).is_some() {
            return Err(CodecError::Invalid { what: "repeated extension stream", at });
        }
    }
    Ok(sections)
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

/// Alert, snapshot layout 2: `u64 id, i64 time, opt u64 entity, u8 kind, str external id,
/// str rule, u8 rule kind, u8 severity, str message, opt position, properties detail`.
fn put_alert(w: &mut Writer<'_>, a: &Alert) {
    w.u64(a.id.0);
    w.i64(a.time.0);
    w.opt(a.entity.map(|e| e.0), Writer::u64);
    put_kind(w, a.entity_kind);
    w.str(&a.external_id);
    w.str(&a.rule);
    w.u8(rule_kind_tag(a.rule_kind));
    w.u8(severity_tag(a.severity));
    w.str(&a.message);
    w.opt(a.position, put_position);
    put_properties(w, &a.detail);
}

fn get_alert(r: &mut Reader<'_>) -> Result<Alert, CodecError> {
    Ok(Alert {
        id: AlertId(r.u64()?),
        time: Timestamp(r.i64()?),
        entity: r.opt(Reader::u64)?.map(EntityId),
        entity_kind: get_kind(r)?,
        external_id: r.str()?,
        rule: r.str()?,
        rule_kind: get_rule_kind(r)?,
        severity: get_severity(r)?,
        message: r.str()?,
        position: r.opt(get_position)?,
        detail: get_properties(r)?,
    })
}

/// Alert, snapshot layout 1: `u64 id, i64 time, u64 entity, u8 kind, str external id, str rule,
/// u8 rule kind, u8 severity, str message, opt position`.
fn get_alert_v1(r: &mut Reader<'_>) -> Result<Alert, CodecError> {
    Ok(Alert {
        id: AlertId(r.u64()?),
        time: Timestamp(r.i64()?),
        entity: Some(EntityId(r.u64()?)),
        entity_kind: get_kind(r)?,
        external_id: r.str()?,
        rule: r.str()?,
        rule_kind: get_rule_kind(r)?,
        severity: get_severity(r)?,
        message: r.str()?,
        position: r.opt(get_position)?,
        detail: Properties::new(),
    })
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
