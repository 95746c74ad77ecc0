//! Traffic on the road network: a routable network with turn rules, static user-equilibrium
//! assignment with BPR costs, demand from buildings, a cell transmission model for incidents (fed by
//! the assignment on the real network),
//! congestion from live speeds and emergency-vehicle reach.

mod assignment;
mod congestion;
mod ctm;
mod demand;
mod error;
mod incident;
mod network;
mod paths;
mod reach;

pub use assignment::{assign, Assignment, AssignmentConfig, AssignmentProgress, OdPair};
pub use congestion::{CongestionMap, EdgeCongestion};
pub use ctm::{Ctm, Triangular};
pub use demand::{Demand, DemandConfig, Zone};
pub use error::TrafficError;
pub use incident::{
    network_ctm, run_incident, IncidentConfig, IncidentProgress, IncidentResult, IncidentSample, LinkQueue,
};
pub use network::{class_capacity, Link, LinkCost, Network, TurnRules};
pub use paths::{path_cost, LinkTree, Scratch};
pub use reach::reachable_length_m;
