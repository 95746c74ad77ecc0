//! Errors of the traffic module.

use thiserror::Error;

/// Everything that can go wrong when building a network, demand or running a traffic model.
#[derive(Debug, Error)]
pub enum TrafficError {
    /// A link, node or OD pair refers to something that does not exist or has bad values.
    #[error("invalid traffic network: {0}")]
    InvalidNetwork(String),
    /// Demand between two nodes that no path connects (e.g. after closures).
    #[error("no path from node {from} to node {to}")]
    Unreachable { from: u32, to: u32 },
    /// The run was cancelled through the cancellation flag.
    #[error("traffic run cancelled after {iterations} iterations")]
    Cancelled { iterations: usize },
    /// Parameters of a model are out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}
