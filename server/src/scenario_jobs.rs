//! Scenario jobs: each runs a pure solver from twin-scenarios on a blocking thread, reporting
//! progress through the solver's callback and stopping when its cancel flag is set.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twin_layers::roads::RoadGraph;
use twin_layers::{Layer, ReferenceLayers};
use twin_scenarios::coupling::layers::{self as result_layers, DEPTH_CLASSES};
use twin_scenarios::coupling::{edge_max_depth, flood_to_traffic, CouplingConfig, Station, TrafficInputs};
use twin_scenarios::flood::{Boundaries, Boundary, FloodSetup, Grid, Series, Simulation, SolverConfig};
use twin_scenarios::traffic::{assign, AssignmentConfig, Demand, DemandConfig, Network, TurnRules};
use twin_tiles::terrain::Dem;

/// What a scenario simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    Flood,
    Traffic,
    FloodTraffic,
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
    /// Depth (m) above which a road closes; default 0.3.
    pub depth_threshold_m: Option<f64>,
    /// Road-graph edge ids closed from the start (traffic).
    #[serde(default)]
    pub closed_edges: Vec<u32>,
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
        json!({
            "id": self.id, "kind": self.kind, "status": s.status, "percent": s.percent,
            "simulated_s": s.simulated_s, "cells_per_s": s.cells_per_s, "stage": s.stage,
            "error": s.error, "summary": s.summary, "layers": layers,
        })
    }
}

/// All jobs of this server process.
#[derive(Debug, Default)]
pub struct ScenarioJobs {
    jobs: Mutex<HashMap<u64, Arc<Job>>>,
    next: AtomicU64,
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

    /// Registers a job and starts it on the blocking pool.
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
            }),
        });
        self.jobs.lock().insert(id, job.clone());
        let worker = job.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = run(&req, &inputs, &worker);
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
                    s.error = Some(e);
                }
            });
        });
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
pub fn dem_to_grid(dem: &Dem, bbox: Option<[f64; 4]>) -> Result<(Grid, GeoRef), String> {
    let [w, s, e, n] = bbox.unwrap_or(dem.bounds());
    let c0 = (((w - dem.west) / dem.dx).floor().max(0.0)) as usize;
    let c1 = (((e - dem.west) / dem.dx).ceil() as usize).min(dem.width);
    let r0 = (((dem.north - n) / dem.dy).floor().max(0.0)) as usize;
    let r1 = (((dem.north - s) / dem.dy).ceil() as usize).min(dem.height);
    if c1 <= c0 + 2 || r1 <= r0 + 2 {
        return Err("the area does not overlap the DEM".into());
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

struct FloodOutcome {
    depth: Grid,
    geo: Option<GeoRef>,
}

fn run_flood(req: &ScenarioRequest, inputs: &CityInputs, job: &Job, share: f64) -> Result<FloodOutcome, String> {
    let (dem, geo) = match (&req.dem_asc, &inputs.dem) {
        (Some(text), _) => (Grid::parse_asc(text).map_err(|e| e.to_string())?, None),
        (None, Some(dem)) => {
            let bbox = req.bbox.or_else(|| inputs.layers.get("roads").and_then(|l| layer_bbox(l, 0.005)));
            let (g, geo) = dem_to_grid(dem, bbox)?;
            (g, Some(geo))
        }
        (None, None) => return Err("no DEM: configure [tiles] dem or pass dem_asc".into()),
    };
    let mut setup = FloodSetup::new(dem, req.manning.unwrap_or(0.03));
    setup.rain_mm_h = Some(Series::constant(req.rain_mm_h.unwrap_or(50.0)).map_err(|e| e.to_string())?);
    let boundary: Boundary = req
        .boundary
        .as_deref()
        .unwrap_or("open")
        .parse()
        .map_err(|e: twin_scenarios::flood::FloodError| e.to_string())?;
    setup.boundaries = Boundaries::all(boundary);
    if let Some(z) = req.initial_level {
        setup.initial = twin_scenarios::flood::InitialWater::Level(z);
    }
    let hours = req.hours.unwrap_or(3.0);
    if !(hours > 0.0 && hours <= 72.0) {
        return Err("hours must be in (0, 72]".into());
    }
    let mut sim = Simulation::new(setup, SolverConfig::default()).map_err(|e| e.to_string())?;
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
        .map_err(|e| e.to_string())?;
    let depth = sim.max_depth_grid();
    let polygons = match geo {
        Some(g) => result_layers::depth_class_polygons(&depth, &DEPTH_CLASSES, &|x, y| g.to_lonlat(x, y)),
        None => result_layers::depth_class_polygons(&depth, &DEPTH_CLASSES, &|x, y| (x, y)),
    };
    let buildings = match (geo, inputs.layers.get("buildings")) {
        (Some(g), Some(b)) => Some(result_layers::flooded_buildings(b, &depth, &|x, y| g.to_grid(x, y), 0.1)),
        _ => None,
    };
    job.update(|s| {
        s.summary = Some(json!({"flood": summary}));
        s.layers.insert("flood_depth_classes".into(), Arc::new(polygons));
        if let Some(b) = buildings {
            s.layers.insert("flooded_buildings".into(), Arc::new(b));
        }
    });
    Ok(FloodOutcome { depth, geo })
}

fn traffic_model(req: &ScenarioRequest, layers: &ReferenceLayers) -> Result<(RoadGraph, Network, Demand), String> {
    let roads = layers.get("roads").ok_or("no `roads` layer")?;
    let graph = RoadGraph::from_layer(roads);
    let mut net = Network::from_road_graph(&graph, Some(roads), TurnRules::default());
    let cfg = DemandConfig { peak_hour_trips: req.peak_hour_trips.unwrap_or(12_000.0), ..DemandConfig::default() };
    let demand = Demand::generate(&graph, &net, layers.get("buildings"), &cfg);
    for e in &req.closed_edges {
        let links: Vec<u32> =
            (0..net.link_count() as u32).filter(|l| net.link(*l).edge.is_some_and(|x| x.0 == *e)).collect();
        for l in links {
            net.set_closed(l, true);
        }
    }
    Ok((graph, net, demand))
}

fn run(req: &ScenarioRequest, inputs: &CityInputs, job: &Job) -> Result<(), String> {
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
            .map_err(|e| e.to_string())?;
            let summary = twin_scenarios::coupling::TrafficSummary::of(&res, &demand.ods);
            let flows = result_layers::link_flows(&graph, &net, &res.link_flows, &res.link_times);
            job.update(|s| {
                s.summary =
                    Some(json!({"traffic": summary, "zones": demand.zones.len(), "od_pairs": demand.ods.len()}));
                s.layers.insert("traffic_flows".into(), Arc::new(flows));
            });
            Ok(())
        }
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
            .map_err(|e| e.to_string())?;
            let mut flooded_net = net.clone();
            for c in &res.closed {
                flooded_net.set_closed(c.link, true);
            }
            let closed = result_layers::closed_roads(&graph, &res.closed);
            let flooded = result_layers::flooded_roads(&graph, &depths, 0.1);
            let flows = result_layers::link_flows(&graph, &flooded_net, &res.link_flows_after, &res.link_times_after);
            job.update(|s| {
                let flood_summary = s.summary.take().unwrap_or(Value::Null);
                s.summary = Some(json!({"flood": flood_summary["flood"], "coupling": res}));
                s.layers.insert("closed_roads".into(), Arc::new(closed));
                s.layers.insert("flooded_roads".into(), Arc::new(flooded));
                s.layers.insert("traffic_flows".into(), Arc::new(flows));
            });
            Ok(())
        }
    }
}
