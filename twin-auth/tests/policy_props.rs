//! Properties of the access decision over random grant sets: deny by default, admin, operators
//! bound by their grants, visibility classes, property filters.
#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;
use twin_auth::config::Sensitive;
use twin_auth::{
    authorize, property_filter, Action, Agency, AuthConfig, Decision, Grant, Jurisdiction, Owner, Place, Policy,
    Principal, Resource, Role, Scope,
};
use twin_core::{AgencyId, EntityKind};

fn ag(s: &str) -> AgencyId {
    AgencyId(s.into())
}

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
