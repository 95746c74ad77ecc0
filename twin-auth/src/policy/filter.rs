//! Redacting the sensitive properties a principal may not read.

use std::collections::{BTreeMap, BTreeSet};

use twin_core::EntityKind;

use super::{authorize, Action, Owner, Principal, Resource};

/// Which properties of one entity a principal may see: build it once per entity (or per kind
/// and owner) and drop the rest before a response, tile or export is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertyFilter {
    hidden: BTreeSet<String>,
}

impl PropertyFilter {
    pub fn allows(&self, name: &str) -> bool {
        !self.hidden.contains(name)
    }
    /// True when nothing is hidden (callers may skip filtering).
    pub fn is_identity(&self) -> bool {
        self.hidden.is_empty()
    }
    /// The names removed.
    pub fn hidden(&self) -> impl Iterator<Item = &str> {
        self.hidden.iter().map(String::as_str)
    }
    /// Remove the hidden properties from a map.
    pub fn redact<V>(&self, props: &mut BTreeMap<String, V>) {
        for h in &self.hidden {
            props.remove(h);
        }
    }
    /// Remove the hidden properties from a JSON object.
    pub fn redact_json(&self, props: &mut serde_json::Map<String, serde_json::Value>) {
        for h in &self.hidden {
            props.remove(h);
        }
    }
}

/// The property filter for an entity of `kind` owned by `owner`; agrees with [`authorize`] on
/// `Resource::Property` for every sensitive property.
pub fn property_filter(principal: &Principal, kind: EntityKind, owner: &Owner<'_>) -> PropertyFilter {
    let p = &*principal.perms;
    let names = p.sensitive.properties.get(kind.as_str());
    let hidden = names
        .into_iter()
        .flatten()
        .filter(|n| {
            !authorize(principal, Action::Read, &Resource::Property { kind, name: n, owner: *owner }).is_allowed()
        })
        .cloned()
        .collect();
    PropertyFilter { hidden }
}
