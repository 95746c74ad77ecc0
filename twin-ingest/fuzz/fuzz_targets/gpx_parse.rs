//! Arbitrary bytes as a GPX document, through parsing, the summaries and replay (whose
//! observations must validate). Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_ingest::gpx::{parse, replay, ReplayOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(gpx) = parse(data) {
        let _ = (gpx.bounds(), gpx.time_bounds(), gpx.duration_s(), gpx.length_2d(), gpx.length_3d());
        let points: Vec<_> = gpx.points().copied().collect();
        for step in replay(&points, &ReplayOptions { speedup: 3.0, ..ReplayOptions::default() }) {
            assert!(step.observation.validate().is_ok(), "invalid observation {:?}", step.observation);
        }
    }
});
