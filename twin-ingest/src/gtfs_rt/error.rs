//! Why a GTFS-realtime payload could not be decoded.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GtfsRtError {
    /// The bytes are not a valid protobuf encoding of a `FeedMessage`.
    #[error("malformed GTFS-realtime protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// A field the specification requires is absent.
    #[error("GTFS-realtime feed lacks required field {0}")]
    MissingField(&'static str),
}

impl GtfsRtError {
    /// A short stable name for counters and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            GtfsRtError::Protobuf(_) => "malformed_protobuf",
            GtfsRtError::MissingField(_) => "missing_field",
        }
    }
}
