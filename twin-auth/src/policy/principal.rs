//! The authenticated caller and its compiled permissions.

use std::sync::Arc;

use twin_core::{ActorId, AgencyId};

use super::{Permissions, VisibilityClass};
use crate::config::Role;

/// An authenticated account (or the anonymous caller), with its compiled permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub(super) name: String,
    pub(super) role: Option<Role>,
    pub(super) agency: Option<AgencyId>,
    pub(super) sources: Vec<String>,
    pub(super) perms: Arc<Permissions>,
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
