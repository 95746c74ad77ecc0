//! Why a line or a message could not be decoded.

use thiserror::Error;

/// Everything that can go wrong between a text line and an [`super::AisMessage`].
///
/// Variants carry only small, copyable context so the error path does not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AisError {
    /// The line is not an `!xxVDM` / `!xxVDO` sentence (other NMEA, garbage, empty).
    #[error("not an AIS sentence (expected !xxVDM or !xxVDO)")]
    NotAis,
    /// No `*hh` checksum at the end of the sentence.
    #[error("missing or malformed checksum")]
    MissingChecksum,
    /// The XOR checksum does not match.
    #[error("bad checksum: sentence says {given:02X}, computed {computed:02X}")]
    BadChecksum { given: u8, computed: u8 },
    /// An AIVDM sentence has exactly 7 comma-separated fields.
    #[error("expected 7 fields, found {0}")]
    BadFieldCount(usize),
    /// A numeric or flag field holds something it cannot.
    #[error("bad {0} field")]
    BadField(&'static str),
    /// A payload character outside the AIS 6-bit armouring alphabet.
    #[error("bad armour character {0:?} in payload")]
    BadArmor(char),
    /// Fill bits must be 0..=5, fewer than the payload carries, and 0 on all but the last fragment.
    #[error("bad fill bits {0}")]
    BadFillBits(u8),
    /// The payload is shorter than its message type needs.
    #[error("truncated payload: {bits} bits, message type {msg_type} needs {needed}")]
    TruncatedPayload { msg_type: u8, bits: usize, needed: usize },
    /// More bits than any AIS message can have (five slots).
    #[error("payload longer than {max} bits")]
    PayloadTooLong { max: usize },
    /// A malformed NMEA 4.10 tag block (`\...*hh\`).
    #[error("bad tag block: {0}")]
    BadTagBlock(&'static str),
    /// A multi-sentence group was abandoned: a fragment never arrived in time, or a new group
    /// started on the same sequence id and channel before the old one was complete.
    #[error("orphan fragment(s): {have} of {total} received (sequence id {seq:?}, channel {channel:?})")]
    OrphanFragments { seq: Option<u8>, channel: Option<char>, have: u8, total: u8 },
}

impl AisError {
    /// A short stable name for counters and logs (`bad_checksum`, `truncated_payload`, ...).
    pub const fn reason(&self) -> &'static str {
        match self {
            AisError::NotAis => "not_ais",
            AisError::MissingChecksum => "missing_checksum",
            AisError::BadChecksum { .. } => "bad_checksum",
            AisError::BadFieldCount(_) => "bad_field_count",
            AisError::BadField(_) => "bad_field",
            AisError::BadArmor(_) => "bad_armor",
            AisError::BadFillBits(_) => "bad_fill_bits",
            AisError::TruncatedPayload { .. } => "truncated_payload",
            AisError::PayloadTooLong { .. } => "payload_too_long",
            AisError::BadTagBlock(_) => "bad_tag_block",
            AisError::OrphanFragments { .. } => "orphan_fragments",
        }
    }
}
