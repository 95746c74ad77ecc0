//! Accounts, password and secret checks, the user store file, the login limiter.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::rngs::StdRng;
use rand::SeedableRng;
use twin_auth::limits::{MAX_PASSWORD_LEN, MAX_SECRET_LEN, MAX_USERNAME_LEN, MIN_PASSWORD_LEN};
use twin_auth::ratelimit::BucketConfig;
use twin_auth::users::{hash_password, hash_secret, verify_password_hash, write_atomic};
use twin_auth::{LimiterConfig, LoginLimiter, RateLimited, Role, UserError, UserStore};
use twin_core::{AgencyId, Timestamp};

fn rng() -> StdRng {
    StdRng::seed_from_u64(11)
}

#[test]
fn argon2id_hash_verifies() {
    let h = hash_password("mật khẩu dài", &mut rng()).unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert!(verify_password_hash(&h, "mật khẩu dài"));
    assert!(!verify_password_hash(&h, "mật khẩu dàI"));
    assert!(!verify_password_hash(&h, ""));
    // Salted: the same password hashes differently.
    assert_ne!(h, hash_password("mật khẩu dài", &mut StdRng::seed_from_u64(12)).unwrap());
    // Made by argon2-cffi (the reference C implementation): hash_secret(b"password", b"somesalt",
    // time_cost=2, memory_cost=65536, parallelism=4, hash_len=32, type=ID).
    let reference = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo";
    assert!(verify_password_hash(reference, "password"));
    assert!(!verify_password_hash(reference, "Password"));
    // Malformed, other algorithms, or over-costly hashes never verify.
    for bad in [
        "",
        "$argon2id$",
        "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
        "$argon2id$v=19$m=4194304,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
        "$argon2id$v=19$m=65536,t=1000,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
    ] {
        assert!(!verify_password_hash(bad, "password"), "{bad}");
    }
}

#[test]
fn password_and_name_limits() {
    let mut r = rng();
    assert!(matches!(hash_password(&"p".repeat(MIN_PASSWORD_LEN - 1), &mut r), Err(UserError::BadPassword)));
    assert!(hash_password(&"p".repeat(MIN_PASSWORD_LEN), &mut r).is_ok());
    assert!(hash_password(&"p".repeat(MAX_PASSWORD_LEN), &mut r).is_ok());
    assert!(matches!(hash_password(&"p".repeat(MAX_PASSWORD_LEN + 1), &mut r), Err(UserError::BadPassword)));
    let mut s = UserStore::new();
    for bad in ["", "-x", "a b", "ä", "a/b", &"a".repeat(MAX_USERNAME_LEN + 1)] {
        assert!(matches!(s.add_user(bad, Role::Analyst, None, "password1", &mut r), Err(UserError::BadName)), "{bad}");
    }
    s.add_user(&"a".repeat(MAX_USERNAME_LEN), Role::Analyst, None, "password1", &mut r).unwrap();
    s.add_user("lan.nguyen@danang", Role::Analyst, None, "password1", &mut r).unwrap();
    assert!(matches!(
        s.add_user("lan.nguyen@danang", Role::Analyst, None, "password1", &mut r),
        Err(UserError::Exists(_))
    ));
    assert!(matches!(
        s.add_user("op", Role::Operator, None, "password1", &mut r),
        Err(UserError::OperatorWithoutAgency)
    ));
    // Sources only for devices, capped.
    assert!(matches!(
        s.add_client("c", Role::Analyst, None, vec!["osmand".into()], &mut r),
        Err(UserError::BadSources)
    ));
    let many: Vec<String> = (0..=twin_auth::limits::MAX_DEVICE_SOURCES).map(|i| format!("s{i}")).collect();
    assert!(matches!(s.add_client("d", Role::Device, None, many.clone(), &mut r), Err(UserError::BadSources)));
    s.add_client("d", Role::Device, None, many[1..].to_vec(), &mut r).unwrap();
    // Checks refuse over-long input without hashing it.
    assert!(matches!(s.verify_password(&"a".repeat(MAX_USERNAME_LEN + 1), "x"), Err(UserError::InvalidCredentials)));
    assert!(matches!(
        s.verify_password("lan.nguyen@danang", &"p".repeat(MAX_PASSWORD_LEN + 1)),
        Err(UserError::InvalidCredentials)
    ));
    assert!(matches!(s.verify_secret("d", &"s".repeat(MAX_SECRET_LEN + 1)), Err(UserError::InvalidCredentials)));
}

#[test]
fn accounts_cli_operations() {
    let mut r = rng();
    let mut s = UserStore::new();
    s.add_user("lan", Role::Operator, Some(AgencyId("police".into())), "first password", &mut r).unwrap();
    assert_eq!(s.verify_password("lan", "first password").unwrap().role, Role::Operator);
    assert!(matches!(s.verify_password("lan", "first passwore"), Err(UserError::InvalidCredentials)));
    assert!(matches!(s.verify_password("nobody", "first password"), Err(UserError::InvalidCredentials)));
    s.set_password("lan", "second password", &mut r).unwrap();
    assert!(s.verify_password("lan", "first password").is_err());
    assert!(s.verify_password("lan", "second password").is_ok());
    s.set_disabled("lan", true).unwrap();
    assert!(matches!(s.verify_password("lan", "second password"), Err(UserError::Disabled)));
    assert!(matches!(s.verify_password("lan", "wrong password"), Err(UserError::InvalidCredentials)));
    s.set_disabled("lan", false).unwrap();
    assert!(matches!(s.set_disabled("nobody", true), Err(UserError::NoSuchAccount(_))));

    // Device secrets: generated, stored hashed, checked, rotated.
    let secret = s.add_client("amb-01", Role::Device, None, vec!["osmand".into()], &mut r).unwrap();
    assert!(secret.starts_with("ctk_") && secret.len() == 47);
    let stored = s.get("amb-01").unwrap().secret_hash.clone().unwrap();
    assert_eq!(stored, hash_secret(&secret));
    assert!(!stored.contains(&secret[4..]));
    assert_eq!(s.verify_secret("amb-01", &secret).unwrap().sources, ["osmand"]);
    assert!(s.verify_secret("amb-01", "ctk_wrong").is_err());
    assert!(s.verify_secret("lan", &secret).is_err(), "a person has no secret");
    assert!(s.verify_password("amb-01", "whatever password").is_err(), "a device has no password");
    let rotated = s.rotate_secret("amb-01", &mut r).unwrap();
    assert!(s.verify_secret("amb-01", &secret).is_err());
    assert!(s.verify_secret("amb-01", &rotated).is_ok());
    // SHA-256 of "abc" (FIPS 180-2 example).
    assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    let names: Vec<_> = s.list().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["amb-01", "lan"]);
    s.remove("lan").unwrap();
    assert_eq!(s.len(), 1);
}

#[test]
fn store_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    assert!(UserStore::load(&path).unwrap().is_empty(), "missing file: empty store");
    let mut r = rng();
    let mut s = UserStore::new();
    s.add_user("lan", Role::Leader, None, "a long password", &mut r).unwrap();
    s.add_client("amb-01", Role::Device, Some(AgencyId("health".into())), vec!["osmand".into()], &mut r).unwrap();
    s.set_disabled("amb-01", true).unwrap();
    s.save(&path).unwrap();
    let back = UserStore::load(&path).unwrap();
    assert_eq!(back, s);
    assert!(back.verify_password("lan", "a long password").is_ok());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("a long password"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // No temp files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // The same writer stores the signing key; a failed write leaves no temp file.
    let key_path = dir.path().join("jwt.key");
    write_atomic(&key_path, &[7u8; 32]).unwrap();
    assert_eq!(std::fs::read(&key_path).unwrap(), [7u8; 32]);
    assert!(write_atomic(&dir.path().join("missing").join("x"), b"x").is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn store_file_malformed() {
    let bad = |s: &str| UserStore::from_json(s.as_bytes()).unwrap_err();
    assert!(matches!(bad(""), UserError::Format(_)));
    assert!(matches!(bad("{\"version\":2,\"accounts\":[]}"), UserError::Format(_)));
    assert!(matches!(bad("{\"version\":1,\"accounts\":[],\"x\":1}"), UserError::Format(_)));
    assert!(matches!(bad(r#"{"version":1,"accounts":[{"name":"a b","role":"admin"}]}"#), UserError::BadName));
    assert!(matches!(
        bad(r#"{"version":1,"accounts":[{"name":"a","role":"operator"}]}"#),
        UserError::OperatorWithoutAgency
    ));
    assert!(matches!(
        bad(r#"{"version":1,"accounts":[{"name":"a","role":"admin"},{"name":"a","role":"admin"}]}"#),
        UserError::Exists(_)
    ));
    assert!(matches!(
        bad(r#"{"version":1,"accounts":[{"name":"a","role":"admin","password_hash":"plain"}]}"#),
        UserError::Format(_)
    ));
    assert!(matches!(
        bad(r#"{"version":1,"accounts":[{"name":"a","role":"device","secret_hash":"xyz"}]}"#),
        UserError::Format(_)
    ));
    // A hash asking for 4 GiB of memory is refused at load.
    let costly = r#"{"version":1,"accounts":[{"name":"a","role":"admin","password_hash":"$argon2id$v=19$m=4194304,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"}]}"#;
    assert!(matches!(bad(costly), UserError::Format(_)));
    // Size cap, checked before parsing.
    let huge = vec![b' '; (twin_auth::limits::MAX_USER_FILE_BYTES + 1) as usize];
    assert!(matches!(UserStore::from_json(&huge), Err(UserError::FileTooLarge)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(&path, &huge).unwrap();
    assert!(matches!(UserStore::load(&path), Err(UserError::FileTooLarge)));
}

#[test]
fn account_count_cap() {
    let accounts: Vec<String> =
        (0..=twin_auth::limits::MAX_ACCOUNTS).map(|i| format!(r#"{{"name":"u{i}","role":"analyst"}}"#)).collect();
    let json = format!(r#"{{"version":1,"accounts":[{}]}}"#, accounts.join(","));
    assert!(matches!(UserStore::from_json(json.as_bytes()), Err(UserError::TooManyAccounts)));
    let json = format!(r#"{{"version":1,"accounts":[{}]}}"#, accounts[1..].join(","));
    let mut s = UserStore::from_json(json.as_bytes()).unwrap();
    assert_eq!(s.len(), twin_auth::limits::MAX_ACCOUNTS);
    assert!(matches!(
        s.add_client("one-more", Role::Device, None, vec![], &mut rng()),
        Err(UserError::TooManyAccounts)
    ));
}

#[test]
fn concurrent_saves_never_tear_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut r = rng();
    // Stores of different sizes, so a torn write would not parse or not match any of them.
    let stores: Vec<UserStore> = (0..4)
        .map(|n| {
            let mut s = UserStore::new();
            for i in 0..(n * 50 + 1) {
                s.add_client(&format!("dev-{n}-{i}"), Role::Device, None, vec![format!("src{i}")], &mut r).unwrap();
            }
            s
        })
        .collect();
    stores[0].save(&path).unwrap();
    std::thread::scope(|scope| {
        for s in &stores {
            let path = &path;
            scope.spawn(move || {
                for _ in 0..25 {
                    s.save(path).unwrap();
                }
            });
        }
        let path = &path;
        let stores = &stores;
        scope.spawn(move || {
            for _ in 0..200 {
                let read = UserStore::load(path).unwrap();
                assert!(stores.contains(&read), "a read saw a store nobody wrote");
            }
        });
    });
    assert!(stores.contains(&UserStore::load(&path).unwrap()));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp files left");
}

const A1: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const A2: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

fn ms(t: i64) -> Timestamp {
    Timestamp::from_millis(t)
}

#[test]
fn limiter_per_account_burst_and_refill() {
    let mut l = LoginLimiter::new(LimiterConfig::default());
    for i in 0..5 {
        assert!(l.attempt("lan", if i % 2 == 0 { A1 } else { A2 }, ms(0)).is_ok());
    }
    assert_eq!(l.attempt("lan", A1, ms(0)), Err(RateLimited { retry_after_ms: 20_000 }));
    assert_eq!(l.attempt("lan", A1, ms(19_999)), Err(RateLimited { retry_after_ms: 1 }));
    assert!(l.attempt("lan", A1, ms(20_000)).is_ok());
    assert!(l.attempt("lan", A1, ms(20_000)).is_err());
    // Another account from the same address is not held back by lan's bucket.
    assert!(l.attempt("minh", A1, ms(20_000)).is_ok());
    // Success forgets the account's failures.
    l.succeeded("lan");
    assert!(l.attempt("lan", A1, ms(20_001)).is_ok());
}

#[test]
fn limiter_per_address() {
    let cfg = LimiterConfig { per_address: BucketConfig { burst: 3, refill_ms: 1000 }, ..LimiterConfig::default() };
    let mut l = LoginLimiter::new(cfg);
    for i in 0..3 {
        assert!(l.attempt(&format!("user{i}"), A1, ms(0)).is_ok());
    }
    assert!(l.attempt("user9", A1, ms(0)).is_err(), "spraying names from one address");
    assert!(l.attempt("user9", A2, ms(0)).is_ok());
    // IPv6: one /64 is one key.
    let v6 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
    for i in 0..3 {
        assert!(l.attempt(&format!("v{i}"), v6(i), ms(0)).is_ok());
    }
    assert!(l.attempt("v9", v6(99), ms(0)).is_err());
    assert!(l.attempt("v9", IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1)), ms(0)).is_ok());
}

#[test]
fn limiter_memory_is_bounded_and_keeps_the_attacked_key() {
    let cfg = LimiterConfig {
        per_account: BucketConfig { burst: 5, refill_ms: 20_000 },
        per_address: BucketConfig { burst: 1_000_000, refill_ms: 1 },
        max_keys: 100,
    };
    let mut l = LoginLimiter::new(cfg);
    for _ in 0..5 {
        l.attempt("victim", A1, ms(0)).unwrap();
    }
    assert!(l.attempt("victim", A1, ms(0)).is_err());
    // A flood of fresh names and addresses.
    for i in 0..10_000u32 {
        let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        let _ = l.attempt(&format!("flood{i}"), addr, ms(1));
        let (a, b) = l.len();
        assert!(a <= 100 && b <= 100);
    }
    assert!(l.attempt("victim", A1, ms(2)).is_err(), "the drained bucket was not evicted");
    // Over-long names are cut to the name limit, so they cannot grow memory per key.
    let long = "x".repeat(1 << 16);
    assert!(l.attempt(&long, A2, ms(3)).is_ok());
}
