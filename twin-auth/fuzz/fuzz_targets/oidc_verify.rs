//! Arbitrary bytes as an OIDC token against the test JWKS, and as a JWKS document. Any panic is a
//! bug; nothing may verify (the fuzzer has no provider key).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_auth::oidc::{Jwks, OidcVerifier};
use twin_core::Timestamp;

const VECTORS: &str = include_str!("../../tests/data/oidc_vectors.json");

fuzz_target!(|data: &[u8]| {
    let _ = Jwks::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(VECTORS) else { return };
    let Some(Ok(jwks)) = v["jwks"].as_str().map(|j| Jwks::from_json(j.as_bytes())) else { return };
    let ver = OidcVerifier { jwks, issuer: "https://sso.danang.gov.vn/realms/ioc".into(), audience: "citytwin".into() };
    let known = ["good_k2", "aud_list"].iter().any(|k| v[*k].as_str() == Some(text));
    if !known {
        assert!(ver.verify(text, Timestamp::from_millis(1_765_000_010_000)).is_err(), "forged OIDC token verified");
    }
});
