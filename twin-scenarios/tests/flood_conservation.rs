//! Well-balancing, volume conservation, positivity, determinism and run control of the solver.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the assertion

use std::sync::atomic::{AtomicBool, Ordering};

use twin_scenarios::flood::{
    Boundaries, Boundary, FloodError, FloodSetup, Grid, Inflow, InitialWater, Manning, Series, SetupError, Simulation,
    SolverConfig,
};

/// A bumpy bed between 0 and about 4 m with a few NODATA walls.
fn bumpy_dem(ncols: usize, nrows: usize, dx: f64, walls: bool) -> Grid {
    let mut dem = Grid::filled(ncols, nrows, dx, 0.0);
    for r in 0..nrows {
        for c in 0..ncols {
            let (x, y) = (c as f64, r as f64);
            let z = 2.0 + 1.2 * (0.45 * x).sin() * (0.3 * y).cos() + 0.02 * x + 0.6 * (1.7 * x + 0.9 * y).sin();
            dem.data[r * ncols + c] = z;
        }
    }
    if walls {
        for r in 5..12 {
            dem.data[r * ncols + 7] = f64::NAN;
        }
    }
    dem
}

fn run(setup: FloodSetup, t_end: f64) -> Simulation {
    let mut sim = Simulation::new(setup, SolverConfig::default()).unwrap();
    sim.run_until(t_end, |_| {}, &AtomicBool::new(false)).unwrap();
    sim
}

fn assert_lake_at_rest(sim: &Simulation, dem: &Grid, level: f64) {
    for q in sim.x_discharges().iter().chain(sim.y_discharges()) {
        assert!(q.abs() <= 1e-12, "discharge {q:e} in a lake at rest");
    }
    let speed = sim.speed_grid();
    for v in speed.data.iter().filter(|v| !v.is_nan()) {
        assert!(v.abs() <= 1e-12, "speed {v:e} in a lake at rest");
    }
    for (i, (h, z)) in sim.depth().iter().zip(&dem.data).enumerate() {
        if z.is_nan() {
            continue;
        }
        if *z < level {
            assert!((z + h - level).abs() <= 1e-12, "cell {i}: surface {} vs {level}", z + h);
        } else {
            assert_eq!(*h, 0.0, "cell {i} above the lake got water");
        }
    }
}

#[test]
fn lake_at_rest_over_uneven_bed_stays_still() {
    // The level leaves some of the bed dry (islands), so wet/dry faces are exercised too.
    let level = 2.5;
    let dem = bumpy_dem(40, 30, 10.0, true);
    let mut setup = FloodSetup::new(dem.clone(), 0.03);
    setup.initial = InitialWater::Level(level);
    let sim = run(setup, 3600.0);
    assert!(sim.steps() > 100);
    assert_lake_at_rest(&sim, &dem, level);
}

#[test]
fn lake_at_rest_with_level_boundaries_at_the_same_level() {
    let level = 2.5;
    let dem = bumpy_dem(40, 30, 10.0, false);
    let mut setup = FloodSetup::new(dem.clone(), 0.03);
    setup.initial = InitialWater::Level(level);
    setup.boundaries = Boundaries::all(Boundary::Level(Series::constant(level).unwrap()));
    let sim = run(setup, 1800.0);
    assert_lake_at_rest(&sim, &dem, level);
    assert!(sim.summary().outflow_volume_m3.abs() < 1e-9);
}

#[test]
fn closed_basin_stores_all_rain() {
    let dem = bumpy_dem(50, 40, 5.0, true);
    let mut setup = FloodSetup::new(dem, 0.03);
    // A storm peaking at 120 mm/h after 30 min, ending after 1 h; run on for another hour.
    setup.rain_mm_h = Some(Series::new(vec![(0.0, 0.0), (1800.0, 120.0), (3600.0, 0.0)]).unwrap());
    let sim = run(setup, 7200.0);
    let summary = sim.summary();
    let active = 50.0 * 40.0 - 7.0;
    let expected_rain = 0.5 * 120.0 / 1000.0 * active * 25.0;
    assert!((summary.rain_volume_m3 - expected_rain).abs() / expected_rain < 1e-12, "{summary:?}");
    let rel = (summary.stored_volume_m3 - summary.rain_volume_m3).abs() / summary.rain_volume_m3;
    assert!(rel <= 1e-9, "stored {} vs rain {} (rel {rel:e})", summary.stored_volume_m3, summary.rain_volume_m3);
    assert!(summary.volume_error_rel <= 1e-9);
    assert_eq!(summary.outflow_volume_m3, 0.0);
    assert!(sim.depth().iter().all(|h| *h >= 0.0));
    // Water ran downhill: the deepest pond is much deeper than the 60 mm that fell.
    let deepest = sim.depth().iter().copied().fold(0.0, f64::max);
    assert!(deepest > 0.3, "deepest {deepest}");
}

/// Steep terrain, thin sheets and open edges: the outflow limiter must keep depths ≥ 0 while the
/// volume balance (rain + inflow − outflow) still closes.
fn open_catchment() -> FloodSetup {
    let (ncols, nrows, dx) = (60, 40, 2.0);
    let mut dem = bumpy_dem(ncols, nrows, dx, true);
    for (i, z) in dem.data.iter_mut().enumerate() {
        *z += 0.3 * (i % ncols) as f64;
    }
    let mut setup = FloodSetup::new(dem, 0.02);
    setup.manning = Manning::PerCell((0..ncols * nrows).map(|i| if i % 3 == 0 { 0.1 } else { 0.015 }).collect());
    setup.rain_mm_h = Some(Series::constant(80.0).unwrap());
    setup.inflows = vec![Inflow { row: 20, col: 55, discharge_m3_s: Series::constant(2.0).unwrap() }];
    setup.boundaries = Boundaries {
        west: Boundary::FreeOutflow { slope: None },
        north: Boundary::FreeOutflow { slope: Some(0.01) },
        south: Boundary::Level(Series::new(vec![(0.0, 1.0), (900.0, 3.0), (1800.0, 1.0)]).unwrap()),
        east: Boundary::Closed,
    };
    setup
}

#[test]
fn open_catchment_balances_volume_without_negative_depths() {
    let sim = run(open_catchment(), 1800.0);
    let summary = sim.summary();
    assert!(summary.volume_error_rel <= 1e-9, "{summary:?}");
    assert!(summary.outflow_volume_m3 != 0.0 && summary.inflow_volume_m3 > 0.0);
    assert!(sim.depth().iter().all(|h| *h >= 0.0 && h.is_finite()));
    assert!(sim.limited_steps() > 0, "this setup is meant to exercise the outflow limiter");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let run_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let sim = run(open_catchment(), 600.0);
            (sim.depth().to_vec(), sim.x_discharges().to_vec(), sim.summary())
        })
    };
    let (h1, q1, s1) = run_on(1);
    let (h3, q3, s3) = run_on(3);
    assert!(h1.iter().zip(&h3).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(q1.iter().zip(&q3).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(s1.stored_volume_m3.to_bits(), s3.stored_volume_m3.to_bits());
    assert_eq!(s1.steps, s3.steps);
}

#[test]
fn progress_is_reported_and_cancel_stops_the_run() {
    let mut sim = Simulation::new(open_catchment(), SolverConfig::default()).unwrap();
    let mut seen = Vec::new();
    sim.run_until(300.0, |p| seen.push(p), &AtomicBool::new(false)).unwrap();
    assert!(seen.windows(2).all(|w| w[1].percent > w[0].percent && w[1].simulated_s > w[0].simulated_s));
    assert_eq!(seen.last().map(|p| p.percent), Some(100.0));
    assert!(seen.len() >= 50, "only {} reports", seen.len());

    let cancel = AtomicBool::new(false);
    let err = sim
        .run_until(
            3600.0,
            |p| {
                if p.percent >= 10.0 {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
            &cancel,
        )
        .unwrap_err();
    match err {
        FloodError::Cancelled { simulated_s } => assert!(simulated_s < 3600.0 && simulated_s == sim.time()),
        other => panic!("expected cancellation, got {other}"),
    }
}

#[test]
fn outputs_track_maxima_and_first_wetting() {
    let mut sim = Simulation::new(open_catchment(), SolverConfig::default()).unwrap();
    sim.run_until(1800.0, |_| {}, &AtomicBool::new(false)).unwrap();
    let (depth, max_depth, first_wet) = (sim.depth_grid(), sim.max_depth_grid(), sim.first_wet_grid());
    for i in 0..depth.len() {
        let (h, m, t) = (depth.data[i], max_depth.data[i], first_wet.data[i]);
        if h.is_nan() {
            assert!(m.is_nan() && t.is_nan(), "walls are NODATA in every output");
            continue;
        }
        assert!(m >= h);
        if m > 0.01 {
            assert!((0.0..=1800.0).contains(&t), "cell {i} was wet but has no wetting time");
        } else {
            assert!(t.is_nan());
        }
    }
    let dir = std::env::temp_dir().join(format!("flood-out-{}", std::process::id()));
    sim.write_outputs(&dir).unwrap();
    let back = Grid::read_asc(&dir.join("max_depth.asc")).unwrap();
    assert_eq!((back.ncols, back.nrows), (max_depth.ncols, max_depth.nrows));
    assert!(back.data.iter().zip(&max_depth.data).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in [
        "rain_volume_m3",
        "inflow_volume_m3",
        "outflow_volume_m3",
        "stored_volume_m3",
        "volume_error_rel",
        "cells",
        "steps",
        "cell_updates_per_s",
    ] {
        assert!(json.get(key).is_some(), "summary.json lacks {key}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_setups_are_rejected() {
    let dem = Grid::filled(5, 5, 1.0, 0.0);
    let mut bad_inflow = FloodSetup::new(dem.clone(), 0.03);
    bad_inflow.inflows = vec![Inflow { row: 9, col: 0, discharge_m3_s: Series::constant(1.0).unwrap() }];
    assert!(matches!(
        Simulation::new(bad_inflow, SolverConfig::default()),
        Err(FloodError::Setup(SetupError::InflowOutside { row: 9, col: 0 }))
    ));
    let mut bad_rain = FloodSetup::new(dem.clone(), 0.03);
    bad_rain.rain_mm_h = Some(Series::constant(-1.0).unwrap());
    assert!(matches!(
        Simulation::new(bad_rain, SolverConfig::default()),
        Err(FloodError::Setup(SetupError::NegativeRain))
    ));
    let bad_theta = SolverConfig { theta: 1.5, ..SolverConfig::default() };
    assert!(matches!(
        Simulation::new(FloodSetup::new(dem, 0.03), bad_theta),
        Err(FloodError::Setup(SetupError::Theta))
    ));
}

#[test]
fn burned_walls_stay_dry_and_raised_blocks_divert_flow() {
    let (ncols, nrows) = (30, 20);
    let mut dem = Grid::filled(ncols, nrows, 2.0, 0.0);
    for r in 0..nrows {
        for c in 0..ncols {
            dem.data[r * ncols + c] = 0.01 * (ncols - c) as f64;
        }
    }
    // Two "buildings": one a wall, one a 3 m block.
    let mut walls = vec![false; ncols * nrows];
    let mut blocks = vec![false; ncols * nrows];
    for r in 5..9 {
        for c in 10..14 {
            walls[r * ncols + c] = true;
            blocks[(r + 7) * ncols + c] = true;
        }
    }
    let mut setup = FloodSetup::new(dem, 0.03);
    setup.burn_obstacles(&walls, None).unwrap();
    setup.burn_obstacles(&blocks, Some(3.0)).unwrap();
    setup.rain_mm_h = Some(Series::constant(100.0).unwrap());
    setup.inflows = vec![Inflow { row: 10, col: 0, discharge_m3_s: Series::constant(0.5).unwrap() }];
    setup.boundaries = Boundaries { east: Boundary::FreeOutflow { slope: None }, ..Boundaries::default() };
    let sim = run(setup, 1800.0);
    let depth = sim.depth_grid();
    for i in 0..ncols * nrows {
        if walls[i] {
            assert!(depth.data[i].is_nan(), "wall cell {i} is NODATA in the output");
        }
        if blocks[i] {
            // Rain lands on the block and drains off; it never ponds 3 m deep.
            assert!(depth.data[i] < 0.05, "block cell {i} holds {} m", depth.data[i]);
        }
    }
    assert!(sim.summary().volume_error_rel <= 1e-9);
}
