//! Geofences on the real Đà Nẵng district boundaries (data/boundaries, GPL-3.0, see its README):
//! they pass validation, and fence membership agrees with geo's point-in-polygon everywhere.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use geo::{Contains, LineString, MultiPolygon, Polygon};
use rules_support::*;
use serde_json::Value;
use twin_core::rules::{Geofence, RuleKind, RuleSet};
use twin_core::{EntityId, Position, RuleEngine, Timestamp};

fn ring(v: &Value) -> LineString<f64> {
    v.as_array().unwrap().iter().map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())).collect()
}

fn multipolygon(geometry: &Value) -> MultiPolygon<f64> {
    let polygon = |rings: &Value| {
        let rings = rings.as_array().unwrap();
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str().unwrap() {
        "Polygon" => MultiPolygon::new(vec![polygon(coords)]),
        "MultiPolygon" => coords.as_array().unwrap().iter().map(polygon).collect(),
        other => panic!("unexpected geometry {other}"),
    }
}

/// The district (level 2) polygons as geofences with id = GSO code, name = district name.
fn districts(hysteresis_m: f64) -> Vec<Geofence> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/boundaries/danang_districts_dvhcvn.geojson");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == 2)
        .map(|f| {
            let props = &f["properties"];
            let id = props["id"].as_str().unwrap();
            let name = props["name"].as_str().unwrap();
            fence(id, name, multipolygon(&f["geometry"]), hysteresis_m)
        })
        .collect()
}

fn inside_ids(engine: &RuleEngine, id: EntityId) -> Vec<String> {
    engine.state().inside.into_iter().filter(|(e, _)| *e == id).map(|(_, f)| f).collect()
}

#[test]
fn real_districts_are_valid_geofences() {
    let fences = districts(20.0);
    assert_eq!(fences.len(), 8);
    RuleEngine::new(RuleSet { geofences: fences, ..RuleSet::default() }).unwrap();
}

#[test]
fn city_centre_is_in_hai_chau() {
    let mut engine = RuleEngine::new(RuleSet { geofences: districts(20.0), ..RuleSet::default() }).unwrap();
    let mut out = Vec::new();
    // West bank of the Hàn river, by the Dragon Bridge: central Hải Châu.
    let e = moved(bus(1), Position::new(108.2220, 16.0610), 0);
    engine.on_update(&e, Timestamp(0), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule_kind, RuleKind::GeofenceEnter);
    assert_eq!(out[0].message, "bus 43B-001 entered Quận Hải Châu");
}

#[test]
fn membership_matches_geo_point_in_polygon() {
    let fences = districts(0.0);
    let mut engine = RuleEngine::new(RuleSet { geofences: fences.clone(), ..RuleSet::default() }).unwrap();
    let mut banded = RuleEngine::new(RuleSet { geofences: districts(25.0), ..RuleSet::default() }).unwrap();
    let mut rng = Rng::new(16);
    let mut out = Vec::new();
    let mut hits = 0;
    for n in 0..4000u64 {
        // The mainland districts: 107.95–108.35 E, 15.95–16.20 N.
        let p = Position::new(108.15 + rng.signed_unit() * 0.2, 16.075 + rng.signed_unit() * 0.125);
        let e = moved(bus(n), p, 0);
        engine.on_update(&e, Timestamp(0), &mut out);
        banded.on_update(&e, Timestamp(0), &mut out);
        let mut expected: Vec<String> =
            fences.iter().filter(|f| f.area.contains(&geo::Point::from(p))).map(|f| f.id.clone()).collect();
        expected.sort();
        hits += expected.len();
        assert_eq!(inside_ids(&engine, e.id), expected, "at {p:?}");
        // With a band, first sight may leave a point near an edge outside, never wrongly inside.
        for id in inside_ids(&banded, e.id) {
            assert!(expected.contains(&id), "{id} at {p:?}");
        }
        // Keeps the state (and so `state()`) small.
        engine.on_remove(e.id);
        banded.on_remove(e.id);
    }
    assert!(hits > 1000, "most sample points fall in some district ({hits})");
}
