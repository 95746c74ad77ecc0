//! Scenario engine: what-if simulations over the city model.
//!
//! - [`flood`]: 2D local-inertial shallow-water flow on a raster (rain, inflows, tides).
//! - [`coupling`]: flooded roads close, traffic reassigns, emergency reach before and after.
//! - [`jobs`]: scenario jobs started over the API (a thread each, progress, cancel, result layers).
//! - [`traffic`]: road network, user-equilibrium assignment, cell transmission model, congestion.

pub mod coupling;
pub mod flood;
pub mod jobs;
pub mod traffic;
