//! The city config reader: every section, unknown keys named, and the shipped Da Nang config.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::time::Duration;

use citytwin::config::LoadedConfig;
use twin_core::rules::Comparison;
use twin_core::store::FsyncPolicy;
use twin_core::EntityKind;

#[test]
fn shipped_danang_config_parses() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/danang.toml"));
    let c = LoadedConfig::load(path).unwrap();
    assert!(c.bbox.contains(twin_core::Position::new(108.22, 16.06)), "Da Nang centre is inside the city bbox");
    assert!(!c.rules.geofences.is_empty());
    for (name, file) in [("roads", &c.raw.layers.roads), ("pois", &c.raw.layers.pois)] {
        let file = file.as_ref().unwrap_or_else(|| panic!("{name} layer configured"));
        assert!(c.base_dir.join(file).exists(), "{name}: {} exists", file.display());
    }
}

const SAMPLE: &str = r#"
[city]
name = "Test"
bbox = [108.0, 16.0, 108.3, 16.2]
[store]
fsync = "interval"
fsync_interval_ms = 50
[model]
h3_resolution = 8
[model.expiry_s]
bus = 600
[[geofences]]
id = "port"
kinds = ["vessel"]
hysteresis_m = 20
polygon = [[108.2, 16.1], [108.25, 16.1], [108.25, 16.15], [108.2, 16.15]]
[[thresholds]]
id = "flood"
property = "water_level_m"
above = 0.5
duration_s = 60
[[stale]]
id = "quiet"
factor = 3
"#;

#[test]
fn parses_every_section() {
    let c = LoadedConfig::parse(SAMPLE, Path::new("t.toml"), Path::new(".")).unwrap();
    assert_eq!(c.raw.city.name, "Test");
    assert_eq!(c.twin.h3_resolution, h3o::Resolution::Eight);
    assert_eq!(c.twin.expiry_ms[EntityKind::Bus.index()], Some(600_000));
    assert_eq!(c.fsync_policy(), FsyncPolicy::Interval(Duration::from_millis(50)));
    assert_eq!(c.rules.geofences.len(), 1);
    assert!(c.rules.geofences[0].kinds.contains(EntityKind::Vessel));
    assert!(!c.rules.geofences[0].kinds.contains(EntityKind::Bus));
    assert_eq!(c.rules.thresholds[0].comparison, Comparison::Above);
    assert_eq!(c.rules.thresholds[0].duration_ms, 60_000);
    assert_eq!(c.rules.stale[0].factor, 3.0);
}

#[test]
fn unknown_key_is_named() {
    let text = SAMPLE.replace("[store]", "[store]\nfsinc = 1");
    let err = LoadedConfig::parse(&text, Path::new("t.toml"), Path::new(".")).unwrap_err().to_string();
    assert!(err.contains("fsinc"), "{err}");
}

#[test]
fn unknown_kind_is_named() {
    let text = SAMPLE.replace("bus = 600", "bsu = 600");
    let err = LoadedConfig::parse(&text, Path::new("t.toml"), Path::new(".")).unwrap_err().to_string();
    assert!(err.contains("model.expiry_s.bsu"), "{err}");
}
