//! Dispatch over the road network: which units reach a case soonest, and which hospital an
//! ambulance reaches soonest, by travel time on the roads rather than as the crow flies.
//!
//! Build a [`Dispatcher`] once from a [`RoadGraph`](twin_layers::roads::RoadGraph) (it owns the
//! graph and indexes its edges), keep an [`EdgeCosts`] per traffic/flood state (free flow from
//! [`Dispatcher::free_flow`], then live speeds and closures), and give each worker thread its own
//! [`SearchBuffers`]. Queries:
//!
//! - [`Dispatcher::recommend`]: the k best units for a case. Case and units are snapped to the
//!   nearest point of the nearest open edge (both directions of a two-way road), and one Dijkstra
//!   over travel time runs on the reversed graph from the case (units drive *to* it, so one-way
//!   streets count the right way round). It stops once the k-th unit is settled.
//! - [`Dispatcher::nearest_destinations`]: the same search forwards, from a unit to destinations.
//!
//! Limits: `k` in `1..=`[`MAX_K`], at most [`MAX_CANDIDATES`] candidates, snapping within
//! [`DEFAULT_MAX_SNAP_M`] (configurable), live speeds within
//! [`MIN_SPEED_KMH`]`..=`[`MAX_SPEED_KMH`]. Bad input gives a [`DispatchError`]; a bad candidate
//! position skips that candidate (reported in [`Ranking::skipped`]) rather than failing the case.
//!
//! The crate is pure: no I/O, no clock, no threads. It parses nothing (inputs are typed values), so
//! it has no fuzz target; the property test `any_positions_never_panic` covers arbitrary floats.
//!
//! Latency: `cargo bench -p twin-dispatch --bench dispatch` (criterion) and
//! `cargo run --release -p twin-dispatch --example latency` (p50/p99 over 1,000 random cases, the
//! 5 best of 500 units, on the Hải Châu roads and a 100k-junction synthetic grid).

mod costs;
mod dispatch;
mod network;
mod search;
pub mod synthetic;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests;

use geo::Geometry;
use twin_core::Position;
use twin_layers::Layer;

pub use costs::EdgeCosts;
pub use dispatch::{Candidate, Destination, Ranking, Recommendation, SkipReason, Skipped, MAX_CANDIDATES, MAX_K};
pub use network::{Dispatcher, EdgePoint, Snap, DEFAULT_MAX_SNAP_M, MAX_SPEED_KMH, MIN_SPEED_KMH};
pub use search::SearchBuffers;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DispatchError {
    #[error("position ({lon}, {lat}) is not a finite longitude/latitude")]
    InvalidPosition { lon: f64, lat: f64 },
    #[error("no open road within {max_snap_m} m of the position")]
    OffNetwork { max_snap_m: f64 },
    #[error("k must be at least 1")]
    ZeroK,
    #[error("k = {k} is more than the {max} an answer may list")]
    TooManyRequested { k: usize, max: usize },
    #[error("{count} candidates is more than the {max} a query may weigh")]
    TooManyCandidates { count: usize, max: usize },
    #[error("speed {kmh} km/h for edge {edge} is outside {MIN_SPEED_KMH}..={MAX_SPEED_KMH} (close the edge instead of a speed of 0)")]
    BadSpeed { edge: u32, kmh: f64 },
    #[error("no edge {0} in the road network")]
    UnknownEdge(u32),
    #[error("these edge costs were made for another road network")]
    CostsMismatch,
    #[error("snap distance {0} m is outside 1..=50000")]
    BadSnapDistance(f64),
    #[error("road network of {nodes} nodes and {edges} edges is too large for 32-bit ids")]
    NetworkTooLarge { nodes: usize, edges: usize },
}

/// Hospitals of a points-of-interest layer as destinations, named by `name` (else their OSM id).
/// With `emergency_only`, only those tagged `emergency=yes` (OSM's tag for an emergency
/// department); the shipped Hải Châu extract tags none, so the demo uses every hospital.
pub fn hospitals(pois: &Layer, emergency_only: bool) -> Vec<Destination<String>> {
    pois.features
        .iter()
        .filter_map(|f| {
            let tag = |k: &str| f.properties.get(k).and_then(serde_json_str);
            let is_hospital = tag("amenity") == Some("hospital") || tag("healthcare") == Some("hospital");
            if !is_hospital || (emergency_only && tag("emergency") != Some("yes")) {
                return None;
            }
            let Geometry::Point(p) = &f.geometry else { return None };
            let id = tag("name").map(str::to_owned).or_else(|| f.properties.get("@id").map(|v| v.to_string()))?;
            let position = Position::new(p.x(), p.y());
            position.is_valid().then_some(Destination { id, position })
        })
        .collect()
}

fn serde_json_str(v: &serde_json::Value) -> Option<&str> {
    v.as_str()
}
