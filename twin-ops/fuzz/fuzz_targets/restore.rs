//! Arbitrary bytes as an ops snapshot. Any panic is a bug; a snapshot that restores must keep the
//! invariants and snapshot again to an equal state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_ops::OpsState;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = OpsState::restore(data) {
        assert!(state.check_invariants().is_ok());
        assert!(state.verify_chain().is_ok());
        assert!(OpsState::restore(&state.snapshot()).ok().as_ref() == Some(&state));
    }
});
