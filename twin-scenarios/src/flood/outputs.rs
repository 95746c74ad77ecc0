//! Results of a run: grids on the DEM's geometry and a JSON-serialisable summary.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::FloodError;
use super::grid::Grid;
use super::solver::Simulation;

/// Progress reported during a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub percent: f64,
    pub simulated_s: f64,
    pub steps: u64,
    pub cell_updates_per_s: f64,
}

/// Volumes booked since the start (m³).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Volumes {
    pub initial: f64,
    pub rain: f64,
    pub inflow: f64,
    /// Net volume that left through the edges (negative when a level boundary fed the grid).
    pub outflow: f64,
}

/// Volume balance and cost of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub rain_volume_m3: f64,
    pub inflow_volume_m3: f64,
    /// Net volume that left through the edges (negative if a level boundary fed the grid).
    pub outflow_volume_m3: f64,
    pub stored_volume_m3: f64,
    /// Water on the grid at the start.
    pub initial_volume_m3: f64,
    /// |stored − (initial + rain + inflow − outflow)| / max(initial + rain + inflow, stored).
    pub volume_error_rel: f64,
    /// Active (non-NODATA) cells.
    pub cells: usize,
    pub steps: u64,
    /// Active cells × steps per second of wall time spent stepping.
    pub cell_updates_per_s: f64,
    pub simulated_s: f64,
}

impl Summary {
    pub fn to_json(&self) -> Result<String, FloodError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub fn write_json(&self, path: &Path) -> Result<(), FloodError> {
        std::fs::write(path, self.to_json()?)
            .map_err(|source| FloodError::Io { path: path.display().to_string(), source })
    }
}

impl Simulation {
    /// Volume balance so far.
    pub fn summary(&self) -> Summary {
        let v = self.volumes;
        let stored = self.stored_volume();
        let expected = v.initial + v.rain + v.inflow - v.outflow;
        let scale = (v.initial + v.rain + v.inflow).max(stored);
        let volume_error_rel = if scale > 0.0 { (stored - expected).abs() / scale } else { 0.0 };
        Summary {
            rain_volume_m3: v.rain,
            inflow_volume_m3: v.inflow,
            outflow_volume_m3: v.outflow,
            stored_volume_m3: stored,
            initial_volume_m3: v.initial,
            volume_error_rel,
            cells: self.active_cells,
            steps: self.steps,
            cell_updates_per_s: self.cell_updates_per_s(),
            simulated_s: self.t,
        }
    }

    /// A grid on the DEM's geometry with NODATA (NaN) on walls.
    fn grid_of(&self, values: impl Iterator<Item = f64>) -> Grid {
        let data = values.zip(&self.active).map(|(v, a)| if *a { v } else { f64::NAN }).collect();
        Grid { data, ..self.template.clone() }
    }

    /// Current water depth (m).
    pub fn depth_grid(&self) -> Grid {
        self.grid_of(self.h.iter().copied())
    }

    /// Current water-surface elevation (m); NaN where dry.
    pub fn water_level_grid(&self) -> Grid {
        let h_min = self.cfg.depth_threshold_m;
        self.grid_of(self.h.iter().zip(&self.z).map(|(h, z)| if *h > h_min { h + z } else { f64::NAN }))
    }

    /// Largest depth seen so far (m), sampled at every step.
    pub fn max_depth_grid(&self) -> Grid {
        self.grid_of(self.max_depth.iter().copied())
    }

    /// Time (s) at which each cell first became deeper than the wet threshold; NaN if never.
    pub fn first_wet_grid(&self) -> Grid {
        self.grid_of(self.first_wet.iter().copied())
    }

    /// Speed (m/s) at cell centres from the averaged face discharges; 0 on dry cells.
    pub fn speed_grid(&self) -> Grid {
        let (nc, h_min) = (self.ncols, self.cfg.depth_threshold_m);
        let speeds = (0..self.h.len()).map(|i| {
            let h = self.h[i];
            if h <= h_min {
                return 0.0;
            }
            let (r, c) = (i / nc, i % nc);
            let qx = 0.5 * (self.qx[r * (nc + 1) + c] + self.qx[r * (nc + 1) + c + 1]);
            let qy = 0.5 * (self.qy[r * nc + c] + self.qy[(r + 1) * nc + c]);
            (qx * qx + qy * qy).sqrt() / h
        });
        self.grid_of(speeds)
    }

    /// East-west face discharges (m²/s), `ncols + 1` per row.
    pub fn x_discharges(&self) -> &[f64] {
        &self.qx
    }

    /// North-south face discharges (m²/s, positive southward), `nrows + 1` rows of `ncols`.
    pub fn y_discharges(&self) -> &[f64] {
        &self.qy
    }

    /// Writes `max_depth.asc`, `depth_final.asc` and `summary.json` into `dir`.
    pub fn write_outputs(&self, dir: &Path) -> Result<(), FloodError> {
        std::fs::create_dir_all(dir).map_err(|source| FloodError::Io { path: dir.display().to_string(), source })?;
        self.max_depth_grid().write_asc(&dir.join("max_depth.asc"))?;
        self.depth_grid().write_asc(&dir.join("depth_final.asc"))?;
        self.summary().write_json(&dir.join("summary.json"))
    }
}
