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

mod authorize;
mod compile;
mod entity;
mod filter;
mod permissions;
mod principal;

use twin_core::{AgencyId, EntityKind};

use crate::config::Place;

pub use authorize::authorize;
pub use compile::Policy;
pub use entity::{
    can_read_entity, entity_property_filter, redact_entity, with_entity_resource, AGENCY_PROPERTY, CLASS_PROPERTY,
    COMMUNE_PROPERTY,
};
pub use filter::{property_filter, PropertyFilter};
pub use permissions::{Permissions, VisibilityClass};
pub use principal::Principal;

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
