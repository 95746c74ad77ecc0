//! Start-up of the server core: open the durable log (recovering the model), register the commit
//! observers (tile versions, sensor series), start the single writer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use twin_core::rules::RuleSet;
use twin_core::store::{FsyncPolicy, RecoveryReport, Store, StoreConfig, StoreError};
use twin_core::{Twin, TwinConfig};
use twin_layers::ReferenceLayers;

use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::series::SeriesStore;
use crate::tile_service::{TileService, TilesSection};
use crate::writer::{IngestHandle, Writer, WriterConfig};

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the writer thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("[tiles]: {0}")]
    Tiles(#[from] twin_tiles::TileError),
}

/// Everything needed to start the core over one data directory.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub data_dir: PathBuf,
    pub fsync: FsyncPolicy,
    pub repair: bool,
    pub snapshot_after_bytes: Option<u64>,
    pub writer: WriterConfig,
    pub twin: TwinConfig,
    pub rules: RuleSet,
    /// `[tiles]`: zoom range, cache size and the terrain DEM (its path relative to `base_dir`).
    pub tiles: TilesSection,
    pub base_dir: PathBuf,
}

impl RuntimeOptions {
    /// Defaults around a data directory (tests, tools).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            fsync: FsyncPolicy::Always,
            repair: false,
            snapshot_after_bytes: None,
            writer: WriterConfig::default(),
            twin: TwinConfig::default(),
            rules: RuleSet::default(),
            tiles: TilesSection::default(),
            base_dir: PathBuf::from("."),
        }
    }
}

/// The started core: the model, its writer and the commit observers, complete before any route or
/// feed is built on top of it.
#[derive(Clone)]
pub struct Core {
    /// Readers take read locks; only the writer thread takes the write lock.
    pub twin: Arc<RwLock<Twin>>,
    pub ingest: IngestHandle,
    pub hub: LiveHub,
    pub metrics: Arc<Metrics>,
    /// Vector and terrain tiles, their cache and dirty-tile versions.
    pub tiles: Arc<TileService>,
    /// Recent sensor readings for charts.
    pub series: Arc<SeriesStore>,
    pub started: Instant,
}

impl Core {
    pub fn log_seq(&self) -> u64 {
        self.ingest.shared().seq.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn queue_depth(&self) -> usize {
        self.ingest.shared().queue_depth.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A started core and the writer thread to stop.
pub struct Running {
    pub core: Core,
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
pub fn start(opts: RuntimeOptions, layers: &ReferenceLayers) -> Result<Running, BootError> {
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
    let tiles = TileService::new(layers, &twin.read());
    tiles.configure(&opts.tiles, &opts.base_dir)?;
    let observer = tiles.clone();
    hub.observe(Arc::new(move |twin, applied| observer.observe(twin, applied)));
    let series = SeriesStore::recording(&twin.read(), &hub);
    let metrics = Arc::new(Metrics::default());
    let writer = Writer::spawn(store, twin.clone(), hub.clone(), metrics.clone(), opts.writer.clone(), seq)?;
    let core = Core { twin, ingest: writer.handle(), hub, metrics, tiles, series, started: Instant::now() };
    Ok(Running { core, report, writer })
}
