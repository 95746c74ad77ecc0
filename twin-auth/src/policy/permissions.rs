//! Compiled permissions of one (role, agency) and the visibility class derived from them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use twin_core::{AgencyId, EntityKind};

use super::Owner;
use crate::config::{Jurisdiction, Scope};

/// How far a granted item reaches. Ordered: a wider reach includes the narrower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Reach {
    OwnAgency,
    Jurisdiction,
    All,
}

impl From<Scope> for Reach {
    fn from(s: Scope) -> Self {
        match s {
            Scope::All => Reach::All,
            Scope::OwnAgency => Reach::OwnAgency,
            Scope::Jurisdiction => Reach::Jurisdiction,
        }
    }
}

pub(super) fn widen(slot: &mut Option<Reach>, r: Reach) {
    *slot = Some(slot.map_or(r, |s| s.max(r)));
}

pub(super) fn widen_key(map: &mut BTreeMap<String, Reach>, key: &str, r: Reach) {
    let e = map.entry(key.to_owned()).or_insert(r);
    *e = (*e).max(r);
}

/// What one (role, agency) may do, compiled from the grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Permissions {
    pub(super) everything: bool,
    pub(super) agency: Option<AgencyId>,
    pub(super) jurisdiction: Option<Jurisdiction>,
    pub(super) kinds: BTreeMap<String, Reach>,
    pub(super) layers: BTreeSet<String>,
    pub(super) properties: BTreeMap<String, Reach>,
    pub(super) frames: Option<Reach>,
    pub(super) evidence: Option<Reach>,
    pub(super) read_cases: Option<Reach>,
    pub(super) read_scenarios: Option<Reach>,
    pub(super) audit: bool,
    pub(super) metrics: bool,
    pub(super) write_cases: Option<Reach>,
    pub(super) write_reports: Option<Reach>,
    pub(super) write_scenarios: Option<Reach>,
    pub(super) ingest: BTreeSet<String>,
    pub(super) sensitive: Arc<SensitiveSet>,
    pub(super) class: VisibilityClass,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SensitiveSet {
    /// (kind, class) pairs that need a `kind:class` grant.
    pub(super) classes: BTreeSet<(String, String)>,
    /// kind → sensitive property names.
    pub(super) properties: BTreeMap<String, BTreeSet<String>>,
}

/// A small stable key: equal for two principals exactly when they can read the same kinds, classes,
/// layers, properties, frames, evidence, cases, scenario jobs, audit and metrics. One tile or
/// response cache per class serves every account of the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VisibilityClass(pub [u8; 16]);

impl std::fmt::Display for VisibilityClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl Permissions {
    pub(super) fn empty(
        agency: Option<AgencyId>,
        jurisdiction: Option<Jurisdiction>,
        sensitive: Arc<SensitiveSet>,
    ) -> Self {
        Self {
            everything: false,
            agency,
            jurisdiction,
            kinds: BTreeMap::new(),
            layers: BTreeSet::new(),
            properties: BTreeMap::new(),
            frames: None,
            evidence: None,
            read_cases: None,
            read_scenarios: None,
            audit: false,
            metrics: false,
            write_cases: None,
            write_reports: None,
            write_scenarios: None,
            ingest: BTreeSet::new(),
            sensitive,
            class: VisibilityClass([0; 16]),
        }
    }

    pub(super) fn covers(&self, reach: Option<Reach>, owner: &Owner<'_>) -> bool {
        if self.everything {
            return true;
        }
        let own = || matches!((owner.agency, &self.agency), (Some(o), Some(a)) if o == a);
        match reach {
            None => false,
            Some(Reach::All) => true,
            Some(Reach::OwnAgency) => own(),
            Some(Reach::Jurisdiction) => own() || self.jurisdiction.as_ref().is_some_and(|j| j.contains(&owner.place)),
        }
    }

    pub(super) fn kind_readable(&self, kind: EntityKind, class: Option<&str>, owner: &Owner<'_>) -> bool {
        if self.everything {
            return true;
        }
        let k = kind.as_str();
        if let Some(c) = class {
            // `kind:class` entries, found without building the key (this runs per entity).
            let class_reach = self
                .kinds
                .range::<str, _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded))
                .take_while(|(key, _)| key.starts_with(k))
                .find(|(key, _)| key.get(k.len()..).and_then(|r| r.strip_prefix(':')) == Some(c))
                .map(|(_, r)| *r);
            if self.covers(class_reach, owner) {
                return true;
            }
            if self.sensitive.classes.iter().any(|(sk, sc)| sk == k && sc == c) {
                return false;
            }
        }
        self.covers(self.kinds.get(k).copied(), owner) || self.covers(self.kinds.get("*").copied(), owner)
    }

    pub(super) fn property_readable(&self, kind: EntityKind, name: &str, owner: &Owner<'_>) -> bool {
        let sensitive = self.sensitive.properties.get(kind.as_str()).is_some_and(|s| s.contains(name));
        !sensitive || self.covers(self.properties.get(&format!("{}.{name}", kind.as_str())).copied(), owner)
    }

    /// What this principal can read, in one canonical byte string (the visibility class is its
    /// hash). Grants that change nothing are left out, so that equal strings mean equal readable
    /// sets: a narrow reach without an agency, a kind or class already covered by a wider entry,
    /// a layer under `*`, a property that is not sensitive or whose kind is not readable.
    fn read_fingerprint(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        if self.everything {
            put("everything");
            return out;
        }
        let has_agency = self.agency.is_some();
        // Without an agency, own-agency and jurisdiction reaches cover nothing.
        let eff = |r: Option<Reach>| r.filter(|r| *r == Reach::All || has_agency);
        let kind_reach = |k: &str| eff(self.kinds.get(k).copied());
        let name = |r: Option<Reach>| match r {
            None => "-",
            Some(Reach::OwnAgency) => "own",
            Some(Reach::Jurisdiction) => "jur",
            Some(Reach::All) => "all",
        };
        let mut kinds = Vec::new();
        for k in self.kinds.keys() {
            let Some(r) = kind_reach(k) else { continue };
            let dominated = match k.split_once(':') {
                _ if k == "*" => false,
                Some((kind, class)) => {
                    let sensitive = self.sensitive.classes.contains(&(kind.to_owned(), class.to_owned()));
                    !sensitive && kind_reach(kind).max(kind_reach("*")) >= Some(r)
                }
                None => kind_reach("*") >= Some(r),
            };
            if !dominated {
                kinds.push((k.as_str(), r));
            }
        }
        let mut props = Vec::new();
        for (kind, names) in &self.sensitive.properties {
            let kr = kind_reach(kind).max(kind_reach("*"));
            for n in names {
                let pr = eff(self.properties.get(&format!("{kind}.{n}")).copied());
                if let Some(r) = kr.min(pr) {
                    props.push((format!("{kind}.{n}"), r));
                }
            }
        }
        let objects = [self.frames, self.evidence, self.read_cases, self.read_scenarios].map(eff);
        let narrow = kinds
            .iter()
            .map(|(_, r)| *r)
            .chain(props.iter().map(|(_, r)| *r))
            .chain(objects.iter().flatten().copied())
            .any(|r| r != Reach::All);
        put("agency");
        // Narrow reaches depend on whose agency it is.
        put(if narrow { self.agency.as_ref().map_or("", |a| a.as_str()) } else { "" });
        put("kinds");
        for (k, r) in kinds {
            put(k);
            put(name(Some(r)));
        }
        put("layers");
        if self.layers.contains("*") {
            put("*");
        } else {
            self.layers.iter().for_each(|l| put(l));
        }
        put("properties");
        for (k, r) in &props {
            put(k);
            put(name(Some(*r)));
        }
        put("objects");
        for r in objects {
            put(name(r));
        }
        put(if self.audit { "audit" } else { "-" });
        put(if self.metrics { "metrics" } else { "-" });
        out
    }

    pub(super) fn seal(mut self) -> Self {
        let digest = Sha256::digest(self.read_fingerprint());
        let mut class = [0u8; 16];
        class.copy_from_slice(&digest[..16]);
        self.class = VisibilityClass(class);
        self
    }

    /// The visibility class of these permissions.
    pub fn visibility_class(&self) -> VisibilityClass {
        self.class
    }
}
