//! [`authorize`]: the decision itself, a pure function of principal, action and resource.

use twin_core::EntityKind;

use super::{Action, Decision, Principal, Resource};
use crate::config::Role;

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
