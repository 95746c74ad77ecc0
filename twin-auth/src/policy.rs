//! The one access decision every channel asks: REST, OGC, tiles, WebSocket/SSE, exports, files.
//!
//! [`Policy::new`] compiles the grants once into a [`Permissions`] per (role, agency); a
//! [`Principal`] carries its compiled permissions, so [`authorize`] is a pure function of the
//! principal, the action and the resource.
//!
//! Decisions: a role that can never do something gets [`Decision::Forbidden`] (403); an object
//! outside the principal's grants is [`Decision::NotVisible`] (404, so its existence does not
//! leak); a write to an object the principal can read but not change is `Forbidden`. Endpoint-like
//! resources (audit, metrics, accounts, ingest sources) are never hidden: without a grant they are
//! `Forbidden`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use twin_core::{ActorId, AgencyId, EntityKind};

use crate::config::{AuthConfig, Jurisdiction, Place, Role, Scope};
use crate::limits::MAX_DEVICE_SOURCES;
use crate::{AuthError, ConfigError};

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    /// Create, change or delete.
    Write,
}

/// Who owns an object and where it is, for scoped grants.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Owner<'a> {
    /// The agency that owns the object or that it is routed to.
    pub agency: Option<&'a AgencyId>,
    pub place: Place<'a>,
}

impl<'a> Owner<'a> {
    pub const NONE: Owner<'static> = Owner { agency: None, place: Place { commune: None, point: None } };

    pub fn agency(agency: &'a AgencyId) -> Self {
        Owner { agency: Some(agency), place: Place::default() }
    }
}

/// What is accessed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resource<'a> {
    /// Landing page, conformance, the viewer's static files, health: everyone may read.
    Public,
    /// An entity (or the collection of a kind, with `Owner::NONE`); `class` for kinds with classes
    /// (a detection's `person`). Writing a `citizen_report` is governed by `write_reports`; other
    /// entities change only through ingest.
    Entity { kind: EntityKind, class: Option<&'a str>, owner: Owner<'a> },
    /// A reference layer by id.
    Layer(&'a str),
    /// One property of an entity of `kind`.
    Property { kind: EntityKind, name: &'a str, owner: Owner<'a> },
    /// A camera's video frames (live and recorded).
    CameraFrames(Owner<'a>),
    /// Evidence packages (blurred stills and their sidecars).
    Evidence(Owner<'a>),
    /// An operations case.
    Case(Owner<'a>),
    /// The audit log.
    Audit,
    /// Metrics and feed health.
    Metrics,
    /// A what-if scenario job.
    ScenarioJob(Owner<'a>),
    /// An ingest source by id (write: post observations to it; read: its health, a metric).
    IngestSource(&'a str),
    /// The user store.
    Accounts,
}

/// The answer, and the HTTP status a server gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    /// No credentials: 401.
    Unauthenticated,
    /// The role cannot do this: 403.
    Forbidden,
    /// Outside the principal's grants: 404, as if it did not exist.
    NotVisible,
}

impl Decision {
    pub const fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow)
    }
    pub const fn http_status(self) -> u16 {
        match self {
            Decision::Allow => 200,
            Decision::Unauthenticated => 401,
            Decision::Forbidden => 403,
            Decision::NotVisible => 404,
        }
    }
}

/// How far a granted item reaches. Ordered: a wider reach includes the narrower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Reach {
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

fn widen(slot: &mut Option<Reach>, r: Reach) {
    *slot = Some(slot.map_or(r, |s| s.max(r)));
}

fn widen_key(map: &mut BTreeMap<String, Reach>, key: &str, r: Reach) {
    let e = map.entry(key.to_owned()).or_insert(r);
    *e = (*e).max(r);
}

/// What one (role, agency) may do, compiled from the grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Permissions {
    everything: bool,
    agency: Option<AgencyId>,
    jurisdiction: Option<Jurisdiction>,
    kinds: BTreeMap<String, Reach>,
    layers: BTreeSet<String>,
    properties: BTreeMap<String, Reach>,
    frames: Option<Reach>,
    evidence: Option<Reach>,
    read_cases: Option<Reach>,
    read_scenarios: Option<Reach>,
    audit: bool,
    metrics: bool,
    write_cases: Option<Reach>,
    write_reports: Option<Reach>,
    write_scenarios: Option<Reach>,
    ingest: BTreeSet<String>,
    sensitive: Arc<SensitiveSet>,
    class: VisibilityClass,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct SensitiveSet {
    /// (kind, class) pairs that need a `kind:class` grant.
    classes: BTreeSet<(String, String)>,
    /// kind → sensitive property names.
    properties: BTreeMap<String, BTreeSet<String>>,
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
    fn empty(agency: Option<AgencyId>, jurisdiction: Option<Jurisdiction>, sensitive: Arc<SensitiveSet>) -> Self {
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

    fn covers(&self, reach: Option<Reach>, owner: &Owner<'_>) -> bool {
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

    fn kind_readable(&self, kind: EntityKind, class: Option<&str>, owner: &Owner<'_>) -> bool {
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

    fn property_readable(&self, kind: EntityKind, name: &str, owner: &Owner<'_>) -> bool {
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

    fn seal(mut self) -> Self {
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

/// An authenticated account (or the anonymous caller), with its compiled permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    name: String,
    role: Option<Role>,
    agency: Option<AgencyId>,
    sources: Vec<String>,
    perms: Arc<Permissions>,
}

impl Principal {
    pub fn name(&self) -> &str {
        &self.name
    }
    /// `None` for the anonymous caller.
    pub fn role(&self) -> Option<Role> {
        self.role
    }
    pub fn agency(&self) -> Option<&AgencyId> {
        self.agency.as_ref()
    }
    /// Ingest sources a device account is bound to.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
    pub fn is_anonymous(&self) -> bool {
        self.role.is_none()
    }
    /// The actor recorded for this principal's writes: `device:<name>` or `user:<name>`.
    pub fn actor(&self) -> ActorId {
        match self.role {
            None => ActorId("anonymous".into()),
            Some(Role::Device) => ActorId(format!("device:{}", self.name)),
            Some(_) => ActorId(format!("user:{}", self.name)),
        }
    }
    pub fn permissions(&self) -> &Permissions {
        &self.perms
    }
    /// See [`VisibilityClass`].
    pub fn visibility_class(&self) -> VisibilityClass {
        self.perms.class
    }
}

/// The compiled grants of one city.
#[derive(Debug, Clone)]
pub struct Policy {
    compiled: HashMap<(Role, Option<AgencyId>), Arc<Permissions>>,
    agencies: BTreeSet<AgencyId>,
}

impl Policy {
    /// Validate the configuration and compile the permissions of every (role, agency) pair.
    pub fn new(cfg: &AuthConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let mut sensitive = SensitiveSet::default();
        for (kind, classes) in &cfg.sensitive.classes {
            for c in classes {
                sensitive.classes.insert((kind.clone(), c.clone()));
            }
        }
        for p in &cfg.sensitive.properties {
            if let Some((kind, name)) = p.split_once('.') {
                sensitive.properties.entry(kind.to_owned()).or_default().insert(name.to_owned());
            }
        }
        let sensitive = Arc::new(sensitive);
        let mut compiled = HashMap::new();
        let agencies: Vec<Option<&crate::config::Agency>> =
            std::iter::once(None).chain(cfg.agencies.iter().map(Some)).collect();
        for role in Role::ALL {
            for agency in &agencies {
                let perms = compile(cfg, role, *agency, &sensitive);
                compiled.insert((role, agency.map(|a| a.id.clone())), Arc::new(perms));
            }
        }
        Ok(Self { compiled, agencies: cfg.agencies.iter().map(|a| a.id.clone()).collect() })
    }

    /// The caller without credentials: may read [`Resource::Public`] only.
    pub fn anonymous(&self) -> Principal {
        let sensitive = self.compiled.values().next().map(|p| p.sensitive.clone()).unwrap_or_default();
        Principal {
            name: String::new(),
            role: None,
            agency: None,
            sources: Vec::new(),
            perms: Arc::new(Permissions::empty(None, None, sensitive).seal()),
        }
    }

    /// The principal of an account. Operators need a configured agency; other roles may have one.
    pub fn principal(
        &self,
        name: &str,
        role: Role,
        agency: Option<&AgencyId>,
        sources: &[String],
    ) -> Result<Principal, AuthError> {
        if role == Role::Operator && agency.is_none() {
            return Err(AuthError::OperatorWithoutAgency);
        }
        if let Some(a) = agency {
            if !self.agencies.contains(a) {
                return Err(AuthError::UnknownAgency(a.as_str().chars().take(64).collect()));
            }
        }
        if sources.len() > MAX_DEVICE_SOURCES {
            return Err(AuthError::TooManySources);
        }
        let perms =
            self.compiled.get(&(role, agency.cloned())).cloned().ok_or(AuthError::UnknownAgency(String::new()))?;
        Ok(Principal {
            name: name.to_owned(),
            role: Some(role),
            agency: agency.cloned(),
            sources: if role == Role::Device { sources.to_vec() } else { Vec::new() },
            perms,
        })
    }
}

fn compile(
    cfg: &AuthConfig,
    role: Role,
    agency: Option<&crate::config::Agency>,
    sensitive: &Arc<SensitiveSet>,
) -> Permissions {
    let mut p =
        Permissions::empty(agency.map(|a| a.id.clone()), agency.map(|a| a.jurisdiction.clone()), sensitive.clone());
    match role {
        Role::Admin => p.everything = true,
        // Devices only write to their bound sources; they read nothing.
        Role::Device => {}
        Role::Leader | Role::Operator | Role::Analyst => {
            for g in &cfg.grants {
                let applies =
                    g.signed_in || g.roles.contains(&role) || agency.is_some_and(|a| g.agencies.contains(&a.id));
                if !applies {
                    continue;
                }
                let r = if role == Role::Leader { Reach::All } else { Reach::from(g.scope) };
                for k in &g.read_kinds {
                    widen_key(&mut p.kinds, k, r);
                }
                p.layers.extend(g.read_layers.iter().cloned());
                for k in &g.read_properties {
                    widen_key(&mut p.properties, k, r);
                }
                let flags = [
                    (g.read_camera_frames, &mut p.frames),
                    (g.read_evidence, &mut p.evidence),
                    (g.read_cases, &mut p.read_cases),
                    (g.read_scenarios, &mut p.read_scenarios),
                ];
                for (on, slot) in flags {
                    if on {
                        widen(slot, r);
                    }
                }
                p.audit |= g.read_audit;
                p.metrics |= g.read_metrics;
                if role != Role::Analyst {
                    for (on, slot) in [
                        (g.write_cases, &mut p.write_cases),
                        (g.write_reports, &mut p.write_reports),
                        (g.write_scenarios, &mut p.write_scenarios),
                    ] {
                        if on {
                            widen(slot, r);
                        }
                    }
                    p.ingest.extend(g.write_ingest.iter().cloned());
                }
            }
        }
    }
    p.seal()
}

fn object(visible: bool) -> Decision {
    if visible {
        Decision::Allow
    } else {
        Decision::NotVisible
    }
}

fn endpoint(allowed: bool) -> Decision {
    if allowed {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// Write to an object: allowed by the write grant; otherwise forbidden if the principal can see
/// the object, not visible if it cannot.
fn object_write(allowed: bool, visible: bool) -> Decision {
    match (allowed, visible) {
        (true, _) => Decision::Allow,
        (false, true) => Decision::Forbidden,
        (false, false) => Decision::NotVisible,
    }
}

/// May `principal` do `action` on `resource`? Pure; the same answer for every channel.
pub fn authorize(principal: &Principal, action: Action, resource: &Resource<'_>) -> Decision {
    let Some(role) = principal.role else {
        return match (action, resource) {
            (Action::Read, Resource::Public) => Decision::Allow,
            _ => Decision::Unauthenticated,
        };
    };
    if role == Role::Admin {
        return Decision::Allow;
    }
    if role == Role::Device {
        return match (action, resource) {
            (Action::Read, Resource::Public) => Decision::Allow,
            (Action::Write, Resource::IngestSource(s)) => endpoint(principal.sources.iter().any(|b| b == s)),
            _ => Decision::Forbidden,
        };
    }
    if role == Role::Analyst && action == Action::Write {
        return Decision::Forbidden;
    }
    let p = &*principal.perms;
    match (action, resource) {
        (Action::Read, Resource::Public) => Decision::Allow,
        (Action::Write, Resource::Public) => Decision::Forbidden,
        (Action::Read, Resource::Entity { kind, class, owner }) => object(p.kind_readable(*kind, *class, owner)),
        (Action::Write, Resource::Entity { kind, class, owner }) => {
            let visible = p.kind_readable(*kind, *class, owner);
            let allowed = *kind == EntityKind::CitizenReport && p.covers(p.write_reports, owner);
            object_write(allowed, visible)
        }
        (Action::Read, Resource::Layer(id)) => object(p.layers.contains(*id) || p.layers.contains("*")),
        (Action::Write, Resource::Layer(id)) => object_write(false, p.layers.contains(*id) || p.layers.contains("*")),
        (Action::Read, Resource::Property { kind, name, owner }) => {
            object(p.kind_readable(*kind, None, owner) && p.property_readable(*kind, name, owner))
        }
        (Action::Write, Resource::Property { kind, name, owner }) => {
            let visible = p.kind_readable(*kind, None, owner) && p.property_readable(*kind, name, owner);
            let allowed = *kind == EntityKind::CitizenReport && p.covers(p.write_reports, owner);
            object_write(allowed && visible, visible)
        }
        (Action::Read, Resource::CameraFrames(o)) => object(p.covers(p.frames, o)),
        (Action::Read, Resource::Evidence(o)) => object(p.covers(p.evidence, o)),
        (Action::Write, Resource::CameraFrames(o)) => object_write(false, p.covers(p.frames, o)),
        (Action::Write, Resource::Evidence(o)) => object_write(false, p.covers(p.evidence, o)),
        (Action::Read, Resource::Case(o)) => object(p.covers(p.read_cases, o)),
        (Action::Write, Resource::Case(o)) => object_write(p.covers(p.write_cases, o), p.covers(p.read_cases, o)),
        (Action::Read, Resource::ScenarioJob(o)) => object(p.covers(p.read_scenarios, o)),
        (Action::Write, Resource::ScenarioJob(o)) => {
            object_write(p.covers(p.write_scenarios, o), p.covers(p.read_scenarios, o))
        }
        (Action::Read, Resource::Audit) => endpoint(p.audit),
        (Action::Read, Resource::Metrics) => endpoint(p.metrics),
        (Action::Write, Resource::Audit | Resource::Metrics) => Decision::Forbidden,
        (Action::Write, Resource::IngestSource(s)) => endpoint(p.ingest.contains(*s) || p.ingest.contains("*")),
        // A source's health is a metric.
        (Action::Read, Resource::IngestSource(_)) => endpoint(p.metrics),
        (_, Resource::Accounts) => Decision::Forbidden,
    }
}

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
