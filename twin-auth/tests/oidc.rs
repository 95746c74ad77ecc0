//! OIDC tokens against vectors made by an independent implementation (tests/data/oidc_vectors.md).
#![cfg(feature = "oidc")]
#![allow(clippy::unwrap_used)] // tests may unwrap

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use twin_auth::oidc::{Jwks, OidcError, OidcVerifier};
use twin_core::Timestamp;

const ISS: &str = "https://sso.danang.gov.vn/realms/ioc";

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("data/oidc_vectors.json")).unwrap()
}

fn v(name: &str) -> String {
    vectors()[name].as_str().unwrap().to_owned()
}

fn verifier() -> OidcVerifier {
    let jwks = Jwks::from_json(v("jwks").as_bytes()).unwrap();
    OidcVerifier { jwks, issuer: ISS.into(), audience: "citytwin".into() }
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_millis(s * 1000)
}

#[test]
fn verifies_provider_tokens() {
    let ver = verifier();
    assert_eq!(ver.jwks.len(), 2, "the EC key is skipped");
    let c = ver.verify(&v("good_k2"), at(1_765_000_010)).unwrap();
    assert_eq!((c.sub.as_str(), c.other["preferred_username"].as_str()), ("8c1f", Some("lan.nguyen")));
    assert_eq!(c.other["groups"], serde_json::json!(["police"]));
    assert!(ver.verify(&v("aud_list"), at(1_765_000_010)).is_ok());
    // One second either side of exp.
    assert!(ver.verify(&v("good_k2"), at(1_765_000_299)).is_ok());
    assert_eq!(ver.verify(&v("good_k2"), at(1_765_000_300)), Err(OidcError::Expired));
    assert_eq!(ver.verify(&v("good_k2"), at(1_765_000_000 - 61)), Err(OidcError::NotYetValid));
}

#[test]
fn refuses_wrong_keys_claims_and_algorithms() {
    let ver = verifier();
    let now = at(1_765_000_010);
    assert_eq!(ver.verify(&v("wrong_key"), now), Err(OidcError::BadSignature));
    assert_eq!(ver.verify(&v("unknown_kid"), now), Err(OidcError::UnknownKey));
    assert_eq!(ver.verify(&v("other_aud"), now), Err(OidcError::WrongAudience));
    let other_iss = OidcVerifier { issuer: "https://evil.example".into(), ..verifier() };
    assert_eq!(other_iss.verify(&v("good_k2"), now), Err(OidcError::WrongIssuer));

    let good = v("good_k2");
    let p: Vec<&str> = good.split('.').collect();
    // Claims swapped, signature kept.
    let forged = URL_SAFE_NO_PAD
        .encode(br#"{"iss":"https://sso.danang.gov.vn/realms/ioc","sub":"admin","aud":"citytwin","exp":1865000300}"#);
    assert_eq!(ver.verify(&format!("{}.{forged}.{}", p[0], p[2]), now), Err(OidcError::BadSignature));
    // alg none, and HS256 "signed" with the public key (algorithm confusion).
    for header in [r#"{"alg":"none","kid":"k2"}"#, r#"{"alg":"HS256","kid":"k2"}"#, r#"{"alg":"RS512","kid":"k2"}"#] {
        let h = URL_SAFE_NO_PAD.encode(header);
        for sig in ["", p[2]] {
            assert_eq!(ver.verify(&format!("{h}.{}.{sig}", p[1]), now), Err(OidcError::UnsupportedAlgorithm));
        }
    }
    // No kid with two keys: which one is unknown.
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
    assert_eq!(ver.verify(&format!("{h}.{}.{}", p[1], p[2]), now), Err(OidcError::UnknownKey));
    for bad in ["", "a.b", "a.b.c.d", "..", "é.é.é"] {
        assert!(ver.verify(bad, now).is_err());
    }
}

#[test]
fn limits() {
    let ver = verifier();
    let now = at(1_765_000_010);
    let long = "a".repeat(twin_auth::limits::MAX_OIDC_TOKEN_LEN + 1);
    assert_eq!(ver.verify(&long, now), Err(OidcError::TooLong));
    let big_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","x":"{}"}}"#, "y".repeat(300)));
    assert_eq!(ver.verify(&format!("{big_header}.e30.AA"), now), Err(OidcError::BadHeader));
    let big_sig = "A".repeat(2000);
    let good = v("good_k2");
    let p: Vec<&str> = good.split('.').collect();
    assert_eq!(ver.verify(&format!("{}.{}.{big_sig}", p[0], p[1]), now), Err(OidcError::BadSignature));
    // JWKS size and key count.
    let huge = vec![b' '; twin_auth::limits::MAX_JWKS_BYTES + 1];
    assert!(matches!(Jwks::from_json(&huge), Err(OidcError::Jwks(_))));
    let many = format!(r#"{{"keys":[{}]}}"#, vec!["{}"; twin_auth::limits::MAX_JWKS_KEYS + 1].join(","));
    assert!(matches!(Jwks::from_json(many.as_bytes()), Err(OidcError::Jwks("too many keys"))));
    assert!(matches!(Jwks::from_json(br#"{"keys":[]}"#), Err(OidcError::Jwks(_))));
    assert!(matches!(Jwks::from_json(br#"{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}"#), Err(OidcError::Jwks(_))));
    assert!(matches!(Jwks::from_json(b"[]"), Err(OidcError::Jwks(_))));
    // A weak (1024-bit) provider key never verifies anything.
    let weak = r#"{"keys":[{"kty":"RSA","kid":"w","n":"AQ","e":"AQAB"}]}"#;
    let w = OidcVerifier {
        jwks: Jwks::from_json(weak.as_bytes()).unwrap(),
        issuer: ISS.into(),
        audience: "citytwin".into(),
    };
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"w"}"#);
    assert_eq!(w.verify(&format!("{h}.{}.{}", p[1], p[2]), now), Err(OidcError::BadSignature));
}
