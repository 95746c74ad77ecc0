//! Scenario jobs: each runs a solver of this crate on a thread of its own, reporting progress
//! through the solver's callback and stopping when its cancel flag is set.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::coupling::layers::{self as result_layers, DEPTH_CLASSES};
use crate::coupling::{edge_max_depth, flood_to_traffic, CouplingConfig, Station, TrafficInputs};
use crate::flood::{landuse, Boundaries, Boundary, FloodSetup, Grid, Manning, Series, Simulation, SolverConfig};
use crate::traffic::{
    assign, run_incident, AssignmentConfig, CongestionMap, Demand, DemandConfig, IncidentConfig, Network, TurnRules,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twin_layers::roads::RoadGraph;
use twin_layers::{Layer, ReferenceLayers};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::terrain::Dem;

/// Why a scenario job failed; the message is shown to the client as the job's `error`.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A request value out of range or inconsistent; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// A solver refused its inputs or stopped (cancelled, diverged).
    #[error("{0}")]
    Engine(String),
    #[error("the solver failed unexpectedly")]
    Panicked,
    #[error("cannot start the job's thread: {0}")]
    Thread(std::io::Error),
}

impl JobError {
    fn engine(e: impl std::fmt::Display) -> Self {
        Self::Engine(e.to_string())
    }
}

/// What a scenario simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    Flood,
    Traffic,
    FloodTraffic,
    /// A closure or capacity drop on `closed_edges` for a while: cell transmission model on the
    /// road network loaded by the peak-hour equilibrium.
    Incident,
}

/// `POST /api/scenarios` body: the kind and its parameters (all optional).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    pub kind: ScenarioKind,
    /// Uniform rain (mm/h); default 50.
    pub rain_mm_h: Option<f64>,
    /// Simulated hours of rain; default 3.
    pub hours: Option<f64>,
    /// Manning n; default 0.03.
    pub manning: Option<f64>,
    /// `closed`, `open`, `open:S` or `level:Z`; default `open`.
    pub boundary: Option<String>,
    /// Initial flat water level (m) where the ground is lower.
    pub initial_level: Option<f64>,
    /// An ESRI ASCII grid to use instead of the city DEM (grid coordinates are taken as they are).
    pub dem_asc: Option<String>,
    /// `[west, south, east, north]` crop of the city DEM; default: the road network's extent.
    pub bbox: Option<[f64; 4]>,
    /// Manning n per land-use class from the `landuse` layer (where the DEM is on the map);
    /// default true. Unclassified cells keep `manning`.
    pub landuse_roughness: Option<bool>,
    /// Cells mostly covered by building footprints are raised as obstacles; default true.
    pub building_obstacles: Option<bool>,
    /// Depth (m) above which a road closes; default 0.3.
    pub depth_threshold_m: Option<f64>,
    /// Road-graph edge ids closed from the start (traffic), or the incident's edges (incident).
    #[serde(default)]
    pub closed_edges: Vec<u32>,
    /// Incident: minutes before it (the network fills), default 15.
    pub warmup_minutes: Option<f64>,
    /// Incident: how long it lasts (minutes), default 20.
    pub incident_minutes: Option<f64>,
    /// Incident: minutes simulated after reopening, default 30.
    pub recovery_minutes: Option<f64>,
    /// Incident: share of capacity left on its edges, default 0 (closed).
    pub capacity_factor: Option<f64>,
    /// Peak-hour vehicle trips (PCU/h); default 12 000.
    pub peak_hour_trips: Option<f64>,
    /// Relative gap at which the assignment stops; default 1e-4.
    pub target_gap: Option<f64>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Done,
    Failed,
    Cancelled,
}

/// Mutable state of a job.
#[derive(Debug, Clone, Serialize)]
pub struct JobState {
    pub status: JobStatus,
    pub percent: f64,
    pub simulated_s: f64,
    pub cells_per_s: f64,
    pub stage: String,
    pub error: Option<String>,
    pub summary: Option<Value>,
    #[serde(skip)]
    pub layers: BTreeMap<String, Arc<Value>>,
    /// Result grids on the map (depth rasters), by tile name.
    #[serde(skip)]
    pub rasters: BTreeMap<String, Arc<GeoRaster>>,
    /// Result layers indexed for vector tiles, by tile name (only layers in longitude/latitude).
    #[serde(skip)]
    pub vector_tiles: BTreeMap<String, Arc<ReferenceIndex>>,
}

/// A result grid with the mapping of its cells to longitude and latitude.
#[derive(Debug, Clone)]
pub struct GeoRaster {
    pub grid: Grid,
    pub geo: GeoRef,
}

/// Name of a result layer's vector tiles: the flooded-area polygons are `flooded`, the others keep
/// their layer name.
pub fn tile_name(layer: &str) -> &str {
    if layer == "flood_depth_classes" {
        "flooded"
    } else {
        layer
    }
}

/// A GeoJSON FeatureCollection (longitude/latitude) indexed for vector tiles as one layer `name`.
/// Features whose geometry cannot be read are left out.
pub fn index_geojson(name: &str, fc: &Value) -> ReferenceIndex {
    let features = fc["features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    let geometry = twin_layers::read_geometry(&f["geometry"]).ok()?;
                    let properties = f["properties"].as_object().cloned().unwrap_or_default();
                    Some(twin_layers::Feature { geometry, properties })
                })
                .collect()
        })
        .unwrap_or_default();
    ReferenceIndex::build(&ReferenceLayers { layers: vec![Layer { name: name.to_owned(), features }] })
}

impl JobState {
    /// Stores a result layer; `geographic` layers (longitude/latitude) are also indexed for tiles.
    fn publish(&mut self, name: &str, fc: Value, geographic: bool) {
        if geographic {
            let t = tile_name(name);
            self.vector_tiles.insert(t.to_owned(), Arc::new(index_geojson(t, &fc)));
        }
        self.layers.insert(name.to_owned(), Arc::new(fc));
    }
}

/// One scenario run.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub kind: ScenarioKind,
    pub cancel: AtomicBool,
    pub state: Mutex<JobState>,
}

impl Job {
    fn update(&self, f: impl FnOnce(&mut JobState)) {
        f(&mut self.state.lock());
    }

    /// The public view: progress, summary and layer links.
    pub fn view(&self) -> Value {
        let s = self.state.lock().clone();
        let layers: Vec<Value> = s
            .layers
            .keys()
            .map(|n| json!({"name": n, "href": format!("/api/scenarios/{}/layers/{n}", self.id)}))
            .collect();
        let base = format!("/api/scenarios/{}/tiles", self.id);
        let rasters = s.rasters.keys().map(|n| (n, "raster", "png"));
        let vectors = s.vector_tiles.keys().map(|n| (n, "vector", "mvt"));
        let tiles: Vec<Value> = rasters
            .chain(vectors)
            .map(|(n, kind, ext)| {
                json!({
                    "name": n, "type": kind,
                    "tiles": format!("{base}/{n}/{{z}}/{{x}}/{{y}}.{ext}"),
                    "tilejson": format!("{base}/{n}.json"),
                })
            })
            .collect();
        json!({
            "id": self.id, "kind": self.kind, "status": s.status, "percent": s.percent,
            "simulated_s": s.simulated_s, "cells_per_s": s.cells_per_s, "stage": s.stage,
            "error": s.error, "summary": s.summary, "layers": layers, "tiles": tiles,
        })
    }
}

/// All jobs of this server process, and the live congestion layer.
#[derive(Debug, Default)]
pub struct ScenarioJobs {
    jobs: Mutex<HashMap<u64, Arc<Job>>>,
    next: AtomicU64,
    pub congestion: CongestionCache,
}

/// A speed sample: longitude, latitude, speed (m/s), heading (degrees).
pub type SpeedSample = (f64, f64, f64, Option<f64>);

/// Congestion per road segment as of one set of speed samples.
#[derive(Debug)]
pub struct CongestionSnapshot {
    /// Hash of the samples it was computed from (the tiles' version).
    pub version: u64,
    pub geojson: Value,
    /// The same features indexed for vector tiles (layer `congestion`).
    pub index: ReferenceIndex,
}

/// The road graph's matching index, built once, and the latest congestion snapshot: it is
/// recomputed only when the speed samples change, so a burst of tile requests matches once.
#[derive(Debug, Default)]
pub struct CongestionCache {
    base: OnceLock<Option<(Arc<RoadGraph>, CongestionMap)>>,
    latest: Mutex<Option<Arc<CongestionSnapshot>>>,
}

/// Version of a set of samples (bit-exact: any change in any sample gives a new version).
pub fn samples_version(samples: &[SpeedSample]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (lon, lat, v, heading) in samples {
        (lon.to_bits(), lat.to_bits(), v.to_bits(), heading.map(f64::to_bits)).hash(&mut h);
    }
    samples.len().hash(&mut h);
    h.finish()
}

impl CongestionCache {
    /// Congestion from `samples` (oldest first per vehicle); `None` without a `roads` layer.
    pub fn snapshot(&self, layers: &ReferenceLayers, samples: &[SpeedSample]) -> Option<Arc<CongestionSnapshot>> {
        let (graph, base) = self
            .base
            .get_or_init(|| {
                let graph = RoadGraph::from_layer(layers.get("roads")?);
                let map = CongestionMap::new(&graph);
                Some((Arc::new(graph), map))
            })
            .as_ref()?;
        let version = samples_version(samples);
        // Held while computing, so concurrent requests for the same samples wait and reuse.
        let mut latest = self.latest.lock();
        if let Some(s) = latest.as_ref().filter(|s| s.version == version) {
            return Some(s.clone());
        }
        let mut map = base.clone();
        map.clear();
        for (lon, lat, speed_m_s, heading) in samples {
            map.observe(*lon, *lat, speed_m_s * 3.6, *heading);
        }
        let geojson = map.to_geojson(graph);
        let index = index_geojson("congestion", &geojson);
        let snap = Arc::new(CongestionSnapshot { version, geojson, index });
        *latest = Some(snap.clone());
        Some(snap)
    }
}

/// Inputs a job reads from the city.
#[derive(Clone)]
pub struct CityInputs {
    pub layers: Arc<ReferenceLayers>,
    pub dem: Option<Arc<Dem>>,
}

impl ScenarioJobs {
    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs.lock().get(&id).cloned()
    }

    pub fn list(&self) -> Vec<Arc<Job>> {
        let mut v: Vec<Arc<Job>> = self.jobs.lock().values().cloned().collect();
        v.sort_by_key(|j| j.id);
        v
    }

    /// Registers a job and starts it on a thread of its own.
    pub fn start(&self, req: ScenarioRequest, inputs: CityInputs) -> Arc<Job> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job = Arc::new(Job {
            id,
            kind: req.kind,
            cancel: AtomicBool::new(false),
            state: Mutex::new(JobState {
                status: JobStatus::Running,
                percent: 0.0,
                simulated_s: 0.0,
                cells_per_s: 0.0,
                stage: "starting".into(),
                error: None,
                summary: None,
                layers: BTreeMap::new(),
                rasters: BTreeMap::new(),
                vector_tiles: BTreeMap::new(),
            }),
        });
        self.jobs.lock().insert(id, job.clone());
        let worker = job.clone();
        // A job is long CPU work (rayon inside): its own thread, not an async worker's.
        let spawned = std::thread::Builder::new().name(format!("scenario-{id}")).spawn(move || {
            // A solver bug must not leave the job "running" for ever.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&req, &inputs, &worker)))
                .unwrap_or(Err(JobError::Panicked));
            let cancelled = worker.cancel.load(Ordering::Relaxed);
            worker.update(|s| match outcome {
                Ok(()) => {
                    s.status = JobStatus::Done;
                    s.percent = 100.0;
                    s.stage = "done".into();
                }
                Err(e) => {
                    s.status = if cancelled { JobStatus::Cancelled } else { JobStatus::Failed };
                    tracing::warn!(job = worker.id, error = %e, "scenario ended early");
                    s.error = Some(e.to_string());
                }
            });
        });
        if let Err(e) = spawned {
            job.update(|s| {
                s.status = JobStatus::Failed;
                s.error = Some(JobError::Thread(e).to_string());
            });
        }
        job
    }
}

/// How grid coordinates relate to longitude and latitude.
#[derive(Debug, Clone, Copy)]
pub struct GeoRef {
    pub west: f64,
    pub south: f64,
    pub dx_deg: f64,
    pub dy_deg: f64,
    pub cellsize: f64,
}

impl GeoRef {
    pub fn to_grid(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.west) / self.dx_deg * self.cellsize, (lat - self.south) / self.dy_deg * self.cellsize)
    }
    pub fn to_lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.west + x / self.cellsize * self.dx_deg, self.south + y / self.cellsize * self.dy_deg)
    }
}

/// A geographic DEM (degrees) cut to `bbox` as a metric grid for the flood solver. Cells are
/// taken as squares of the geometric mean of their east and north sizes (at Đà Nẵng's latitude
/// the two differ by ~4 %); the returned [`GeoRef`] maps back exactly by cell index.
pub fn dem_to_grid(dem: &Dem, bbox: Option<[f64; 4]>) -> Result<(Grid, GeoRef), JobError> {
    let [w, s, e, n] = bbox.unwrap_or(dem.bounds());
    let c0 = (((w - dem.west) / dem.dx).floor().max(0.0)) as usize;
    let c1 = (((e - dem.west) / dem.dx).ceil() as usize).min(dem.width);
    let r0 = (((dem.north - n) / dem.dy).floor().max(0.0)) as usize;
    let r1 = (((dem.north - s) / dem.dy).ceil() as usize).min(dem.height);
    if c1 <= c0 + 2 || r1 <= r0 + 2 {
        return Err(JobError::Invalid("the area does not overlap the DEM".into()));
    }
    let (ncols, nrows) = (c1 - c0, r1 - r0);
    let lat = dem.north - (r0 + r1) as f64 * 0.5 * dem.dy;
    let cellsize = (dem.dx * 111_320.0 * lat.to_radians().cos() * dem.dy * 110_574.0).sqrt();
    let mut data = Vec::with_capacity(ncols * nrows);
    for r in r0..r1 {
        for c in c0..c1 {
            data.push(dem.pixel(c, r).unwrap_or(f64::NAN));
        }
    }
    let grid = Grid { ncols, nrows, xll: 0.0, yll: 0.0, cellsize, data };
    let geo = GeoRef {
        west: dem.west + c0 as f64 * dem.dx,
        south: dem.north - r1 as f64 * dem.dy,
        dx_deg: dem.dx,
        dy_deg: dem.dy,
        cellsize,
    };
    Ok((grid, geo))
}

/// Longitude/latitude extent of a layer's vertices.
fn layer_bbox(layer: &Layer, margin_deg: f64) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    let mut b: Option<[f64; 4]> = None;
    for f in &layer.features {
        if let Some(r) = f.geometry.bounding_rect() {
            let x = b.get_or_insert([r.min().x, r.min().y, r.max().x, r.max().y]);
            *x = [x[0].min(r.min().x), x[1].min(r.min().y), x[2].max(r.max().x), x[3].max(r.max().y)];
        }
    }
    b.map(|[w, s, e, n]| [w - margin_deg, s - margin_deg, e + margin_deg, n + margin_deg])
}

/// Hospitals and fire stations of the `pois` layer.
pub fn stations(layers: &ReferenceLayers) -> Vec<Station> {
    let Some(pois) = layers.get("pois") else { return Vec::new() };
    pois.features
        .iter()
        .filter_map(|f| {
            let p = &f.properties;
            let kind = ["amenity", "emergency"].iter().find_map(|k| p.get(*k).and_then(Value::as_str))?;
            if !matches!(kind, "hospital" | "fire_station" | "ambulance_station") {
                return None;
            }
            use geo::Centroid;
            let c = f.geometry.centroid()?;
            let name = p.get("name").and_then(Value::as_str).unwrap_or(kind).to_string();
            Some(Station { name, kind: kind.to_string(), lon: c.x(), lat: c.y() })
        })
        .collect()
}

/// Share of a cell that building footprints must cover for it to become an obstacle.
const BUILDING_COVER: f64 = 0.5;
/// Height (m) by which building cells are raised: above any street flood, so water goes around.
const BUILDING_RAISE_M: f64 = 5.0;

struct FloodOutcome {
    depth: Grid,
    geo: Option<GeoRef>,
}

fn run_flood(req: &ScenarioRequest, inputs: &CityInputs, job: &Job, share: f64) -> Result<FloodOutcome, JobError> {
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
    let hours = req.hours.unwrap_or(3.0);
    if !(hours > 0.0 && hours <= 72.0) {
        return Err(JobError::Invalid("hours must be in (0, 72]".into()));
    }
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

/// Network links modelling the road-graph edges `edges`.
fn links_of_edges(net: &Network, edges: &[u32]) -> Vec<u32> {
    (0..net.link_count() as u32).filter(|l| net.link(*l).edge.is_some_and(|x| edges.contains(&x.0))).collect()
}

fn traffic_model(req: &ScenarioRequest, layers: &ReferenceLayers) -> Result<(RoadGraph, Network, Demand), JobError> {
    let roads = layers.get("roads").ok_or_else(|| JobError::Invalid("no `roads` layer".into()))?;
    let graph = RoadGraph::from_layer(roads);
    let mut net = Network::from_road_graph(&graph, Some(roads), TurnRules::default());
    let cfg = DemandConfig { peak_hour_trips: req.peak_hour_trips.unwrap_or(12_000.0), ..DemandConfig::default() };
    let demand = Demand::generate(&graph, &net, layers.get("buildings"), &cfg);
    // An incident's edges are open in the equilibrium that loads the network.
    if req.kind != ScenarioKind::Incident {
        for l in links_of_edges(&net, &req.closed_edges) {
            net.set_closed(l, true);
        }
    }
    Ok((graph, net, demand))
}

fn run(req: &ScenarioRequest, inputs: &CityInputs, job: &Job) -> Result<(), JobError> {
    let assignment = AssignmentConfig { target_gap: req.target_gap.unwrap_or(1e-4), ..AssignmentConfig::default() };
    match req.kind {
        ScenarioKind::Flood => run_flood(req, inputs, job, 1.0).map(|_| ()),
        ScenarioKind::Traffic => {
            job.update(|s| s.stage = "assignment".into());
            let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
            let res = assign(
                &net,
                &demand.ods,
                &assignment,
                |p| job.update(|s| s.percent = (p.iteration as f64).min(99.0)),
                &job.cancel,
            )
            .map_err(JobError::engine)?;
            let summary = crate::coupling::TrafficSummary::of(&res, &demand.ods);
            let flows = result_layers::link_flows(&graph, &net, &res.link_flows, &res.link_times);
            job.update(|s| {
                s.summary =
                    Some(json!({"traffic": summary, "zones": demand.zones.len(), "od_pairs": demand.ods.len()}));
                s.publish("traffic_flows", flows, true);
            });
            Ok(())
        }
        ScenarioKind::Incident => run_incident_job(req, inputs, job, &assignment),
        ScenarioKind::FloodTraffic => {
            let flood = run_flood(req, inputs, job, 0.7)?;
            job.update(|s| s.stage = "traffic".into());
            let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
            let depths = match flood.geo {
                Some(g) => edge_max_depth(&graph, &flood.depth, &|lon, lat| g.to_grid(lon, lat)),
                None => edge_max_depth(&graph, &flood.depth, &|x, y| (x, y)),
            };
            let cfg = CouplingConfig {
                depth_threshold_m: req.depth_threshold_m.unwrap_or(0.3),
                assignment,
                ..CouplingConfig::default()
            };
            let stations = stations(&inputs.layers);
            let res = flood_to_traffic(
                TrafficInputs { graph: &graph, net: &net, ods: &demand.ods },
                &depths,
                &stations,
                &cfg,
                |f| job.update(|s| s.percent = 70.0 + 30.0 * f),
                &job.cancel,
            )
            .map_err(JobError::engine)?;
            let mut flooded_net = net.clone();
            for c in &res.closed {
                flooded_net.set_closed(c.link, true);
            }
            let closed = result_layers::closed_roads(&graph, &res.closed);
            let flooded = result_layers::flooded_roads(&graph, &depths, 0.1);
            let flows = result_layers::link_flows(&graph, &flooded_net, &res.link_flows_after, &res.link_times_after);
            job.update(|s| {
                let flood_summary = s.summary.take().unwrap_or(Value::Null);
                s.summary = Some(json!({
                    "flood": flood_summary["flood"], "flood_inputs": flood_summary["flood_inputs"], "coupling": res,
                }));
                s.publish("closed_roads", closed, true);
                s.publish("flooded_roads", flooded, true);
                s.publish("traffic_flows", flows, true);
            });
            Ok(())
        }
    }
}

fn run_incident_job(
    req: &ScenarioRequest,
    inputs: &CityInputs,
    job: &Job,
    assignment: &AssignmentConfig,
) -> Result<(), JobError> {
    job.update(|s| s.stage = "assignment".into());
    let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
    let links = links_of_edges(&net, &req.closed_edges);
    if links.is_empty() {
        return Err(JobError::Invalid(format!("no road edge among {:?}", req.closed_edges)));
    }
    let eq = assign(
        &net,
        &demand.ods,
        assignment,
        |p| job.update(|s| s.percent = (p.iteration as f64).min(20.0)),
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    let minutes = |v: Option<f64>, default: f64, name: &str| {
        let m = v.unwrap_or(default);
        if m.is_finite() && (0.0..=24.0 * 60.0).contains(&m) {
            Ok(m * 60.0)
        } else {
            Err(JobError::Invalid(format!("{name} must be between 0 and 1440 minutes")))
        }
    };
    let factor = req.capacity_factor.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&factor) {
        return Err(JobError::Invalid("capacity_factor must be in [0, 1]".into()));
    }
    let cfg = IncidentConfig {
        warmup_s: minutes(req.warmup_minutes, 15.0, "warmup_minutes")?,
        incident_s: minutes(req.incident_minutes, 20.0, "incident_minutes")?,
        recovery_s: minutes(req.recovery_minutes, 30.0, "recovery_minutes")?,
        capacity_factor: factor,
        ..IncidentConfig::default()
    };
    job.update(|s| s.stage = "cell transmission".into());
    let started = std::time::Instant::now();
    let res = run_incident(
        &net,
        &eq,
        &links,
        &cfg,
        |f| {
            job.update(|s| {
                s.percent = 20.0 + 80.0 * f;
                s.simulated_s = f * (cfg.warmup_s + cfg.incident_s + cfg.recovery_s);
            })
        },
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    tracing::info!(
        job = job.id,
        secs = started.elapsed().as_secs_f64(),
        queued = res.queued_links.len(),
        "incident run"
    );
    let summary = crate::coupling::TrafficSummary::of(&eq, &demand.ods);
    let queues = result_layers::incident_queues(&graph, &net, &res.queued_links);
    job.update(|s| {
        s.cells_per_s = res.cell_updates_per_s;
        s.summary = Some(json!({"traffic": summary, "incident_links": links, "incident": res}));
        s.publish("incident_queues", queues, true);
    });
    Ok(())
}
