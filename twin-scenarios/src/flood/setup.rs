//! What a flood run needs: terrain, roughness, forcings, boundaries, initial water and numerics.

use super::boundary::Boundaries;
use super::error::FloodError;
use super::forcing::{Inflow, Series};
use super::grid::Grid;

/// Why a flood setup or solver configuration was refused; names the first problem found.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SetupError {
    #[error("DEM has {values} values for {ncols} x {nrows} cells")]
    DemSize { values: usize, ncols: usize, nrows: usize },
    #[error("DEM has {cells} cells, at most {max} are allowed")]
    TooManyCells { cells: usize, max: usize },
    #[error("cell size must be positive")]
    CellSize,
    #[error("DEM has infinite elevations")]
    InfiniteElevation,
    #[error("Manning n {0} is invalid")]
    Manning(f64),
    #[error("Manning grid size differs from the DEM")]
    ManningGridSize,
    #[error("Manning grid has negative or non-finite values")]
    ManningGridValues,
    #[error("initial depth grid size differs from the DEM")]
    InitialDepthSize,
    #[error("initial depths must be finite and not negative")]
    InitialDepthValues,
    #[error("initial level must be finite")]
    InitialLevel,
    #[error("rain intensity must not be negative")]
    NegativeRain,
    #[error("inflow at row {row} col {col} is outside the active grid")]
    InflowOutside { row: usize, col: usize },
    #[error("inflow discharge must not be negative")]
    NegativeInflow,
    #[error("free-outflow slope must be positive, got {0}")]
    OutflowSlope(f64),
    #[error("theta must be in (0, 1]")]
    Theta,
    #[error("alpha must be in (0, 1]")]
    Alpha,
    #[error("depth threshold must not be negative")]
    DepthThreshold,
    #[error("wet threshold must not be negative")]
    WetThreshold,
    #[error("max dt must be positive")]
    MaxDt,
    #[error("gravity must be positive")]
    Gravity,
}

/// Numerical parameters of the solver.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverConfig {
    /// θ of de Almeida et al. (2012); 1.0 gives the original Bates et al. (2010) scheme.
    pub theta: f64,
    /// Time step factor α in `dt = α Δx / √(g h_max)`.
    pub alpha: f64,
    /// Flow depth (m) below which a face carries no water.
    pub depth_threshold_m: f64,
    /// Depth (m) above which a cell counts as wet for the time of first wetting.
    pub wet_threshold_m: f64,
    /// Upper bound on the time step (s), used while the grid is (nearly) dry.
    pub max_dt_s: f64,
    /// Gravitational acceleration (m/s²).
    pub gravity: f64,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self { theta: 0.7, alpha: 0.7, depth_threshold_m: 1e-3, wet_threshold_m: 0.01, max_dt_s: 10.0, gravity: 9.81 }
    }
}

impl SolverConfig {
    pub(crate) fn validate(&self) -> Result<(), SetupError> {
        let checks = [
            (self.theta > 0.0 && self.theta <= 1.0, SetupError::Theta),
            (self.alpha > 0.0 && self.alpha <= 1.0, SetupError::Alpha),
            (self.depth_threshold_m >= 0.0, SetupError::DepthThreshold),
            (self.wet_threshold_m >= 0.0, SetupError::WetThreshold),
            (self.max_dt_s > 0.0, SetupError::MaxDt),
            (self.gravity > 0.0, SetupError::Gravity),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, e)) => Err(*e),
            None => Ok(()),
        }
    }
}

/// Manning roughness n (s/m^⅓).
#[derive(Debug, Clone, PartialEq)]
pub enum Manning {
    Uniform(f64),
    /// One value per cell, same layout as the DEM (e.g. from land-use classes).
    PerCell(Vec<f64>),
}

/// Water on the grid at the start.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum InitialWater {
    #[default]
    Dry,
    /// A flat water surface at this elevation wherever the bed is below it.
    Level(f64),
    /// Depth (m) per cell, same layout as the DEM.
    Depth(Vec<f64>),
}

/// A complete flood scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodSetup {
    /// Bed elevation (m); NODATA cells are walls.
    pub dem: Grid,
    pub manning: Manning,
    pub boundaries: Boundaries,
    /// Rain intensity (mm/h) on every active cell; `None` for no rain.
    pub rain_mm_h: Option<Series>,
    pub inflows: Vec<Inflow>,
    pub initial: InitialWater,
}

impl FloodSetup {
    /// A dry DEM with uniform roughness, closed edges and no forcing.
    pub fn new(dem: Grid, manning_n: f64) -> Self {
        Self {
            dem,
            manning: Manning::Uniform(manning_n),
            boundaries: Boundaries::default(),
            rain_mm_h: None,
            inflows: Vec::new(),
            initial: InitialWater::Dry,
        }
    }

    /// Burns obstacles (e.g. building footprints rasterised onto the DEM) into the terrain:
    /// with `raise_m: Some(d)` the marked cells are raised by `d` metres (water can still
    /// overtop them); with `None` they become walls that never hold or pass water.
    pub fn burn_obstacles(&mut self, mask: &[bool], raise_m: Option<f64>) -> Result<(), FloodError> {
        if mask.len() != self.dem.data.len() {
            return Err(FloodError::InvalidSetup("obstacle mask size differs from the DEM".into()));
        }
        for (z, _) in self.dem.data.iter_mut().zip(mask).filter(|(_, m)| **m) {
            *z = match raise_m {
                Some(d) => *z + d,
                None => f64::NAN,
            };
        }
        Ok(())
    }

    /// Checks sizes and values; returns a message naming the first problem.
    pub(crate) fn validate(&self) -> Result<(), SetupError> {
        // Checked before the solver sizes its arrays from the grid.
        let cells = self.dem.ncols.saturating_mul(self.dem.nrows);
        if cells > super::grid::MAX_GRID_CELLS {
            return Err(SetupError::TooManyCells { cells, max: super::grid::MAX_GRID_CELLS });
        }
        if cells == 0 || self.dem.data.len() != cells {
            return Err(SetupError::DemSize {
                values: self.dem.data.len(),
                ncols: self.dem.ncols,
                nrows: self.dem.nrows,
            });
        }
        if !(self.dem.cellsize.is_finite() && self.dem.cellsize > 0.0) {
            return Err(SetupError::CellSize);
        }
        if self.dem.data.iter().any(|z| z.is_infinite()) {
            return Err(SetupError::InfiniteElevation);
        }
        match &self.manning {
            Manning::Uniform(n) if !(n.is_finite() && *n >= 0.0) => return Err(SetupError::Manning(*n)),
            Manning::PerCell(v) if v.len() != cells => return Err(SetupError::ManningGridSize),
            Manning::PerCell(v) if v.iter().any(|n| !(n.is_finite() && *n >= 0.0)) => {
                return Err(SetupError::ManningGridValues)
            }
            _ => {}
        }
        match &self.initial {
            InitialWater::Depth(d) if d.len() != cells => return Err(SetupError::InitialDepthSize),
            InitialWater::Depth(d) if d.iter().any(|h| !(h.is_finite() && *h >= 0.0)) => {
                return Err(SetupError::InitialDepthValues)
            }
            InitialWater::Level(z) if !z.is_finite() => return Err(SetupError::InitialLevel),
            _ => {}
        }
        if self.rain_mm_h.as_ref().is_some_and(|r| r.min_value() < 0.0) {
            return Err(SetupError::NegativeRain);
        }
        for inflow in &self.inflows {
            if self.dem.get(inflow.row, inflow.col).is_none() {
                return Err(SetupError::InflowOutside { row: inflow.row, col: inflow.col });
            }
            if inflow.discharge_m3_s.min_value() < 0.0 {
                return Err(SetupError::NegativeInflow);
            }
        }
        self.boundaries.validate()
    }
}
