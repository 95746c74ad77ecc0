//! Arbitrary bytes as a snapshot file, and as the contents of one with a valid header and CRC (so
//! the fuzzer reaches the entity, alert, rule-state and extension-section decoders). Never a
//! panic; what decodes must re-encode stably.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::store::{decode_snapshot, encode_snapshot};

fuzz_target!(|data: &[u8]| {
    let _ = decode_snapshot(data);
    // First byte: the version (1 or 2); the rest: seq and contents.
    let Some((&v, body)) = data.split_first() else { return };
    let mut file = b"CTWINSNP".to_vec();
    file.extend_from_slice(&u32::from(1 + v % 2).to_le_bytes());
    file.extend_from_slice(body);
    let crc = crc32fast::hash(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    if let Ok(s) = decode_snapshot(&file) {
        let once = encode_snapshot(s.seq, &s.parts, &s.sections);
        let again = decode_snapshot(&once).expect("an encoded snapshot decodes");
        assert_eq!(encode_snapshot(again.seq, &again.parts, &again.sections), once, "re-encoding is not stable");
    }
});
