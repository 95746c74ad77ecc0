//! Building a [`Policy`] from the city configuration: every (role, agency) compiled once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use twin_core::AgencyId;

use super::permissions::{widen, widen_key, Reach, SensitiveSet};
use super::{Permissions, Principal};
use crate::config::{AuthConfig, Role};
use crate::limits::MAX_DEVICE_SOURCES;
use crate::{AuthError, ConfigError};

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

    /// Whether an agency of this id is configured.
    pub fn has_agency(&self, id: &str) -> bool {
        self.agencies.iter().any(|a| a.as_str() == id)
    }

    /// The caller without credentials: may read [`Resource::Public`](super::Resource::Public) only.
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
