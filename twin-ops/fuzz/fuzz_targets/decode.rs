//! Arbitrary bytes as a logged ops command (first two bytes: the payload version). Any panic is a
//! bug; a command that decodes must re-encode to the same command, and applying it to a small state
//! either succeeds keeping the invariants or changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::{ActorId, Timestamp};
use twin_ops::{decode, encode, OpsState};

fuzz_target!(|data: &[u8]| {
    let (version, payload) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 3, rest),
        _ => return,
    };
    let Ok(cmd) = decode(version, payload) else { return };
    assert_eq!(decode(version, &encode(&cmd)).ok().as_ref(), Some(&cmd));
    let mut state = OpsState::default();
    let seed: &[u8] = br#"{"open_case":{"source":"manual","key":"k","category":"c","title":"t","severity":"minor","priority":"low","agency":"a","ack_within_ms":60000,"resolve_within_ms":3600000}}"#;
    if let Ok(open) = decode(1, seed) {
        let _ = state.apply(Timestamp(0), &ActorId::system(), &open);
    }
    let before = state.clone();
    match state.apply(Timestamp(1), &ActorId::system(), &cmd) {
        Ok(_) => assert!(state.check_invariants().is_ok()),
        Err(_) => assert!(state == before),
    }
});
