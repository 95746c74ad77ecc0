//! Hostile use of the scenario job store: too many jobs per actor and in total, requests whose
//! fields would size huge allocations, DEMs with lying sizes. Each is refused with a typed error
//! and the store keeps working afterwards.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value};
use twin_core::Timestamp;
use twin_layers::ReferenceLayers;
use twin_scenarios::flood::MAX_GRID_CELLS;
use twin_scenarios::jobs::{
    dem_to_grid, CityInputs, Job, JobError, JobStatus, ScenarioJobs, ScenarioRequest, MAX_CLOSED_EDGES,
    MAX_DEM_ASC_BYTES, MAX_KEPT, MAX_RUNNING, MAX_RUNNING_PER_ACTOR, RETENTION_MS,
};
use twin_tiles::terrain::Dem;

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn inputs() -> CityInputs {
    CityInputs { layers: Arc::new(ReferenceLayers::default()), dem: None }
}

fn request(body: Value) -> ScenarioRequest {
    serde_json::from_value(body).unwrap()
}

/// An n × n flat grid with 1 m cells.
fn flat_asc(n: usize) -> String {
    let row = vec!["0"; n].join(" ");
    format!("ncols {n}\nnrows {n}\nxllcorner 0\nyllcorner 0\ncellsize 1\n{}\n", vec![row; n].join("\n"))
}

/// Three days of rain on 40 000 one-metre cells: hundreds of thousands of steps, so it runs until
/// cancelled.
fn long_flood() -> ScenarioRequest {
    request(json!({"kind": "flood", "dem_asc": flat_asc(200), "rain_mm_h": 50.0, "hours": 72.0}))
}

/// Ten simulated seconds on a 5 × 5 grid.
fn quick_flood() -> ScenarioRequest {
    request(json!({"kind": "flood", "dem_asc": flat_asc(5), "hours": 0.003, "boundary": "closed"}))
}

/// A traffic run without a road layer: fails at once.
fn failing_job() -> ScenarioRequest {
    request(json!({"kind": "traffic"}))
}

fn start(jobs: &ScenarioJobs, actor: &str, req: ScenarioRequest, now: Timestamp) -> Result<Arc<Job>, JobError> {
    jobs.start(actor, req, inputs(), now)
}

fn cancel_all(running: &[Arc<Job>]) {
    for j in running {
        j.cancel.store(true, Ordering::Relaxed);
    }
    for j in running {
        assert_eq!(j.wait(), JobStatus::Cancelled);
    }
}

#[test]
fn running_jobs_are_capped_per_actor_and_in_total() {
    let jobs = ScenarioJobs::default();
    let mut running = Vec::new();
    for _ in 0..MAX_RUNNING_PER_ACTOR {
        running.push(start(&jobs, "alice", long_flood(), T0).unwrap());
    }
    let err = start(&jobs, "alice", long_flood(), T0).unwrap_err();
    assert!(matches!(err, JobError::TooManyForActor { max: MAX_RUNNING_PER_ACTOR }), "{err:?}");
    assert!(err.is_busy());
    assert!(err.to_string().contains(&format!("at most {MAX_RUNNING_PER_ACTOR}")), "{err}");

    // Others still get room until the server's cap.
    let mut n = 0;
    while running.len() < MAX_RUNNING {
        running.push(start(&jobs, &format!("user{n}"), long_flood(), T0).unwrap());
        n += 1;
    }
    let err = start(&jobs, "carol", long_flood(), T0).unwrap_err();
    assert!(matches!(err, JobError::TooMany { max: MAX_RUNNING }), "{err:?}");
    assert!(err.is_busy());
    // Refusals registered nothing, and the admitted jobs really were running.
    assert_eq!(jobs.list().len(), MAX_RUNNING);
    assert!(running.iter().all(|j| j.status() == JobStatus::Running));
    assert_eq!(running[0].actor(), "alice");
    assert_eq!(running[MAX_RUNNING - 1].actor(), format!("user{}", n - 1));

    // Once they end, the same actor can start again and the job runs to the end.
    cancel_all(&running);
    let again = start(&jobs, "alice", quick_flood(), T0).unwrap();
    assert_eq!(again.wait(), JobStatus::Done, "{:?}", again.state.lock().error);
    assert_eq!(again.actor(), "alice");
}

#[test]
fn finished_jobs_expire_after_the_retention_time() {
    let jobs = ScenarioJobs::default();
    let done = start(&jobs, "alice", quick_flood(), T0).unwrap();
    assert_eq!(done.wait(), JobStatus::Done);
    let long = start(&jobs, "bob", long_flood(), T0).unwrap();

    // Kept for the whole retention time after it ended…
    assert_eq!(jobs.expire(T0.plus_millis(RETENTION_MS)), 0);
    assert!(jobs.get(done.id).is_some());
    // …and gone a day later, while a job still running stays, however old.
    let later = T0.plus_millis(RETENTION_MS + 24 * 3600 * 1000);
    assert_eq!(jobs.expire(later), 1);
    assert!(jobs.get(done.id).is_none());
    assert!(jobs.get(long.id).is_some());

    // Starting a job also clears expired ones (no timer needed).
    cancel_all(std::slice::from_ref(&long));
    let next = start(&jobs, "alice", failing_job(), later.plus_millis(2 * RETENTION_MS)).unwrap();
    assert_eq!(next.wait(), JobStatus::Failed);
    let ids: Vec<u64> = jobs.list().iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![next.id]);
}

#[test]
fn kept_jobs_are_capped_oldest_finished_first() {
    let jobs = ScenarioJobs::default();
    let mut ids = Vec::new();
    for _ in 0..MAX_KEPT + 3 {
        let j = start(&jobs, "alice", failing_job(), T0).unwrap();
        assert_eq!(j.wait(), JobStatus::Failed);
        assert!(j.state.lock().error.as_deref().is_some_and(|e| e.contains("roads")));
        ids.push(j.id);
    }
    let kept: Vec<u64> = jobs.list().iter().map(|j| j.id).collect();
    assert_eq!(kept, ids[3..].to_vec());
}

/// `body` is refused before any job is registered, with an error naming `field`.
fn assert_refused(jobs: &ScenarioJobs, body: Value, field: &str) {
    let what = body.to_string();
    let err = start(jobs, "mallory", request(body), T0).unwrap_err();
    assert_eq!(err.request_field(), Some(field), "{}: {err}", &what[..what.len().min(200)]);
    assert!(!err.is_busy());
    assert!(err.to_string().contains(field), "{err}");
    assert!(jobs.list().is_empty());
}

#[test]
fn request_fields_over_their_limits_are_refused_by_name() {
    let jobs = ScenarioJobs::default();
    // Inline DEMs whose header claims more than the cap, by product or by overflow, or absurd cells.
    let lying = "ncols 60000\nnrows 60000\nxllcorner 0\nyllcorner 0\ncellsize 1\n0 0 0\n";
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": lying}), "dem_asc");
    let overflow = format!("ncols {}\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n0\n", usize::MAX);
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": overflow}), "dem_asc");
    let over_cap = format!("ncols {}\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n0\n", MAX_GRID_CELLS + 1);
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": over_cap}), "dem_asc");
    let tiny_cells = flat_asc(3).replace("cellsize 1", "cellsize 0.000001");
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": tiny_cells}), "dem_asc");
    let inf_nodata = flat_asc(3).replace("cellsize 1", "cellsize 1\nNODATA_value -inf");
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": inf_nodata}), "dem_asc");
    let huge_text = format!("{}{}", flat_asc(3), " ".repeat(MAX_DEM_ASC_BYTES));
    assert_refused(&jobs, json!({"kind": "flood", "dem_asc": huge_text}), "dem_asc");

    let dem = flat_asc(5);
    for (field, value) in [
        ("hours", json!(1e9)),
        ("hours", json!(0.0)),
        ("rain_mm_h", json!(1e300)),
        ("rain_mm_h", json!(-1.0)),
        ("manning", json!(50.0)),
        ("initial_level", json!(1e12)),
        ("depth_threshold_m", json!(-0.1)),
        ("boundary", json!("level:1e9")),
        ("boundary", json!("sideways")),
        ("boundary", json!("open:".to_owned() + &"1".repeat(100))),
        ("bbox", json!([10.0, 0.0, 0.0, 1.0])),
    ] {
        let mut body = json!({"kind": "flood", "dem_asc": dem});
        body[field] = value;
        assert_refused(&jobs, body, field);
    }
    let edges: Vec<u32> = (0..=MAX_CLOSED_EDGES as u32).collect();
    assert_refused(&jobs, json!({"kind": "incident", "closed_edges": edges}), "closed_edges");
    for (field, value) in [
        ("warmup_minutes", json!(1e7)),
        ("incident_minutes", json!(-5.0)),
        ("recovery_minutes", json!(1e300)),
        ("capacity_factor", json!(2.0)),
        ("peak_hour_trips", json!(1e15)),
        ("peak_hour_trips", json!(0.0)),
        ("target_gap", json!(0.0)),
    ] {
        let mut body = json!({"kind": "incident", "closed_edges": [1]});
        body[field] = value;
        assert_refused(&jobs, body, field);
    }

    // The store still takes a sound request afterwards.
    let ok = start(&jobs, "mallory", quick_flood(), T0).unwrap();
    assert_eq!(ok.wait(), JobStatus::Done);
}

#[test]
fn a_city_dem_crop_over_the_cell_cap_is_refused_before_it_is_filled() {
    // A DEM whose stated size has no data behind it: only the crop's size may be looked at.
    let lying = Dem::from_grid(100_000, 100_000, 108.0, 16.1, 1e-5, 1e-5, Vec::new());
    let err = dem_to_grid(&lying, None).unwrap_err();
    assert_eq!(err.request_field(), Some("bbox"), "{err}");
    assert!(err.to_string().contains(&MAX_GRID_CELLS.to_string()), "{err}");
    let err = dem_to_grid(&lying, Some([f64::NAN, 16.0, 108.1, 16.1])).unwrap_err();
    assert_eq!(err.request_field(), Some("bbox"), "{err}");
    // A crop within the cap of a real DEM still works.
    let real = Dem::from_grid(10, 10, 108.0, 16.1, 1e-3, 1e-3, vec![1.0; 100]);
    let (grid, _) = dem_to_grid(&real, None).unwrap();
    assert_eq!((grid.ncols, grid.nrows), (10, 10));
}
