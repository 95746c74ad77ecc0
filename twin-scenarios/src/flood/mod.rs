//! Urban flood: 2D local-inertial shallow-water flow on a raster DEM.
//!
//! The scheme is that of Bates et al. (2010), "A simple inertial formulation of the shallow water
//! equations for efficient two-dimensional flood inundation modelling", with the θ-weighting of
//! de Almeida et al. (2012) and semi-implicit Manning friction. See [`Simulation`] for a run.
//!
//! ```
//! use std::sync::atomic::AtomicBool;
//! use twin_scenarios::flood::{FloodSetup, Grid, Series, Simulation, SolverConfig};
//!
//! let dem = Grid::filled(20, 20, 10.0, 0.0);
//! let mut setup = FloodSetup::new(dem, 0.03);
//! setup.rain_mm_h = Some(Series::constant(50.0).unwrap());
//! let mut sim = Simulation::new(setup, SolverConfig::default()).unwrap();
//! let summary = sim.run_until(600.0, |_| {}, &AtomicBool::new(false)).unwrap();
//! assert!(summary.volume_error_rel < 1e-9);
//! ```

mod boundary;
mod error;
mod forcing;
mod grid;
pub mod landuse;
mod limiter;
mod outputs;
mod setup;
mod solver;
mod sweep;

pub use boundary::{Boundaries, Boundary};
pub use error::FloodError;
pub use forcing::{Inflow, Series};
pub use grid::{AscHeader, Grid, DEFAULT_NODATA, MAX_GRID_CELLS};
pub use outputs::{Progress, Summary, Volumes};
pub use setup::{FloodSetup, InitialWater, Manning, SetupError, SolverConfig};
pub use solver::Simulation;
