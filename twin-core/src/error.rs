use thiserror::Error;

use crate::{EntityId, KindCounts};

/// Errors of the city model (input validation and query arguments).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    #[error("unknown entity kind `{0}`")]
    UnknownKind(String),
    #[error("invalid observation: {field}: {reason}")]
    InvalidObservation { field: &'static str, reason: String },
    #[error("invalid query: {field}: {reason}")]
    InvalidQuery { field: &'static str, reason: String },
    #[error("invalid model snapshot: {0}")]
    InvalidParts(String),
    #[error("invalid alert: {field}: {reason}")]
    InvalidAlert { field: &'static str, reason: String },
    #[error("invalid rule `{rule}`: {reason}")]
    InvalidRule { rule: String, reason: String },
}

/// A broken invariant found by [`crate::Twin::check_invariants`]: a bug in incremental upkeep.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InvariantError {
    #[error("entity {0} missing from its R-tree")]
    NotInTree(EntityId),
    #[error("entity {0} has a stale H3 cell")]
    StaleCell(EntityId),
    #[error("entity {0} has a cell but no position")]
    CellWithoutPosition(EntityId),
    #[error("R-trees hold {tree_points} points for {positioned} positioned entities")]
    TreeSize { tree_points: usize, positioned: usize },
    #[error("H3 cell counts differ from a recount")]
    CellCounts,
    #[error("entity {entity} is stored under id {slot} or missing from the key map")]
    Misfiled { entity: EntityId, slot: u64 },
    #[error("entity {0}: stale expiry deadline")]
    StaleDeadline(EntityId),
    #[error("counts {counts:?}, {keys} keys, {live} live differ from a tally {tally:?}")]
    // Boxed: the counts are large and this is the rare path.
    Counts { counts: Box<KindCounts>, keys: usize, live: usize, tally: Box<KindCounts> },
    #[error("entity {0}: track out of order, over capacity or newer than last_seen")]
    Track(EntityId),
    #[error("alert ring out of order or over capacity")]
    AlertRing,
    #[error("alert id not below next_alert_id")]
    AlertId,
}
