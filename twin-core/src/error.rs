use thiserror::Error;

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
