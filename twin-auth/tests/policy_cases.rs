//! The access decision case by case: the Đà Nẵng demo grants, principal checks, jurisdiction
//! scopes and configuration validation.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeMap;

use twin_auth::{
    authorize, danang_demo, property_filter, Action, AuthConfig, ConfigError, Decision, Owner, Place, Policy,
    Principal, Resource, Role,
};
use twin_core::{AgencyId, EntityKind};

fn ag(s: &str) -> AgencyId {
    AgencyId(s.into())
}

fn demo() -> Policy {
    Policy::new(&danang_demo().unwrap()).unwrap()
}

fn who(policy: &Policy, role: Role, agency: Option<&str>) -> Principal {
    policy.principal("someone", role, agency.map(ag).as_ref(), &[]).unwrap()
}

fn entity(kind: EntityKind) -> Resource<'static> {
    Resource::Entity { kind, class: None, owner: Owner::NONE }
}

#[test]
fn demo_police_objects_only_for_police_leader_admin() {
    let p = demo();
    let police = who(&p, Role::Operator, Some("police"));
    let transport = who(&p, Role::Operator, Some("transport"));
    let leader = who(&p, Role::Leader, None);
    let admin = who(&p, Role::Admin, None);
    let analyst = who(&p, Role::Analyst, None);
    let person = Resource::Entity { kind: EntityKind::Detection, class: Some("person"), owner: Owner::NONE };
    let plate = Resource::Entity { kind: EntityKind::Detection, class: Some("plate"), owner: Owner::NONE };
    let car = Resource::Entity { kind: EntityKind::Detection, class: Some("car"), owner: Owner::NONE };
    let frames = Resource::CameraFrames(Owner::NONE);
    let evidence = Resource::Evidence(Owner::NONE);
    for r in [entity(EntityKind::PoliceUnit), person, plate, frames, evidence] {
        for ok in [&police, &leader, &admin] {
            assert_eq!(authorize(ok, Action::Read, &r), Decision::Allow, "{r:?} for {:?}", ok.role());
        }
        for no in [&transport, &analyst] {
            assert_eq!(authorize(no, Action::Read, &r), Decision::NotVisible, "{r:?} for {:?}", no.role());
        }
    }
    // Other detections and kinds: every signed-in account.
    for r in [car, entity(EntityKind::Bus), entity(EntityKind::Vessel), entity(EntityKind::CitizenReport)] {
        for p in [&police, &transport, &leader, &analyst] {
            assert_eq!(authorize(p, Action::Read, &r), Decision::Allow, "{r:?}");
        }
    }
    assert_eq!(authorize(&transport, Action::Read, &Resource::Layer("roads")), Decision::Allow);
}

#[test]
fn demo_report_contact_for_routed_agency_leader_admin() {
    let p = demo();
    let transport = ag("transport");
    let routed = Owner::agency(&transport);
    let contact = Resource::Property { kind: EntityKind::CitizenReport, name: "contact", owner: routed };
    let description = Resource::Property { kind: EntityKind::CitizenReport, name: "description", owner: routed };
    let to_transport = who(&p, Role::Operator, Some("transport"));
    let analyst_transport = who(&p, Role::Analyst, Some("transport"));
    let police = who(&p, Role::Operator, Some("police"));
    let leader = who(&p, Role::Leader, None);
    let admin = who(&p, Role::Admin, None);
    let analyst = who(&p, Role::Analyst, None);
    for ok in [&to_transport, &analyst_transport, &leader, &admin] {
        assert_eq!(authorize(ok, Action::Read, &contact), Decision::Allow);
    }
    for no in [&police, &analyst] {
        assert_eq!(authorize(no, Action::Read, &contact), Decision::NotVisible);
        assert_eq!(authorize(no, Action::Read, &description), Decision::Allow);
    }
    // An unrouted report's contact: leaders and admins only.
    let unrouted = Resource::Property { kind: EntityKind::CitizenReport, name: "contact", owner: Owner::NONE };
    assert_eq!(authorize(&to_transport, Action::Read, &unrouted), Decision::NotVisible);
    assert_eq!(authorize(&leader, Action::Read, &unrouted), Decision::Allow);

    // The filter agrees and redacts.
    let mut props: BTreeMap<String, i32> = [("contact".into(), 1), ("description".into(), 2)].into();
    let f = property_filter(&police, EntityKind::CitizenReport, &routed);
    assert!(!f.allows("contact") && f.allows("description"));
    f.redact(&mut props);
    assert_eq!(props.keys().collect::<Vec<_>>(), ["description"]);
    assert!(property_filter(&to_transport, EntityKind::CitizenReport, &routed).is_identity());
    let mut json = serde_json::json!({"contact": "0905", "category": "flood"});
    property_filter(&p.anonymous(), EntityKind::CitizenReport, &routed).redact_json(json.as_object_mut().unwrap());
    assert_eq!(json, serde_json::json!({"category": "flood"}));
}

#[test]
fn demo_roles_and_writes() {
    let p = demo();
    let police_id = ag("police");
    let port_id = ag("port");
    let police = who(&p, Role::Operator, Some("police"));
    let analyst = who(&p, Role::Analyst, None);
    let own_case = Resource::Case(Owner::agency(&police_id));
    let other_case = Resource::Case(Owner::agency(&port_id));
    assert_eq!(authorize(&police, Action::Write, &own_case), Decision::Allow);
    assert_eq!(authorize(&police, Action::Read, &other_case), Decision::NotVisible);
    assert_eq!(authorize(&police, Action::Write, &other_case), Decision::NotVisible, "no existence leak");
    assert_eq!(authorize(&analyst, Action::Read, &other_case), Decision::Allow);
    assert_eq!(authorize(&analyst, Action::Write, &other_case), Decision::Forbidden);
    assert_eq!(authorize(&police, Action::Read, &Resource::Audit), Decision::Forbidden);
    assert_eq!(authorize(&police, Action::Read, &Resource::Accounts), Decision::Forbidden);
    assert_eq!(authorize(&who(&p, Role::Leader, None), Action::Read, &Resource::Audit), Decision::Allow);
    assert_eq!(authorize(&who(&p, Role::Admin, None), Action::Write, &Resource::Accounts), Decision::Allow);
    // A report routed to its own agency may be written; other entities change only via ingest.
    let report = Resource::Entity { kind: EntityKind::CitizenReport, class: None, owner: Owner::agency(&police_id) };
    assert_eq!(authorize(&police, Action::Write, &report), Decision::Allow);
    assert_eq!(authorize(&police, Action::Write, &entity(EntityKind::Bus)), Decision::Forbidden);

    // Devices: their sources only, nothing to read.
    let tracker = p.principal("amb-01", Role::Device, Some(&ag("health")), &["osmand".into()]).unwrap();
    assert_eq!(authorize(&tracker, Action::Write, &Resource::IngestSource("osmand")), Decision::Allow);
    assert_eq!(authorize(&tracker, Action::Write, &Resource::IngestSource("mqtt")), Decision::Forbidden);
    assert_eq!(authorize(&tracker, Action::Read, &entity(EntityKind::Bus)), Decision::Forbidden);
    assert_eq!(tracker.actor().as_str(), "device:amb-01");
    assert_eq!(police.actor().as_str(), "user:someone");

    // Anonymous: public only, 401 otherwise.
    let anon = p.anonymous();
    assert_eq!(authorize(&anon, Action::Read, &Resource::Public), Decision::Allow);
    assert_eq!(authorize(&anon, Action::Read, &entity(EntityKind::Bus)), Decision::Unauthenticated);
    assert_eq!(Decision::NotVisible.http_status(), 404);
    assert_eq!(Decision::Forbidden.http_status(), 403);
}

#[test]
fn demo_visibility_classes() {
    let p = demo();
    let a = p.principal("a", Role::Operator, Some(&ag("transport")), &[]).unwrap();
    let b = p.principal("b", Role::Operator, Some(&ag("transport")), &[]).unwrap();
    let c = who(&p, Role::Operator, Some("port"));
    let police = who(&p, Role::Operator, Some("police"));
    assert_eq!(a.visibility_class(), b.visibility_class(), "same agency and role: one cache");
    // Port and transport differ: each reads the contacts of reports routed to it.
    assert_ne!(a.visibility_class(), c.visibility_class());
    assert_ne!(a.visibility_class(), police.visibility_class());
    assert_eq!(a.visibility_class().to_string().len(), 32);
}

#[test]
fn principal_checks() {
    let p = demo();
    assert!(p.principal("x", Role::Operator, None, &[]).is_err());
    assert!(p.principal("x", Role::Leader, Some(&ag("nope")), &[]).is_err());
    let too_many: Vec<String> = (0..=twin_auth::limits::MAX_DEVICE_SOURCES).map(|i| i.to_string()).collect();
    assert!(p.principal("x", Role::Device, None, &too_many).is_err());
    let ok: Vec<String> = too_many[1..].to_vec();
    assert!(p.principal("x", Role::Device, None, &ok).is_ok());
}

#[test]
fn jurisdiction_scope() {
    let cfg = AuthConfig::from_city_toml(
        r#"
[[agencies]]
id = "port"
name_vi = "Cảng"
name_en = "Port"
jurisdiction = { polygon = [[108.19, 16.10], [108.24, 16.10], [108.24, 16.14], [108.19, 16.14]] }
[[agencies]]
id = "ward"
name_vi = "Phường"
name_en = "Ward"
jurisdiction = { communes = ["20194"] }
[[grants]]
agencies = ["port", "ward"]
scope = "jurisdiction"
read_cases = true
"#,
    )
    .unwrap();
    let p = Policy::new(&cfg).unwrap();
    let port = who(&p, Role::Operator, Some("port"));
    let ward = who(&p, Role::Operator, Some("ward"));
    let inside = Resource::Case(Owner { agency: None, place: Place { commune: None, point: Some([108.2, 16.12]) } });
    let outside = Resource::Case(Owner { agency: None, place: Place { commune: None, point: Some([108.3, 16.12]) } });
    let in_ward = Resource::Case(Owner { agency: None, place: Place { commune: Some("20194"), point: None } });
    assert_eq!(authorize(&port, Action::Read, &inside), Decision::Allow);
    assert_eq!(authorize(&port, Action::Read, &outside), Decision::NotVisible);
    assert_eq!(authorize(&port, Action::Read, &in_ward), Decision::NotVisible);
    assert_eq!(authorize(&ward, Action::Read, &in_ward), Decision::Allow);
    assert_eq!(authorize(&ward, Action::Read, &inside), Decision::NotVisible);
}

#[test]
fn config_validation() {
    let bad = |toml: &str| AuthConfig::from_city_toml(toml).unwrap_err();
    assert!(matches!(bad("[[grants]]\nsigned_in = true\nread_kinds = [\"spaceship\"]"), ConfigError::UnknownKind(_)));
    assert!(matches!(bad("[[grants]]\nread_kinds = [\"bus\"]"), ConfigError::GrantWithoutSubject(0)));
    assert!(matches!(bad("[[grants]]\nagencies = [\"x\"]\nread_kinds = [\"bus\"]"), ConfigError::UnknownAgency(_)));
    assert!(matches!(
        bad("[[grants]]\nsigned_in = true\nread_properties = [\"contact\"]"),
        ConfigError::BadProperty(_)
    ));
    assert!(matches!(bad("[[grants]]\nsigned_in = true\nread_kind = [\"bus\"]"), ConfigError::Toml(_)));
    assert!(matches!(bad("[[grants]]\nroles = [\"king\"]"), ConfigError::Toml(_)));
    assert!(matches!(
        bad("[[agencies]]\nid = \"a\"\nname_vi = \"\"\nname_en = \"\"\njurisdiction = { polygon = [[0.0, 0.0], [1.0, 1.0]] }"),
        ConfigError::BadPolygon(_)
    ));
    let dup = "[[agencies]]\nid = \"a\"\nname_vi = \"\"\nname_en = \"\"\njurisdiction = { communes = [] }\n";
    assert!(matches!(bad(&dup.repeat(2)), ConfigError::DuplicateAgency(_)));
    assert!(matches!(bad("[auth]\nticket_ttl_s = 0"), ConfigError::ZeroTtl));
    // Limits.
    assert!(matches!(bad(&" ".repeat(twin_auth::limits::MAX_CONFIG_BYTES + 1)), ConfigError::TooLarge));
    let grant = "[[grants]]\nsigned_in = true\n";
    assert!(AuthConfig::from_city_toml(&grant.repeat(twin_auth::limits::MAX_GRANTS)).is_ok());
    assert!(matches!(bad(&grant.repeat(twin_auth::limits::MAX_GRANTS + 1)), ConfigError::TooMany("grants", _)));
    let items = |n: usize| {
        let list = (0..n).map(|i| format!("\"l{i}\"")).collect::<Vec<_>>().join(",");
        format!("[[grants]]\nsigned_in = true\nread_layers = [{list}]")
    };
    assert!(AuthConfig::from_city_toml(&items(twin_auth::limits::MAX_GRANT_ITEMS)).is_ok());
    assert!(matches!(bad(&items(twin_auth::limits::MAX_GRANT_ITEMS + 1)), ConfigError::TooMany(..)));
    let agency = |i: usize, juris: &str| {
        format!("[[agencies]]\nid = \"a{i}\"\nname_vi = \"\"\nname_en = \"\"\njurisdiction = {juris}\n")
    };
    let agencies = |n: usize| (0..n).map(|i| agency(i, "{ communes = [] }")).collect::<String>();
    assert!(AuthConfig::from_city_toml(&agencies(twin_auth::limits::MAX_AGENCIES)).is_ok());
    assert!(matches!(bad(&agencies(twin_auth::limits::MAX_AGENCIES + 1)), ConfigError::TooMany("agencies", _)));
    let communes = |n: usize| {
        let list = (0..n).map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(",");
        agency(0, &format!("{{ communes = [{list}] }}"))
    };
    assert!(AuthConfig::from_city_toml(&communes(twin_auth::limits::MAX_JURISDICTION_ITEMS)).is_ok());
    assert!(matches!(bad(&communes(twin_auth::limits::MAX_JURISDICTION_ITEMS + 1)), ConfigError::TooMany(..)));
    let vertices = |n: usize| {
        let list = (0..n).map(|i| format!("[{}.0, {}.0]", i % 180, (i * 7) % 90)).collect::<Vec<_>>().join(",");
        agency(0, &format!("{{ polygon = [{list}] }}"))
    };
    assert!(AuthConfig::from_city_toml(&vertices(twin_auth::limits::MAX_JURISDICTION_ITEMS)).is_ok());
    assert!(matches!(bad(&vertices(twin_auth::limits::MAX_JURISDICTION_ITEMS + 1)), ConfigError::TooMany(..)));
    let id = |n: usize| format!("[[grants]]\nsigned_in = true\nread_layers = [\"{}\"]", "l".repeat(n));
    assert!(AuthConfig::from_city_toml(&id(twin_auth::limits::MAX_ID_LEN)).is_ok());
    assert!(matches!(bad(&id(twin_auth::limits::MAX_ID_LEN + 1)), ConfigError::BadId { .. }));
    assert!(matches!(bad(&id(0)), ConfigError::BadId { .. }));
    let long_agency = agency(0, "{ communes = [] }").replace("a0", &"a".repeat(twin_auth::limits::MAX_ID_LEN + 1));
    assert!(matches!(bad(&long_agency), ConfigError::BadId { .. }));
    // The example at the top of the config module parses (other sections of a city file are ignored).
    let doc = include_str!("../src/config.rs");
    let example: String = doc
        .lines()
        .skip_while(|l| !l.starts_with("//! ```toml"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! ```"))
        .map(|l| format!("{}\n", l.trim_start_matches("//!").strip_prefix(' ').unwrap_or("")))
        .collect();
    let with_more = format!("[city]\nname = \"x\"\n{}", example.replace("[[agencies]]\nid = \"port\"", "[[agencies]]\nid = \"transport\"\nname_vi = \"t\"\nname_en = \"t\"\njurisdiction = { communes = [\"1\"] }\n\n[[agencies]]\nid = \"port\""));
    let cfg = AuthConfig::from_city_toml(&with_more).unwrap();
    assert_eq!(cfg.agencies.len(), 3);
    assert_eq!(cfg.grants.len(), 4);
}
