//! What-if scenarios (flood, traffic, flood → traffic) as background jobs, and live congestion;
//! their tiles are in [`tiles`].

pub mod tiles;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;
use twin_auth::{Action, Owner, Resource};
use twin_scenarios::jobs::{CityInputs, Job, JobError, ScenarioRequest};

/// The scenario and congestion routes (merged into the app's router).
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/scenarios", post(create).get(list))
        .route("/api/scenarios/{id}", get(one).delete(cancel))
        .route("/api/scenarios/{id}/layers/{name}", get(layer))
        .route("/api/scenarios/{id}/tiles/{name}/{z}/{x}/{file}", get(tiles::result_tile))
        .route("/api/scenarios/{id}/tiles/{file}", get(tiles::result_tilejson))
        .route("/api/traffic/congestion", get(congestion))
        // Static segments win over the generic `/tiles/{layer}/…` routes.
        .route("/tiles/congestion/{z}/{x}/{file}", get(tiles::congestion_tile))
        .route("/tiles/congestion.json", get(tiles::congestion_tilejson))
}

/// Starts a scenario job; answers 202 with its id and where to poll.
#[utoipa::path(post, path = "/api/scenarios", tag = "scenarios", request_body = ScenarioRequest,
    responses((status = 202, description = "{id, status, href}"), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many running scenarios (Retry-After)")))]
pub async fn create(State(st): State<AppState>, caller: Caller, body: Bytes) -> Result<impl IntoResponse, Problem> {
    let own = caller.principal().agency().cloned();
    let owner = Owner { agency: own.as_ref(), ..Owner::NONE };
    caller.check(Action::Write, &Resource::ScenarioJob(owner), "scenario")?;
    let req: ScenarioRequest = serde_json::from_slice(&body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-scenario", e.to_string()).field("body"))?;
    use twin_scenarios::jobs::ScenarioKind;
    let needs_dem = matches!(req.kind, ScenarioKind::Flood | ScenarioKind::FloodTraffic);
    if req.kind == ScenarioKind::Incident && req.closed_edges.is_empty() {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "no-incident-edges", "an incident needs closed_edges")
            .field("closed_edges"));
    }
    if req.dem_asc.is_none() && st.tiles.dem().is_none() && needs_dem {
        return Err(
            Problem::new(StatusCode::BAD_REQUEST, "no-dem", "no city DEM is loaded; pass dem_asc").field("dem_asc")
        );
    }
    let inputs = CityInputs { layers: st.layers.clone(), dem: st.tiles.dem() };
    let actor = caller.actor();
    let job = st.scenarios.start(actor.as_str(), req, inputs, twin_runtime::clock::now()).map_err(job_problem)?;
    tracing::info!(job = job.id, kind = ?job.kind, "scenario started");
    let href = format!("/api/scenarios/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [("location", href.clone())],
        Json(json!({"id": job.id, "status": "running", "href": href})),
    ))
}

/// Every job with its progress.
#[utoipa::path(get, path = "/api/scenarios", tag = "scenarios", responses((status = 200, description = "{scenarios: [...]}")))]
pub async fn list(State(st): State<AppState>, caller: Caller) -> Json<Value> {
    st.scenarios.expire(twin_runtime::clock::now());
    let jobs: Vec<Value> = st
        .scenarios
        .list()
        .iter()
        .filter(|j| check_job(&st, &caller, j, Action::Read).is_ok())
        .map(|j| j.view())
        .collect();
    Json(json!({ "scenarios": jobs }))
}

/// A refused start: 429 with Retry-After when the actor or the server runs as many jobs as
/// allowed, 400 naming the field for a request over a limit.
fn job_problem(e: JobError) -> Problem {
    if e.is_busy() {
        let mut p = Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-scenarios", e.to_string());
        p.retry_after = Some(twin_scenarios::jobs::RETRY_AFTER_S);
        return p;
    }
    let p = Problem::new(StatusCode::BAD_REQUEST, "invalid-scenario", e.to_string());
    match e.request_field() {
        Some(f) => p.field(f),
        None => p,
    }
}

fn job_id(raw: &str) -> Result<u64, Problem> {
    raw.parse().map_err(|_| Problem::bad_param("id", format!("`{raw}` is not a scenario id")))
}

/// A job belongs to the agency of the account that started it.
fn check_job(st: &AppState, caller: &Caller, job: &Job, action: Action) -> Result<(), Problem> {
    let agency = st.auth.access.agency_of_actor(job.actor());
    let owner = Owner { agency: agency.as_ref(), ..Owner::NONE };
    caller.check(action, &Resource::ScenarioJob(owner), &format!("scenario {}", job.id))
}

/// The job `raw` names, if the caller may `action` it (404 when it may not even see it).
pub(crate) fn visible_job(st: &AppState, caller: &Caller, raw: &str, action: Action) -> Result<Arc<Job>, Problem> {
    let job = st.scenarios.get(job_id(raw)?).ok_or_else(|| Problem::not_found(format!("no scenario {raw}")))?;
    check_job(st, caller, &job, action)?;
    Ok(job)
}

/// Progress (percent, simulated time, cells/s) and, when done, the summary and layer links.
#[utoipa::path(get, path = "/api/scenarios/{id}", tag = "scenarios", params(("id" = u64, Path)),
    responses((status = 200, description = "job view"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn one(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let job = visible_job(&st, &caller, &id, Action::Read)?;
    Ok(Json(job.view()))
}

/// Cancels a running job (the state reached so far is kept).
#[utoipa::path(delete, path = "/api/scenarios/{id}", tag = "scenarios", params(("id" = u64, Path)),
    responses((status = 202, description = "cancellation requested"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    let job = visible_job(&st, &caller, &id, Action::Write)?;
    job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(job = job.id, "scenario cancellation requested");
    Ok((StatusCode::ACCEPTED, Json(job.view())))
}

/// A result layer of a finished job as GeoJSON.
#[utoipa::path(get, path = "/api/scenarios/{id}/layers/{name}", tag = "scenarios",
    params(("id" = u64, Path), ("name" = String, Path)),
    responses((status = 200, description = "GeoJSON FeatureCollection"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn layer(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    let job = visible_job(&st, &caller, &id, Action::Read)?;
    let layer: Option<Arc<Value>> = job.state.lock().layers.get(&name).cloned();
    let layer = layer.ok_or_else(|| Problem::not_found(format!("scenario {id} has no layer `{name}` (yet)")))?;
    Ok(Json(Value::clone(&layer)))
}

/// Congestion index per road segment from the current speeds of buses and emergency vehicles
/// (0 free flow … 1 standstill), as GeoJSON LineStrings.
#[utoipa::path(get, path = "/api/traffic/congestion", tag = "scenarios",
    responses((status = 200, description = "GeoJSON FeatureCollection"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn congestion(State(st): State<AppState>) -> Result<Json<Value>, Problem> {
    let snap = tiles::congestion_snapshot(&st).await?;
    Ok(Json(snap.geojson.clone()))
}
