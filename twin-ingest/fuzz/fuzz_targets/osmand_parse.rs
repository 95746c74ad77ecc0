//! Arbitrary bytes as an OsmAnd query string and as a Traccar Client JSON body, through the
//! registry to observations (which must validate). Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::{EntityKind, Timestamp};
use twin_ingest::osmand::{parse_json, parse_query, DeviceRegistry, UnknownDevices};

fuzz_target!(|data: &[u8]| {
    let registry = DeviceRegistry::new([], UnknownDevices::AcceptAs(EntityKind::PoliceUnit));
    let mut fixes = Vec::new();
    if let Ok(text) = std::str::from_utf8(data) {
        fixes.extend(parse_query(text));
    }
    fixes.extend(parse_json(data).into_iter().flatten());
    for fix in &fixes {
        if let Ok(obs) = registry.to_observation(fix, Timestamp::from_millis(0), "fuzz") {
            assert!(obs.validate().is_ok(), "invalid observation {obs:?}");
        }
    }
});
