//! Why a GPX document could not be read.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum GpxError {
    /// Not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Xml { position: u64, reason: String },
    /// The root element is not `<gpx>`.
    #[error("not a GPX document (root element {0:?})")]
    NotGpx(String),
    /// A point without a usable `lat`/`lon`, or a bad `<ele>`/`<time>` value.
    #[error("point {index}: bad {field}: {value:?}")]
    BadValue { index: usize, field: &'static str, value: String },
}
