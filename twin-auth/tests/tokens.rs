//! Access tokens, the token endpoint logic, refresh rotation and WebSocket/SSE tickets.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::net::{IpAddr, Ipv4Addr};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::rngs::StdRng;
use rand::SeedableRng;
use twin_auth::jwt::{sign, verify};
use twin_auth::limits::{MAX_JWT_CLAIMS_LEN, MAX_JWT_HEADER_LEN, MAX_SECRET_LEN, MAX_TOKEN_LEN};
use twin_auth::{
    danang_demo, parse_basic_auth, parse_bearer, parse_ticket, AuthSettings, Claims, LimiterConfig, LoginLimiter,
    OAuthError, Policy, Role, SigningKey, TicketError, TicketStore, TokenError, TokenRequest, TokenService, UserStore,
};
use twin_core::{AgencyId, Timestamp};

const T0: i64 = 1_765_000_000;

fn key() -> SigningKey {
    SigningKey::from_bytes(&(0u8..32).collect::<Vec<_>>()).unwrap()
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_millis(s * 1000)
}

fn claims() -> Claims {
    Claims {
        iss: "citytwin".into(),
        sub: "alice".into(),
        role: Role::Operator,
        agency: Some(AgencyId("police".into())),
        src: vec![],
        iat: T0,
        exp: T0 + 900,
        jti: "j1".into(),
    }
}

/// Made with Python's `hmac`/`hashlib`/`base64` from the same key and claims JSON.
const GOLDEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjaXR5dHdpbiIsInN1YiI6ImFsaWNlIiwicm9sZSI6Im9wZXJhdG9yIiwiYWdlbmN5IjoicG9saWNlIiwiaWF0IjoxNzY1MDAwMDAwLCJleHAiOjE3NjUwMDA5MDAsImp0aSI6ImoxIn0.87BxHr8g-bIBe6PCXc_31c_HGfQ6SDhNuS89zFMrNJI";

#[test]
fn round_trip_and_independent_golden() {
    let t = sign(&key(), &claims()).unwrap();
    assert_eq!(t, GOLDEN);
    assert_eq!(verify(&key(), GOLDEN, "citytwin", at(T0)).unwrap(), claims());
}

#[test]
fn expiry_one_second_either_side() {
    let t = sign(&key(), &claims()).unwrap();
    assert!(verify(&key(), &t, "citytwin", at(T0 + 899)).is_ok());
    assert!(verify(&key(), &t, "citytwin", Timestamp::from_millis((T0 + 900) * 1000 - 1)).is_ok());
    assert_eq!(verify(&key(), &t, "citytwin", at(T0 + 900)), Err(TokenError::Expired));
    assert_eq!(verify(&key(), &t, "citytwin", at(T0 + 901)), Err(TokenError::Expired));
    // Issued in the future beyond the leeway.
    assert!(verify(&key(), &t, "citytwin", at(T0 - 60)).is_ok());
    assert_eq!(verify(&key(), &t, "citytwin", at(T0 - 61)), Err(TokenError::NotYetValid));
    assert_eq!(verify(&key(), &t, "other", at(T0)), Err(TokenError::WrongIssuer));
}

fn parts(t: &str) -> Vec<String> {
    t.split('.').map(String::from).collect()
}

#[test]
fn tampering_is_rejected() {
    let t = sign(&key(), &claims()).unwrap();
    let p = parts(&t);
    // Claims changed (role escalated), signature kept.
    let forged = URL_SAFE_NO_PAD
        .encode(br#"{"iss":"citytwin","sub":"alice","role":"admin","iat":1765000000,"exp":1765000900,"jti":"j1"}"#);
    let bad = format!("{}.{}.{}", p[0], forged, p[2]);
    assert_eq!(verify(&key(), &bad, "citytwin", at(T0)), Err(TokenError::BadSignature));
    // One signature character flipped.
    let mut sig = p[2].clone().into_bytes();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    let bad = format!("{}.{}.{}", p[0], p[1], String::from_utf8(sig).unwrap());
    assert_eq!(verify(&key(), &bad, "citytwin", at(T0)), Err(TokenError::BadSignature));
    // Another key.
    let other = SigningKey::from_bytes(&[7u8; 32]).unwrap();
    assert_eq!(verify(&other, &t, "citytwin", at(T0)), Err(TokenError::BadSignature));
    // Signature truncated or missing.
    assert_eq!(verify(&key(), &format!("{}.{}.", p[0], p[1]), "citytwin", at(T0)), Err(TokenError::BadSignature));
    let short = &p[2][..20];
    assert_eq!(
        verify(&key(), &format!("{}.{}.{short}", p[0], p[1]), "citytwin", at(T0)),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn alg_none_and_other_algorithms_rejected() {
    let p = parts(&sign(&key(), &claims()).unwrap());
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"HS512","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"hs256"}"#,
    ] {
        let h = URL_SAFE_NO_PAD.encode(header);
        for sig in ["", p[2].as_str()] {
            let t = format!("{h}.{}.{sig}", p[1]);
            assert_eq!(verify(&key(), &t, "citytwin", at(T0)), Err(TokenError::UnsupportedAlgorithm), "{header}");
        }
    }
    // crit and foreign typ, even correctly signed, are refused.
    for header in [r#"{"alg":"HS256","crit":["exp"]}"#, r#"{"alg":"HS256","typ":"at+jwt+x"}"#] {
        let h = URL_SAFE_NO_PAD.encode(header);
        let t = format!("{h}.{}.{}", p[1], p[2]);
        assert_eq!(verify(&key(), &t, "citytwin", at(T0)), Err(TokenError::BadHeader), "{header}");
    }
    // A header without typ is fine when signed.
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
    let signing_input = format!("{h}.{}", p[1]);
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key().as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    let t = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    assert!(verify(&key(), &t, "citytwin", at(T0)).is_ok());
}

#[test]
fn malformed_tokens_never_panic() {
    let p = parts(&sign(&key(), &claims()).unwrap());
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        format!("{}.{}.{}.", p[0], p[1], p[2]),
        format!("{}=.{}.{}", p[0], p[1], p[2]),
        format!("{}.{}=.{}", p[0], p[1], p[2]),
        format!("é.{}.{}", p[1], p[2]),
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode("[]"), p[1], p[2]),
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode("{"), p[1], p[2]),
    ];
    for c in &cases {
        assert!(verify(&key(), c, "citytwin", at(T0)).is_err(), "{c}");
    }
}

#[test]
fn token_limits() {
    let p = parts(&sign(&key(), &claims()).unwrap());
    // Overall length.
    let long = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(verify(&key(), &long, "citytwin", at(T0)), Err(TokenError::TooLong));
    // Header over the cap, even if otherwise valid JSON.
    let big = format!(r#"{{"alg":"HS256","x":"{}"}}"#, "y".repeat(MAX_JWT_HEADER_LEN));
    let t = format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(big), p[1], p[2]);
    assert_eq!(verify(&key(), &t, "citytwin", at(T0)), Err(TokenError::BadHeader));
    // Claims over the cap cannot be signed, and signed ones are refused before parsing.
    let mut c = claims();
    c.jti = "z".repeat(MAX_JWT_CLAIMS_LEN);
    assert_eq!(sign(&key(), &c), Err(TokenError::BadClaims));
    let c_b64 = URL_SAFE_NO_PAD.encode("z".repeat(MAX_JWT_CLAIMS_LEN + 1));
    let input = format!("{}.{c_b64}", p[0]);
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key().as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    assert!(t.len() <= MAX_TOKEN_LEN);
    assert_eq!(verify(&key(), &t, "citytwin", at(T0)), Err(TokenError::BadClaims));
    // Key length.
    assert_eq!(SigningKey::from_bytes(&[0; 31]), Err(TokenError::BadKey));
    assert_eq!(SigningKey::from_bytes(&[0; 33]), Err(TokenError::BadKey));
    let k = SigningKey::generate(&mut StdRng::seed_from_u64(1));
    assert_eq!(SigningKey::from_bytes(k.as_bytes()).unwrap(), k);
    assert_eq!(format!("{k:?}"), "SigningKey(..)");
}

#[test]
fn bearer_parsing() {
    assert_eq!(parse_bearer("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
    assert_eq!(parse_bearer("bearer  abc"), Ok("abc"));
    assert_eq!(parse_bearer("Basic abc"), Err(TokenError::NoBearer));
    assert_eq!(parse_bearer("Bearer"), Err(TokenError::NoBearer));
    assert_eq!(parse_bearer(""), Err(TokenError::NoBearer));
    assert_eq!(parse_bearer("Bearer a b"), Err(TokenError::Malformed));
    assert_eq!(parse_bearer("Bearer é"), Err(TokenError::Malformed));
    assert_eq!(parse_bearer("Bearer ="), Err(TokenError::Malformed));
    let max = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
    assert!(parse_bearer(&max).is_ok());
    let over = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
    assert_eq!(parse_bearer(&over), Err(TokenError::TooLong));
    assert_eq!(parse_bearer(&"x".repeat(1 << 20)), Err(TokenError::TooLong));
    assert_eq!(TokenError::NoBearer.rfc6750_code(), "invalid_request");
    assert_eq!(TokenError::Expired.rfc6750_code(), "invalid_token");
}

struct World {
    users: UserStore,
    policy: Policy,
    svc: TokenService,
    limiter: LoginLimiter,
    rng: StdRng,
    tracker_secret: String,
}

const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

fn world() -> World {
    let mut rng = StdRng::seed_from_u64(7);
    let mut users = UserStore::new();
    users.add_user("alice", Role::Operator, Some(AgencyId("police".into())), "correct horse", &mut rng).unwrap();
    let tracker_secret = users
        .add_client("amb-01", Role::Device, Some(AgencyId("health".into())), vec!["osmand".into()], &mut rng)
        .unwrap();
    let cfg = danang_demo().unwrap();
    let settings = AuthSettings { access_token_ttl_s: 900, refresh_token_ttl_s: 3600, ..cfg.auth.clone() };
    World {
        users,
        policy: Policy::new(&cfg).unwrap(),
        svc: TokenService::new(SigningKey::generate(&mut rng), &settings, 4),
        limiter: LoginLimiter::new(LimiterConfig::default()),
        rng,
        tracker_secret,
    }
}

impl World {
    fn grant(&mut self, req: &TokenRequest, now: Timestamp) -> Result<twin_auth::TokenResponse, OAuthError> {
        self.svc.grant(req, &self.users, &self.policy, &mut self.limiter, ADDR, now, &mut self.rng)
    }
}

fn form(pairs: &[(&'static str, &'static str)]) -> Result<TokenRequest, OAuthError> {
    TokenRequest::from_form(pairs.iter().copied(), None)
}

#[test]
fn password_grant_refresh_rotation_and_authenticate() {
    let mut w = world();
    let req = form(&[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")]).unwrap();
    let r = w.grant(&req, at(T0)).unwrap();
    assert_eq!((r.token_type, r.expires_in), ("Bearer", 900));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    let p = w.svc.authenticate(&format!("Bearer {}", r.access_token), &w.policy, at(T0 + 10)).unwrap();
    assert_eq!((p.name(), p.role(), p.agency().map(|a| a.as_str())), ("alice", Some(Role::Operator), Some("police")));
    assert_eq!(
        w.svc.authenticate(&format!("Bearer {}", r.access_token), &w.policy, at(T0 + 900)),
        Err(TokenError::Expired)
    );

    // With the user store: a disable applies at once.
    let header = format!("Bearer {}", r.access_token);
    assert!(w.svc.authenticate_current(&header, &w.policy, &w.users, at(T0 + 10)).is_ok());
    let mut disabled = w.users.clone();
    disabled.set_disabled("alice", true).unwrap();
    assert_eq!(w.svc.authenticate_current(&header, &w.policy, &disabled, at(T0 + 10)), Err(TokenError::AccountGone));
    disabled.remove("alice").unwrap();
    assert_eq!(w.svc.authenticate_current(&header, &w.policy, &disabled, at(T0 + 10)), Err(TokenError::AccountGone));

    // Refresh: works once, returns a new one; the old one is spent.
    let old = r.refresh_token.unwrap();
    let refresh = TokenRequest::RefreshToken { refresh_token: old.clone() };
    let r2 = w.grant(&refresh, at(T0 + 100)).unwrap();
    let new = r2.refresh_token.unwrap();
    assert_ne!(new, old);
    assert_eq!(w.grant(&refresh, at(T0 + 101)), Err(OAuthError::InvalidGrant));
    // Expiry of refresh tokens (3600 s).
    let late = TokenRequest::RefreshToken { refresh_token: new.clone() };
    assert_eq!(w.grant(&late, at(T0 + 100 + 3600)), Err(OAuthError::InvalidGrant));

    // Disabled account: no new tokens from a refresh either.
    let r3 = w.grant(&req, at(T0 + 200)).unwrap();
    w.users.set_disabled("alice", true).unwrap();
    let again = TokenRequest::RefreshToken { refresh_token: r3.refresh_token.unwrap() };
    assert_eq!(w.grant(&again, at(T0 + 201)), Err(OAuthError::InvalidGrant));
    assert_eq!(w.grant(&req, at(T0 + 202)), Err(OAuthError::InvalidGrant));

    // Wrong password.
    let wrong = form(&[("grant_type", "password"), ("username", "alice"), ("password", "wrong horse")]).unwrap();
    let e = w.grant(&wrong, at(T0 + 300)).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("invalid_grant", 400));
    let nobody = form(&[("grant_type", "password"), ("username", "bob"), ("password", "whatever1")]).unwrap();
    assert_eq!(w.grant(&nobody, at(T0 + 300)), Err(OAuthError::InvalidGrant));
}

#[test]
fn refresh_tokens_are_bounded_and_revocable() {
    let mut w = world();
    let req = form(&[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")]).unwrap();
    let mut tokens = Vec::new();
    for i in 0..6 {
        tokens.push(w.grant(&req, at(T0 + i)).unwrap().refresh_token.unwrap());
        w.limiter.succeeded("alice");
    }
    assert_eq!(w.svc.refresh_tokens(), 4, "capped at max_refresh");
    // The two oldest were dropped.
    let first = TokenRequest::RefreshToken { refresh_token: tokens[0].clone() };
    assert_eq!(w.grant(&first, at(T0 + 10)), Err(OAuthError::InvalidGrant));
    w.svc.revoke_account("alice");
    assert_eq!(w.svc.refresh_tokens(), 0);
    let last = TokenRequest::RefreshToken { refresh_token: tokens[5].clone() };
    assert_eq!(w.grant(&last, at(T0 + 10)), Err(OAuthError::InvalidGrant));
}

#[test]
fn client_credentials_grant() {
    let mut w = world();
    let secret = w.tracker_secret.clone();
    let basic = STANDARD.encode(format!("amb-01:{secret}"));
    let (id, s) = parse_basic_auth(&format!("Basic {basic}")).unwrap();
    let req = TokenRequest::from_form([("grant_type", "client_credentials")], Some((&id, &s))).unwrap();
    let r = w.grant(&req, at(T0)).unwrap();
    assert!(r.refresh_token.is_none());
    let p = w.svc.authenticate(&format!("Bearer {}", r.access_token), &w.policy, at(T0)).unwrap();
    assert_eq!(p.role(), Some(Role::Device));
    assert_eq!(p.sources(), ["osmand".to_string()]);
    let claims = w.svc.verify(&r.access_token, at(T0)).unwrap();
    assert_eq!(claims.src, ["osmand"]);

    let wrong = TokenRequest::ClientCredentials { client_id: "amb-01".into(), client_secret: "ctk_nope".into() };
    let e = w.grant(&wrong, at(T0)).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("invalid_client", 401));
    w.users.set_disabled("amb-01", true).unwrap();
    assert_eq!(w.grant(&req, at(T0)), Err(OAuthError::UnauthorizedClient));
}

#[test]
fn token_request_parsing() {
    let e = |pairs: &[(&'static str, &'static str)]| form(pairs).unwrap_err();
    assert_eq!(e(&[("grant_type", "implicit")]).code(), "unsupported_grant_type");
    assert_eq!(e(&[("username", "a")]).code(), "invalid_request");
    assert_eq!(e(&[("grant_type", "password"), ("username", "a")]).code(), "invalid_request");
    assert_eq!(e(&[("grant_type", "password"), ("grant_type", "password")]).code(), "invalid_request");
    assert_eq!(e(&[("grant_type", "client_credentials"), ("client_id", "a")]).code(), "invalid_client");
    assert_eq!(e(&[("grant_type", "refresh_token")]).code(), "invalid_request");
    assert!(matches!(
        TokenRequest::from_form([("grant_type", "client_credentials"), ("client_id", "a")], Some(("a", "b"))),
        Err(OAuthError::InvalidRequest(_))
    ));
    let body = OAuthError::UnsupportedGrantType.body();
    assert_eq!(serde_json::to_value(body).unwrap(), serde_json::json!({"error": "unsupported_grant_type"}));
    // Limits: field count, value length, username, password, refresh token.
    let many: Vec<(String, String)> =
        (0..=twin_auth::limits::MAX_FORM_FIELDS).map(|i| (format!("k{i}"), "v".into())).collect();
    assert!(TokenRequest::from_form(many.iter().map(|(k, v)| (k.as_str(), v.as_str())), None).is_err());
    let long = "a".repeat(twin_auth::limits::MAX_FORM_VALUE_LEN + 1);
    assert!(TokenRequest::from_form([("grant_type", "password"), ("x", long.as_str())], None).is_err());
    let name = "a".repeat(twin_auth::limits::MAX_USERNAME_LEN + 1);
    assert!(
        TokenRequest::from_form([("grant_type", "password"), ("username", &name), ("password", "p")], None).is_err()
    );
    let name = "a".repeat(twin_auth::limits::MAX_USERNAME_LEN);
    assert!(TokenRequest::from_form([("grant_type", "password"), ("username", &name), ("password", "p")], None).is_ok());
    let pw = "p".repeat(twin_auth::limits::MAX_PASSWORD_LEN + 1);
    assert!(TokenRequest::from_form([("grant_type", "password"), ("username", "a"), ("password", &pw)], None).is_err());
    let rt = "r".repeat(MAX_SECRET_LEN + 1);
    assert!(TokenRequest::from_form([("grant_type", "refresh_token"), ("refresh_token", &rt)], None).is_err());
    // Debug output never shows secrets.
    let req = form(&[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")]).unwrap();
    assert!(!format!("{req:?}").contains("horse"));
}

#[test]
fn basic_auth_parsing() {
    let enc = |s: &str| format!("Basic {}", STANDARD.encode(s));
    assert_eq!(parse_basic_auth(&enc("id:sec:ret")).unwrap(), ("id".into(), "sec:ret".into()));
    assert_eq!(parse_basic_auth(&enc("nocolon")), Err(OAuthError::InvalidClient));
    assert_eq!(parse_basic_auth(&enc(":secret")), Err(OAuthError::InvalidClient));
    assert_eq!(parse_basic_auth(&enc("id%41:s")), Err(OAuthError::InvalidClient));
    assert_eq!(parse_basic_auth("Bearer abc"), Err(OAuthError::InvalidClient));
    assert_eq!(parse_basic_auth("Basic !!!"), Err(OAuthError::InvalidClient));
    assert_eq!(
        parse_basic_auth(&enc(&format!("id:{}", "s".repeat(MAX_SECRET_LEN + 1)))),
        Err(OAuthError::InvalidClient)
    );
    assert_eq!(parse_basic_auth(&"B".repeat(1 << 16)), Err(OAuthError::InvalidClient));
}

#[test]
fn login_attempts_are_rate_limited() {
    let mut w = world();
    let wrong = form(&[("grant_type", "password"), ("username", "alice"), ("password", "wrong horse")]).unwrap();
    for _ in 0..5 {
        assert_eq!(w.grant(&wrong, at(T0)), Err(OAuthError::InvalidGrant));
    }
    let e = w.grant(&wrong, at(T0)).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("slow_down", 429));
    assert!(matches!(e, OAuthError::RateLimited { retry_after_s: 20 }));
    // Even the right password waits.
    let right = form(&[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")]).unwrap();
    assert!(matches!(w.grant(&right, at(T0 + 19)), Err(OAuthError::RateLimited { .. })));
    assert!(w.grant(&right, at(T0 + 20)).is_ok());
}

#[test]
fn tickets_single_use_short_lived_bounded() {
    let w = world();
    let p = w.policy.principal("alice", Role::Operator, Some(&AgencyId("police".into())), &[]).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let mut store = TicketStore::new(30, 3);
    let t = store.issue(&p, at(T0), &mut rng).unwrap();
    assert_eq!(t.as_str().len(), twin_auth::ticket::TICKET_LEN);
    assert_eq!(parse_ticket(t.as_str()), Ok(t.as_str()));
    assert_eq!(store.redeem(t.as_str(), at(T0 + 29)).unwrap(), p);
    assert_eq!(store.redeem(t.as_str(), at(T0 + 29)), Err(TicketError::Invalid), "single use");
    // Expiry one second either side of the 30 s lifetime.
    let a = store.issue(&p, at(T0), &mut rng).unwrap();
    let b = store.issue(&p, at(T0), &mut rng).unwrap();
    assert!(store.redeem(a.as_str(), at(T0 + 29)).is_ok());
    assert_eq!(store.redeem(b.as_str(), at(T0 + 31)), Err(TicketError::Invalid));
    // Bounded: the oldest goes first.
    let ts: Vec<_> = (0..5).map(|i| store.issue(&p, at(T0 + 100 + i), &mut rng).unwrap()).collect();
    assert_eq!(store.len(), 3);
    assert_eq!(store.redeem(ts[0].as_str(), at(T0 + 105)), Err(TicketError::Invalid));
    assert!(store.redeem(ts[4].as_str(), at(T0 + 105)).is_ok());
    for _ in 0..100 {
        let t = store.issue(&p, at(T0 + 200), &mut rng).unwrap();
        store.redeem(t.as_str(), at(T0 + 200)).unwrap();
    }
    assert!(store.len() <= 3);
    // Anonymous callers get none.
    assert_eq!(store.issue(&w.policy.anonymous(), at(T0), &mut rng).unwrap_err(), TicketError::Anonymous);
}

#[test]
fn ticket_parsing() {
    let good = format!("ctt_{}", URL_SAFE_NO_PAD.encode([9u8; 32]));
    assert!(parse_ticket(&good).is_ok());
    for bad in [
        String::new(),
        "ctt_".into(),
        good[..good.len() - 1].to_string(),
        format!("{good}A"),
        good.replace("ctt_", "ctx_"),
        format!("ctt_{}", "é".repeat(21)),
        format!("ctt_{}+", &good[4..good.len() - 1]),
        // Non-canonical last character (non-zero padding bits).
        format!("{}B", &good[..good.len() - 1]),
        "x".repeat(1 << 16),
    ] {
        assert_eq!(parse_ticket(&bad), Err(TicketError::Malformed), "{bad:.60}");
    }
}
