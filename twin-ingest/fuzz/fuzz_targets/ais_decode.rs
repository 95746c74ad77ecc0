//! Arbitrary bytes, split into lines, through the streaming AIS decoder and everything that
//! consumes its output. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::Timestamp;
use twin_ingest::ais::{to_gpsd_json, Decoder, VesselRegistry};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut decoder = Decoder::new(1_000);
    let mut registry = VesselRegistry::new(16);
    for (i, line) in text.lines().enumerate() {
        // Advance time so the orphan timeout is exercised too.
        let now = Timestamp::from_millis(i as i64 * 400);
        if let Some(Ok(decoded)) = decoder.push(line, now) {
            let _ = to_gpsd_json(&decoded.message);
            if let Some(obs) = registry.observe(&decoded.message, now) {
                assert!(obs.validate().is_ok(), "invalid observation {obs:?}");
            }
        }
    }
    let _ = decoder.finish();
});
