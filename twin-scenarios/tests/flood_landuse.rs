//! Manning roughness from land-use polygons slows a wetting front as the diffusive-wave scaling
//! says it must.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the assertion

use std::sync::atomic::AtomicBool;

use geo::{Geometry, LineString, Polygon};
use serde_json::json;
use twin_layers::{Feature, Layer};
use twin_scenarios::flood::landuse::manning_grid;
use twin_scenarios::flood::{Boundaries, Boundary, FloodSetup, Grid, Manning, Series, Simulation, SolverConfig};

/// A land-use layer with one polygon of class `landuse` over the whole channel.
fn landuse(class: &str, length: f64) -> Layer {
    let ring = LineString::from(vec![(0.0, 0.0), (length, 0.0), (length, 1.0), (0.0, 1.0), (0.0, 0.0)]);
    let properties = json!({"landuse": class}).as_object().cloned().unwrap();
    Layer {
        name: "landuse".into(),
        features: vec![Feature { geometry: Geometry::Polygon(Polygon::new(ring, vec![])), properties }],
    }
}

/// Front position (m) after `t` s on a flat dry channel fed by a 5 cm water level at its west end,
/// with roughness from a `class` polygon.
fn front(class: &str, t: f64) -> (f64, f64) {
    let (dx, ncols) = (0.5, 600);
    let dem = Grid::filled(ncols, 1, dx, 0.0);
    // Any default would do: every cell is in the polygon.
    let (n, stats) = manning_grid(&dem, &landuse(class, ncols as f64 * dx), &|x, y| (x, y), 0.5);
    assert_eq!(stats.classified_cells, ncols);
    let n_class = n[0];
    let mut setup = FloodSetup::new(dem, 0.5);
    setup.manning = Manning::PerCell(n);
    setup.boundaries = Boundaries { west: Boundary::Level(Series::constant(0.05).unwrap()), ..Boundaries::default() };
    let mut sim = Simulation::new(setup, SolverConfig::default()).unwrap();
    sim.run_until(t, |_| {}, &AtomicBool::new(false)).unwrap();
    let last_wet = sim.depth().iter().rposition(|h| *h > 0.005).unwrap();
    ((last_wet + 1) as f64 * dx, n_class)
}

#[test]
fn rougher_land_use_slows_the_front() {
    let t = 1200.0;
    let (x_res, n_res) = front("residential", t);
    let (x_for, n_for) = front("forest", t);
    assert_eq!((n_res, n_for), (0.05, 0.1));
    assert!(x_for < x_res, "forest {x_for} m, residential {x_res} m");
    // Friction-dominated (diffusive-wave) flow from a fixed head is self-similar in x / (t/n)^(2/3):
    // at equal time the fronts scale as (n₁/n₂)^(2/3). Front positions are read to a cell (0.5 m)
    // and inertia is small but not nil here (Fr² ≈ 0.1 behind the front), hence 5 %.
    let expected = (n_res / n_for).powf(2.0 / 3.0);
    let ratio = x_for / x_res;
    assert!((ratio - expected).abs() <= 0.05 * expected, "ratio {ratio}, diffusive scaling {expected}");
}
