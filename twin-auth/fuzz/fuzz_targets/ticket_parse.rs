//! Arbitrary bytes as a WebSocket/SSE ticket: shape check and redemption against a store holding
//! one real ticket. Any panic is a bug; only the real ticket may redeem.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_auth::{danang_demo, parse_ticket, Policy, Role, TicketStore};
use twin_core::Timestamp;

struct Counter(u64);

impl rand::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.iter_mut().for_each(|b| *b = self.next_u64() as u8);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
// Deterministic stand-in: the fuzzer needs reproducible runs, not secrecy.
impl rand::CryptoRng for Counter {}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_ticket(text);
    let Ok(cfg) = danang_demo() else { return };
    let Ok(policy) = Policy::new(&cfg) else { return };
    let Ok(p) = policy.principal("fuzz", Role::Leader, None, &[]) else { return };
    let mut store = TicketStore::new(30, 4);
    let now = Timestamp::from_millis(0);
    let Ok(real) = store.issue(&p, now, &mut Counter(1)) else { return };
    if text != real.as_str() {
        assert!(store.redeem(text, now).is_err(), "a made-up ticket redeemed");
    }
});
