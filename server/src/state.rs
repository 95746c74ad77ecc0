//! What every handler can reach.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use twin_core::{BBox, Twin};
use twin_layers::ReferenceLayers;

use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::tile_service::TileService;
use crate::writer::IngestHandle;

/// Default largest request body (16 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

#[derive(Clone)]
pub struct AppState {
    /// Readers take read locks; only the writer thread takes the write lock.
    pub twin: Arc<RwLock<Twin>>,
    pub ingest: IngestHandle,
    pub hub: LiveHub,
    pub layers: Arc<ReferenceLayers>,
    pub metrics: Arc<Metrics>,
    pub city_name: String,
    pub city_bbox: BBox,
    pub started: Instant,
    pub body_limit: usize,
    /// Vector and terrain tiles, their cache and dirty-tile versions.
    pub tiles: Arc<TileService>,
    /// OsmAnd tracker registry (`[[devices]]`); rejects every device until the config fills it.
    pub devices: Arc<RwLock<twin_ingest::osmand::DeviceRegistry>>,
    /// Citizen-report photos, thumbnails and private records under the data dir.
    pub reports: Arc<crate::report_store::ReportStore>,
    /// Feed health: per-source counters, HTTP ingest rate limits, stale-feed alerts.
    pub feeds: Arc<crate::feeds::Feeds>,
    /// Scenario jobs (flood, traffic) started over the API.
    pub scenarios: Arc<crate::scenario_jobs::ScenarioJobs>,
    /// Configured cameras: calibration, view footprints, per-camera workers' status.
    pub cameras: Arc<crate::cameras::CameraRegistry>,
    /// Recent sensor readings for the viewer's charts (`/api/entities/{id}/series`).
    pub series: Arc<crate::routes::history::SeriesStore>,
    /// The `[viewer]` section (wall layouts) served by `/api/viewer`.
    pub viewer: Arc<crate::routes::viewer::ViewerSettings>,
}

impl AppState {
    pub fn log_seq(&self) -> u64 {
        self.ingest.shared().seq.load(Ordering::Relaxed)
    }

    pub fn queue_depth(&self) -> usize {
        self.ingest.shared().queue_depth.load(Ordering::Relaxed)
    }
}
