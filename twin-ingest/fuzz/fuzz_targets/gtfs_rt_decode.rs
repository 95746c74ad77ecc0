//! Arbitrary bytes as a GTFS-realtime FeedMessage, through decoding, the protobuf-JSON view and
//! the conversion to observations (which must validate). Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_ingest::gtfs_rt::{decode_feed, feed_to_json, to_observations, ObservationOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(feed) = decode_feed(data) {
        let _ = feed_to_json(&feed);
        for obs in to_observations(&feed, &ObservationOptions::default()).observations {
            assert!(obs.validate().is_ok(), "invalid observation {obs:?}");
        }
    }
});
