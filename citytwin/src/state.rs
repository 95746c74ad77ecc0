//! What every handler can reach: the runtime core and the parts built around it, complete before
//! the router exists.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use parking_lot::RwLock;
use twin_core::{BBox, Twin};
use twin_feeds::Feeds;
use twin_ingest::osmand::DeviceRegistry;
use twin_layers::ReferenceLayers;
use twin_runtime::live::LiveHub;
use twin_runtime::metrics::Metrics;
use twin_runtime::series::SeriesStore;
use twin_runtime::tile_service::TileService;
use twin_runtime::{Core, IngestHandle};
use twin_scenarios::jobs::ScenarioJobs;

use crate::routes::viewer::ViewerSettings;
use twin_feeds::reports::ReportStore;

/// Default largest request body (16 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// The city this server serves.
#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub bbox: BBox,
}

#[derive(Clone)]
pub struct AppState {
    /// Readers take read locks; only the writer thread takes the write lock.
    pub twin: Arc<RwLock<Twin>>,
    pub ingest: IngestHandle,
    pub hub: LiveHub,
    pub metrics: Arc<Metrics>,
    /// Vector and terrain tiles, their cache and dirty-tile versions.
    pub tiles: Arc<TileService>,
    /// Recent sensor readings for the viewer's charts (`/api/entities/{id}/series`).
    pub series: Arc<SeriesStore>,
    pub started: Instant,
    pub layers: Arc<ReferenceLayers>,
    pub city_name: String,
    pub city_bbox: BBox,
    pub body_limit: usize,
    /// OsmAnd tracker registry (`[[devices]]`).
    pub devices: Arc<DeviceRegistry>,
    /// Citizen-report photos, thumbnails and private records under the data dir.
    pub reports: Arc<ReportStore>,
    /// Feed health: per-source counters, HTTP ingest rate limits, stale-feed alerts.
    pub feeds: Arc<Feeds>,
    /// Scenario jobs (flood, traffic) started over the API.
    pub scenarios: Arc<ScenarioJobs>,
    /// Configured cameras: calibration, view footprints, per-camera workers' status.
    #[cfg(feature = "cameras")]
    pub cameras: Arc<twin_cameras::CameraRegistry>,
    /// The `[viewer]` section (wall layouts) served by `/api/viewer`.
    pub viewer: Arc<ViewerSettings>,
    /// Accounts, tokens, tickets and the compiled grants.
    pub auth: crate::auth::AuthLayer,
    /// Where clients reach this server (`[city] public_url`): links are built from it.
    pub public_url: Arc<str>,
    /// Web origins allowed to open live sessions.
    pub origins: Arc<[String]>,
    /// The data directory (the log, for the audit trail).
    pub data_dir: Arc<std::path::Path>,
}

/// The parts of [`AppState`] that are not the core.
pub struct Parts {
    pub layers: Arc<ReferenceLayers>,
    pub city: City,
    pub body_limit: usize,
    pub devices: Arc<DeviceRegistry>,
    pub reports: Arc<ReportStore>,
    pub feeds: Arc<Feeds>,
    pub scenarios: Arc<ScenarioJobs>,
    #[cfg(feature = "cameras")]
    pub cameras: Arc<twin_cameras::CameraRegistry>,
    pub viewer: Arc<ViewerSettings>,
    pub access: Arc<twin_auth::Access>,
    pub public_url: String,
    pub origins: Vec<String>,
    pub data_dir: std::path::PathBuf,
}

impl Parts {
    /// Empty parts around a data directory (tests, tools): no layers, devices, cameras or walls.
    pub fn empty(data_dir: &std::path::Path, access: Arc<twin_auth::Access>) -> Self {
        Self {
            layers: Arc::default(),
            city: City { name: "city".into(), bbox: BBox::WORLD },
            body_limit: DEFAULT_BODY_LIMIT,
            devices: Arc::default(),
            reports: Arc::new(ReportStore::new(data_dir)),
            feeds: Arc::default(),
            scenarios: Arc::default(),
            #[cfg(feature = "cameras")]
            cameras: Arc::default(),
            viewer: Arc::default(),
            access,
            public_url: "http://localhost".into(),
            origins: Vec::new(),
            data_dir: data_dir.to_path_buf(),
        }
    }
}

impl AppState {
    pub fn new(core: &Core, parts: Parts) -> Self {
        Self {
            twin: core.twin.clone(),
            ingest: core.ingest.clone(),
            hub: core.hub.clone(),
            metrics: core.metrics.clone(),
            tiles: core.tiles.clone(),
            series: core.series.clone(),
            started: core.started,
            layers: parts.layers,
            city_name: parts.city.name,
            city_bbox: parts.city.bbox,
            body_limit: parts.body_limit,
            devices: parts.devices,
            reports: parts.reports,
            feeds: parts.feeds,
            scenarios: parts.scenarios,
            #[cfg(feature = "cameras")]
            cameras: parts.cameras,
            viewer: parts.viewer,
            auth: crate::auth::AuthLayer::new(parts.access),
            public_url: parts.public_url.trim_end_matches('/').into(),
            origins: parts.origins.into(),
            data_dir: parts.data_dir.into(),
        }
    }

    pub fn log_seq(&self) -> u64 {
        self.ingest.shared().seq.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn queue_depth(&self) -> usize {
        self.ingest.shared().queue_depth.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl FromRef<AppState> for Core {
    fn from_ref(st: &AppState) -> Self {
        Core {
            twin: st.twin.clone(),
            ingest: st.ingest.clone(),
            hub: st.hub.clone(),
            metrics: st.metrics.clone(),
            tiles: st.tiles.clone(),
            series: st.series.clone(),
            started: st.started,
        }
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(st: &AppState) -> Self {
        st.metrics.clone()
    }
}

impl FromRef<AppState> for crate::auth::AuthLayer {
    fn from_ref(st: &AppState) -> Self {
        st.auth.clone()
    }
}

impl FromRef<AppState> for Arc<Feeds> {
    fn from_ref(st: &AppState) -> Self {
        st.feeds.clone()
    }
}
