//! Bounds on a scenario request, checked before a job is registered: every field that sizes an
//! allocation or a loop (grid, duration, demand, closed edges) has a named limit, so a crafted
//! request is refused with the field's name instead of exhausting memory or a core. The grid
//! itself is capped by [`crate::flood::MAX_GRID_CELLS`] (an inline DEM's header, a city DEM crop).

use crate::flood::{Boundary, Grid};

use super::{JobError, ScenarioRequest};

/// Longest inline DEM (`dem_asc`), in bytes.
pub const MAX_DEM_ASC_BYTES: usize = 32 << 20;
/// Smallest cell of an inline DEM (m): the time step shrinks with the cell, and so would a run.
pub const MIN_CELLSIZE_M: f64 = 0.1;
/// Largest cell of an inline DEM (m).
pub const MAX_CELLSIZE_M: f64 = 10_000.0;
/// Longest flood run (simulated hours).
pub const MAX_HOURS: f64 = 72.0;
/// Heaviest rain (mm/h); the world record hour is about 305 mm.
pub const MAX_RAIN_MM_H: f64 = 1_000.0;
/// Largest Manning n (s/m^⅓); dense vegetation is about 0.2.
pub const MAX_MANNING: f64 = 1.0;
/// Largest magnitude of a water level (initial or `level:Z` boundary), in metres.
pub const MAX_LEVEL_M: f64 = 10_000.0;
/// Largest road-closure depth threshold (m).
pub const MAX_DEPTH_THRESHOLD_M: f64 = 100.0;
/// Most road-graph edges one request may close.
pub const MAX_CLOSED_EDGES: usize = 1_000;
/// Longest incident phase (warm-up, incident, recovery), in minutes: one day each.
pub const MAX_PHASE_MINUTES: f64 = 24.0 * 60.0;
/// Largest peak-hour demand (PCU/h): about 80 times the city's.
pub const MAX_PEAK_HOUR_TRIPS: f64 = 1_000_000.0;
/// Smallest relative gap the assignment may be asked for (it stops at its iteration cap anyway).
pub const MIN_TARGET_GAP: f64 = 1e-9;
/// Longest `boundary` text.
pub const MAX_BOUNDARY_CHARS: usize = 64;

/// `Some(v)` must lie in `[lo, hi]` (NaN and infinities never do).
fn in_range(field: &'static str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), JobError> {
    match v {
        Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => {
            Err(JobError::field(field, format!("must be a number in [{lo}, {hi}], got {x}")))
        }
        _ => Ok(()),
    }
}

impl ScenarioRequest {
    /// Checks every field against its limit; the error names the first offending field.
    pub fn validate(&self) -> Result<(), JobError> {
        if let Some(text) = &self.dem_asc {
            if text.len() > MAX_DEM_ASC_BYTES {
                return Err(JobError::field("dem_asc", format!("is larger than {MAX_DEM_ASC_BYTES} bytes")));
            }
            // Only the header: its claims are checked before any value is read or stored.
            let header = Grid::parse_asc_header(text).map_err(|e| JobError::field("dem_asc", e.to_string()))?;
            if !(MIN_CELLSIZE_M..=MAX_CELLSIZE_M).contains(&header.cellsize) {
                return Err(JobError::field(
                    "dem_asc",
                    format!("cellsize must be in [{MIN_CELLSIZE_M}, {MAX_CELLSIZE_M}] m, got {}", header.cellsize),
                ));
            }
        }
        if let Some([w, s, e, n]) = self.bbox {
            if ![w, s, e, n].iter().all(|v| v.is_finite()) || w >= e || s >= n {
                return Err(JobError::field(
                    "bbox",
                    "must be finite [west, south, east, north] with west < east, south < north",
                ));
            }
        }
        match self.hours {
            Some(h) if !(h.is_finite() && h > 0.0 && h <= MAX_HOURS) => {
                return Err(JobError::field("hours", format!("must be in (0, {MAX_HOURS}], got {h}")));
            }
            _ => {}
        }
        in_range("rain_mm_h", self.rain_mm_h, 0.0, MAX_RAIN_MM_H)?;
        in_range("manning", self.manning, 0.0, MAX_MANNING)?;
        in_range("initial_level", self.initial_level, -MAX_LEVEL_M, MAX_LEVEL_M)?;
        in_range("depth_threshold_m", self.depth_threshold_m, 0.0, MAX_DEPTH_THRESHOLD_M)?;
        if let Some(b) = &self.boundary {
            if b.chars().count() > MAX_BOUNDARY_CHARS {
                return Err(JobError::field("boundary", format!("is longer than {MAX_BOUNDARY_CHARS} characters")));
            }
            let rule: Boundary = b.parse().map_err(|e| JobError::field("boundary", format!("{e}")))?;
            if let Boundary::Level(level) = rule {
                in_range("boundary", Some(level.value_at(0.0)), -MAX_LEVEL_M, MAX_LEVEL_M)?;
            }
        }
        if self.closed_edges.len() > MAX_CLOSED_EDGES {
            return Err(JobError::field(
                "closed_edges",
                format!("{} edges, at most {MAX_CLOSED_EDGES}", self.closed_edges.len()),
            ));
        }
        in_range("warmup_minutes", self.warmup_minutes, 0.0, MAX_PHASE_MINUTES)?;
        in_range("incident_minutes", self.incident_minutes, 0.0, MAX_PHASE_MINUTES)?;
        in_range("recovery_minutes", self.recovery_minutes, 0.0, MAX_PHASE_MINUTES)?;
        in_range("capacity_factor", self.capacity_factor, 0.0, 1.0)?;
        match self.peak_hour_trips {
            Some(t) if !(t.is_finite() && t > 0.0 && t <= MAX_PEAK_HOUR_TRIPS) => {
                return Err(JobError::field(
                    "peak_hour_trips",
                    format!("must be in (0, {MAX_PEAK_HOUR_TRIPS}], got {t}"),
                ));
            }
            _ => {}
        }
        in_range("target_gap", self.target_gap, MIN_TARGET_GAP, 1.0)?;
        Ok(())
    }
}
