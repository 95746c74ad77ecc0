//! The flood solver against analytic solutions of the shallow-water equations with friction.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the assertion

use std::sync::atomic::AtomicBool;

use twin_scenarios::flood::{Boundaries, Boundary, FloodSetup, Grid, Inflow, Series, Simulation, SolverConfig};

fn run(setup: FloodSetup, t_end: f64) -> Simulation {
    let mut sim = Simulation::new(setup, SolverConfig::default()).unwrap();
    sim.run_until(t_end, |_| {}, &AtomicBool::new(false)).unwrap();
    sim
}

/// Steady uniform flow down a plane channel: the depth must settle to Manning's normal depth.
#[test]
fn steady_uniform_flow_reaches_manning_normal_depth() {
    let (slope, n, q) = (0.001_f64, 0.03_f64, 1.0_f64);
    let normal_depth = (q * n / slope.sqrt()).powf(0.6);
    assert!((normal_depth - 0.968886).abs() < 1e-6, "closed form {normal_depth}");

    let (ncols, nrows, dx) = (100, 3, 10.0);
    let length = ncols as f64 * dx;
    let mut dem = Grid::filled(ncols, nrows, dx, 0.0);
    for r in 0..nrows {
        for c in 0..ncols {
            let x = (c as f64 + 0.5) * dx;
            dem.data[r * ncols + c] = slope * (length - x);
        }
    }
    let mut setup = FloodSetup::new(dem, n);
    setup.boundaries = Boundaries { east: Boundary::FreeOutflow { slope: Some(slope) }, ..Boundaries::default() };
    // q per unit width over the channel width: each upstream cell receives q·Δx.
    setup.inflows =
        (0..nrows).map(|row| Inflow { row, col: 0, discharge_m3_s: Series::constant(q * dx).unwrap() }).collect();
    let sim = run(setup, 30_000.0);

    let depth = sim.depth();
    for r in 0..nrows {
        for c in 20..80 {
            let h = depth[r * ncols + c];
            let rel = (h - normal_depth).abs() / normal_depth;
            assert!(rel <= 1e-3, "row {r} col {c}: depth {h} vs normal depth {normal_depth} (rel {rel:e})");
        }
    }
    // Steady: what enters leaves, so the stored volume no longer changes.
    let summary = sim.summary();
    assert!(summary.volume_error_rel <= 1e-9, "{summary:?}");
}

/// Parameters of the wetting-front test of Hunter et al. (2005): flat frictional bed, front
/// moving at constant velocity `u`; the exact depth is h(x,t) = [(7/3) n² u² (u t − x)]^(3/7).
///
/// That solution neglects inertia (diffusion wave). The local-inertial equations keep ∂q/∂t,
/// which here is about −u² ∂h/∂x, so they differ from it by a relative amount of order
/// Fr² = u²/(g h). The tests therefore use friction-dominated flows (Fr² ≈ 0.02 and ≈ 0.005
/// behind the front), the regime the diffusive solution describes.
#[derive(Clone, Copy)]
struct Front {
    n: f64,
    u: f64,
}

impl Front {
    fn depth(&self, x: f64, t: f64) -> f64 {
        let s = self.u * t - x;
        if s <= 0.0 {
            0.0
        } else {
            (7.0 / 3.0 * self.n * self.n * self.u * self.u * s).powf(3.0 / 7.0)
        }
    }
}

#[derive(Debug)]
struct FrontResult {
    /// |simulated − exact| front position (m); the simulated front is the east face of the last
    /// cell deeper than 1 cm (the exact depth reaches 1 cm within 0.1 m of u t here).
    front_error: f64,
    /// RMS depth error over the analytically wet part, relative to the depth at x = 0.
    rms_rel: f64,
}

/// Runs the wetting front on a 1-row channel with cell size `dx` until `t_end`. The west edge is a
/// level boundary whose ghost cell, centred at x = −Δx/2, follows the exact solution.
fn wetting_front(front: Front, dx: f64, t_end: f64) -> FrontResult {
    let length = 2.0 * front.u * t_end;
    let ncols = (length / dx) as usize;
    let dem = Grid::filled(ncols, 1, dx, 0.0);
    let ghost_x = -0.5 * dx;
    let points = (0..=(t_end as usize)).map(|s| (s as f64, front.depth(ghost_x, s as f64))).collect();
    let mut setup = FloodSetup::new(dem, front.n);
    setup.boundaries = Boundaries { west: Boundary::Level(Series::new(points).unwrap()), ..Boundaries::default() };
    let sim = run(setup, t_end);

    let depth = sim.depth();
    let last_wet = depth.iter().rposition(|h| *h > 0.01).unwrap();
    let front_x = (last_wet + 1) as f64 * dx;
    let h0 = front.depth(0.0, t_end);
    let mut sq = 0.0;
    let mut count = 0usize;
    for (c, h) in depth.iter().enumerate() {
        let x = (c as f64 + 0.5) * dx;
        if x < front.u * t_end {
            sq += (h - front.depth(x, t_end)).powi(2);
            count += 1;
        }
    }
    FrontResult { front_error: (front_x - front.u * t_end).abs(), rms_rel: (sq / count as f64).sqrt() / h0 }
}

#[test]
fn wetting_front_matches_hunter_solution() {
    let (front, t_end) = (Front { n: 0.05, u: 0.5 }, 3600.0);
    let result = wetting_front(front, 10.0, t_end);
    let exact_front = front.u * t_end;
    assert!(result.front_error <= 0.05 * exact_front, "front off by {} m of {exact_front} m", result.front_error);
    assert!(result.rms_rel <= 0.05, "profile RMS error {:.4} of the depth at x = 0", result.rms_rel);
}

#[test]
fn wetting_front_converges_with_grid_refinement() {
    let (front, t_end) = (Front { n: 0.1, u: 0.2 }, 3600.0);
    let results: Vec<FrontResult> = [20.0, 10.0, 5.0].iter().map(|dx| wetting_front(front, *dx, t_end)).collect();
    for pair in results.windows(2) {
        assert!(pair[1].rms_rel < pair[0].rms_rel, "RMS error grew when halving dx: {results:?}");
        assert!(pair[1].front_error < pair[0].front_error, "front error grew when halving dx: {results:?}");
    }
}
