//! The CityTwin city model.
//!
//! Every live feed becomes [`Observation`]s; [`Twin::apply_batch`] turns them into [`Entity`] state
//! kept in two indexes (a per-kind R-tree of positions and an H3 cell index), evaluates the
//! [`rules`] and reports what changed. [`store`] makes the model durable: an append-only log of
//! [`store::LogRecord`]s plus periodic snapshots.
//!
//! This crate is pure: no async runtime, no network, no clock. Time is always passed in.

pub mod actor;
pub mod entity;
mod error;
pub mod geodesy;
mod index;
mod model;
pub mod query;
pub mod rules;
mod slots;
pub mod store;

pub use actor::{ActorId, AgencyId};
pub use entity::{
    Entity, EntityId, EntityKind, IdSpace, KindFilter, Observation, Position, Properties, PropertyValue, Timestamp,
    TrackPoint,
};
pub use error::{Error, InvariantError};
pub use model::{Applied, Change, Twin, TwinConfig, TwinParts};
pub use query::{BBox, CellCount, KindCounts};
pub use rules::{Alert, AlertId, AlertSubject, RaiseAlert, RuleEngine, RuleKind, RuleSet, Severity};
