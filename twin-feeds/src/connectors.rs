//! GTFS, OsmAnd trackers and GPX replays: their config sections and start-up.
//!
//! ```toml
//! [gtfs]                                  # all optional
//! static = "gtfs/danang_bus.zip"          # GTFS zip: `gtfs_routes` and `gtfs_stops` reference layers
//! realtime = ["http://127.0.0.1:9000/vehicle_positions.pb"]   # GTFS-realtime feeds to poll
//! poll_interval_s = 15                    # (default 15)
//! max_backoff_s = 300                     # after errors (default 300)
//!
//! [trackers]                              # OsmAnd / Traccar Client on /ingest/osmand
//! unknown_devices = "reject"              # "reject" (404, the default) or an entity kind, e.g. "police_unit"
//!
//! [[devices]]
//! id = "amb-07"                           # the tracker's device id (`id=` / `device_id`)
//! kind = "ambulance"                      # ambulance | fire_truck | police_unit | …
//! agency = "Trung tâm Cấp cứu 115"        # optional
//! call_sign = "CC-07"                     # optional
//!
//! [[gpx_replay]]                          # a recorded GPX track driven as a live vehicle
//! gpx = "gps/patrol.gpx"
//! kind = "police_unit"
//! id = "pu-3"
//! speedup = 2.0                           # (default 1)
//! start_at = [108.2208, 16.0678]          # move the first point here (default: as recorded)
//! repeat = true                           # (default true)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use twin_core::EntityKind;
use twin_ingest::gtfs::{GtfsError, GtfsFeed};
use twin_ingest::osmand::{Device, DeviceRegistry, UnknownDevices};
use twin_layers::Layer;

use twin_runtime::Core;

use crate::feeds::Feeds;
use crate::{gpx_replay, gtfs_rt_poll};

/// `[gtfs]` of the city config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GtfsSection {
    #[serde(rename = "static")]
    pub static_zip: Option<PathBuf>,
    #[serde(default)]
    pub realtime: Vec<String>,
    #[serde(default = "default_poll_s")]
    pub poll_interval_s: u64,
    #[serde(default = "default_backoff_s")]
    pub max_backoff_s: u64,
}

fn default_poll_s() -> u64 {
    15
}

fn default_backoff_s() -> u64 {
    300
}

/// `[trackers]` of the city config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackersSection {
    /// `"reject"` or an entity kind name.
    pub unknown_devices: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedConfigError {
    #[error("gtfs.static {path}: {source}")]
    Gtfs { path: PathBuf, source: GtfsError },
    #[error("gtfs.static {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("trackers.unknown_devices: {0:?} is neither \"reject\" nor an entity kind")]
    UnknownDevices(String),
    #[error("devices: id {0:?} is listed twice")]
    DuplicateDevice(String),
}

/// The route and stop layers of the configured static GTFS feed (none without one).
pub fn gtfs_layers(section: Option<&GtfsSection>, base_dir: &Path) -> Result<Vec<Layer>, FeedConfigError> {
    let Some(path) = section.and_then(|s| s.static_zip.as_ref()) else { return Ok(Vec::new()) };
    let path = base_dir.join(path);
    let file = std::fs::File::open(&path).map_err(|source| FeedConfigError::Read { path: path.clone(), source })?;
    let feed = GtfsFeed::from_zip_reader(std::io::BufReader::new(file))
        .map_err(|source| FeedConfigError::Gtfs { path: path.clone(), source })?;
    Ok(feed.layers("gtfs"))
}

/// The tracker registry from `[[devices]]` and `[trackers]`.
pub fn device_registry(devices: &[Device], trackers: &TrackersSection) -> Result<DeviceRegistry, FeedConfigError> {
    let unknown = match trackers.unknown_devices.as_deref() {
        None | Some("reject") => UnknownDevices::Reject,
        Some(kind) => UnknownDevices::AcceptAs(
            kind.parse::<EntityKind>().map_err(|_| FeedConfigError::UnknownDevices(kind.to_owned()))?,
        ),
    };
    let mut seen = std::collections::HashSet::new();
    for d in devices {
        if !seen.insert(d.id.as_str()) {
            return Err(FeedConfigError::DuplicateDevice(d.id.clone()));
        }
    }
    Ok(DeviceRegistry::new(devices.iter().cloned(), unknown))
}

/// Starts one poller per GTFS-realtime URL and one task per GPX replay. Call inside a runtime.
pub fn start(
    core: &Core,
    feeds: &Feeds,
    gtfs: Option<&GtfsSection>,
    gpx: &[gpx_replay::GpxReplaySection],
    base_dir: &Path,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for r in gpx {
        let (section, dir, ingest) = (r.clone(), base_dir.to_owned(), core.ingest.clone());
        let health = feeds.registry.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = gpx_replay::run(section, dir, ingest, health).await {
                tracing::warn!(error = %e, "GPX replay stopped");
            }
        }));
    }
    if let Some(g) = gtfs {
        for (i, url) in g.realtime.iter().enumerate() {
            let cfg = gtfs_rt_poll::PollConfig {
                url: url.clone(),
                source: if g.realtime.len() == 1 { "gtfs-rt".to_owned() } else { format!("gtfs-rt:{i}") },
                interval: Duration::from_secs(g.poll_interval_s.max(1)),
                max_backoff: Duration::from_secs(g.max_backoff_s.max(g.poll_interval_s.max(1))),
                ..gtfs_rt_poll::PollConfig::default()
            };
            tracing::info!(url = %cfg.url, source = %cfg.source, "polling GTFS-realtime feed");
            tasks.push(gtfs_rt_poll::spawn(cfg, core.ingest.clone(), Some(feeds.registry.clone())).0);
        }
    }
    tasks
}
