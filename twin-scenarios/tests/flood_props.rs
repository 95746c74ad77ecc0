//! Properties over random terrains, forcings and grids.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the assertion

use std::sync::atomic::AtomicBool;

use proptest::prelude::*;
use twin_scenarios::flood::{Boundaries, Boundary, FloodSetup, Grid, Series, Simulation, SolverConfig};

fn boundary(kind: u8, level: f64) -> Boundary {
    match kind % 4 {
        0 => Boundary::Closed,
        1 => Boundary::FreeOutflow { slope: None },
        2 => Boundary::FreeOutflow { slope: Some(0.01) },
        _ => Boundary::Level(Series::new(vec![(0.0, level), (600.0, level + 1.0)]).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the terrain, walls, rain and edges: depths stay finite and non-negative and the
    /// volume balance closes to 1e-9.
    #[test]
    fn volume_balance_closes_on_random_terrain(
        bed in prop::collection::vec(0.0f64..3.0, 12 * 9),
        walls in prop::collection::vec(any::<bool>(), 12 * 9),
        rain in 0.0f64..300.0,
        edges in prop::array::uniform4(0u8..4),
        level in 0.0f64..3.0,
        theta in 0.5f64..=1.0,
    ) {
        let mut dem = Grid::filled(12, 9, 3.0, 0.0);
        for (i, (z, wall)) in bed.iter().zip(&walls).enumerate() {
            // About one cell in eight is a wall.
            dem.data[i] = if *wall && i % 4 == 0 { f64::NAN } else { *z };
        }
        prop_assume!(dem.data.iter().any(|z| !z.is_nan()));
        let mut setup = FloodSetup::new(dem, 0.03);
        setup.rain_mm_h = Some(Series::constant(rain).unwrap());
        setup.boundaries = Boundaries {
            north: boundary(edges[0], level),
            south: boundary(edges[1], level),
            east: boundary(edges[2], level),
            west: boundary(edges[3], level),
        };
        let cfg = SolverConfig { theta, ..SolverConfig::default() };
        let mut sim = Simulation::new(setup, cfg).unwrap();
        let summary = sim.run_until(900.0, |_| {}, &AtomicBool::new(false)).unwrap();
        prop_assert!(sim.depth().iter().all(|h| h.is_finite() && *h >= 0.0));
        prop_assert!(summary.volume_error_rel <= 1e-9, "{:?}", summary);
    }

    /// Writing and reading an ASCII grid gives back the same values and geometry.
    #[test]
    fn ascii_grid_round_trips(
        ncols in 1usize..8,
        nrows in 1usize..8,
        values in prop::collection::vec(prop_oneof![Just(f64::NAN), -1e6f64..1e6], 64),
        xll in -1e6f64..1e6,
        cellsize in 0.01f64..1000.0,
    ) {
        let grid = Grid { ncols, nrows, xll, yll: -xll, cellsize, data: values[..ncols * nrows].to_vec() };
        let back = Grid::parse_asc(&grid.to_asc()).unwrap();
        prop_assert_eq!((back.ncols, back.nrows, back.xll, back.yll, back.cellsize), (ncols, nrows, xll, -xll, cellsize));
        for (a, b) in grid.data.iter().zip(&back.data) {
            prop_assert!(a == b || (a.is_nan() && b.is_nan()), "{} vs {}", a, b);
        }
    }
}
