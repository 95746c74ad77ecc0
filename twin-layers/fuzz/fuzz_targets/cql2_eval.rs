//! A filter and a feature from the same input: `<filter>\0<properties as JSON>`, the first byte picking
//! the feature's geometry. Parsing stays within the published limits (an error names an offset inside
//! the text, a limit error names its bound), evaluation never panics, and the printed filter evaluates
//! the same as the parsed one.
#![no_main]

use geo::{Geometry, LineString, Point, Polygon};
use libfuzzer_sys::fuzz_target;
use twin_layers::cql2::{parse, MAX_FILTER_BYTES};
use twin_layers::Feature;

fn geometry(pick: u8) -> Geometry<f64> {
    match pick % 3 {
        0 => Geometry::Point(Point::new(108.2, 16.06)),
        1 => Geometry::LineString(LineString::from(vec![(108.22, 16.06), (108.225, 16.07)])),
        _ => Geometry::Polygon(Polygon::new(
            LineString::from(vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]),
            vec![],
        )),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (filter, props) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(filter) else { return };
    let properties = serde_json::from_slice::<serde_json::Value>(props)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let feature = Feature { geometry: geometry(pick), properties };
    match parse(text) {
        Ok(expr) => {
            assert!(text.len() <= MAX_FILTER_BYTES);
            let hit = expr.matches(&feature);
            let printed = expr.to_string();
            let back = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
            assert_eq!(back.matches(&feature), hit, "{printed}");
        }
        Err(e) => {
            assert!(e.offset <= text.len(), "{e}");
            if let Some(limit) = e.limit {
                assert!(e.message.contains(&limit.max().to_string()), "{e}");
            }
        }
    }
});
