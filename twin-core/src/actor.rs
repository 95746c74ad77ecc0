//! Who did something. Every write in the log is attributed to an actor, and the operations layer
//! (cases, dispatch, notices) and the permission checks speak of the same two names.

use serde::{Deserialize, Serialize};

/// An agency of the city (police, transport, port, health, fire, environment …), by its configured id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgencyId(pub String);

impl AgencyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AgencyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account that acted: a person (`user:alice`), a device or feed client (`device:amb-01`), or
/// the server itself (`system`, for ticks, rules and simulators started by the operator).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActorId(pub String);

impl ActorId {
    /// The server's own actor: ticks, rule and monitor alerts, escalations.
    pub fn system() -> Self {
        Self("system".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ActorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
