//! Differential check on the Đà Nẵng roads layer: each filter's matches equal a brute-force selection
//! written directly in Rust over the same features.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;

use geo::{BoundingRect, CoordsIter};
use serde_json::Value;
use twin_layers::cql2::parse;
use twin_layers::{Feature, LayerPaths, ReferenceLayers};

fn roads() -> Vec<Feature> {
    let paths = LayerPaths { roads: Some("osm/danang_haichau_roads.geojson".into()), ..Default::default() };
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let layers = ReferenceLayers::load(&paths, &base).expect("roads load");
    layers.get("roads").expect("roads layer").features.clone()
}

fn text<'a>(f: &'a Feature, k: &str) -> Option<&'a str> {
    f.properties.get(k).and_then(Value::as_str)
}

fn num(f: &Feature, k: &str) -> Option<f64> {
    f.properties.get(k).and_then(Value::as_f64)
}

fn selected(features: &[Feature], filter: &str) -> Vec<usize> {
    let e = parse(filter).unwrap_or_else(|err| panic!("{filter}: {err}"));
    features.iter().enumerate().filter(|(_, f)| e.matches(*f)).map(|(i, _)| i).collect()
}

fn brute(features: &[Feature], pred: impl Fn(&Feature) -> bool) -> Vec<usize> {
    features.iter().enumerate().filter(|(_, f)| pred(f)).map(|(i, _)| i).collect()
}

#[test]
fn attribute_filters_match_brute_force() {
    let fs = roads();
    assert!(fs.len() > 1000);
    type Pred = Box<dyn Fn(&Feature) -> bool>;
    let cases: Vec<(&str, Pred)> = vec![
        ("class = 'residential'", Box::new(|f| text(f, "class") == Some("residential"))),
        ("class <> 'residential'", Box::new(|f| text(f, "class").is_some_and(|c| c != "residential"))),
        (
            "class IN ('primary', 'secondary', 'tertiary')",
            Box::new(|f| matches!(text(f, "class"), Some("primary" | "secondary" | "tertiary"))),
        ),
        ("maxspeed >= 50", Box::new(|f| num(f, "maxspeed").is_some_and(|s| s >= 50.0))),
        ("lanes BETWEEN 2 AND 3", Box::new(|f| num(f, "lanes").is_some_and(|l| (2.0..=3.0).contains(&l)))),
        ("name IS NULL", Box::new(|f| text(f, "name").is_none())),
        ("name LIKE 'Đường%'", Box::new(|f| text(f, "name").is_some_and(|n| n.starts_with("Đường")))),
        ("name LIKE '%Trần%'", Box::new(|f| text(f, "name").is_some_and(|n| n.contains("Trần")))),
        (
            "oneway = 'yes' AND NOT class = 'service'",
            Box::new(|f| text(f, "oneway") == Some("yes") && text(f, "class") != Some("service")),
        ),
        (
            "class = 'primary' OR class = 'secondary' AND lanes > 2",
            Box::new(|f| {
                text(f, "class") == Some("primary")
                    || (text(f, "class") == Some("secondary") && num(f, "lanes").is_some_and(|l| l > 2.0))
            }),
        ),
        ("\"surface\" = 'asphalt'", Box::new(|f| text(f, "surface") == Some("asphalt"))),
    ];
    for (filter, pred) in cases {
        let got = selected(&fs, filter);
        let want = brute(&fs, pred);
        assert!(!want.is_empty() || filter.contains("IS NULL"), "{filter} selects nothing: a useless case");
        assert_eq!(got, want, "{filter}");
    }
}

#[test]
fn bbox_intersection_is_between_vertex_and_envelope_bounds() {
    let fs = roads();
    let (x0, y0, x1, y1) = (108.215, 16.055, 108.225, 16.065);
    let got = selected(&fs, &format!("S_INTERSECTS(geometry, BBOX({x0}, {y0}, {x1}, {y1}))"));
    let inside = |x: f64, y: f64| (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
    // A road with a vertex in the box must intersect it; one whose envelope misses the box cannot.
    let lower = brute(&fs, |f| f.geometry.coords_iter().any(|c| inside(c.x, c.y)));
    let upper = brute(&fs, |f| {
        f.geometry
            .bounding_rect()
            .is_some_and(|r| r.min().x <= x1 && r.max().x >= x0 && r.min().y <= y1 && r.max().y >= y0)
    });
    assert!(!lower.is_empty());
    assert!(lower.iter().all(|i| got.contains(i)), "a road with a vertex inside was missed");
    assert!(got.iter().all(|i| upper.contains(i)), "a road whose envelope misses the box was selected");
    // The same box as a WKT polygon selects the same roads.
    let poly = format!("S_INTERSECTS(geometry, POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})))");
    assert_eq!(selected(&fs, &poly), got);
}
