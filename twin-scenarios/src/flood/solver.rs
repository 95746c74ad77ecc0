//! The time loop of the local-inertial solver: state, adaptive time step, forcings, volumes.
//!
//! One step: (1) face discharges from the depths (parallel over rows), (2) new depths by
//! continuity into a second buffer, (3) cells that would go negative have their outflow scaled
//! to the water they hold ([`super::limiter`]); depths are never negative and volume is
//! conserved. Sums are taken per row and added in row order, so results are the same on any
//! thread count.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::boundary::{Boundaries, EdgeRule};
use super::error::FloodError;
use super::forcing::{Inflow, Series};
use super::limiter::{Cell, LimiterState};
use super::outputs::{Progress, Volumes};
use super::setup::{FloodSetup, InitialWater, Manning, SolverConfig};
use super::sweep::{self, CellRow, RowFaces, RowStats, StepConstants};

/// Bed elevation given to NODATA cells: no face can ever carry water into or out of them.
const WALL_BED: f64 = 1e30;

/// Rows handed to one rayon task at least (keeps task overhead small on narrow grids).
const MIN_ROWS_PER_TASK: usize = 4;

/// A running flood simulation. Cloning it forks the run.
#[derive(Clone)]
pub struct Simulation {
    pub(crate) ncols: usize,
    pub(crate) nrows: usize,
    pub(crate) dx: f64,
    pub(crate) cfg: SolverConfig,
    pub(crate) template: super::grid::Grid,
    boundaries: Boundaries,
    rain_mm_h: Option<Series>,
    inflows: Vec<Inflow>,
    pub(crate) z: Vec<f64>,
    gn2: Vec<f64>,
    pub(crate) active: Vec<bool>,
    pub(crate) h: Vec<f64>,
    h_next: Vec<f64>,
    pub(crate) qx: Vec<f64>,
    qx_next: Vec<f64>,
    pub(crate) qy: Vec<f64>,
    qy_next: Vec<f64>,
    pub(crate) max_depth: Vec<f64>,
    pub(crate) first_wet: Vec<f64>,
    row_stats: Vec<RowStats>,
    /// Scratch marks for the limiter (allocated on first use).
    marks: Vec<u8>,
    /// Lowest active bed along each edge (north, south, east, west), for the time step.
    edge_min_bed: [f64; 4],
    pub(crate) t: f64,
    pub(crate) steps: u64,
    /// Steps in which the outflow limiter had to act, and cells it corrected in all.
    limited_steps: u64,
    limited_cells: u64,
    h_max: f64,
    pub(crate) volumes: Volumes,
    pub(crate) active_cells: usize,
    pub(crate) compute_time: Duration,
}

impl Simulation {
    pub fn new(setup: FloodSetup, cfg: SolverConfig) -> Result<Self, FloodError> {
        setup.validate()?;
        cfg.validate()?;
        let FloodSetup { dem, manning, boundaries, rain_mm_h, inflows, initial } = setup;
        let (ncols, nrows, dx) = (dem.ncols, dem.nrows, dem.cellsize);
        let cells = ncols * nrows;
        let active: Vec<bool> = dem.data.iter().map(|z| !z.is_nan()).collect();
        let z: Vec<f64> = dem.data.iter().map(|&z| if z.is_nan() { WALL_BED } else { z }).collect();
        let g = cfg.gravity;
        let gn2: Vec<f64> = match &manning {
            Manning::Uniform(n) => vec![g * n * n; cells],
            Manning::PerCell(ns) => ns.iter().map(|n| g * n * n).collect(),
        };
        let mut h: Vec<f64> = match &initial {
            InitialWater::Dry => vec![0.0; cells],
            InitialWater::Level(level) => z.iter().map(|&zb| (level - zb).max(0.0)).collect(),
            InitialWater::Depth(d) => d.clone(),
        };
        h.iter_mut().zip(&active).filter(|(_, a)| !**a).for_each(|(v, _)| *v = 0.0);

        let edge_min = |cells: &mut dyn Iterator<Item = usize>| {
            cells.filter(|&i| active[i]).map(|i| z[i]).fold(f64::INFINITY, f64::min)
        };
        let edge_min_bed = [
            edge_min(&mut (0..ncols)),
            edge_min(&mut ((nrows - 1) * ncols..cells)),
            edge_min(&mut (0..nrows).map(|r| r * ncols + ncols - 1)),
            edge_min(&mut (0..nrows).map(|r| r * ncols)),
        ];
        let mut sim = Self {
            ncols,
            nrows,
            dx,
            template: super::grid::Grid { data: Vec::new(), ..dem },
            boundaries,
            rain_mm_h,
            inflows,
            z,
            gn2,
            active_cells: active.iter().filter(|a| **a).count(),
            active,
            h_next: vec![0.0; cells],
            qx: vec![0.0; (ncols + 1) * nrows],
            qx_next: vec![0.0; (ncols + 1) * nrows],
            qy: vec![0.0; ncols * (nrows + 1)],
            qy_next: vec![0.0; ncols * (nrows + 1)],
            max_depth: vec![0.0; cells],
            first_wet: vec![f64::NAN; cells],
            row_stats: vec![RowStats::default(); nrows],
            marks: Vec::new(),
            edge_min_bed,
            t: 0.0,
            steps: 0,
            limited_steps: 0,
            limited_cells: 0,
            h_max: h.iter().copied().fold(0.0, f64::max),
            volumes: Volumes::default(),
            compute_time: Duration::ZERO,
            h,
            cfg,
        };
        sim.volumes.initial = sim.stored_volume();
        sim.track_extremes();
        Ok(sim)
    }

    /// Simulated time (s).
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Volumes booked so far.
    pub fn volumes(&self) -> Volumes {
        self.volumes
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Steps in which some cell would have run dry and its outflow was scaled down.
    pub fn limited_steps(&self) -> u64 {
        self.limited_steps
    }

    /// Cells found negative after continuity (before limiting), summed over all steps.
    pub fn limited_cells(&self) -> u64 {
        self.limited_cells
    }

    /// Water depth per cell (m), DEM layout.
    pub fn depth(&self) -> &[f64] {
        &self.h
    }

    /// Water volume on the grid (m³), summed row by row in a fixed order.
    pub fn stored_volume(&self) -> f64 {
        let row_sums: Vec<f64> = self.h.par_chunks(self.ncols).map(|row| row.iter().sum::<f64>()).collect();
        row_sums.iter().sum::<f64>() * self.dx * self.dx
    }

    /// Runs until simulated time `t_end`, reporting progress about every percent.
    /// On cancellation the state reached so far is kept and `Err(Cancelled)` is returned.
    pub fn run_until(
        &mut self,
        t_end: f64,
        mut progress: impl FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<super::outputs::Summary, FloodError> {
        let t_start = self.t;
        let span = (t_end - t_start).max(f64::MIN_POSITIVE);
        let mut next_report = 0.0;
        while self.t < t_end {
            if cancel.load(Ordering::Relaxed) {
                self.track_extremes();
                return Err(FloodError::Cancelled { simulated_s: self.t });
            }
            self.step(t_end - self.t)?;
            let percent = 100.0 * (self.t - t_start) / span;
            if percent >= next_report || self.t >= t_end {
                progress(Progress {
                    percent: percent.min(100.0),
                    simulated_s: self.t,
                    steps: self.steps,
                    cell_updates_per_s: self.cell_updates_per_s(),
                });
                next_report = percent.floor() + 1.0;
            }
        }
        self.track_extremes();
        Ok(self.summary())
    }

    pub(crate) fn cell_updates_per_s(&self) -> f64 {
        let secs = self.compute_time.as_secs_f64();
        if secs > 0.0 {
            self.active_cells as f64 * self.steps as f64 / secs
        } else {
            0.0
        }
    }

    /// Next time step from the CFL condition, including water standing at level boundaries.
    fn next_dt(&self, remaining: f64) -> f64 {
        let mut h_max = self.h_max;
        let rules = self.boundaries.at(self.t);
        for (rule, bed) in rules.iter().zip(self.edge_min_bed) {
            if let EdgeRule::Level(level) = rule {
                h_max = h_max.max(level - bed);
            }
        }
        let cfl = if h_max > self.cfg.depth_threshold_m {
            self.cfg.alpha * self.dx / (self.cfg.gravity * h_max).sqrt()
        } else {
            f64::INFINITY
        };
        cfl.min(self.cfg.max_dt_s).min(remaining)
    }

    /// Advances one step of at most `remaining` seconds (nothing happens if it is not positive).
    pub fn step(&mut self, remaining: f64) -> Result<(), FloodError> {
        if remaining.is_nan() || remaining <= 0.0 {
            return Ok(());
        }
        let started = Instant::now();
        let dt = self.next_dt(remaining);
        let rain = self.rain_mm_h.as_ref().map_or(0.0, |r| r.integral(self.t, self.t + dt) / 3.6e6);
        let k = StepConstants {
            g: self.cfg.gravity,
            dt,
            inv_dx: 1.0 / self.dx,
            h_min: self.cfg.depth_threshold_m,
            theta: self.cfg.theta,
            half_rest: 0.5 * (1.0 - self.cfg.theta),
            rain,
        };
        // Level boundaries use the level at the middle of the step.
        let rules = self.boundaries.at(self.t + 0.5 * dt);
        self.flux_sweep(&rules, &k);
        self.continuity_sweep(&k);
        let mut h_max = self.row_stats.iter().map(|s| s.h_max).fold(0.0, f64::max);
        if self.row_stats.iter().any(|s| s.negative) {
            h_max = h_max.max(self.limit_outflows(&k));
            self.limited_steps += 1;
        }
        self.volumes.rain += rain * self.active_cells as f64 * self.dx * self.dx;
        self.volumes.outflow += self.boundary_outflow() * dt * self.dx;
        let finite = self.row_stats.iter().all(|s| s.sum.is_finite());
        for inflow in &self.inflows {
            let volume = inflow.discharge_m3_s.integral(self.t, self.t + dt);
            let i = inflow.row * self.ncols + inflow.col;
            self.h_next[i] += volume / (self.dx * self.dx);
            h_max = h_max.max(self.h_next[i]);
            self.volumes.inflow += volume;
        }
        std::mem::swap(&mut self.h, &mut self.h_next);
        std::mem::swap(&mut self.qx, &mut self.qx_next);
        std::mem::swap(&mut self.qy, &mut self.qy_next);
        self.t += dt;
        self.steps += 1;
        self.h_max = h_max;
        self.compute_time += started.elapsed();
        if !finite {
            return Err(FloodError::Unstable { simulated_s: self.t });
        }
        Ok(())
    }

    /// Face discharges for the new time level; also records max depth and first wetting of
    /// the current state while the rows are in cache.
    fn flux_sweep(&mut self, rules: &[EdgeRule; 4], k: &StepConstants) {
        let [north, south, east, west] = *rules;
        let (nc, nr) = (self.ncols, self.nrows);
        let (z, h, gn2) = (&self.z, &self.h, &self.gn2);
        let (qx_old, qy_old) = (&self.qx, &self.qy);
        let row = |r: usize| CellRow {
            z: &z[r * nc..(r + 1) * nc],
            h: &h[r * nc..(r + 1) * nc],
            gn2: &gn2[r * nc..(r + 1) * nc],
        };
        let (t, wet) = (self.t, self.cfg.wet_threshold_m);
        let (qy_inner, qy_south) = self.qy_next.split_at_mut(nr * nc);
        self.qx_next
            .par_chunks_mut(nc + 1)
            .zip(qy_inner.par_chunks_mut(nc))
            .zip(self.max_depth.par_chunks_mut(nc).zip(self.first_wet.par_chunks_mut(nc)))
            .enumerate()
            .with_min_len(MIN_ROWS_PER_TASK)
            .for_each(|(r, ((qx, qy), (max_d, first)))| {
                let cells = row(r);
                sweep::x_faces(qx, &qx_old[r * (nc + 1)..(r + 1) * (nc + 1)], cells, west, east, k);
                let face_row = |fr: usize| &qy_old[fr * nc..(fr + 1) * nc];
                if r == 0 {
                    sweep::edge_y_faces(qy, face_row(0), cells, north, -1.0, k);
                } else {
                    sweep::y_faces(qy, face_row(r), face_row(r - 1), face_row(r + 1), row(r - 1), cells, k);
                }
                track_row(max_d, first, cells.h, t, wet);
            });
        sweep::edge_y_faces(qy_south, &qy_old[nr * nc..], row(nr - 1), south, 1.0, k);
    }

    fn continuity_sweep(&mut self, k: &StepConstants) {
        let nc = self.ncols;
        let (h, qx, qy, active) = (&self.h, &self.qx_next, &self.qy_next, &self.active);
        self.h_next
            .par_chunks_mut(nc)
            .zip(self.row_stats.par_iter_mut())
            .enumerate()
            .with_min_len(MIN_ROWS_PER_TASK)
            .for_each(|(r, (h_new, stats))| {
                let faces = RowFaces {
                    qx: &qx[r * (nc + 1)..(r + 1) * (nc + 1)],
                    qn: &qy[r * nc..(r + 1) * nc],
                    qs: &qy[(r + 1) * nc..(r + 2) * nc],
                };
                let cells = r * nc..(r + 1) * nc;
                *stats = sweep::continuity(h_new, &h[cells.clone()], faces, &active[cells], k);
            });
    }

    /// Corrects cells that would go negative; returns the largest depth it set.
    fn limit_outflows(&mut self, k: &StepConstants) -> f64 {
        let nc = self.ncols;
        let (stats, h_next) = (&self.row_stats, &self.h_next);
        let negative: Vec<Cell> = (0..self.nrows)
            .into_par_iter()
            .filter(|&r| stats[r].negative)
            .flat_map_iter(|row| {
                (0..nc).filter(move |&col| h_next[row * nc + col] < 0.0).map(move |col| Cell { row, col })
            })
            .collect();
        self.marks.resize(self.h.len(), 0);
        self.limited_cells += negative.len() as u64;
        LimiterState {
            ncols: nc,
            h: &self.h,
            h_next: &mut self.h_next,
            qx: &mut self.qx_next,
            qy: &mut self.qy_next,
            active: &self.active,
            marks: &mut self.marks,
        }
        .run(negative, k)
    }

    /// Net outward discharge summed over all boundary faces (m²/s per unit width, summed).
    fn boundary_outflow(&self) -> f64 {
        let (nc, nr) = (self.ncols, self.nrows);
        let (qx, qy) = (&self.qx_next, &self.qy_next);
        let mut out = 0.0;
        for r in 0..nr {
            out += qx[r * (nc + 1) + nc] - qx[r * (nc + 1)];
        }
        out += qy[nr * nc..].iter().sum::<f64>() - qy[..nc].iter().sum::<f64>();
        out
    }

    /// Updates max depth and first wetting from the current state.
    fn track_extremes(&mut self) {
        let nc = self.ncols;
        let (h, t, wet) = (&self.h, self.t, self.cfg.wet_threshold_m);
        self.max_depth
            .par_chunks_mut(nc)
            .zip(self.first_wet.par_chunks_mut(nc))
            .enumerate()
            .for_each(|(r, (m, f))| track_row(m, f, &h[r * nc..(r + 1) * nc], t, wet));
    }
}

#[inline]
fn track_row(max_depth: &mut [f64], first_wet: &mut [f64], h: &[f64], t: f64, wet: f64) {
    let n = max_depth.len();
    let (first_wet, h) = (&mut first_wet[..n], &h[..n]);
    for c in 0..n {
        max_depth[c] = max_depth[c].max(h[c]);
        if h[c] > wet && first_wet[c].is_nan() {
            first_wet[c] = t;
        }
    }
}
