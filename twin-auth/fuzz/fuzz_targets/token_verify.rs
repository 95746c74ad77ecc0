//! Arbitrary bytes as an `Authorization` header and as a bare token, through bearer parsing and
//! HS256 verification, and as a `Basic` header. Any panic is a bug; nothing may verify under a key
//! the input never saw.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_auth::jwt::verify;
use twin_auth::{parse_basic_auth, parse_bearer, SigningKey};
use twin_core::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = SigningKey::from_bytes(&[0x5a; SigningKey::LEN]).unwrap_or_else(|_| unreachable!());
    let now = Timestamp::from_millis(1_765_000_000_000);
    assert!(verify(&key, text, "citytwin", now).is_err(), "forged token verified");
    if let Ok(token) = parse_bearer(text) {
        assert!(verify(&key, token, "citytwin", now).is_err(), "forged token verified");
    }
    let _ = parse_basic_auth(text);
});
