//! `citytwin simulate flood|traffic`: scenario runs from the command line.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use twin_layers::roads::RoadGraph;
use twin_layers::Layer;
use twin_scenarios::flood::{
    Boundaries, Boundary, FloodSetup, Grid, Inflow, InitialWater, Series, Simulation, SolverConfig,
};
use twin_scenarios::traffic::{assign, AssignmentConfig, Demand, DemandConfig, Network, TurnRules};

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// 2D flood on a DEM (ESRI ASCII grid or GeoTIFF); writes max_depth.asc, depth_final.asc
    /// and summary.json into --out.
    Flood {
        #[arg(long)]
        dem: PathBuf,
        /// Uniform rain intensity (mm/h).
        #[arg(long, conflicts_with = "rain_series")]
        rain_mm_h: Option<f64>,
        /// Rain series CSV (`time_s,value`, mm/h, linearly interpolated).
        #[arg(long)]
        rain_series: Option<PathBuf>,
        /// Simulated hours.
        #[arg(long)]
        hours: f64,
        #[arg(long, default_value_t = 0.03)]
        manning: f64,
        /// closed | open | open:SLOPE | level:Z (all four edges).
        #[arg(long, default_value = "closed")]
        boundary: String,
        /// Initial flat water level (m) wherever the ground is lower.
        #[arg(long)]
        initial_level: Option<f64>,
        /// Point inflow `X,Y,CSV` (X, Y in the DEM's CRS; CSV `time_s,value` in m³/s); repeatable.
        #[arg(long)]
        inflow: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// User-equilibrium assignment on a roads GeoJSON layer with demand from buildings.
    Traffic {
        /// Roads GeoJSON (OSM ways with highway, oneway, lanes, maxspeed).
        #[arg(long, default_value = "data/osm/danang_haichau_roads.geojson")]
        roads: PathBuf,
        #[arg(long, default_value = "data/osm/danang_haichau_buildings.geojson")]
        buildings: PathBuf,
        /// Road-graph edge ids to close (comma separated).
        #[arg(long, value_delimiter = ',')]
        close: Vec<u32>,
        #[arg(long, default_value_t = 12_000.0)]
        peak_hour_trips: f64,
        #[arg(long, default_value_t = 1e-4)]
        gap: f64,
    },
}

pub fn run(cmd: SimulateCommand) -> anyhow::Result<()> {
    match cmd {
        SimulateCommand::Flood {
            dem,
            rain_mm_h,
            rain_series,
            hours,
            manning,
            boundary,
            initial_level,
            inflow,
            out,
        } => {
            let (grid, georef) = read_dem(&dem)?;
            let mut setup = FloodSetup::new(grid, manning);
            setup.rain_mm_h = match (rain_mm_h, rain_series) {
                (Some(r), _) => Some(Series::constant(r)?),
                (None, Some(p)) => Some(Series::read_csv(&p)?),
                (None, None) => None,
            };
            let rule: Boundary = boundary.parse()?;
            setup.boundaries = Boundaries::all(rule);
            if let Some(z) = initial_level {
                setup.initial = InitialWater::Level(z);
            }
            for spec in &inflow {
                setup.inflows.push(parse_inflow(spec, &setup.dem)?);
            }
            if hours.is_nan() || hours <= 0.0 {
                bail!("--hours must be positive");
            }
            let mut sim = Simulation::new(setup, SolverConfig::default())?;
            let bar = ProgressBar::new(1000);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let summary = sim.run_until(
                hours * 3600.0,
                |p| {
                    bar.set_position((p.percent * 10.0) as u64);
                    bar.set_message(format!(
                        "t = {:.0} s, {:.1} M cell-updates/s",
                        p.simulated_s,
                        p.cell_updates_per_s / 1e6
                    ));
                },
                &AtomicBool::new(false),
            )?;
            bar.finish();
            match georef {
                // Results go back onto the input's own (geographic) grid geometry.
                Some(g) => {
                    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
                    let put = |grid: Grid| Grid { xll: g.xll, yll: g.yll, cellsize: g.cellsize, ..grid };
                    put(sim.max_depth_grid()).write_asc(&out.join("max_depth.asc"))?;
                    put(sim.depth_grid()).write_asc(&out.join("depth_final.asc"))?;
                    summary.write_json(&out.join("summary.json"))?;
                }
                None => sim.write_outputs(&out).with_context(|| format!("writing results to {}", out.display()))?,
            }
            println!("{}", summary.to_json()?);
            Ok(())
        }
        SimulateCommand::Traffic { roads, buildings, close, peak_hour_trips, gap } => {
            let roads = Layer::from_geojson_file("roads", &roads)?;
            let buildings =
                if buildings.exists() { Some(Layer::from_geojson_file("buildings", &buildings)?) } else { None };
            let graph = RoadGraph::from_layer(&roads);
            let mut net = Network::from_road_graph(&graph, Some(&roads), TurnRules::default());
            let demand = Demand::generate(
                &graph,
                &net,
                buildings.as_ref(),
                &DemandConfig { peak_hour_trips, ..DemandConfig::default() },
            );
            for l in 0..net.link_count() as u32 {
                if net.link(l).edge.is_some_and(|e| close.contains(&e.0)) {
                    net.set_closed(l, true);
                }
            }
            let started = std::time::Instant::now();
            let cfg = AssignmentConfig { target_gap: gap, ..AssignmentConfig::default() };
            let res = assign(
                &net,
                &demand.ods,
                &cfg,
                |p| eprintln!("iteration {:>3}: relative gap {:.3e}", p.iteration, p.relative_gap),
                &AtomicBool::new(false),
            )?;
            let summary = twin_scenarios::coupling::TrafficSummary::of(&res, &demand.ods);
            let out = serde_json::json!({
                "nodes": net.node_count(), "links": net.link_count(), "zones": demand.zones.len(),
                "od_pairs": demand.ods.len(), "closed_links": (0..net.link_count() as u32).filter(|l| net.is_closed(*l)).count(),
                "assignment_s": started.elapsed().as_secs_f64(), "summary": summary,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
    }
}

/// Geometry of a geographic input grid (degrees), for writing results back onto it.
struct GeoGrid {
    xll: f64,
    yll: f64,
    cellsize: f64,
}

/// An ESRI ASCII grid, or a GeoTIFF; a GeoTIFF in degrees is solved on a local metric grid and
/// its geometry is returned for the outputs.
fn read_dem(path: &Path) -> anyhow::Result<(Grid, Option<GeoGrid>)> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext == "tif" || ext == "tiff" {
        let dem = twin_tiles::terrain::Dem::read_geotiff(path)?;
        // Degrees (geographic) get a local metric frame; projected rasters keep their units.
        if dem.dx < 0.01 && dem.bounds()[3].abs() <= 90.0 {
            let (grid, g) = twin_scenarios::jobs::dem_to_grid(&dem, None).map_err(anyhow::Error::msg)?;
            // ESRI ASCII grids hold one cell size: exact for square pixels (SRTM 1″), the mean otherwise.
            let geo = GeoGrid { xll: g.west, yll: g.south, cellsize: (g.dx_deg * g.dy_deg).sqrt() };
            return Ok((grid, Some(geo)));
        }
        if (dem.dx - dem.dy).abs() > 1e-9 * dem.dx {
            bail!("the GeoTIFF has non-square pixels ({} × {})", dem.dx, dem.dy);
        }
        let data = (0..dem.height)
            .flat_map(|r| (0..dem.width).map(move |c| (r, c)))
            .map(|(r, c)| dem.pixel(c, r).unwrap_or(f64::NAN))
            .collect();
        let south = dem.bounds()[1];
        return Ok((
            Grid { ncols: dem.width, nrows: dem.height, xll: dem.west, yll: south, cellsize: dem.dx, data },
            None,
        ));
    }
    Ok((Grid::read_asc(path)?, None))
}

fn parse_inflow(spec: &str, dem: &Grid) -> anyhow::Result<Inflow> {
    let mut parts = spec.splitn(3, ',');
    let (Some(x), Some(y), Some(csv)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("--inflow expects X,Y,CSV, got `{spec}`");
    };
    let (x, y): (f64, f64) = (x.trim().parse()?, y.trim().parse()?);
    let (row, col) = dem.cell_at(x, y).with_context(|| format!("inflow point {x},{y} is outside the DEM"))?;
    Ok(Inflow { row, col, discharge_m3_s: Series::read_csv(Path::new(csv.trim()))? })
}
