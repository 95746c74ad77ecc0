//! `[gtfs]`, `[trackers]` and `[[devices]]` in a city config: parsed, turned into reference
//! layers and the tracker registry.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;

use citytwin::config::LoadedConfig;
use twin_core::{EntityKind, Timestamp};
use twin_feeds::connectors::{device_registry, gtfs_layers};
use twin_ingest::osmand::{parse_query, UnknownDevices};

const CONFIG: &str = r#"
[city]
name = "Test"
bbox = [107.9, 15.9, 108.35, 16.2]

[gtfs]
static = "gtfs/usf_bullrunner_gtfs.zip"
realtime = ["http://127.0.0.1:1/vp.pb"]
poll_interval_s = 30

[trackers]
unknown_devices = "police_unit"

[[devices]]
id = "amb-07"
kind = "ambulance"
agency = "Trung tâm Cấp cứu 115"
call_sign = "CC-07"

[[devices]]
id = "ft-2"
kind = "fire_truck"

[[gpx_replay]]
gpx = "gps/around-visnjan-with-car.gpx"
kind = "police_unit"
id = "pu-3"
start_at = [108.2208, 16.0678]
"#;

fn base_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../twin-ingest/tests/data"))
}

#[test]
fn sections_parse_into_layers_and_registry() {
    let c = LoadedConfig::parse(CONFIG, Path::new("t.toml"), base_dir()).unwrap();
    let gtfs = c.raw.gtfs.as_ref().unwrap();
    assert_eq!(gtfs.realtime.len(), 1);
    assert_eq!(gtfs.poll_interval_s, 30);
    assert_eq!(gtfs.max_backoff_s, 300);
    let r = &c.raw.gpx_replay[0];
    assert_eq!((r.kind, r.id.as_str(), r.speedup, r.repeat), (EntityKind::PoliceUnit, "pu-3", 1.0, true));
    assert_eq!(r.start_at, Some([108.2208, 16.0678]));

    let layers = gtfs_layers(Some(gtfs), &c.base_dir).unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["gtfs_routes", "gtfs_stops"]);
    assert!(layers.iter().all(|l| !l.features.is_empty()));

    let registry = device_registry(&c.raw.devices, &c.raw.trackers).unwrap();
    assert_eq!(registry.len(), 2);
    assert_eq!(registry.unknown, UnknownDevices::AcceptAs(EntityKind::PoliceUnit));
    assert_eq!(registry.get("amb-07").unwrap().call_sign.as_deref(), Some("CC-07"));
    let fix = parse_query("id=ft-2&lat=16.05&lon=108.2").unwrap();
    let obs = registry.to_observation(&fix, Timestamp::from_millis(1), "osmand").unwrap();
    assert_eq!(obs.kind, EntityKind::FireTruck);
}

#[test]
fn no_sections_means_no_layers_and_a_closed_registry() {
    let text = "[city]\nname = \"Test\"\nbbox = [107.9, 15.9, 108.35, 16.2]\n";
    let c = LoadedConfig::parse(text, Path::new("t.toml"), base_dir()).unwrap();
    assert!(c.raw.gtfs.is_none());
    assert!(gtfs_layers(None, &c.base_dir).unwrap().is_empty());
    let registry = device_registry(&c.raw.devices, &c.raw.trackers).unwrap();
    assert_eq!(registry.unknown, UnknownDevices::Reject);
}

#[test]
fn bad_entries_are_errors() {
    let bad_kind = CONFIG.replace("kind = \"fire_truck\"", "kind = \"firetruck\"");
    assert!(LoadedConfig::parse(&bad_kind, Path::new("t.toml"), base_dir()).is_err());
    let typo = CONFIG.replace("poll_interval_s", "poll_interval");
    assert!(LoadedConfig::parse(&typo, Path::new("t.toml"), base_dir()).is_err());
    let missing = CONFIG.replace("usf_bullrunner_gtfs.zip", "nope.zip");
    let c = LoadedConfig::parse(&missing, Path::new("t.toml"), base_dir()).unwrap();
    let err = gtfs_layers(c.raw.gtfs.as_ref(), &c.base_dir).unwrap_err().to_string();
    assert!(err.contains("nope.zip"), "{err}");
}
