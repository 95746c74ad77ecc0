//! Scenario jobs: each runs a solver of this crate on a thread of its own, reporting progress
//! through the solver's callback and stopping when its cancel flag is set.

mod congestion;
mod flood;
mod georef;
mod limits;
mod traffic;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::flood::Grid;
use crate::traffic::AssignmentConfig;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twin_core::Timestamp;
use twin_layers::{Layer, ReferenceLayers};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::terrain::Dem;

pub use congestion::{samples_version, CongestionCache, CongestionSnapshot, SpeedSample};
pub use georef::{dem_to_grid, GeoRef};
pub use limits::{
    MAX_BOUNDARY_CHARS, MAX_CELLSIZE_M, MAX_CLOSED_EDGES, MAX_DEM_ASC_BYTES, MAX_DEPTH_THRESHOLD_M, MAX_HOURS,
    MAX_LEVEL_M, MAX_MANNING, MAX_PEAK_HOUR_TRIPS, MAX_PHASE_MINUTES, MAX_RAIN_MM_H, MIN_CELLSIZE_M, MIN_TARGET_GAP,
};
pub use traffic::stations;

/// Scenario jobs one actor may have running at once.
pub const MAX_RUNNING_PER_ACTOR: usize = 2;
/// Scenario jobs running at once on this server: each is a thread of long CPU work.
pub const MAX_RUNNING: usize = 4;
/// Jobs kept with their results, running or finished; the oldest finished make room first.
pub const MAX_KEPT: usize = 64;
/// How long a finished job's results are kept (ms): one hour.
pub const RETENTION_MS: i64 = 60 * 60 * 1000;
/// What a refused client is told to wait before trying again (s).
pub const RETRY_AFTER_S: u32 = 30;

// Finished jobs must always be able to make room for a new one.
const _: () = assert!(MAX_RUNNING < MAX_KEPT && MAX_RUNNING_PER_ACTOR <= MAX_RUNNING);

/// Why a scenario job was refused or failed; the message is shown to the client (as the job's
/// `error` once it runs).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A request value out of range or inconsistent; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// A request field over its limit or unusable, refused before the job starts.
    #[error("`{field}`: {message}")]
    Field { field: &'static str, message: String },
    /// The actor already runs [`MAX_RUNNING_PER_ACTOR`] jobs.
    #[error("at most {max} scenario jobs may run at once per user; wait for one to finish or cancel one")]
    TooManyForActor { max: usize },
    /// The server already runs [`MAX_RUNNING`] jobs.
    #[error("the server already runs {max} scenario jobs; try again later")]
    TooMany { max: usize },
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

    pub(crate) fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Field { field, message: message.into() }
    }

    /// The request field the error is about, where there is one.
    pub fn request_field(&self) -> Option<&'static str> {
        match self {
            Self::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the job was refused for lack of room (try again later) rather than for its request.
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::TooManyForActor { .. } | Self::TooMany { .. })
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
    /// When the job ended (its start plus its run time); `None` while it runs.
    #[serde(skip)]
    pub finished_at: Option<Timestamp>,
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
    /// Who started it.
    actor: String,
    started_at: Timestamp,
    /// Signalled when the job leaves `Running`.
    ended: Condvar,
}

impl Job {
    fn new(id: u64, kind: ScenarioKind, actor: &str, now: Timestamp) -> Self {
        Self {
            id,
            kind,
            cancel: AtomicBool::new(false),
            state: Mutex::new(JobState {
                status: JobStatus::Running,
                percent: 0.0,
                simulated_s: 0.0,
                cells_per_s: 0.0,
                stage: "starting".into(),
                error: None,
                summary: None,
                finished_at: None,
                layers: BTreeMap::new(),
                rasters: BTreeMap::new(),
                vector_tiles: BTreeMap::new(),
            }),
            actor: actor.to_owned(),
            started_at: now,
            ended: Condvar::new(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut JobState)) {
        f(&mut self.state.lock());
    }

    /// Who started the job (so the HTTP layer can show each actor its own jobs).
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// When the job was started.
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    pub fn status(&self) -> JobStatus {
        self.state.lock().status
    }

    /// Blocks until the job has ended (done, failed or cancelled) and returns how.
    pub fn wait(&self) -> JobStatus {
        let mut s = self.state.lock();
        while s.status == JobStatus::Running {
            self.ended.wait(&mut s);
        }
        s.status
    }

    /// Records how the job ended and wakes those waiting on it.
    fn finish(&self, outcome: Result<(), JobError>, run_time: std::time::Duration) {
        let cancelled = self.cancel.load(Ordering::Relaxed);
        let run_ms = i64::try_from(run_time.as_millis()).unwrap_or(i64::MAX);
        self.update(|s| {
            match outcome {
                Ok(()) => {
                    s.status = JobStatus::Done;
                    s.percent = 100.0;
                    s.stage = "done".into();
                }
                Err(e) => {
                    s.status = if cancelled { JobStatus::Cancelled } else { JobStatus::Failed };
                    tracing::warn!(job = self.id, error = %e, "scenario ended early");
                    s.error = Some(e.to_string());
                }
            }
            s.finished_at = Some(self.started_at.plus_millis(run_ms));
        });
        self.ended.notify_all();
    }

    /// Runs `work` as the job's body: whatever it returns, or a panic in it, ends the job, so a
    /// solver bug never leaves it "running" for ever.
    fn run_guarded(&self, work: impl FnOnce() -> Result<(), JobError>) {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or(Err(JobError::Panicked));
        self.finish(outcome, started.elapsed());
    }

    /// Ended more than [`RETENTION_MS`] before `now`.
    fn expired(&self, now: Timestamp) -> bool {
        self.state.lock().finished_at.is_some_and(|t| now.as_millis().saturating_sub(t.as_millis()) > RETENTION_MS)
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

    /// Forgets jobs that ended more than [`RETENTION_MS`] before `now`; returns how many.
    /// [`start`](Self::start) does this too, so the store stays bounded without a timer.
    pub fn expire(&self, now: Timestamp) -> usize {
        let mut jobs = self.jobs.lock();
        let before = jobs.len();
        jobs.retain(|_, j| !j.expired(now));
        before - jobs.len()
    }

    /// Checks the request, then registers a job for `actor` and starts it on a thread of its own.
    /// Refused with [`JobError::Field`] for a request over a limit, [`JobError::TooManyForActor`]
    /// or [`JobError::TooMany`] when the actor or the server runs as many jobs as allowed.
    pub fn start(
        &self,
        actor: &str,
        req: ScenarioRequest,
        inputs: CityInputs,
        now: Timestamp,
    ) -> Result<Arc<Job>, JobError> {
        req.validate()?;
        let job = {
            // One lock from the count to the insert: concurrent starts cannot both take the last slot.
            let mut jobs = self.jobs.lock();
            jobs.retain(|_, j| !j.expired(now));
            let running: Vec<&Arc<Job>> = jobs.values().filter(|j| j.status() == JobStatus::Running).collect();
            if running.iter().filter(|j| j.actor == actor).count() >= MAX_RUNNING_PER_ACTOR {
                return Err(JobError::TooManyForActor { max: MAX_RUNNING_PER_ACTOR });
            }
            if running.len() >= MAX_RUNNING {
                return Err(JobError::TooMany { max: MAX_RUNNING });
            }
            // Room for one more: the oldest finished jobs go (at most MAX_RUNNING run, fewer than MAX_KEPT).
            while jobs.len() >= MAX_KEPT {
                let oldest = jobs.values().filter(|j| j.status() != JobStatus::Running).map(|j| j.id).min();
                match oldest {
                    Some(id) => jobs.remove(&id),
                    None => return Err(JobError::TooMany { max: MAX_RUNNING }),
                };
            }
            let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
            let job = Arc::new(Job::new(id, req.kind, actor, now));
            jobs.insert(id, job.clone());
            job
        };
        let worker = job.clone();
        // A job is long CPU work (rayon inside): its own thread, not an async worker's.
        let spawned = std::thread::Builder::new()
            .name(format!("scenario-{}", job.id))
            .spawn(move || worker.run_guarded(|| run(&req, &inputs, &worker)));
        if let Err(e) = spawned {
            job.finish(Err(JobError::Thread(e)), std::time::Duration::ZERO);
        }
        Ok(job)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn a_panicking_solver_ends_the_job_as_failed() {
        let job = Job::new(1, ScenarioKind::Flood, "someone", Timestamp::from_millis(1_000));
        job.run_guarded(|| panic!("solver bug"));
        assert_eq!(job.wait(), JobStatus::Failed);
        let s = job.state.lock().clone();
        assert_eq!(s.error.as_deref(), Some("the solver failed unexpectedly"));
        assert!(s.finished_at.is_some_and(|t| t.as_millis() >= 1_000));
        // Its start time anchors its retention.
        assert!(!job.expired(Timestamp::from_millis(1_000 + RETENTION_MS)));
        assert!(job.expired(Timestamp::from_millis(1_000 + 2 * RETENTION_MS + 1)));
    }

    #[test]
    fn a_running_job_never_expires() {
        let job = Job::new(1, ScenarioKind::Traffic, "someone", Timestamp::from_millis(0));
        assert!(!job.expired(Timestamp::from_millis(i64::MAX)));
        assert_eq!(job.actor(), "someone");
    }
}
