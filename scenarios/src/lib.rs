//! Scenario engine: what-if simulations over the city model.
//!
//! - [`flood`]: 2D local-inertial shallow-water flow on a raster (rain, inflows, tides).
//! - [`traffic`]: road network, user-equilibrium assignment, cell transmission model, congestion.

pub mod flood;
pub mod traffic;
