//! The access sections of the city TOML: agencies, sensitive classes and properties, grants, token
//! lifetimes. Everything not granted is denied.
//!
//! ```toml
//! # Agencies of the operations centre. `jurisdiction` is either a list of commune/ward codes or a
//! # polygon of [lon, lat] pairs (WGS84, open or closed ring).
//! [[agencies]]
//! id = "police"
//! name_vi = "Công an thành phố"
//! name_en = "City police"
//! jurisdiction = { communes = ["20194", "20197"] }
//!
//! [[agencies]]
//! id = "port"
//! name_vi = "Cảng vụ Hàng hải"
//! name_en = "Maritime port authority"
//! jurisdiction = { polygon = [[108.19, 16.10], [108.24, 16.10], [108.24, 16.14], [108.19, 16.14]] }
//!
//! # Objects that a plain kind grant does not cover: detections of these classes need a grant of
//! # `detection:person` (etc.) by name, and these properties need a `read_properties` grant.
//! [sensitive]
//! classes = { detection = ["person", "plate"] }
//! properties = ["citizen_report.contact"]
//!
//! # Who gets what. A grant applies to accounts of the listed agencies, of the listed roles, or
//! # (signed_in = true) every signed-in account. `scope` narrows object grants (kinds, properties,
//! # frames, evidence, cases, scenario jobs, case/report writes): "all" (default), "own_agency"
//! # (objects owned by or routed to the account's agency), "jurisdiction" (own agency's objects
//! # and objects located inside the agency's jurisdiction). Leaders are never narrowed by scope.
//! [[grants]]
//! agencies = ["police"]
//! roles = ["leader"]
//! read_kinds = ["police_unit", "detection", "detection:person", "detection:plate"]
//! read_camera_frames = true
//! read_evidence = true
//!
//! [[grants]]
//! signed_in = true
//! scope = "own_agency"
//! read_properties = ["citizen_report.contact"]
//!
//! [[grants]]
//! agencies = ["police", "transport"]
//! scope = "jurisdiction"
//! read_cases = true
//! write_cases = true
//! write_reports = true
//! write_ingest = ["osmand"]
//!
//! [[grants]]
//! roles = ["leader", "analyst"]
//! read_layers = ["*"]
//! read_audit = true
//! read_metrics = true
//! read_scenarios = true
//!
//! [auth]
//! access_token_ttl_s = 900     # JWT lifetime
//! refresh_token_ttl_s = 604800 # refresh tokens rotate on every use
//! ticket_ttl_s = 30            # WebSocket/SSE tickets, single use
//! issuer = "citytwin"
//! ```
//!
//! `read_kinds` and `read_layers` take `"*"` for every kind or layer (sensitive classes still need
//! their own grant). Entity kinds are the snake_case names of `twin_core::EntityKind`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use twin_core::{AgencyId, EntityKind};

use crate::limits::{MAX_AGENCIES, MAX_GRANTS, MAX_GRANT_ITEMS, MAX_ID_LEN, MAX_JURISDICTION_ITEMS};
use crate::ConfigError;

/// The access sections of a city configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub agencies: Vec<Agency>,
    #[serde(default)]
    pub sensitive: Sensitive,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub auth: AuthSettings,
}

/// One agency of the operations centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub id: AgencyId,
    pub name_vi: String,
    pub name_en: String,
    pub jurisdiction: Jurisdiction,
}

/// Where an agency acts: a list of commune/ward codes or a polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Jurisdiction {
    Communes(Vec<String>),
    /// `[lon, lat]` vertices of one ring.
    Polygon(Vec<[f64; 2]>),
}

/// Where an object is, for jurisdiction checks: its commune code and/or its position.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Place<'a> {
    pub commune: Option<&'a str>,
    /// `[lon, lat]`.
    pub point: Option<[f64; 2]>,
}

impl Jurisdiction {
    /// Whether `place` lies inside. A commune list matches the commune code only; a polygon the
    /// point only (even-odd rule; a point exactly on an edge may fall either way).
    pub fn contains(&self, place: &Place<'_>) -> bool {
        match self {
            Jurisdiction::Communes(codes) => place.commune.is_some_and(|c| codes.iter().any(|k| k == c)),
            Jurisdiction::Polygon(ring) => place.point.is_some_and(|p| point_in_ring(ring, p)),
        }
    }
}

fn point_in_ring(ring: &[[f64; 2]], [x, y]: [f64; 2]) -> bool {
    if !(x.is_finite() && y.is_finite()) || ring.len() < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let ([xi, yi], [xj, yj]) = (ring[i], ring[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Classes and properties that a plain kind grant does not reveal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitive {
    /// Kind name → classes needing a `kind:class` grant.
    #[serde(default)]
    pub classes: BTreeMap<String, Vec<String>>,
    /// `kind.property` names that are redacted unless a `read_properties` grant names them.
    #[serde(default)]
    pub properties: Vec<String>,
}

/// The five roles. What a role can do at all is fixed here; what it may see comes from grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts.
    Admin,
    /// City leadership: grants apply city-wide (scope never narrows them).
    Leader,
    /// Staff of one agency.
    Operator,
    /// Read-only: any write is forbidden.
    Analyst,
    /// A tracker, sensor or feed client: may only write to the ingest sources bound to it.
    Device,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Leader, Role::Operator, Role::Analyst, Role::Device];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Operator => "operator",
            Role::Analyst => "analyst",
            Role::Device => "device",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ConfigError::UnknownRole(truncate(s)))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far an object grant reaches for an account with an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    All,
    OwnAgency,
    Jurisdiction,
}

/// One grant. Deny by default: only what is listed is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grant {
    pub agencies: Vec<AgencyId>,
    pub roles: Vec<Role>,
    pub signed_in: bool,
    pub scope: Scope,
    /// Entity kinds (`police_unit`), kind classes (`detection:person`) or `*`.
    pub read_kinds: Vec<String>,
    /// Reference layer ids or `*`.
    pub read_layers: Vec<String>,
    /// Sensitive `kind.property` names.
    pub read_properties: Vec<String>,
    pub read_camera_frames: bool,
    pub read_evidence: bool,
    pub read_cases: bool,
    pub read_audit: bool,
    pub read_metrics: bool,
    pub read_scenarios: bool,
    pub write_cases: bool,
    pub write_reports: bool,
    pub write_scenarios: bool,
    /// Ingest source ids (or `*`) the accounts may write to.
    pub write_ingest: Vec<String>,
}

/// Token and ticket lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    pub access_token_ttl_s: u32,
    pub refresh_token_ttl_s: u32,
    pub ticket_ttl_s: u32,
    pub issuer: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_ttl_s: 900,
            refresh_token_ttl_s: 7 * 24 * 3600,
            ticket_ttl_s: 30,
            issuer: "citytwin".into(),
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_ID_LEN).collect()
}

/// A kind key: `kind` or `kind:class`, kind checked against `EntityKind`.
fn check_kind_key(key: &str) -> Result<(), ConfigError> {
    if key == "*" {
        return Ok(());
    }
    let kind = key.split_once(':').map_or(key, |(k, _)| k);
    kind.parse::<EntityKind>().map(|_| ()).map_err(|_| ConfigError::UnknownKind(truncate(key)))
}

fn check_property_key(key: &str) -> Result<(), ConfigError> {
    match key.split_once('.') {
        Some((kind, prop)) if !prop.is_empty() && kind.parse::<EntityKind>().is_ok() => Ok(()),
        _ => Err(ConfigError::BadProperty(truncate(key))),
    }
}

fn check_id(what: &'static str, s: &str) -> Result<(), ConfigError> {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(ConfigError::BadId { what, id: truncate(s) });
    }
    Ok(())
}

impl AuthConfig {
    /// Parse the access sections out of a whole city TOML (other sections are ignored).
    pub fn from_city_toml(text: &str) -> Result<Self, ConfigError> {
        #[derive(Deserialize)]
        struct Sections {
            #[serde(default)]
            agencies: Vec<Agency>,
            #[serde(default)]
            sensitive: Sensitive,
            #[serde(default)]
            grants: Vec<Grant>,
            #[serde(default)]
            auth: AuthSettings,
        }
        if text.len() > crate::limits::MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge);
        }
        let s: Sections = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        let cfg = Self { agencies: s.agencies, sensitive: s.sensitive, grants: s.grants, auth: s.auth };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check names, references and sizes. [`crate::Policy::new`] calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.agencies.len() > MAX_AGENCIES {
            return Err(ConfigError::TooMany("agencies", MAX_AGENCIES));
        }
        if self.grants.len() > MAX_GRANTS {
            return Err(ConfigError::TooMany("grants", MAX_GRANTS));
        }
        let mut ids = BTreeSet::new();
        for a in &self.agencies {
            check_id("agency", a.id.as_str())?;
            if !ids.insert(a.id.as_str()) {
                return Err(ConfigError::DuplicateAgency(a.id.to_string()));
            }
            match &a.jurisdiction {
                Jurisdiction::Communes(c) if c.len() > MAX_JURISDICTION_ITEMS => {
                    return Err(ConfigError::TooMany("jurisdiction communes", MAX_JURISDICTION_ITEMS))
                }
                Jurisdiction::Polygon(p) if p.len() > MAX_JURISDICTION_ITEMS => {
                    return Err(ConfigError::TooMany("jurisdiction vertices", MAX_JURISDICTION_ITEMS))
                }
                Jurisdiction::Polygon(p)
                    if p.len() < 3
                        || p.iter()
                            .any(|[x, y]| !(x.is_finite() && y.is_finite() && x.abs() <= 180.0 && y.abs() <= 90.0)) =>
                {
                    return Err(ConfigError::BadPolygon(a.id.to_string()))
                }
                _ => {}
            }
        }
        for (kind, classes) in &self.sensitive.classes {
            check_kind_key(kind)?;
            if classes.len() > MAX_GRANT_ITEMS {
                return Err(ConfigError::TooMany("sensitive classes", MAX_GRANT_ITEMS));
            }
        }
        if self.sensitive.properties.len() > MAX_GRANT_ITEMS {
            return Err(ConfigError::TooMany("sensitive properties", MAX_GRANT_ITEMS));
        }
        for p in &self.sensitive.properties {
            check_property_key(p)?;
        }
        for (i, g) in self.grants.iter().enumerate() {
            if g.agencies.is_empty() && g.roles.is_empty() && !g.signed_in {
                return Err(ConfigError::GrantWithoutSubject(i));
            }
            for a in &g.agencies {
                if !ids.contains(a.as_str()) {
                    return Err(ConfigError::UnknownAgency(truncate(a.as_str())));
                }
            }
            let lists = [&g.read_kinds, &g.read_layers, &g.read_properties, &g.write_ingest];
            if lists.iter().any(|l| l.len() > MAX_GRANT_ITEMS) || g.agencies.len() > MAX_GRANT_ITEMS {
                return Err(ConfigError::TooMany("items in a grant", MAX_GRANT_ITEMS));
            }
            for k in &g.read_kinds {
                check_kind_key(k)?;
            }
            for p in &g.read_properties {
                check_property_key(p)?;
            }
            for s in g.read_layers.iter().chain(&g.write_ingest) {
                check_id("layer or source", s)?;
            }
        }
        if self.auth.access_token_ttl_s == 0 || self.auth.ticket_ttl_s == 0 || self.auth.refresh_token_ttl_s == 0 {
            return Err(ConfigError::ZeroTtl);
        }
        Ok(())
    }
}

/// The Đà Nẵng demo access sections: agencies, sensitive objects and grants.
///
/// Police units, camera frames, evidence and person/plate detections: `police`, leaders and
/// admins only. A citizen report's `contact`: the agency it is routed to, leaders and admins. Every
/// other kind, detection class and layer: every signed-in account. Operators write cases and
/// reports for their own agency; leaders read cases, audit and metrics city-wide.
pub const DANANG_DEMO_TOML: &str = r#"
[[agencies]]
id = "police"
name_vi = "Công an thành phố Đà Nẵng"
name_en = "Da Nang City Police"
jurisdiction = { polygon = [[107.80, 15.90], [108.40, 15.90], [108.40, 16.25], [107.80, 16.25]] }

[[agencies]]
id = "transport"
name_vi = "Sở Xây dựng – Quản lý giao thông"
name_en = "Department of Construction – Traffic management"
jurisdiction = { polygon = [[107.80, 15.90], [108.40, 15.90], [108.40, 16.25], [107.80, 16.25]] }

[[agencies]]
id = "port"
name_vi = "Cảng vụ Hàng hải Đà Nẵng"
name_en = "Da Nang Maritime Administration"
jurisdiction = { polygon = [[108.17, 16.05], [108.32, 16.05], [108.32, 16.20], [108.17, 16.20]] }

[[agencies]]
id = "health"
name_vi = "Trung tâm Cấp cứu 115"
name_en = "115 Emergency Centre"
jurisdiction = { polygon = [[107.80, 15.90], [108.40, 15.90], [108.40, 16.25], [107.80, 16.25]] }

[[agencies]]
id = "fire"
name_vi = "Cảnh sát PCCC&CNCH"
name_en = "Fire and Rescue Police"
jurisdiction = { polygon = [[107.80, 15.90], [108.40, 15.90], [108.40, 16.25], [107.80, 16.25]] }

[[agencies]]
id = "environment"
name_vi = "Sở Nông nghiệp và Môi trường"
name_en = "Department of Agriculture and Environment"
jurisdiction = { polygon = [[107.80, 15.90], [108.40, 15.90], [108.40, 16.25], [107.80, 16.25]] }

[sensitive]
classes = { detection = ["person", "plate"] }
properties = ["citizen_report.contact"]

# Police-only objects.
[[grants]]
agencies = ["police"]
roles = ["leader"]
read_kinds = ["police_unit", "detection:person", "detection:plate"]
read_camera_frames = true
read_evidence = true

# Everything else every signed-in account sees.
[[grants]]
signed_in = true
read_kinds = ["vessel", "fishing_boat", "bus", "ambulance", "fire_truck", "camera", "drone", "flood_sensor",
              "rain_gauge", "air_quality_station", "water_quality_station", "citizen_report", "incident", "detection"]
read_layers = ["*"]

# A citizen report's contact: the agency it is routed to (leaders below).
[[grants]]
signed_in = true
scope = "own_agency"
read_properties = ["citizen_report.contact"]

[[grants]]
roles = ["leader"]
read_properties = ["citizen_report.contact"]
read_cases = true
read_audit = true
read_metrics = true
read_scenarios = true
write_cases = true

# Agency staff: their own cases and reports, what-if runs.
[[grants]]
roles = ["operator"]
scope = "own_agency"
read_cases = true
write_cases = true
write_reports = true
read_scenarios = true
write_scenarios = true

[[grants]]
roles = ["analyst"]
read_cases = true
read_metrics = true
read_scenarios = true
"#;

/// [`DANANG_DEMO_TOML`] parsed and validated.
pub fn danang_demo() -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_city_toml(DANANG_DEMO_TOML)
}
