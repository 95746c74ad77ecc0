//! Flood runs: the DEM and city layers set up for the solver, then depth rasters and layers.

use std::sync::Arc;

use crate::coupling::layers::{self as result_layers, DEPTH_CLASSES};
use crate::flood::{landuse, Boundaries, Boundary, FloodSetup, Grid, Manning, Series, Simulation, SolverConfig};
use serde_json::json;

use super::georef::{dem_to_grid, layer_bbox};
use super::{index_geojson, CityInputs, GeoRaster, GeoRef, Job, JobError, ScenarioRequest};

/// Share of a cell that building footprints must cover for it to become an obstacle.
const BUILDING_COVER: f64 = 0.5;
/// Height (m) by which building cells are raised: above any street flood, so water goes around.
const BUILDING_RAISE_M: f64 = 5.0;

pub(super) struct FloodOutcome {
    pub(super) depth: Grid,
    pub(super) geo: Option<GeoRef>,
}

pub(super) fn run_flood(
    req: &ScenarioRequest,
    inputs: &CityInputs,
    job: &Job,
    share: f64,
) -> Result<FloodOutcome, JobError> {
    let (dem, geo) = match (&req.dem_asc, &inputs.dem) {
        (Some(text), _) => (Grid::parse_asc(text).map_err(JobError::engine)?, None),
        (None, Some(dem)) => {
            let bbox = req.bbox.or_else(|| inputs.layers.get("roads").and_then(|l| layer_bbox(l, 0.005)));
            let (g, geo) = dem_to_grid(dem, bbox)?;
            (g, Some(geo))
        }
        (None, None) => return Err(JobError::Invalid("no DEM: configure [tiles] dem or pass dem_asc".into())),
    };
    let default_n = req.manning.unwrap_or(0.03);
    let mut inputs_summary = json!({"manning_default": default_n});
    let mut setup = FloodSetup::new(dem, default_n);
    // City layers are in longitude/latitude: they need a DEM on the map.
    if let Some(g) = geo {
        let to_grid = |lon: f64, lat: f64| g.to_grid(lon, lat);
        if let (true, Some(landuse)) = (req.landuse_roughness.unwrap_or(true), inputs.layers.get("landuse")) {
            let (n, stats) = landuse::manning_grid(&setup.dem, landuse, &to_grid, default_n);
            setup.manning = Manning::PerCell(n);
            inputs_summary["landuse"] = json!(stats);
        }
        if let (true, Some(b)) = (req.building_obstacles.unwrap_or(true), inputs.layers.get("buildings")) {
            let mask = landuse::building_mask(&setup.dem, b, &to_grid, BUILDING_COVER);
            setup.burn_obstacles(&mask, Some(BUILDING_RAISE_M)).map_err(JobError::engine)?;
            inputs_summary["building_cells"] = json!(mask.iter().filter(|m| **m).count());
        }
    }
    setup.rain_mm_h = Some(Series::constant(req.rain_mm_h.unwrap_or(50.0)).map_err(JobError::engine)?);
    let boundary: Boundary = req.boundary.as_deref().unwrap_or("open").parse().map_err(JobError::engine)?;
    setup.boundaries = Boundaries::all(boundary);
    if let Some(z) = req.initial_level {
        setup.initial = crate::flood::InitialWater::Level(z);
    }
    // In (0, MAX_HOURS]: checked with the request.
    let hours = req.hours.unwrap_or(3.0);
    let mut sim = Simulation::new(setup, SolverConfig::default()).map_err(JobError::engine)?;
    job.update(|s| s.stage = "flood".into());
    let summary = sim
        .run_until(
            hours * 3600.0,
            |p| {
                job.update(|s| {
                    s.percent = p.percent * share;
                    s.simulated_s = p.simulated_s;
                    s.cells_per_s = p.cell_updates_per_s;
                })
            },
            &job.cancel,
        )
        .map_err(JobError::engine)?;
    let depth = sim.max_depth_grid();
    let final_depth = sim.depth_grid();
    let polygons = match geo {
        Some(g) => result_layers::depth_class_polygons(&depth, &DEPTH_CLASSES, &|x, y| g.to_lonlat(x, y)),
        None => result_layers::depth_class_polygons(&depth, &DEPTH_CLASSES, &|x, y| (x, y)),
    };
    let buildings = match (geo, inputs.layers.get("buildings")) {
        (Some(g), Some(b)) => Some(result_layers::flooded_buildings(b, &depth, &|x, y| g.to_grid(x, y), 0.1)),
        _ => None,
    };
    // Tiles need the map position: a grid given inline (`dem_asc`) has none.
    let flooded_tiles = geo.map(|_| Arc::new(index_geojson("flooded", &polygons)));
    job.update(|s| {
        s.summary = Some(json!({"flood": summary, "flood_inputs": inputs_summary}));
        s.layers.insert("flood_depth_classes".into(), Arc::new(polygons));
        if let Some(t) = flooded_tiles {
            s.vector_tiles.insert("flooded".into(), t);
        }
        if let Some(b) = buildings {
            s.publish("flooded_buildings", b, true);
        }
        if let Some(g) = geo {
            s.rasters.insert("depth".into(), Arc::new(GeoRaster { grid: final_depth, geo: g }));
            s.rasters.insert("max_depth".into(), Arc::new(GeoRaster { grid: depth.clone(), geo: g }));
        }
    });
    Ok(FloodOutcome { depth, geo })
}
