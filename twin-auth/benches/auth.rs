//! The per-request costs: `authorize`, `property_filter`, token verification, a tracker's secret
//! check, the login limiter; and the per-login cost of an argon2id password check.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;
use twin_auth::jwt::{sign, verify};
use twin_auth::{
    authorize, danang_demo, property_filter, Action, Claims, LimiterConfig, LoginLimiter, Owner, Policy, Resource,
    Role, SigningKey, UserStore,
};
use twin_core::{AgencyId, EntityKind, Timestamp};

fn benches(c: &mut Criterion) {
    let policy = Policy::new(&danang_demo().unwrap()).unwrap();
    let transport = AgencyId("transport".into());
    let op = policy.principal("lan", Role::Operator, Some(&transport), &[]).unwrap();
    let owner = Owner::agency(&transport);
    c.bench_function("authorize_entity_read", |b| {
        let r = Resource::Entity { kind: EntityKind::Detection, class: Some("person"), owner };
        b.iter(|| authorize(black_box(&op), Action::Read, black_box(&r)))
    });
    c.bench_function("authorize_case_write", |b| {
        let r = Resource::Case(owner);
        b.iter(|| authorize(black_box(&op), Action::Write, black_box(&r)))
    });
    c.bench_function("property_filter_citizen_report", |b| {
        b.iter(|| property_filter(black_box(&op), EntityKind::CitizenReport, black_box(&owner)))
    });
    c.bench_function("policy_compile_demo", |b| {
        let cfg = danang_demo().unwrap();
        b.iter(|| Policy::new(black_box(&cfg)).unwrap())
    });

    let key = SigningKey::generate(&mut StdRng::seed_from_u64(1));
    let claims = Claims {
        iss: "citytwin".into(),
        sub: "lan".into(),
        role: Role::Operator,
        agency: Some(transport.clone()),
        src: vec![],
        iat: 1_765_000_000,
        exp: 1_765_000_900,
        jti: "abcdefghijklmnopqrstuv".into(),
    };
    let token = sign(&key, &claims).unwrap();
    let now = Timestamp::from_millis(1_765_000_100_000);
    c.bench_function("jwt_sign", |b| b.iter(|| sign(black_box(&key), black_box(&claims)).unwrap()));
    c.bench_function("jwt_verify", |b| b.iter(|| verify(black_box(&key), black_box(&token), "citytwin", now).unwrap()));

    let mut rng = StdRng::seed_from_u64(2);
    let mut users = UserStore::new();
    users.add_user("lan", Role::Analyst, None, "a long password", &mut rng).unwrap();
    let secret = users.add_client("amb-01", Role::Device, None, vec!["osmand".into()], &mut rng).unwrap();
    c.bench_function("device_secret_verify", |b| b.iter(|| users.verify_secret("amb-01", black_box(&secret)).unwrap()));
    let mut slow = c.benchmark_group("slow");
    slow.sample_size(10);
    slow.bench_function("argon2id_password_verify", |b| {
        b.iter(|| users.verify_password("lan", black_box("a long password")).unwrap())
    });
    slow.finish();

    let mut limiter = LoginLimiter::new(LimiterConfig::default());
    let addr = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let mut t = 0i64;
    c.bench_function("limiter_attempt", |b| {
        b.iter(|| {
            t += 20_000;
            limiter.attempt(black_box("lan"), addr, Timestamp::from_millis(t))
        })
    });
}

criterion_group!(auth, benches);
criterion_main!(auth);
