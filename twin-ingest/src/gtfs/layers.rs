//! GTFS as reference layers: route lines (from shapes, or from stop sequences when a trip has no
//! shape) and stop points.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{Coord, Geometry, LineString, Point};
use serde_json::{Map, Value};
use twin_layers::{Feature, Layer};

use super::{GtfsFeed, Route};

impl GtfsFeed {
    /// `{prefix}_routes` (one LineString per distinct route and shape) and `{prefix}_stops`.
    pub fn layers(&self, prefix: &str) -> Vec<Layer> {
        vec![
            Layer { name: format!("{prefix}_routes"), features: self.route_features() },
            Layer { name: format!("{prefix}_stops"), features: self.stop_features() },
        ]
    }

    /// One feature per (route, shape) used by a trip; trips without a shape contribute the line
    /// through their stops, once per route and stop pattern. Lines with fewer than 2 points are left out.
    pub fn route_features(&self) -> Vec<Feature> {
        let routes: HashMap<&str, &Route> = self.routes.iter().map(|r| (r.route_id.as_str(), r)).collect();
        let mut shaped: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut unshaped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in &self.trips {
            match t.shape_id.as_deref().filter(|s| !s.is_empty() && self.shapes.contains_key(*s)) {
                Some(shape) => {
                    shaped.insert((t.route_id.as_str(), shape));
                }
                None => unshaped.entry(t.route_id.as_str()).or_default().push(t.trip_id.as_str()),
            }
        }
        let mut features = Vec::new();
        for (route_id, shape_id) in shaped {
            let coords: Vec<Coord<f64>> = self.shapes[shape_id]
                .iter()
                .filter(|p| valid(p.shape_pt_lon, p.shape_pt_lat))
                .map(|p| Coord { x: p.shape_pt_lon, y: p.shape_pt_lat })
                .collect();
            if coords.len() >= 2 {
                let props = route_properties(route_id, routes.get(route_id).copied(), Some(shape_id));
                features.push(Feature { geometry: Geometry::LineString(LineString(coords)), properties: props });
            }
        }
        if !unshaped.is_empty() {
            features.extend(self.stop_pattern_features(&routes, &unshaped));
        }
        features
    }

    fn stop_pattern_features(&self, routes: &HashMap<&str, &Route>, trips: &BTreeMap<&str, Vec<&str>>) -> Vec<Feature> {
        let stops: HashMap<&str, (f64, f64)> = self
            .stops
            .iter()
            .filter_map(|s| Some((s.stop_id.as_str(), (s.stop_lon?, s.stop_lat?))))
            .filter(|(_, (x, y))| valid(*x, *y))
            .collect();
        let mut by_trip: HashMap<&str, Vec<(u32, &str)>> = HashMap::new();
        for st in &self.stop_times {
            if let Some(stop) = st.stop_id.as_deref() {
                by_trip.entry(st.trip_id.as_str()).or_default().push((st.stop_sequence, stop));
            }
        }
        let mut features = Vec::new();
        for (route_id, trip_ids) in trips {
            let mut patterns: BTreeSet<Vec<&str>> = BTreeSet::new();
            for trip in trip_ids {
                let Some(seq) = by_trip.get_mut(trip) else { continue };
                seq.sort_unstable();
                patterns.insert(seq.iter().map(|(_, s)| *s).collect());
            }
            for pattern in patterns {
                let coords: Vec<Coord<f64>> =
                    pattern.iter().filter_map(|s| stops.get(s)).map(|&(x, y)| Coord { x, y }).collect();
                if coords.len() >= 2 {
                    let props = route_properties(route_id, routes.get(route_id).copied(), None);
                    features.push(Feature { geometry: Geometry::LineString(LineString(coords)), properties: props });
                }
            }
        }
        features
    }

    /// One point per stop that has a valid position.
    pub fn stop_features(&self) -> Vec<Feature> {
        self.stops
            .iter()
            .filter_map(|s| {
                let (lon, lat) = (s.stop_lon?, s.stop_lat?);
                if !valid(lon, lat) {
                    return None;
                }
                let mut p = Map::new();
                p.insert("stop_id".into(), s.stop_id.clone().into());
                insert_text(&mut p, "stop_code", &s.stop_code);
                insert_text(&mut p, "name", &s.stop_name);
                if let Some(t) = s.location_type {
                    p.insert("location_type".into(), t.into());
                }
                insert_text(&mut p, "parent_station", &s.parent_station);
                if let Some(w) = s.wheelchair_boarding {
                    p.insert("wheelchair_boarding".into(), w.into());
                }
                Some(Feature { geometry: Geometry::Point(Point::new(lon, lat)), properties: p })
            })
            .collect()
    }
}

fn valid(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

fn insert_text(p: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(s) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        p.insert(key.into(), s.into());
    }
}

/// Route id, name, colours as `#RRGGBB` (GTFS defaults: white line, black text), type, shape.
fn route_properties(route_id: &str, route: Option<&Route>, shape_id: Option<&str>) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("route_id".into(), route_id.into());
    if let Some(shape) = shape_id {
        p.insert("shape_id".into(), shape.into());
    }
    let Some(r) = route else { return p };
    p.insert("name".into(), r.display_name().into());
    insert_text(&mut p, "short_name", &r.route_short_name);
    insert_text(&mut p, "long_name", &r.route_long_name);
    insert_text(&mut p, "agency_id", &r.agency_id);
    if let Some(t) = r.route_type {
        p.insert("route_type".into(), t.into());
    }
    p.insert("color".into(), hex_color(&r.route_color, "FFFFFF").into());
    p.insert("text_color".into(), hex_color(&r.route_text_color, "000000").into());
    p
}

fn hex_color(c: &Option<String>, default: &str) -> String {
    let c = c.as_deref().map(str::trim).filter(|s| s.len() == 6 && s.chars().all(|ch| ch.is_ascii_hexdigit()));
    format!("#{}", c.unwrap_or(default).to_ascii_uppercase())
}
