//! The audit trail of a case: an append-only list of events chained by SHA-256.
//!
//! `hash = SHA-256(canonical(event) )` where the canonical encoding is, in order:
//! the tag `b"citytwin-ops/event/v1"`, the case id (u64 big-endian), `seq` (u64 BE), `at` (i64 BE),
//! then `actor`, `agency`, `action`, `from` (empty when absent), `to`, `note` (each a u32 BE byte
//! length then the UTF-8 bytes, optional ones preceded by a byte 0 absent / 1 present), and last the
//! 32 bytes of `prev_hash`. The first event's `prev_hash` is [`genesis`] of the case, so an event
//! cannot be moved to another case and an edit or removal anywhere breaks every later link.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use twin_core::{ActorId, AgencyId, Timestamp};

use crate::case::{named_enum, CaseId, CaseStatus};

named_enum! {
    /// What a timeline event records.
    TimelineAction {
        Open => "open",
        Acknowledge => "acknowledge",
        Assign => "assign",
        Transfer => "transfer",
        Start => "start",
        Resolve => "resolve",
        Close => "close",
        Reopen => "reopen",
        Reject => "reject",
        Merge => "merge",
        Absorb => "absorb",
        Escalate => "escalate",
        Repeat => "repeat",
        Attach => "attach",
        Dispatch => "dispatch",
    }
}

/// A SHA-256 digest, hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash(pub [u8; 32]);

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(serde::de::Error::custom("a hash is 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = hex_digit(pair[0]);
            let lo = hex_digit(pair[1]);
            match (hi, lo) {
                (Some(h), Some(l)) => *o = h << 4 | l,
                _ => return Err(serde::de::Error::custom("a hash is 64 hex digits")),
            }
        }
        Ok(Self(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// One entry of a case's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// 1 for the opening event, then consecutive.
    pub seq: u64,
    pub at: Timestamp,
    pub actor: ActorId,
    /// The owning agency after the event.
    pub agency: AgencyId,
    pub action: TimelineAction,
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    pub note: Option<String>,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// The `prev_hash` of a case's first event.
pub fn genesis(case: CaseId) -> Hash {
    let mut h = Sha256::new();
    h.update(b"citytwin-ops/genesis/v1");
    h.update(case.0.to_be_bytes());
    Hash(h.finalize().into())
}

fn put_str(h: &mut Sha256, s: &str) {
    // Strings are bounded far below u32::MAX by the command limits.
    h.update(u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(s.as_bytes());
}

fn put_opt(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            put_str(h, s);
        }
    }
}

/// The hash of `event` (its own `hash` field is ignored).
pub fn event_hash(case: CaseId, event: &TimelineEvent) -> Hash {
    let mut h = Sha256::new();
    h.update(b"citytwin-ops/event/v1");
    h.update(case.0.to_be_bytes());
    h.update(event.seq.to_be_bytes());
    h.update(event.at.as_millis().to_be_bytes());
    put_str(&mut h, event.actor.as_str());
    put_str(&mut h, event.agency.as_str());
    put_str(&mut h, event.action.as_str());
    put_opt(&mut h, event.from.map(CaseStatus::as_str));
    put_str(&mut h, event.to.as_str());
    put_opt(&mut h, event.note.as_deref());
    h.update(event.prev_hash.0);
    Hash(h.finalize().into())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("case {case}: event {index} has seq {seq}, expected {}", index + 1)]
    Sequence { case: CaseId, index: usize, seq: u64 },
    #[error("case {case}: event {seq} does not link to the previous event")]
    Link { case: CaseId, seq: u64 },
    #[error("case {case}: event {seq} does not match its hash")]
    Hash { case: CaseId, seq: u64 },
}

/// Checks one case's timeline: consecutive `seq` from 1, each `prev_hash` the previous `hash`
/// (the genesis for the first), each `hash` recomputed.
pub fn verify_chain(case: CaseId, events: &[TimelineEvent]) -> Result<(), ChainError> {
    let mut prev = genesis(case);
    for (index, e) in events.iter().enumerate() {
        if e.seq != index as u64 + 1 {
            return Err(ChainError::Sequence { case, index, seq: e.seq });
        }
        if e.prev_hash != prev {
            return Err(ChainError::Link { case, seq: e.seq });
        }
        if event_hash(case, e) != e.hash {
            return Err(ChainError::Hash { case, seq: e.seq });
        }
        prev = e.hash;
    }
    Ok(())
}
