//! CityTwin operations: cases with a handling process, deadlines and an audit trail; response units
//! and their status.
//!
//! Built like `twin-core`: pure (no runtime, no clock, no I/O), and the state changes only through
//! [`Command`]s applied by the single writer with [`OpsState::apply`]. The server logs each accepted
//! command as a `LogRecord::Extension { stream: `[`STREAM`]`, version: `[`VERSION`]`, payload: `[`encode`]`(cmd) }`
//! and on start-up replays the payloads through [`decode`] and `apply` with the logged time and
//! actor, which rebuilds exactly the same state and hash chains. A refused command changes nothing;
//! [`OpsState::check`] says beforehand whether `apply` will accept, so nothing refused is logged.
//!
//! - **Cases** ([`case`]): `new → acknowledged → assigned → in_progress → resolved → closed`, with
//!   transfer, reject, merge and reopen; an illegal action names the allowed ones
//!   ([`OpsError::IllegalAction`], HTTP 409); a stale If-Match is [`OpsError::VersionMismatch`] (412).
//! - **Deadlines** are checked only on logged [`Command::Tick`]s: escalation level 1 when the
//!   acknowledgement is late, 2 when the resolution is late, each at most once per deadline, with an
//!   [`OpsEvent::Escalated`] naming whom to notify.
//! - **Routing** ([`routing`]): `[[routing]]` rules turn an alert or report into a
//!   [`Command::OpenCase`]; an episode (rule + entity, report id …) opens at most one case and
//!   repeats attach to it.
//! - **Timeline** ([`timeline`]): each case's events are SHA-256 chained; [`OpsState::verify_chain`].
//! - **Units** ([`mod@unit`]): `[[units]]` from config, a status machine, dispatch to a case, and
//!   [`OpsState::on_unit_position`] deriving the logged "on scene" command from tracked positions.
//! - **Visibility**: every query takes `viewer: Option<&AgencyId>`; another agency's case is simply
//!   not found (HTTP 404). `None` is the operations centre's view.
//!
//! Invariants ([`OpsState::check_invariants`], kept by every accepted command): a case's version is
//! its timeline length and its last event ends in its status; `merged_into` is set exactly for
//! merged cases and names another case; the disposition is set exactly for resolved, closed and
//! rejected cases; `resolved_at` for resolved and closed, `closed_at` for closed; acknowledged,
//! in-progress, resolved and closed cases have `acknowledged_at`, new ones do not; escalation ≤ 2;
//! an episode key belongs to at most one open case; a unit is tied to a case exactly while
//! committed, and that case lists it.
//!
//! Wiring in the server (the single writer does every `check → log → apply`):
//!
//! 1. Read [`OpsConfig`] (`[ops]`, `[[routing]]`, `[[units]]`) from the city TOML; build a
//!    [`RoutingTable`].
//! 2. Start from [`OpsState::restore`] of the latest ops snapshot (or `OpsState::default()`), then
//!    replay the `"ops"` extension records after it with their logged time and actor.
//! 3. Log [`OpsState::configure_command`] when it returns `Some` (config changed since the log).
//! 4. For each raised `twin_core::Alert`, citizen report, camera alert or alarm: build an
//!    [`Incoming`] (its constructors set the episode key), [`RoutingTable::route`] it, log and apply.
//! 5. Log a [`Command::Tick`] periodically (deadlines are only checked there).
//! 6. For each committed position of an entity that a unit tracks, log what
//!    [`OpsState::on_unit_position`] returns.
//! 7. HTTP: `ETag` = [`Case::version`], `If-Match` → `expected_version`; errors map as documented on
//!    [`OpsError`]; [`OpsEvent`]s drive notifications (escalations name their audience).
//!
//! Fuzzing (a separate cargo-fuzz project in `twin-ops/fuzz`, not part of the workspace):
//!
//! ```sh
//! cd twin-ops && RUSTC_BOOTSTRAP=1 cargo fuzz run decode -- -max_total_time=60
//! cd twin-ops && RUSTC_BOOTSTRAP=1 cargo fuzz run restore -- -max_total_time=60
//! ```

pub mod case;
mod command;
mod config;
mod error;
pub mod routing;
mod state;
pub mod timeline;
pub mod unit;

pub use case::{
    ActionKind, Attachment, AttachmentKind, Case, CaseAction, CaseId, CaseStatus, Priority, PublicStatus, Source,
};
pub use command::{decode, encode, CaseCommand, Command, OpenCase, STREAM, VERSION};
pub use config::{DurationSpec, OpsConfig, Settings};
pub use error::{DecodeError, InvariantViolation, OpsError};
pub use routing::{Incoming, RoutingRule, RoutingTable};
pub use state::{Audience, CaseQuery, CaseRecord, OpsEvent, OpsState};
pub use timeline::{ChainError, Hash, TimelineAction, TimelineEvent};
pub use unit::{Unit, UnitId, UnitKind, UnitSpec, UnitStatus};

/// The bounds that keep memory and CPU finite for any input.
pub mod limits {
    /// A logged command payload.
    pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
    /// A snapshot.
    pub const MAX_SNAPSHOT_BYTES: usize = 1 << 30;
    /// Ids, keys, categories, agencies, attachment references.
    pub const MAX_ID_LEN: usize = 128;
    /// Titles, notes, reasons, dispositions.
    pub const MAX_TEXT_LEN: usize = 4096;
    pub const MAX_COMMUNE_LEN: usize = 16;
    pub const MAX_AREA_VERTICES: usize = 1024;
    pub const MAX_ATTACHMENTS_PER_COMMAND: usize = 16;
    pub const MAX_ATTACHMENTS_PER_CASE: usize = 64;
    pub const MAX_KEYS_PER_CASE: usize = 64;
    pub const MAX_UNITS_PER_CASE: usize = 64;
    pub const MAX_CAPABILITIES: usize = 32;
    pub const MAX_UNITS: usize = 10_000;
    pub const MAX_CASES: usize = 1_000_000;
    pub const MAX_ROUTING_RULES: usize = 10_000;
    /// Deadlines and windows: 366 days.
    pub const MAX_DURATION_MS: i64 = 366 * 86_400_000;
    /// Repeats beyond this are counted but not added to the timeline.
    pub const MAX_LOGGED_REPEATS: u64 = 100;
    /// Hard bound on one case's timeline.
    pub const MAX_TIMELINE_PER_CASE: usize = 4096;
    /// People's actions stop here, leaving room for what the system still adds (escalations,
    /// logged repeats), so the hard bound is never reached.
    pub const USER_TIMELINE_LIMIT: usize = MAX_TIMELINE_PER_CASE - 128;
}
