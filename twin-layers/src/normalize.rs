//! Normalised attributes of OSM-derived features, so consumers do not parse OSM tag strings.
//!
//! Normalised values replace the tag of the same name; the original text is kept under `osm:<key>`.

use serde_json::{Map, Value};

/// Assumed storey height when only `building:levels` is mapped.
pub const METRES_PER_LEVEL: f64 = 3.0;
/// Height of a building with neither `height` nor `building:levels` (a typical 3-storey shophouse).
pub const DEFAULT_BUILDING_HEIGHT_M: f64 = 9.0;

/// Direction of travel allowed on a way, relative to its vertex order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oneway {
    No,
    Forward,
    Reverse,
}

impl Oneway {
    pub fn as_str(self) -> &'static str {
        match self {
            Oneway::No => "no",
            Oneway::Forward => "yes",
            Oneway::Reverse => "-1",
        }
    }
}

/// OSM `oneway` semantics, including the implied one-way of roundabouts and motorways.
pub fn oneway_of(props: &Map<String, Value>) -> Oneway {
    match text(props, "oneway").as_deref() {
        Some("yes" | "1" | "true") => Oneway::Forward,
        Some("-1" | "reverse") => Oneway::Reverse,
        Some(_) => Oneway::No,
        None => {
            let roundabout = matches!(text(props, "junction").as_deref(), Some("roundabout" | "circular"));
            let motorway = text(props, "highway").as_deref() == Some("motorway");
            if roundabout || motorway {
                Oneway::Forward
            } else {
                Oneway::No
            }
        }
    }
}

/// A `maxspeed` tag in km/h: `"50"`, `"50 km/h"`, `"30 mph"`; the first of `"50;40"`. Non-numeric
/// values (`"VN:urban"`, `"signals"`) give `None`.
pub fn parse_maxspeed(raw: &str) -> Option<f64> {
    let first = raw.split(';').next()?.trim();
    let (num, rest) = leading_number(first)?;
    let factor = if rest.trim().eq_ignore_ascii_case("mph") { 1.609_344 } else { 1.0 };
    Some(num * factor).filter(|v| *v > 0.0)
}

/// A length in metres: `"12"`, `"12.5 m"`, `"12,5"`. Feet and other units are not supported.
pub fn parse_metres(raw: &str) -> Option<f64> {
    let cleaned = raw.trim().replace(',', ".");
    let (num, rest) = leading_number(&cleaned)?;
    matches!(rest.trim(), "" | "m").then_some(num).filter(|v| *v >= 0.0)
}

fn leading_number(s: &str) -> Option<(f64, &str)> {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let num = s[..end].parse::<f64>().ok()?;
    Some((num, &s[end..]))
}

/// Free-flow speed in km/h by OSM highway class when no `maxspeed` is mapped (urban Vietnam).
pub fn default_speed_kmh(class: &str) -> f64 {
    match class.trim_end_matches("_link") {
        "motorway" => 80.0,
        "trunk" => 60.0,
        "primary" => 50.0,
        "secondary" => 45.0,
        "tertiary" => 40.0,
        "unclassified" | "residential" | "road" => 30.0,
        "living_street" => 15.0,
        "service" | "track" => 15.0,
        _ => 20.0,
    }
}

/// Whether motor vehicles can use a highway class at all (footways, steps etc. are excluded).
pub fn is_drivable(class: &str) -> bool {
    !matches!(
        class,
        "footway"
            | "path"
            | "steps"
            | "pedestrian"
            | "cycleway"
            | "bridleway"
            | "corridor"
            | "construction"
            | "proposed"
            | "platform"
            | "elevator"
            | "bus_stop"
            | "abandoned"
            | "razed"
    )
}

/// Adds `class`, `name`, `lanes`, `maxspeed` (km/h), `oneway` to a road's properties.
pub fn normalize_road(props: &mut Map<String, Value>) {
    let class = text(props, "highway").unwrap_or_else(|| "road".to_owned());
    let oneway = oneway_of(props);
    let lanes = text(props, "lanes").and_then(|l| leading_number(l.split(';').next().unwrap_or("")).map(|(n, _)| n));
    let maxspeed = text(props, "maxspeed").and_then(|m| parse_maxspeed(&m));
    for key in ["lanes", "maxspeed", "oneway"] {
        if let Some(orig) = props.remove(key) {
            props.insert(format!("osm:{key}"), orig);
        }
    }
    props.insert("class".into(), Value::from(class));
    if !props.contains_key("name") {
        props.insert("name".into(), Value::Null);
    }
    props.insert("lanes".into(), lanes.map_or(Value::Null, |n| Value::from(n.round() as i64)));
    props.insert("maxspeed".into(), maxspeed.map_or(Value::Null, Value::from));
    props.insert("oneway".into(), Value::from(oneway.as_str()));
}

/// Adds `height` in metres (from `height`, else `building:levels` × 3 m, else 9 m) and
/// `height_source` (`height` | `levels` | `default`).
pub fn normalize_building(props: &mut Map<String, Value>) {
    let from_height = text(props, "height").and_then(|h| parse_metres(&h));
    let from_levels = text(props, "building:levels").and_then(|l| parse_metres(&l)).map(|n| n * METRES_PER_LEVEL);
    let (height, source) = match (from_height, from_levels) {
        (Some(h), _) => (h, "height"),
        (None, Some(h)) => (h, "levels"),
        (None, None) => (DEFAULT_BUILDING_HEIGHT_M, "default"),
    };
    if let Some(orig) = props.remove("height") {
        props.insert("osm:height".into(), orig);
    }
    props.insert("height".into(), Value::from(height));
    props.insert("height_source".into(), Value::from(source));
}

/// A property as text whether it was written as a string or a number.
pub(crate) fn text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn maxspeed_forms() {
        assert_eq!(parse_maxspeed("40"), Some(40.0));
        assert_eq!(parse_maxspeed("50 km/h"), Some(50.0));
        assert!((parse_maxspeed("30 mph").unwrap() - 48.28).abs() < 0.01);
        assert_eq!(parse_maxspeed("60;40"), Some(60.0));
        assert_eq!(parse_maxspeed("VN:urban"), None);
    }

    #[test]
    fn oneway_forms() {
        assert_eq!(oneway_of(&obj(json!({"oneway": "yes"}))), Oneway::Forward);
        assert_eq!(oneway_of(&obj(json!({"oneway": "1"}))), Oneway::Forward);
        assert_eq!(oneway_of(&obj(json!({"oneway": "-1"}))), Oneway::Reverse);
        assert_eq!(oneway_of(&obj(json!({"oneway": "no"}))), Oneway::No);
        assert_eq!(oneway_of(&obj(json!({"junction": "roundabout"}))), Oneway::Forward);
        assert_eq!(oneway_of(&obj(json!({}))), Oneway::No);
    }

    #[test]
    fn road_is_normalised_and_keeps_the_original_tags() {
        let mut p =
            obj(json!({"highway": "primary", "maxspeed": "50", "lanes": "4", "oneway": "yes", "surface": "asphalt"}));
        normalize_road(&mut p);
        assert_eq!(p["class"], "primary");
        assert_eq!(p["maxspeed"], 50.0);
        assert_eq!(p["lanes"], 4);
        assert_eq!(p["oneway"], "yes");
        assert_eq!(p["osm:maxspeed"], "50");
        assert_eq!(p["surface"], "asphalt");
        assert_eq!(p["name"], Value::Null);
    }

    #[test]
    fn building_height_rules() {
        let mut a = obj(json!({"building": "yes", "height": "12.5"}));
        normalize_building(&mut a);
        assert_eq!(a["height"], 12.5);
        assert_eq!(a["height_source"], "height");
        let mut b = obj(json!({"building": "yes", "building:levels": "5"}));
        normalize_building(&mut b);
        assert_eq!(b["height"], 15.0);
        let mut c = obj(json!({"building": "yes"}));
        normalize_building(&mut c);
        assert_eq!(c["height"], 9.0);
        assert_eq!(c["height_source"], "default");
    }
}
