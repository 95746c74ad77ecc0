//! The access decision: the Đà Nẵng demo grants case by case, and properties over random grant
//! sets (deny by default, admin, operators bound by their grants, visibility classes).
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeMap;

use proptest::prelude::*;
use twin_auth::config::Sensitive;
use twin_auth::{
    authorize, danang_demo, property_filter, Action, Agency, AuthConfig, ConfigError, Decision, Grant, Jurisdiction,
    Owner, Place, Policy, Principal, Resource, Role, Scope,
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

// ---------- properties over random grant sets ----------

/// Which flag of a grant gives a resource.
type GrantField = fn(&Grant) -> bool;

const KIND_KEYS: &[&str] =
    &["*", "bus", "police_unit", "citizen_report", "detection", "detection:person", "detection:car", "bus:car"];
const LAYERS: &[&str] = &["*", "roads", "buildings"];
const PROPS: &[&str] = &["citizen_report.contact", "bus.driver", "bus.route"];
const AGENCIES: &[&str] = &["a", "b", "c"];

fn base_config(grants: Vec<Grant>) -> AuthConfig {
    let square = |x0: f64| vec![[x0, 0.0], [x0 + 10.0, 0.0], [x0 + 10.0, 10.0], [x0, 10.0]];
    AuthConfig {
        agencies: vec![
            Agency {
                id: ag("a"),
                name_vi: "A".into(),
                name_en: "A".into(),
                jurisdiction: Jurisdiction::Polygon(square(0.0)),
            },
            Agency {
                id: ag("b"),
                name_vi: "B".into(),
                name_en: "B".into(),
                jurisdiction: Jurisdiction::Polygon(square(20.0)),
            },
            Agency {
                id: ag("c"),
                name_vi: "C".into(),
                name_en: "C".into(),
                jurisdiction: Jurisdiction::Communes(vec!["c1".into(), "c2".into()]),
            },
        ],
        sensitive: Sensitive {
            classes: [("detection".to_string(), vec!["person".to_string()])].into(),
            properties: vec!["citizen_report.contact".into(), "bus.driver".into()],
        },
        grants,
        auth: Default::default(),
    }
}

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(items, 0..=items.len()).prop_map(|v| v.into_iter().map(String::from).collect())
}

fn grant() -> impl Strategy<Value = Grant> {
    let subject = (
        proptest::sample::subsequence(AGENCIES, 0..=2),
        proptest::sample::subsequence(
            &[Role::Leader, Role::Operator, Role::Analyst, Role::Device, Role::Admin][..],
            0..=2,
        ),
        any::<bool>(),
    );
    let scope = prop_oneof![Just(Scope::All), Just(Scope::OwnAgency), Just(Scope::Jurisdiction)];
    (subject, scope, subset(KIND_KEYS), subset(LAYERS), subset(PROPS), any::<[bool; 10]>()).prop_filter_map(
        "needs a subject",
        |((agencies, roles, signed_in), scope, kinds, layers, props, f)| {
            (signed_in || !agencies.is_empty() || !roles.is_empty()).then(|| Grant {
                agencies: agencies.into_iter().map(ag).collect(),
                roles,
                signed_in,
                scope,
                read_kinds: kinds,
                read_layers: layers,
                read_properties: props,
                read_camera_frames: f[0],
                read_evidence: f[1],
                read_cases: f[2],
                read_audit: f[3],
                read_metrics: f[4],
                read_scenarios: f[5],
                write_cases: f[6],
                write_reports: f[7],
                write_scenarios: f[8],
                write_ingest: if f[9] { vec!["osmand".into()] } else { vec![] },
            })
        },
    )
}

/// Owners that tell the scopes apart: each agency's own objects, places inside each jurisdiction
/// and outside all of them, nothing at all.
fn owners(agencies: &[AgencyId]) -> Vec<Owner<'_>> {
    let place = |commune, point| Place { commune, point };
    let mut v = vec![
        Owner::NONE,
        Owner { agency: None, place: place(None, Some([5.0, 5.0])) },
        Owner { agency: None, place: place(None, Some([25.0, 5.0])) },
        Owner { agency: None, place: place(None, Some([50.0, 50.0])) },
        Owner { agency: None, place: place(Some("c1"), None) },
        Owner { agency: None, place: place(Some("zz"), None) },
    ];
    v.extend(agencies.iter().map(Owner::agency));
    v
}

/// Every readable resource of a finite universe, as a bit vector.
fn readable(p: &Principal, agencies: &[AgencyId]) -> Vec<bool> {
    let mut out = Vec::new();
    let owners = owners(agencies);
    let kinds =
        [EntityKind::Bus, EntityKind::PoliceUnit, EntityKind::CitizenReport, EntityKind::Detection, EntityKind::Vessel];
    for o in &owners {
        for kind in kinds {
            for class in [None, Some("person"), Some("car")] {
                out.push(authorize(p, Action::Read, &Resource::Entity { kind, class, owner: *o }));
            }
            for name in ["contact", "driver", "route"] {
                out.push(authorize(p, Action::Read, &Resource::Property { kind, name, owner: *o }));
            }
        }
        for r in [Resource::CameraFrames(*o), Resource::Evidence(*o), Resource::Case(*o), Resource::ScenarioJob(*o)] {
            out.push(authorize(p, Action::Read, &r));
        }
    }
    for l in ["roads", "buildings", "parks"] {
        out.push(authorize(p, Action::Read, &Resource::Layer(l)));
    }
    for r in
        [Resource::Audit, Resource::Metrics, Resource::Public, Resource::IngestSource("osmand"), Resource::Accounts]
    {
        out.push(authorize(p, Action::Read, &r));
    }
    out.into_iter().map(Decision::is_allowed).collect()
}

fn principals(policy: &Policy) -> Vec<Principal> {
    let mut v = vec![policy.anonymous()];
    for role in Role::ALL {
        for agency in [None, Some("a"), Some("b"), Some("c")] {
            if let Ok(p) = policy.principal("u", role, agency.map(ag).as_ref(), &["osmand".into()]) {
                v.push(p);
            }
        }
    }
    v
}

fn all_resources<'a>(agencies: &'a [AgencyId]) -> Vec<(Action, Resource<'a>)> {
    let mut rs = Vec::new();
    for o in owners(agencies) {
        for kind in EntityKind::ALL.iter().copied() {
            rs.push(Resource::Entity { kind, class: None, owner: o });
            rs.push(Resource::Entity { kind, class: Some("person"), owner: o });
            rs.push(Resource::Property { kind, name: "contact", owner: o });
        }
        rs.extend([Resource::CameraFrames(o), Resource::Evidence(o), Resource::Case(o), Resource::ScenarioJob(o)]);
    }
    rs.extend([
        Resource::Layer("roads"),
        Resource::Audit,
        Resource::Metrics,
        Resource::IngestSource("osmand"),
        Resource::Accounts,
        Resource::Public,
    ]);
    rs.into_iter().flat_map(|r| [(Action::Read, r), (Action::Write, r)]).collect()
}

/// Does some grant that applies to an operator of `agency` name `key` with a scope covering `o`?
fn granted(cfg: &AuthConfig, agency: &AgencyId, o: &Owner<'_>, names: impl Fn(&Grant) -> bool) -> bool {
    let juris = &cfg.agencies.iter().find(|a| a.id == *agency).unwrap().jurisdiction;
    cfg.grants.iter().any(|g| {
        let applies = g.signed_in || g.roles.contains(&Role::Operator) || g.agencies.contains(agency);
        let own = o.agency == Some(agency);
        let covers = match g.scope {
            Scope::All => true,
            Scope::OwnAgency => own,
            Scope::Jurisdiction => own || juris.contains(&o.place),
        };
        applies && covers && names(g)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn empty_grants_allow_only_public(_x in 0u8..1) {
        let cfg = base_config(vec![]);
        let policy = Policy::new(&cfg).unwrap();
        let ids: Vec<AgencyId> = AGENCIES.iter().map(|a| ag(a)).collect();
        for p in principals(&policy) {
            for (action, r) in all_resources(&ids) {
                let d = authorize(&p, action, &r);
                let public_read = action == Action::Read && r == Resource::Public;
                let admin = p.role() == Some(Role::Admin);
                // A device's bound sources are its grant, given on the account.
                let bound = p.role() == Some(Role::Device) && action == Action::Write && r == Resource::IngestSource("osmand");
                prop_assert_eq!(d.is_allowed(), admin || public_read || bound, "{:?} {:?} {:?}", p.role(), action, r);
            }
        }
    }

    #[test]
    fn admin_allows_everything(grants in proptest::collection::vec(grant(), 0..6)) {
        let cfg = base_config(grants);
        let policy = Policy::new(&cfg).unwrap();
        let ids: Vec<AgencyId> = AGENCIES.iter().map(|a| ag(a)).collect();
        for agency in [None, Some(ag("a"))] {
            let admin = policy.principal("root", Role::Admin, agency.as_ref(), &[]).unwrap();
            for (action, r) in all_resources(&ids) {
                prop_assert_eq!(authorize(&admin, action, &r), Decision::Allow);
            }
        }
    }

    #[test]
    fn operator_reads_only_what_its_grants_give(grants in proptest::collection::vec(grant(), 0..6)) {
        let cfg = base_config(grants);
        let policy = Policy::new(&cfg).unwrap();
        let ids: Vec<AgencyId> = AGENCIES.iter().map(|a| ag(a)).collect();
        for agency in &ids {
            let op = policy.principal("op", Role::Operator, Some(agency), &[]).unwrap();
            for o in owners(&ids) {
                for kind in EntityKind::ALL.iter().copied() {
                    for class in [None, Some("person"), Some("car")] {
                        let r = Resource::Entity { kind, class, owner: o };
                        if authorize(&op, Action::Read, &r).is_allowed() {
                            let k = kind.as_str();
                            let sensitive = kind == EntityKind::Detection && class == Some("person");
                            let by_class = |g: &Grant| class.is_some_and(|c| g.read_kinds.contains(&format!("{k}:{c}")));
                            let by_kind = |g: &Grant| !sensitive && g.read_kinds.iter().any(|x| x == k || x == "*");
                            prop_assert!(granted(&cfg, agency, &o, |g| by_class(g) || by_kind(g)), "{:?}", r);
                        }
                    }
                    let r = Resource::Property { kind, name: "contact", owner: o };
                    if kind == EntityKind::CitizenReport && authorize(&op, Action::Read, &r).is_allowed() {
                        prop_assert!(granted(&cfg, agency, &o, |g| g.read_properties.iter().any(|p| p == "citizen_report.contact")));
                    }
                }
                let checks: [(Resource<'_>, GrantField); 4] = [
                    (Resource::CameraFrames(o), |g| g.read_camera_frames),
                    (Resource::Evidence(o), |g| g.read_evidence),
                    (Resource::Case(o), |g| g.read_cases),
                    (Resource::ScenarioJob(o), |g| g.read_scenarios),
                ];
                for (r, names) in checks {
                    if authorize(&op, Action::Read, &r).is_allowed() {
                        prop_assert!(granted(&cfg, agency, &o, names), "{:?}", r);
                    }
                }
                let w: [(Resource<'_>, GrantField); 2] = [
                    (Resource::Case(o), |g| g.write_cases),
                    (Resource::ScenarioJob(o), |g| g.write_scenarios),
                ];
                for (r, names) in w {
                    if authorize(&op, Action::Write, &r).is_allowed() {
                        prop_assert!(granted(&cfg, agency, &o, names), "write {:?}", r);
                    }
                }
            }
            for l in ["roads", "buildings"] {
                if authorize(&op, Action::Read, &Resource::Layer(l)).is_allowed() {
                    // Layers are not owned: scope does not narrow them.
                    let applies = |g: &Grant| g.signed_in || g.roles.contains(&Role::Operator) || g.agencies.contains(agency);
                    prop_assert!(cfg.grants.iter().any(|g| applies(g) && g.read_layers.iter().any(|x| x == l || x == "*")));
                }
            }
        }
    }

    #[test]
    fn visibility_class_equal_iff_same_readable_sets(grants in proptest::collection::vec(grant(), 0..6)) {
        let cfg = base_config(grants);
        let policy = Policy::new(&cfg).unwrap();
        let ids: Vec<AgencyId> = AGENCIES.iter().map(|a| ag(a)).collect();
        let all: Vec<(Principal, Vec<bool>)> =
            principals(&policy).into_iter().map(|p| { let r = readable(&p, &ids); (p, r) }).collect();
        for (p, rp) in &all {
            for (q, rq) in &all {
                prop_assert_eq!(
                    p.visibility_class() == q.visibility_class(),
                    rp == rq,
                    "{:?}/{:?} vs {:?}/{:?}", p.role(), p.agency(), q.role(), q.agency()
                );
            }
        }
    }

    #[test]
    fn property_filter_agrees_with_authorize(grants in proptest::collection::vec(grant(), 0..6)) {
        let cfg = base_config(grants);
        let policy = Policy::new(&cfg).unwrap();
        let ids: Vec<AgencyId> = AGENCIES.iter().map(|a| ag(a)).collect();
        for p in principals(&policy) {
            for o in owners(&ids) {
                for kind in [EntityKind::CitizenReport, EntityKind::Bus] {
                    if !authorize(&p, Action::Read, &Resource::Entity { kind, class: None, owner: o }).is_allowed() {
                        continue;
                    }
                    let f = property_filter(&p, kind, &o);
                    for name in ["contact", "driver", "route"] {
                        let d = authorize(&p, Action::Read, &Resource::Property { kind, name, owner: o });
                        prop_assert_eq!(f.allows(name), d.is_allowed());
                    }
                }
            }
        }
    }
}
