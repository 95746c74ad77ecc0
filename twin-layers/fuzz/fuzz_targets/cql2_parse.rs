//! Any text: the CQL2 parser returns a tree or an error, never panics; a tree prints to text that
//! parses back to the same tree, and evaluating it on a feature does not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_layers::cql2::parse;
use twin_layers::Feature;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(expr) = parse(text) else { return };
    let printed = expr.to_string();
    assert_eq!(parse(&printed).ok().as_ref(), Some(&expr), "{printed}");
    let mut properties = serde_json::Map::new();
    properties.insert("name".into(), serde_json::Value::from("Bạch Đằng"));
    properties.insert("lanes".into(), serde_json::Value::from(2));
    let feature = Feature { geometry: geo::Geometry::Point(geo::Point::new(108.2, 16.06)), properties };
    let _ = expr.matches(&feature);
});
