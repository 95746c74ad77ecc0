//! The city config file (TOML). Unknown keys are errors, so typos do not pass silently.
//!
//! ```toml
//! [city]
//! name = "Da Nang"
//! bbox = [107.9, 15.9, 108.35, 16.2]          # minLon, minLat, maxLon, maxLat (WGS84)
//!
//! [layers]                                     # twin_layers::LayerPaths; paths relative to this file
//! roads = "osm/roads.geojson"
//! buildings = "osm/buildings.geojson"
//! water = "osm/water.geojson"
//! landuse = "osm/landuse.geojson"
//! pois = "osm/pois.geojson"
//! boundaries = "boundaries/districts.geojson"
//!
//! [store]                                      # all optional
//! fsync = "interval"                           # "always" | "interval" (default "always")
//! fsync_interval_ms = 200                      # used with "interval" (default 100)
//! snapshot_after_mb = 256                      # snapshot after this much log (default 256)
//!
//! [model]                                      # all optional
//! h3_resolution = 9                            # 0..=15 (default 9)
//! track_capacity = 256                         # track points kept per entity (default 256)
//! track_max_age_s = 7200                       # (default 7200)
//! alert_capacity = 10000                       # alerts kept in memory (default 10000)
//! [model.expiry_s]                             # per kind (snake_case): seconds unseen before removal
//! bus = 600
//! vessel = 1800
//!
//! [[geofences]]
//! id = "tien-sa-port"
//! name = "Tiên Sa port"
//! kinds = ["vessel", "fishing_boat"]           # optional, default all kinds
//! hysteresis_m = 30                            # optional, default 0
//! severity = "moderate"                        # minor | moderate | severe | extreme (default moderate)
//! on_enter = true                              # optional, default true
//! on_exit = true                               # optional, default true
//! polygon = [[108.20, 16.10], [108.23, 16.10], [108.23, 16.13], [108.20, 16.13]]
//! # or instead of `polygon`: geojson = "zones/port.geojson" (Polygon/MultiPolygon, Feature or
//! # FeatureCollection; every polygon in it is part of the fence)
//!
//! [[thresholds]]
//! id = "flood-high"
//! name = "Water level high"
//! kinds = ["flood_sensor"]                     # optional, default all kinds
//! property = "water_level_m"
//! above = 0.5                                  # exactly one of `above` / `below`
//! duration_s = 60                              # optional, default 0
//! severity = "severe"
//!
//! [[stale]]
//! id = "sensor-silent"
//! kinds = ["flood_sensor", "rain_gauge"]       # optional, default all kinds
//! factor = 3.0                                 # silent longer than factor × usual interval
//! min_silence_s = 120                          # and at least this long
//! severity = "minor"
//!
//! [demo]                                       # twin_demo::DemoConfig (simulators), optional
//!
//! [gtfs]        # GTFS static layers + GTFS-realtime polling, [trackers] and [[devices]] (OsmAnd
//!               # tracker registry): see twin_feeds::connectors
//!
//! [feeds]       # feed health and HTTP rate limits, [mqtt] sensors, [[ais]] feeds, [[sensors]]
//!               # registry: see twin_feeds::feeds
//!
//! [tiles]                                      # twin_runtime::tile_service::TilesSection, optional
//! dem = "dem/danang_srtm_gl1_30m.tif"          # GeoTIFF DEM served as terrain tiles
//! max_zoom = 18                                # highest zoom served (default 18, at most 24)
//! cache_mb = 256                               # tile cache size (default 256; 0: no cache)
//!
//! [[cameras]]   # video sources, calibration, counting lines: see twin_cameras
//! [viewer]      # map wall layouts: see crate::routes::viewer
//! [postgis]     # PostGIS tile layers and entity snapshots: see crate::postgis_backend
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use twin_core::rules::{Comparison, Geofence, RuleSet, Severity, StaleRule, ThresholdRule};
use twin_core::store::FsyncPolicy;
use twin_core::{BBox, EntityKind, KindFilter, TwinConfig};
use twin_layers::LayerPaths;

use twin_demo::DemoConfig;
use twin_runtime::geojson;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config {path}: {field}: {reason}")]
    Invalid { path: PathBuf, field: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityConfig {
    pub city: CitySection,
    #[serde(default)]
    pub layers: LayerPaths,
    #[serde(default)]
    pub store: StoreSection,
    #[serde(default)]
    pub model: ModelSection,
    #[serde(default)]
    pub geofences: Vec<GeofenceSection>,
    #[serde(default)]
    pub thresholds: Vec<ThresholdSection>,
    #[serde(default)]
    pub stale: Vec<StaleSection>,
    #[serde(default)]
    pub demo: DemoConfig,
    #[serde(default)]
    pub tiles: twin_runtime::tile_service::TilesSection,
    /// `[gtfs]`: static feed layers and GTFS-realtime polling (twin_feeds::connectors).
    #[serde(default)]
    pub gtfs: Option<twin_feeds::connectors::GtfsSection>,
    /// `[trackers]`: OsmAnd tracker options (twin_feeds::connectors).
    #[serde(default)]
    pub trackers: twin_feeds::connectors::TrackersSection,
    /// `[[devices]]`: tracker device id → kind, agency, call sign (twin_feeds::connectors).
    #[serde(default)]
    pub devices: Vec<twin_ingest::osmand::Device>,
    /// `[[gpx_replay]]`: recorded tracks driven as live vehicles (twin_feeds::gpx_replay).
    #[serde(default)]
    pub gpx_replay: Vec<twin_feeds::gpx_replay::GpxReplaySection>,
    /// `[feeds]`: stale factor, HTTP ingest rate limit (twin_feeds::feeds).
    #[serde(default)]
    pub feeds: twin_feeds::feeds::FeedsSection,
    /// `[mqtt]`: MQTT sensors; without `url` an embedded broker (twin_feeds::feeds).
    #[serde(default)]
    pub mqtt: Option<twin_feeds::feeds::MqttSection>,
    /// `[[ais]]`: AIS over TCP, UDP or a replayed file (twin_feeds::feeds).
    #[serde(default)]
    pub ais: Vec<twin_feeds::feeds::AisSection>,
    /// `[[sensors]]`: fixed sensors' kind and position by id (twin_ingest::mqtt).
    #[serde(default)]
    pub sensors: Vec<twin_ingest::mqtt::SensorConfig>,
    /// `[[cameras]]`: video sources, calibration, counting lines (twin_cameras).
    #[cfg(feature = "cameras")]
    #[serde(default)]
    pub cameras: Vec<twin_cameras::CameraSection>,
    /// `[[cameras]]` in a build without the `cameras` feature: read and ignored (with a warning).
    #[cfg(not(feature = "cameras"))]
    #[serde(default)]
    pub cameras: Vec<toml::Value>,
    /// `[viewer]`: map wall layouts and viewer defaults (crate::routes::viewer).
    #[serde(default)]
    pub viewer: crate::routes::viewer::ViewerSection,
    /// `[postgis]`: optional PostGIS backend: tile layers from tables, entity snapshots
    /// (crate::postgis_backend).
    #[serde(default)]
    pub postgis: Option<crate::postgis_backend::PostgisSection>,
    /// `[[agencies]]`, `[sensitive]`, `[[grants]]`, `[auth]`: who may see and do what
    /// (twin_auth::config documents them).
    #[serde(default)]
    pub agencies: Vec<twin_auth::Agency>,
    #[serde(default)]
    pub sensitive: twin_auth::config::Sensitive,
    #[serde(default)]
    pub grants: Vec<twin_auth::Grant>,
    #[serde(default)]
    pub auth: twin_auth::AuthSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitySection {
    pub name: String,
    pub bbox: [f64; 4],
    /// The address clients reach the server at (`https://ioc.example.vn`): links in documents
    /// are built from it, never from a request's `Host`. Default: the listen address.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Web origins allowed to open `/ws` and `/events` besides `public_url`'s own.
    #[serde(default)]
    pub origins: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FsyncMode {
    Always,
    Interval,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    pub fsync: FsyncMode,
    pub fsync_interval_ms: u64,
    pub snapshot_after_mb: u64,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self { fsync: FsyncMode::Always, fsync_interval_ms: 100, snapshot_after_mb: 256 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    pub h3_resolution: u8,
    pub track_capacity: usize,
    pub track_max_age_s: i64,
    pub alert_capacity: usize,
    pub expiry_s: BTreeMap<String, i64>,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            h3_resolution: 9,
            track_capacity: 256,
            track_max_age_s: 7200,
            alert_capacity: 10_000,
            expiry_s: BTreeMap::new(),
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeofenceSection {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    #[serde(default)]
    pub hysteresis_m: f64,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default = "default_true")]
    pub on_enter: bool,
    #[serde(default = "default_true")]
    pub on_exit: bool,
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    pub geojson: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSection {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    pub property: String,
    #[serde(default)]
    pub above: Option<f64>,
    #[serde(default)]
    pub below: Option<f64>,
    #[serde(default)]
    pub duration_s: f64,
    #[serde(default)]
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaleSection {
    pub id: String,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    pub factor: f64,
    #[serde(default)]
    pub min_silence_s: f64,
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// A loaded config with everything resolved relative to the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub path: PathBuf,
    /// Directory of the config file; relative paths in it are relative to this.
    pub base_dir: PathBuf,
    pub raw: CityConfig,
    pub bbox: BBox,
    pub twin: TwinConfig,
    pub rules: RuleSet,
    /// The compiled grants.
    pub policy: twin_auth::Policy,
}

impl LoadedConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, path, &base_dir)
    }

    /// Parses config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Self, ConfigError> {
        let raw: CityConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        let invalid = |field: &str, reason: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            field: field.to_owned(),
            reason,
        };
        let [a, b, c, d] = raw.city.bbox;
        let bbox = BBox::new(a, b, c, d).map_err(|e| invalid("city.bbox", e.to_string()))?;
        let twin = twin_config(&raw.model).map_err(|(f, r)| invalid(&f, r))?;
        let rules = rule_set(&raw, base_dir).map_err(|(f, r)| invalid(&f, r))?;
        let policy = twin_auth::Policy::new(&raw.access()).map_err(|e| invalid("grants", e.to_string()))?;
        Ok(Self { path: path.to_path_buf(), base_dir: base_dir.to_path_buf(), raw, bbox, twin, rules, policy })
    }

    pub fn fsync_policy(&self) -> FsyncPolicy {
        match self.raw.store.fsync {
            FsyncMode::Always => FsyncPolicy::Always,
            FsyncMode::Interval => {
                FsyncPolicy::Interval(Duration::from_millis(self.raw.store.fsync_interval_ms.max(1)))
            }
        }
    }
}

impl CityConfig {
    /// The access sections as twin-auth reads them.
    pub fn access(&self) -> twin_auth::AuthConfig {
        twin_auth::AuthConfig {
            agencies: self.agencies.clone(),
            sensitive: self.sensitive.clone(),
            grants: self.grants.clone(),
            auth: self.auth.clone(),
        }
    }
}

type FieldError = (String, String);

fn twin_config(m: &ModelSection) -> Result<TwinConfig, FieldError> {
    let h3_resolution =
        h3o::Resolution::try_from(m.h3_resolution).map_err(|e| ("model.h3_resolution".to_owned(), e.to_string()))?;
    let mut cfg = TwinConfig {
        h3_resolution,
        track_capacity: m.track_capacity,
        track_max_age_ms: m.track_max_age_s.saturating_mul(1000),
        alert_capacity: m.alert_capacity,
        ..TwinConfig::default()
    };
    for (name, secs) in &m.expiry_s {
        let kind: EntityKind =
            name.parse().map_err(|e: twin_core::Error| (format!("model.expiry_s.{name}"), e.to_string()))?;
        if *secs <= 0 {
            return Err((format!("model.expiry_s.{name}"), "must be a positive number of seconds".into()));
        }
        cfg = cfg.with_expiry(kind, Some(secs.saturating_mul(1000)));
    }
    Ok(cfg)
}

/// Parses a list of kind names; `None` means every kind.
pub fn kind_filter(kinds: Option<&[String]>, field: &str) -> Result<KindFilter, FieldError> {
    match kinds {
        None => Ok(KindFilter::ALL),
        Some(list) => {
            list.iter().map(|k| k.parse::<EntityKind>().map_err(|e| (field.to_owned(), e.to_string()))).collect()
        }
    }
}

fn seconds_ms(s: f64, field: String) -> Result<i64, FieldError> {
    if s.is_finite() && s >= 0.0 {
        Ok((s * 1000.0).round() as i64)
    } else {
        Err((field, format!("{s} is not a duration in seconds")))
    }
}

fn rule_set(raw: &CityConfig, base_dir: &Path) -> Result<RuleSet, FieldError> {
    let mut rules = RuleSet::default();
    for (i, g) in raw.geofences.iter().enumerate() {
        let at = |f: &str| format!("geofences[{i}].{f}");
        let area = match (&g.polygon, &g.geojson) {
            (Some(ring), None) => geojson::ring_to_multipolygon(ring).map_err(|r| (at("polygon"), r.0))?,
            (None, Some(file)) => {
                let full = base_dir.join(file);
                let text =
                    std::fs::read_to_string(&full).map_err(|e| (at("geojson"), format!("{}: {e}", full.display())))?;
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| (at("geojson"), format!("{}: {e}", full.display())))?;
                geojson::collect_polygons(&value).map_err(|r| (at("geojson"), r.0))?
            }
            _ => return Err((at("polygon"), "give exactly one of `polygon` or `geojson`".into())),
        };
        if !g.hysteresis_m.is_finite() || g.hysteresis_m < 0.0 {
            return Err((at("hysteresis_m"), "must be a non-negative number of metres".into()));
        }
        rules.geofences.push(Geofence {
            id: g.id.clone(),
            name: g.name.clone().unwrap_or_else(|| g.id.clone()),
            area,
            kinds: kind_filter(g.kinds.as_deref(), &at("kinds"))?,
            hysteresis_m: g.hysteresis_m,
            alert_on_enter: g.on_enter,
            alert_on_exit: g.on_exit,
            severity: g.severity.unwrap_or(Severity::Moderate),
        });
    }
    for (i, t) in raw.thresholds.iter().enumerate() {
        let at = |f: &str| format!("thresholds[{i}].{f}");
        let (comparison, threshold) = match (t.above, t.below) {
            (Some(v), None) => (Comparison::Above, v),
            (None, Some(v)) => (Comparison::Below, v),
            _ => return Err((at("above"), "give exactly one of `above` or `below`".into())),
        };
        rules.thresholds.push(ThresholdRule {
            id: t.id.clone(),
            name: t.name.clone().unwrap_or_else(|| t.id.clone()),
            kinds: kind_filter(t.kinds.as_deref(), &at("kinds"))?,
            property: t.property.clone(),
            comparison,
            threshold,
            duration_ms: seconds_ms(t.duration_s, at("duration_s"))?,
            severity: t.severity.unwrap_or(Severity::Moderate),
        });
    }
    for (i, s) in raw.stale.iter().enumerate() {
        let at = |f: &str| format!("stale[{i}].{f}");
        if !s.factor.is_finite() || s.factor <= 0.0 {
            return Err((at("factor"), "must be a positive number".into()));
        }
        rules.stale.push(StaleRule {
            id: s.id.clone(),
            kinds: kind_filter(s.kinds.as_deref(), &at("kinds"))?,
            factor: s.factor,
            min_silence_ms: seconds_ms(s.min_silence_s, at("min_silence_s"))?,
            severity: s.severity.unwrap_or(Severity::Minor),
        });
    }
    Ok(rules)
}
