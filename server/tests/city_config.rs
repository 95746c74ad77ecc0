//! The shipped city config parses with the server's config reader.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;

use citytwin::config::LoadedConfig;

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
