//! Arbitrary bytes as a `POST /ingest/observations` body (JSON array, object or NDJSON). Any panic
//! is a bug; items and refusals together account for every item of the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::Timestamp;
use twin_ingest::observations::decode;

fuzz_target!(|data: &[u8]| {
    for ndjson in [false, true] {
        if let Ok(decoded) = decode(data, ndjson, Timestamp::from_millis(1_800_000_000_000)) {
            assert_eq!(decoded.items.len() + decoded.errors.len(), decoded.total);
            for (pos, _) in &decoded.items {
                assert!(pos.line.is_none_or(|l| l >= 1), "lines are 1-based");
            }
        }
    }
});
