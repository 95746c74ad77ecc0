//! Entities as [`Resource`]s: the one mapping from a model entity to what [`authorize`] decides on,
//! used by every channel that hands out entities (REST, OGC, tiles, WebSocket/SSE, exports).

use twin_core::{AgencyId, Entity, EntityKind, KindFilter};

use super::{authorize, property_filter, Action, Owner, Principal, PropertyFilter, Resource};
use crate::config::Place;

/// The property naming the agency an entity belongs to or is routed to (a unit's agency, the
/// agency a citizen report is routed to).
pub const AGENCY_PROPERTY: &str = "agency_id";
/// The property holding an entity's commune/ward code, for jurisdictions given as communes.
pub const COMMUNE_PROPERTY: &str = "commune";
/// The property holding a detection's class (`person`, `car`, `plate` …).
pub const CLASS_PROPERTY: &str = "class";

fn text<'a>(e: &'a Entity, name: &str) -> Option<&'a str> {
    e.properties.get(name).and_then(|v| v.as_str())
}

/// Calls `f` with the entity's owner: its agency, commune and position.
fn with_owner<T>(e: &Entity, f: impl FnOnce(&Owner<'_>) -> T) -> T {
    let agency = text(e, AGENCY_PROPERTY).map(|a| AgencyId(a.to_owned()));
    let owner = Owner {
        agency: agency.as_ref(),
        place: Place { commune: text(e, COMMUNE_PROPERTY), point: e.position.map(|p| [p.lon, p.lat]) },
    };
    f(&owner)
}

/// Calls `f` with the entity's resource for `authorize` (owner agency, place, class).
pub fn with_entity_resource<T>(e: &Entity, f: impl FnOnce(&Resource<'_>) -> T) -> T {
    let class = (e.kind == EntityKind::Detection).then(|| text(e, CLASS_PROPERTY)).flatten();
    with_owner(e, |owner| f(&Resource::Entity { kind: e.kind, class, owner: *owner }))
}

/// The properties of `e` that `principal` may not read.
pub fn entity_property_filter(principal: &Principal, e: &Entity) -> PropertyFilter {
    with_owner(e, |owner| property_filter(principal, e.kind, owner))
}

/// May `principal` read this entity?
pub fn can_read_entity(principal: &Principal, e: &Entity) -> bool {
    with_entity_resource(e, |r| authorize(principal, Action::Read, r).is_allowed())
}

/// Removes the properties of `e` that `principal` may not read (a citizen report's contact …).
pub fn redact_entity(principal: &Principal, e: &mut Entity) {
    let filter = entity_property_filter(principal, e);
    if !filter.is_identity() {
        filter.redact(&mut e.properties);
    }
}

impl Principal {
    /// Kinds of which this principal may read at least some entities: a query's kind filter is
    /// narrowed by it before the index is searched; [`can_read_entity`] decides per entity.
    pub fn entity_kinds(&self) -> KindFilter {
        if self.role.is_none() || self.role == Some(crate::Role::Device) {
            return KindFilter::NONE;
        }
        let p = &*self.perms;
        if p.everything || p.kinds.contains_key("*") {
            return KindFilter::ALL;
        }
        EntityKind::ALL
            .iter()
            .copied()
            .filter(|k| {
                let name = k.as_str();
                p.kinds.keys().any(|key| key == name || key.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
            })
            .collect()
    }

    /// Whether every entity of `kind` is visible whatever its owner, place or class (counts of
    /// the kind reveal nothing hidden).
    pub fn sees_every(&self, kind: EntityKind) -> bool {
        let p = &*self.perms;
        if p.everything {
            return true;
        }
        if self.role.is_none() || self.role == Some(crate::Role::Device) {
            return false;
        }
        let all = |k: &str| p.kinds.get(k) == Some(&super::permissions::Reach::All);
        let sensitive_class = p.sensitive.classes.iter().any(|(k, _)| k == kind.as_str());
        (all(kind.as_str()) || all("*")) && !sensitive_class
    }

    /// Whether every entity of `kind` is visible with all its properties: the fast path that
    /// skips the per-entity check and the redaction.
    pub fn reads_every(&self, kind: EntityKind) -> bool {
        self.perms.everything || (self.sees_every(kind) && !self.perms.sensitive.properties.contains_key(kind.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{danang_demo, Policy, Role};
    use twin_core::{EntityId, PropertyValue, Timestamp};

    fn entity(kind: EntityKind, props: &[(&str, &str)]) -> Entity {
        let mut e = Entity {
            id: EntityId(1),
            kind,
            external_id: "x".into(),
            source: "test".into(),
            last_seen: Timestamp::from_millis(0),
            position: None,
            heading: None,
            speed: None,
            status: None,
            properties: Default::default(),
            track: Default::default(),
            mean_interval_ms: 0.0,
        };
        for (k, v) in props {
            e.properties.insert((*k).into(), PropertyValue::Text((*v).into()));
        }
        e
    }

    #[test]
    fn police_units_and_person_detections_only_for_police() {
        let policy = Policy::new(&danang_demo().unwrap()).unwrap();
        let police = policy.principal("p", Role::Operator, Some(&AgencyId("police".into())), &[]).unwrap();
        let transport = policy.principal("t", Role::Operator, Some(&AgencyId("transport".into())), &[]).unwrap();
        let unit = entity(EntityKind::PoliceUnit, &[]);
        let person = entity(EntityKind::Detection, &[("class", "person")]);
        let car = entity(EntityKind::Detection, &[("class", "car")]);
        let bus = entity(EntityKind::Bus, &[]);
        assert!(can_read_entity(&police, &unit) && can_read_entity(&police, &person));
        assert!(!can_read_entity(&transport, &unit) && !can_read_entity(&transport, &person));
        assert!(can_read_entity(&transport, &car) && can_read_entity(&transport, &bus));
        assert!(!transport.entity_kinds().contains(EntityKind::PoliceUnit));
        assert!(police.entity_kinds().contains(EntityKind::PoliceUnit));
        assert!(transport.reads_every(EntityKind::Bus) && !transport.reads_every(EntityKind::Detection));
        assert!(!can_read_entity(&policy.anonymous(), &bus));
    }
}
