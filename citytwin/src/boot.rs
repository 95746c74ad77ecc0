//! A server without a listener or feeds, for tests and tools that drive the router directly
//! (`citytwin serve` composes the full server in [`crate::serve`]).

use std::path::PathBuf;
use std::sync::Arc;

use twin_core::store::RecoveryReport;
use twin_core::BBox;
use twin_ingest::osmand::DeviceRegistry;
use twin_layers::ReferenceLayers;
use twin_runtime::RuntimeOptions;

use crate::state::{AppState, City, Parts, DEFAULT_BODY_LIMIT};

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub runtime: RuntimeOptions,
    pub body_limit: usize,
    pub city_name: String,
    pub city_bbox: BBox,
    /// OsmAnd tracker registry (`[[devices]]`); empty rejects every device.
    pub devices: Arc<DeviceRegistry>,
    /// Agencies and grants; by default the Đà Nẵng demo's.
    pub access: twin_auth::AuthConfig,
}

impl ServerOptions {
    /// Defaults around a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            runtime: RuntimeOptions::new(data_dir),
            body_limit: DEFAULT_BODY_LIMIT,
            city_name: "city".into(),
            city_bbox: BBox::WORLD,
            devices: Arc::default(),
            access: twin_auth::danang_demo().unwrap_or_default(),
        }
    }
}

/// A started core and the state for `app()`.
pub struct Running {
    pub state: AppState,
    pub report: RecoveryReport,
    runtime: twin_runtime::Running,
}

impl Running {
    /// Stops the writer after it committed what was queued, and fsyncs the log. Blocking.
    pub fn shutdown(self) {
        self.runtime.shutdown();
    }
}

/// Opens the store (recovering snapshot + log tail), starts the writer and builds the state with
/// empty feeds, devices and cameras, and the accounts of the data dir. Blocking I/O.
pub fn start(opts: ServerOptions, layers: Arc<ReferenceLayers>) -> anyhow::Result<Running> {
    let data_dir = opts.runtime.data_dir.clone();
    std::fs::create_dir_all(&data_dir)?;
    let policy = twin_auth::Policy::new(&opts.access)?;
    let access = Arc::new(twin_auth::Access::open(&data_dir, policy, opts.access.auth.clone())?);
    let runtime = twin_runtime::start(opts.runtime, &layers)?;
    let mut parts = Parts::empty(&data_dir, access);
    parts.layers = layers;
    parts.city = City { name: opts.city_name, bbox: opts.city_bbox };
    parts.body_limit = opts.body_limit;
    parts.devices = opts.devices;
    let state = AppState::new(&runtime.core, parts);
    let report = runtime.report.clone();
    Ok(Running { state, report, runtime })
}
