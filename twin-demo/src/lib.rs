//! The Da Nang demo: simulated fleets and sensors, all labelled `simulated = true`, driven along real
//! geometry (the road graph of the OSM roads layer, waypoint routes at sea) and replaying real
//! hourly series. The simulation logic is pure (`*Fleet::step(now)`); this module only wires it to
//! tokio tasks. In `citytwin demo` every fleet goes through a real protocol into the server's
//! connectors (buses: GTFS-realtime over HTTP; ambulances and fire trucks: OsmAnd requests;
//! vessels: AIVDM; sensors: MQTT); without those transports (in-process tests) they submit to the
//! ingest queue directly, as the police patrols always do (`demo:police`).

pub mod buses;
pub mod emergency;
pub mod gtfs_rt;
pub mod osmand;
pub mod sensors;
pub mod series;
pub mod track;
pub mod transport;
pub mod vessels;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use twin_core::{BBox, Observation, Position, Timestamp};
use twin_layers::roads::RoadGraph;
use twin_layers::ReferenceLayers;

use emergency::Base;
use twin_runtime::writer::{IngestHandle, SubmitError};

/// A fire station (or other base) given in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// True when the location is a stand-in rather than a mapped station.
    #[serde(default)]
    pub assumed: bool,
}

/// The `[demo]` table of the city config. Every field is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    pub enabled: bool,
    /// Seeds every fleet: the same seed gives the same routes, names and ids.
    pub seed: u64,
    pub buses: usize,
    pub ambulances: usize,
    pub fire_trucks: usize,
    pub police_units: usize,
    pub vessels: usize,
    pub fishing_boats: usize,
    pub flood_sensors: usize,
    /// At most 6 (one per urban district).
    pub rain_gauges: usize,
    /// At most 12.
    pub air_quality_stations: usize,
    pub vehicle_interval_ms: u64,
    pub vessel_interval_ms: u64,
    pub sensor_interval_ms: u64,
    /// Wall-clock seconds per replayed series hour.
    pub series_seconds_per_hour: f64,
    /// Relative to the config file.
    pub rain_series: PathBuf,
    pub pm25_series: PathBuf,
    /// Fire-truck bases. The OSM extract has no fire_station object, so the shipped config names
    /// an assumed one.
    pub fire_stations: Vec<StationConfig>,
    /// Police units' stations. The OSM extract has no police object either: the default is an
    /// assumed one.
    pub police_stations: Vec<StationConfig>,
    /// The police patrol area `[min_lon, min_lat, max_lon, max_lat]` (default: central Hải Châu).
    pub police_area: [f64; 4],
    /// A real AIS capture replayed at its own location as `replay:ais-gpsd-sample` (relative to
    /// the config file; a missing file only logs a warning).
    pub ais_replay: Option<PathBuf>,
    /// A real GTFS-realtime VehiclePositions capture republished and polled as
    /// `replay:gtfs-rt-usf-bullrunner` (relative to the config file; a missing file only warns).
    pub gtfs_rt_replay: Option<PathBuf>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            seed: 48,
            buses: 40,
            ambulances: 6,
            fire_trucks: 3,
            police_units: 6,
            vessels: 26,
            fishing_boats: 24,
            flood_sensors: 24,
            rain_gauges: 6,
            air_quality_stations: 12,
            vehicle_interval_ms: 1_000,
            vessel_interval_ms: 2_000,
            sensor_interval_ms: 5_000,
            series_seconds_per_hour: 10.0,
            rain_series: "sensors/vlissingen_knmi_precip_hourly_2019.csv".into(),
            pm25_series: "sensors/hanoi_us_embassy_pm25_2018.csv".into(),
            fire_stations: vec![StationConfig {
                name: "Assumed fire station, Hải Châu".into(),
                lon: 108.2160,
                lat: 16.0520,
                assumed: true,
            }],
            police_stations: vec![StationConfig {
                name: "Assumed police station, Hải Châu".into(),
                lon: 108.2205,
                lat: 16.0680,
                assumed: true,
            }],
            police_area: [108.2080, 16.0520, 108.2280, 16.0750],
            ais_replay: Some("ais/gpsd-ais-nmea-type6-fid55.log".into()),
            gtfs_rt_replay: Some("gtfs/usf_bullrunner_vehicle_positions.pb".into()),
        }
    }
}

/// What the simulators need from the server.
pub struct DemoContext {
    pub ingest: IngestHandle,
    pub layers: Arc<ReferenceLayers>,
    /// Directory of the config file.
    pub base_dir: PathBuf,
    pub city_bbox: BBox,
}

/// Hospitals of the POI layer (`amenity=hospital` points) as ambulance bases.
pub fn hospitals(layers: &ReferenceLayers) -> Vec<Base> {
    let Some(pois) = layers.get("pois") else { return Vec::new() };
    pois.features
        .iter()
        .filter(|f| f.properties.get("amenity").and_then(|v| v.as_str()) == Some("hospital"))
        .filter_map(|f| match &f.geometry {
            geo::Geometry::Point(p) => Some(Base {
                name: f.properties.get("name").and_then(|v| v.as_str()).unwrap_or("hospital").to_owned(),
                position: Position::new(p.x(), p.y()),
                assumed: false,
            }),
            _ => None,
        })
        .collect()
}

/// `demo.police_area` is not a WGS84 box.
#[derive(Debug, thiserror::Error)]
#[error("demo.police_area: {0}")]
pub struct PoliceAreaError(twin_core::Error);

/// The police patrols of `[demo]`.
pub fn police_fleet(
    cfg: &DemoConfig,
    graph: Arc<RoadGraph>,
    start: Timestamp,
) -> Result<emergency::EmergencyFleet, PoliceAreaError> {
    let [min_lon, min_lat, max_lon, max_lat] = cfg.police_area;
    let area = BBox::new(min_lon, min_lat, max_lon, max_lat).map_err(PoliceAreaError)?;
    let stations: Vec<Base> = cfg
        .police_stations
        .iter()
        .map(|s| Base { name: s.name.clone(), position: Position::new(s.lon, s.lat), assumed: s.assumed })
        .collect();
    Ok(emergency::EmergencyFleet::police(graph, &stations, cfg.police_units, area, cfg.seed.wrapping_add(4), start))
}

fn now() -> Timestamp {
    twin_runtime::clock::now()
}

/// Builds every simulator from the reference layers and the series files, spawns one tokio task per
/// feed and returns (it does not run forever). Feeds that cannot be built (no roads layer, missing
/// series file) are skipped with a warning; the others still run.
pub async fn run(cfg: DemoConfig, ctx: DemoContext) {
    run_with(cfg, ctx, transport::Transports::default()).await;
}

/// Like [`run`], with vessels and sensors sent through the protocols in `transports`.
pub async fn run_with(cfg: DemoConfig, ctx: DemoContext, transports: transport::Transports) {
    if !cfg.enabled {
        tracing::info!("demo simulators disabled in config");
        return;
    }
    let start = now();
    let bbox = ctx.city_bbox;
    let vehicle_every = Duration::from_millis(cfg.vehicle_interval_ms.max(100));
    let graph = ctx.layers.get("roads").map(|r| Arc::new(RoadGraph::from_layer(r)));
    match &graph {
        Some(graph) => {
            let buses = buses::BusFleet::new(graph, cfg.buses, cfg.seed);
            tracing::info!(buses = buses.len(), routes = buses.routes().len(), "demo buses");
            match transports.http.clone() {
                Some(http) => {
                    gtfs_rt::spawn_buses(vehicle_every, http, ctx.ingest.clone(), bbox, move |t| buses.step(t))
                }
                None => spawn_feed(buses::SOURCE, vehicle_every, ctx.ingest.clone(), bbox, move |t| buses.step(t)),
            }
            let fire: Vec<Base> = cfg
                .fire_stations
                .iter()
                .map(|s| Base { name: s.name.clone(), position: Position::new(s.lon, s.lat), assumed: s.assumed })
                .collect();
            let hospitals = hospitals(&ctx.layers);
            if hospitals.is_empty() {
                tracing::warn!("no hospital in the pois layer: the demo has no ambulances");
            }
            let mut fleet = emergency::EmergencyFleet::new(
                graph.clone(),
                &hospitals,
                cfg.ambulances,
                &fire,
                cfg.fire_trucks,
                cfg.seed.wrapping_add(1),
                start,
            );
            tracing::info!(units = fleet.len(), "demo emergency units");
            match transports.http.clone() {
                Some(http) => osmand::spawn_units(vehicle_every, http.base_url, http.tracker_login, move |t| {
                    let mut b = fleet.step(t);
                    b.retain(|o| o.position.is_none_or(|p| bbox.contains(p)));
                    b
                }),
                None => spawn_feed(emergency::SOURCE, vehicle_every, ctx.ingest.clone(), bbox, move |t| fleet.step(t)),
            }
            match police_fleet(&cfg, graph.clone(), start) {
                Ok(mut police) => {
                    tracing::info!(units = police.len(), "demo police patrols");
                    let ingest = ctx.ingest.clone();
                    spawn_feed(emergency::POLICE_SOURCE, vehicle_every, ingest, bbox, move |t| police.step(t));
                }
                Err(e) => tracing::warn!(error = %e, "demo police disabled"),
            }
        }
        None => tracing::warn!("no roads layer: the demo runs without buses, emergency vehicles and police"),
    }

    let vessels = vessels::VesselFleet::new(cfg.vessels, cfg.fishing_boats, cfg.seed.wrapping_add(2));
    tracing::info!(vessels = vessels.len(), "demo vessels");
    let vessel_every = Duration::from_millis(cfg.vessel_interval_ms.max(100));
    match transports.ais_health.clone() {
        Some(health) => transport::spawn_vessels_over_ais(vessel_every, ctx.ingest.clone(), health, move |t| {
            let mut b = vessels.step(t);
            b.retain(|o| o.position.is_none_or(|p| bbox.contains(p)));
            b
        }),
        None => spawn_feed(vessels::SOURCE, vessel_every, ctx.ingest.clone(), bbox, move |t| vessels.step(t)),
    }

    if let (Some(file), Some(health)) = (&cfg.ais_replay, transports.ais_health.clone()) {
        transport::spawn_ais_replay(ctx.base_dir.join(file), ctx.ingest.clone(), health);
    }
    if let (Some(file), Some(http)) = (&cfg.gtfs_rt_replay, transports.http.clone()) {
        gtfs_rt::spawn_replay(ctx.base_dir.join(file), http, ctx.ingest.clone());
    }

    let rain = series::load_rain(&ctx.base_dir.join(&cfg.rain_series));
    let pm25 = series::load_pm25(&ctx.base_dir.join(&cfg.pm25_series));
    match (rain, pm25) {
        (Ok(rain), Ok(pm25)) => {
            let sites = graph.as_ref().map(|g| sensors::flood_sites(g, cfg.flood_sensors)).unwrap_or_default();
            let net = sensors::SensorNetwork::new(
                rain,
                pm25,
                sites,
                cfg.rain_gauges,
                cfg.air_quality_stations,
                cfg.series_seconds_per_hour,
                start,
                cfg.seed.wrapping_add(3),
            );
            let (flood, gauges, aq) = net.counts();
            tracing::info!(flood, gauges, aq, "demo sensors");
            let every = Duration::from_millis(cfg.sensor_interval_ms.max(100));
            match transports.mqtt.clone() {
                Some(mqtt) => transport::spawn_sensors_over_mqtt(every, mqtt, move |t| net.step(t)),
                None => spawn_feed(sensors::SOURCE, every, ctx.ingest.clone(), bbox, move |t| net.step(t)),
            }
        }
        (rain, pm25) => {
            for e in [rain.err(), pm25.err()].into_iter().flatten() {
                tracing::warn!(error = %e, "demo sensors disabled");
            }
        }
    }
}

/// Runs `step` every `period` and submits its observations; keeps only those inside the city bbox.
fn spawn_feed<F>(source: &'static str, period: Duration, ingest: IngestHandle, bbox: BBox, mut step: F)
where
    F: FnMut(Timestamp) -> Vec<Observation> + Send + 'static,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let mut batch = step(now());
            batch.retain(|o| o.position.is_none_or(|p| bbox.contains(p)));
            if !submit_with_retry(&ingest, source, batch).await {
                tracing::warn!(source, "ingest writer stopped: demo feed ends");
                return;
            }
        }
    });
}

/// Submits a batch, waiting and retrying while the queue is full. False when the writer is gone.
async fn submit_with_retry(ingest: &IngestHandle, source: &str, batch: Vec<Observation>) -> bool {
    let mut wait = Duration::from_millis(50);
    for _ in 0..8 {
        match ingest.submit(source, batch.clone()).await {
            Ok(acc) => {
                if !acc.rejected.is_empty() {
                    tracing::warn!(source, rejected = acc.rejected.len(), first = ?acc.rejected.first(), "demo observations rejected");
                }
                return true;
            }
            Err(SubmitError::QueueFull) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
            Err(e) => {
                tracing::warn!(source, error = %e, "ingest unavailable");
                return false;
            }
        }
    }
    // Still full after ~3 s: drop this tick; the next one carries fresher positions anyway.
    tracing::warn!(source, "ingest queue full: demo batch dropped");
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests;
