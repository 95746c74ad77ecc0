//! Arbitrary bytes as the payload of a well-formed sentence (valid armour and checksum), so the
//! fuzzer spends its time in the bit-level message decoders rather than on checksums.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::Timestamp;
use twin_ingest::ais::{to_gpsd_json, to_observation, Decoder};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let fill = first % 6;
    let payload: String = rest
        .iter()
        .map(|b| {
            let v = b % 64;
            char::from(if v < 40 { v + 48 } else { v + 56 })
        })
        .collect();
    let body = format!("AIVDM,1,1,,A,{payload},{fill}");
    let cs = body.bytes().fold(0u8, |a, c| a ^ c);
    let line = format!("!{body}*{cs:02X}");
    let mut decoder = Decoder::default();
    if let Some(Ok(decoded)) = decoder.push(&line, Timestamp::from_millis(0)) {
        let _ = to_gpsd_json(&decoded.message);
        if let Some(obs) = to_observation(&decoded.message, Timestamp::from_millis(0)) {
            assert!(obs.validate().is_ok(), "invalid observation {obs:?}");
        }
    }
});
