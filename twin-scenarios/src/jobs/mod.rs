//! Scenario jobs: each runs a solver of this crate on a thread of its own, reporting progress
//! through the solver's callback and stopping when its cancel flag is set.

mod congestion;
mod flood;
mod georef;
mod traffic;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::flood::Grid;
use crate::traffic::AssignmentConfig;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twin_layers::{Layer, ReferenceLayers};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::terrain::Dem;

pub use congestion::{samples_version, CongestionCache, CongestionSnapshot, SpeedSample};
pub use georef::{dem_to_grid, GeoRef};
pub use traffic::stations;

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

fn run(req: &ScenarioRequest, inputs: &CityInputs, job: &Job) -> Result<(), JobError> {
    let assignment = AssignmentConfig { target_gap: req.target_gap.unwrap_or(1e-4), ..AssignmentConfig::default() };
    match req.kind {
        ScenarioKind::Flood => flood::run_flood(req, inputs, job, 1.0).map(|_| ()),
        ScenarioKind::Traffic => traffic::run_traffic(req, inputs, job, &assignment),
        ScenarioKind::Incident => traffic::run_incident_job(req, inputs, job, &assignment),
        ScenarioKind::FloodTraffic => traffic::run_flood_traffic(req, inputs, job, assignment),
    }
}
