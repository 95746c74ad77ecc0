//! Composition: open the durable log (recovering the model), start the writer, build the app state.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use twin_core::rules::RuleSet;
use twin_core::store::{FsyncPolicy, RecoveryReport, Store, StoreConfig, StoreError};
use twin_core::{BBox, TwinConfig};
use twin_layers::ReferenceLayers;

use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::state::{AppState, DEFAULT_BODY_LIMIT};
use crate::tile_service::TileService;
use crate::writer::{Writer, WriterConfig};

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the writer thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Everything needed to start a server over one data directory.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    pub fsync: FsyncPolicy,
    pub repair: bool,
    pub snapshot_after_bytes: Option<u64>,
    pub writer: WriterConfig,
    pub body_limit: usize,
    pub city_name: String,
    pub city_bbox: BBox,
    pub twin: TwinConfig,
    pub rules: RuleSet,
}

impl ServerOptions {
    /// Defaults around a data directory (tests, tools).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            fsync: FsyncPolicy::Always,
            repair: false,
            snapshot_after_bytes: None,
            writer: WriterConfig::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            city_name: "city".into(),
            city_bbox: BBox::WORLD,
            twin: TwinConfig::default(),
            rules: RuleSet::default(),
        }
    }
}

/// A started server core (no listener): the state for `app()` and the writer to stop.
pub struct Running {
    pub state: AppState,
    pub report: RecoveryReport,
    writer: Writer,
}

impl Running {
    /// Stops the writer after it committed what was queued, and fsyncs the log. Blocking.
    pub fn shutdown(self) {
        self.writer.shutdown();
    }
}

/// Opens the store (recovering snapshot + log tail) and starts the writer. Blocking I/O.
pub fn start(opts: ServerOptions, layers: Arc<ReferenceLayers>) -> Result<Running, BootError> {
    let mut store_cfg = StoreConfig::new(&opts.data_dir);
    store_cfg.fsync = opts.fsync;
    store_cfg.repair = opts.repair;
    if let Some(b) = opts.snapshot_after_bytes {
        store_cfg.snapshot_after_bytes = b;
    }
    let started = Instant::now();
    let (store, twin, report) = Store::open(store_cfg, opts.twin.clone(), opts.rules.clone())?;
    tracing::info!(
        entities = twin.len(),
        snapshot_seq = ?report.snapshot_seq,
        replayed_records = report.replayed_records,
        replayed_observations = report.replayed_observations,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "recovered {}",
        opts.data_dir.display()
    );
    if let Some((file, offset, bytes)) = &report.truncated {
        tracing::warn!(file = %file.display(), offset, bytes, "torn tail of the log truncated");
    }
    if let Some((file, offset, moved_to)) = &report.repaired {
        tracing::warn!(file = %file.display(), offset, moved_to = %moved_to.display(), "log repaired: cut at a corrupt record");
    }
    let seq = report.replayed_records + report.snapshot_seq.unwrap_or(0);
    let twin = Arc::new(RwLock::new(twin));
    let hub = LiveHub::new(1024);
    // Registered before the writer starts so no commit escapes dirty-tile tracking.
    let tiles = TileService::new(&layers, &twin.read());
    let observer = tiles.clone();
    hub.observe(Arc::new(move |twin, applied| observer.observe(twin, applied)));
    let series = crate::routes::history::SeriesStore::recording(&twin.read(), &hub);
    let metrics = Arc::new(Metrics::default());
    let writer = Writer::spawn(store, twin.clone(), hub.clone(), metrics.clone(), opts.writer.clone(), seq)?;
    let state = AppState {
        twin,
        ingest: writer.handle(),
        hub,
        layers,
        metrics,
        city_name: opts.city_name,
        city_bbox: opts.city_bbox,
        started: Instant::now(),
        body_limit: opts.body_limit,
        tiles,
        devices: crate::connectors::empty_registry(),
        reports: Arc::new(crate::report_store::ReportStore::new(&opts.data_dir)),
        feeds: Arc::default(),
        scenarios: Arc::default(),
        cameras: Arc::default(),
        series,
        viewer: Arc::default(),
    };
    Ok(Running { state, report, writer })
}
