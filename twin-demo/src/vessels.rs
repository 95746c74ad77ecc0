//! Simulated ships and fishing boats in Đà Nẵng bay and off Sơn Trà, on waypoint routes drawn at sea.
//!
//! The routes were laid out by hand against the city's district and land-use polygons, keeping at
//! least ~150 m of water on every side (the berth ends of the port approaches excepted); the
//! `vessels_stay_at_sea` test checks every position over a long period against those polygons.

use geo::Coord;
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp};

use super::track::{Rng, Track};

pub const SOURCE: &str = "demo:vessels";

const KNOT_MPS: f64 = 1852.0 / 3600.0;

/// Shipping lanes (lon, lat), driven there and back: approaches to Tiên Sa port and coastal runs.
const LANES: &[(&str, &[(f64, f64)])] = &[
    (
        "Tiên Sa approach from the north",
        &[(108.300, 16.240), (108.255, 16.195), (108.228, 16.160), (108.214, 16.136), (108.2115, 16.1285)],
    ),
    ("Tiên Sa approach from Hải Vân", &[(108.170, 16.235), (108.190, 16.180), (108.203, 16.145), (108.2065, 16.1235)]),
    (
        "Around Sơn Trà to Tiên Sa",
        &[
            (108.395, 16.060),
            (108.380, 16.120),
            (108.350, 16.175),
            (108.290, 16.200),
            (108.245, 16.175),
            (108.218, 16.140),
        ],
    ),
    ("Bay anchorage", &[(108.165, 16.130), (108.185, 16.130), (108.185, 16.150), (108.165, 16.150), (108.165, 16.130)]),
    (
        "Coastal run Ngũ Hành Sơn – Sơn Trà",
        &[(108.310, 15.960), (108.285, 16.030), (108.290, 16.075), (108.330, 16.085), (108.370, 16.100)],
    ),
];

/// Fishing grounds: (name, centre lon, centre lat, radius in degrees), circled as 8-point loops.
const GROUNDS: &[(&str, f64, f64, f64)] = &[
    ("East of Sơn Trà", 108.365, 16.085, 0.012),
    ("Off Mỹ Khê", 108.300, 16.030, 0.012),
    ("North of Sơn Trà", 108.300, 16.215, 0.012),
    ("Western bay", 108.175, 16.175, 0.008),
    ("Off Ngũ Hành Sơn", 108.330, 15.960, 0.012),
    ("Eastern bay", 108.215, 16.165, 0.008),
];

const SHIP_TYPES: &[(&str, (f64, f64))] = &[
    ("cargo", (9.0, 13.0)),
    ("container", (11.0, 15.0)),
    ("tanker", (8.0, 11.0)),
    ("passenger", (12.0, 18.0)),
    ("tug", (6.0, 9.0)),
];

const SHIP_NAMES: &[&str] = &[
    "HAI VAN STAR",
    "SON TRA PIONEER",
    "TIEN SA EXPRESS",
    "DA NANG GLORY",
    "HAN RIVER",
    "MY KHE BREEZE",
    "NGU HANH SON",
    "CU LAO CHAM",
    "QUANG NAM TRADER",
    "VIET CENTRAL",
    "TRUONG SA 05",
    "BINH MINH 27",
    "PHUONG DONG 18",
    "HOANG LONG 09",
    "THAI BINH DUONG",
    "SONG HAN 02",
    "BACH DANG 11",
    "HOA PHAT 06",
    "VINALINES 21",
    "SAO MAI 15",
];

/// One ring of a fishing ground, slightly irregular so boats do not trace a perfect octagon.
pub fn ground_ring(lon: f64, lat: f64, r: f64) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = (0..8)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / 8.0;
            let stretch = 1.0 + 0.25 * ((k * 3) % 4) as f64 / 3.0;
            Coord { x: lon + r * a.cos() * stretch, y: lat + r * a.sin() }
        })
        .collect();
    pts.push(pts[0]);
    pts
}

#[derive(Debug, Clone)]
struct Vessel {
    kind: EntityKind,
    mmsi: String,
    name: String,
    ship_type: &'static str,
    route: usize,
    offset_m: f64,
    speed_mps: f64,
}

#[derive(Debug, Clone)]
pub struct VesselFleet {
    routes: Vec<(String, Track)>,
    vessels: Vec<Vessel>,
}

impl VesselFleet {
    /// `ships` merchant vessels on the lanes and `fishing` boats on the grounds; positions are a
    /// pure function of time.
    pub fn new(ships: usize, fishing: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut routes = Vec::new();
        for (name, pts) in LANES {
            let pts: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
            let closed = pts.first() == pts.last();
            let track = if closed { Track::new(pts) } else { Track::there_and_back(pts) };
            routes.extend(track.map(|t| ((*name).to_owned(), t)));
        }
        let lanes = routes.len();
        for &(name, lon, lat, r) in GROUNDS {
            routes.extend(Track::new(ground_ring(lon, lat, r)).map(|t| (format!("Fishing ground: {name}"), t)));
        }
        let grounds = routes.len() - lanes;
        let mut vessels = Vec::with_capacity(ships + fishing);
        for i in 0..ships {
            let (ship_type, (lo, hi)) = SHIP_TYPES[i % SHIP_TYPES.len()];
            let route = i % lanes.max(1);
            vessels.push(Vessel {
                kind: EntityKind::Vessel,
                // 574 is Vietnam's maritime identification digits.
                mmsi: format!("574{:06}", 100_000 + i * 1_237),
                name: SHIP_NAMES.get(i).map_or_else(|| format!("DEMO SHIP {i}"), |n| (*n).to_owned()),
                ship_type,
                route,
                offset_m: rng.range(0.0, routes[route].1.length_m()),
                speed_mps: rng.range(lo, hi) * KNOT_MPS,
            });
        }
        for i in 0..fishing {
            let route = lanes + i % grounds.max(1);
            vessels.push(Vessel {
                kind: EntityKind::FishingBoat,
                mmsi: format!("574{:06}", 600_000 + i * 733),
                // Vietnamese fishing registration: province code, number, "TS" (thủy sản).
                name: format!("ĐNa-{:05}-TS", 90_000 + rng.below(9_000)),
                ship_type: "fishing",
                route,
                offset_m: rng.range(0.0, routes[route].1.length_m()),
                speed_mps: rng.range(3.0, 7.0) * KNOT_MPS,
            });
        }
        if lanes == 0 || grounds == 0 {
            vessels.clear();
        }
        Self { routes, vessels }
    }

    pub fn len(&self) -> usize {
        self.vessels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vessels.is_empty()
    }

    pub fn count(&self, kind: EntityKind) -> usize {
        self.vessels.iter().filter(|v| v.kind == kind).count()
    }

    /// One observation per vessel at `now`.
    pub fn step(&self, now: Timestamp) -> Vec<Observation> {
        let t_s = now.as_millis() as f64 / 1000.0;
        self.vessels
            .iter()
            .map(|v| {
                let (route, track) = &self.routes[v.route];
                let (p, heading) = track.at_looped(v.offset_m + v.speed_mps * t_s);
                let mut o = Observation::new(v.kind, v.mmsi.clone(), now).at(p.lon, p.lat);
                o.source = SOURCE.to_owned();
                o.heading = Some(heading);
                o.speed = Some(v.speed_mps);
                o.status =
                    Some(if v.kind == EntityKind::FishingBoat { "engaged_in_fishing" } else { "under_way" }.into());
                let props = [
                    ("simulated", PropertyValue::Bool(true)),
                    ("mmsi", PropertyValue::Text(v.mmsi.clone())),
                    ("shipname", PropertyValue::Text(v.name.clone())),
                    ("ship_type", PropertyValue::Text(v.ship_type.to_owned())),
                    ("route", PropertyValue::Text(route.clone())),
                    ("flag", PropertyValue::Text("VN".to_owned())),
                ];
                o.properties.extend(props.into_iter().map(|(k, v)| (k.to_owned(), v)));
                o
            })
            .collect()
    }
}
