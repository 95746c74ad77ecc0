//! The pure simulators against the real Da Nang data in `data/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::{BoundingRect, Contains, Coord, Geometry, MultiPolygon, Point, Polygon};
use twin_core::geodesy::distance_m;
use twin_core::{BBox, EntityKind, Observation, Position, PropertyValue, Timestamp};
use twin_layers::roads::RoadGraph;
use twin_layers::{LayerPaths, ReferenceLayers};

use crate::buses::BusFleet;
use crate::emergency::{Base, EmergencyFleet};
use crate::sensors::{flood_sites, SensorNetwork};
use crate::vessels::VesselFleet;
use crate::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

const CITY: BBox = BBox { min_lon: 107.95, min_lat: 15.90, max_lon: 108.40, max_lat: 16.25 };
/// A time in 2026, so `t_s × speed` is as large as in production.
const T0: Timestamp = Timestamp::from_millis(1_795_000_000_000);

fn layers(with_land: bool) -> ReferenceLayers {
    let paths = LayerPaths {
        roads: Some("osm/danang_haichau_roads.geojson".into()),
        pois: Some("osm/danang_haichau_poi_emergency.geojson".into()),
        landuse: with_land.then(|| "osm/danang_landuse_water.geojson".into()),
        boundaries: with_land.then(|| "boundaries/danang_districts_dvhcvn.geojson".into()),
        ..Default::default()
    };
    ReferenceLayers::load(&paths, &data_dir()).unwrap()
}

fn graph(l: &ReferenceLayers) -> Arc<RoadGraph> {
    Arc::new(RoadGraph::from_layer(l.get("roads").unwrap()))
}

/// Distance in metres from `p` to the nearest segment of any road, in a local equirectangular frame.
fn metres_to_road(l: &ReferenceLayers, p: Position) -> f64 {
    let kx = 111_320.0 * p.lat.to_radians().cos();
    let ky = 110_540.0;
    let local = |c: &Coord<f64>| ((c.x - p.lon) * kx, (c.y - p.lat) * ky);
    let mut best = f64::INFINITY;
    for f in &l.get("roads").unwrap().features {
        let Geometry::LineString(line) = &f.geometry else { continue };
        for w in line.0.windows(2) {
            let (a, b) = (local(&w[0]), local(&w[1]));
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 { ((-a.0) * dx + (-a.1) * dy) / len2 } else { 0.0 }.clamp(0.0, 1.0);
            let (x, y) = (a.0 + t * dx, a.1 + t * dy);
            best = best.min((x * x + y * y).sqrt());
        }
    }
    best
}

fn pos(o: &Observation) -> Position {
    o.position.unwrap()
}

fn simulated(o: &Observation) -> bool {
    o.properties.get("simulated") == Some(&PropertyValue::Bool(true)) && o.source.starts_with("demo:")
}

#[test]
fn buses_drive_on_real_roads_and_move() {
    let l = layers(false);
    let fleet = BusFleet::new(&graph(&l), 40, 48);
    assert!(fleet.len() >= 20);
    assert!(fleet.routes().iter().all(|r| r.track.length_m() > 3_000.0));
    let mut plates = std::collections::HashSet::new();
    for k in 0..12 {
        let now = T0.plus_millis(k * 97_000);
        let obs = fleet.step(now);
        assert_eq!(obs.len(), fleet.len());
        for o in &obs {
            assert!(simulated(o) && o.kind == EntityKind::Bus);
            let d = metres_to_road(&l, pos(o));
            assert!(d < 1.0, "bus {} is {d:.2} m off the road", o.external_id);
            plates.insert(o.external_id.clone());
        }
        // Straight-line displacement: less than the distance driven on bends and at the turnaround.
        let later = fleet.step(now.plus_millis(5_000));
        let moved: Vec<f64> = obs.iter().zip(&later).map(|(a, b)| distance_m(pos(a), pos(b))).collect();
        assert!(moved.iter().all(|m| *m > 1.0), "a bus stood still: {moved:?}");
        assert!(moved.iter().sum::<f64>() / moved.len() as f64 > 20.0, "{moved:?}");
    }
    assert_eq!(plates.len(), fleet.len(), "plates are unique");
    assert!(plates.iter().all(|p| p.starts_with("43B-") && p.len() == 10));
}

#[test]
fn emergency_units_start_at_their_bases_and_run_missions_on_roads() {
    let l = layers(false);
    let g = graph(&l);
    let hospitals = hospitals(&l);
    assert!(hospitals.len() >= 5, "the POI layer has {} hospitals", hospitals.len());
    let fire = vec![Base { name: "test station".into(), position: Position::new(108.2160, 16.0520), assumed: true }];
    let mut fleet = EmergencyFleet::new(g, &hospitals, 6, &fire, 3, 1, T0);
    assert_eq!(fleet.count(EntityKind::Ambulance), 6);
    assert_eq!(fleet.count(EntityKind::FireTruck), 3);
    let first = fleet.step(T0);
    for o in &first {
        let base = if o.kind == EntityKind::Ambulance { &hospitals[..] } else { &fire[..] };
        let near = base.iter().map(|b| distance_m(b.position, pos(o))).fold(f64::INFINITY, f64::min);
        assert!(near < 300.0, "{} starts {near:.0} m from its base", o.external_id);
        assert_eq!(o.status.as_deref(), Some("available"));
    }
    let mut statuses = std::collections::HashSet::new();
    for s in 1..=3_600 {
        let obs = fleet.step(T0.plus_millis(s * 1_000));
        assert_eq!(obs.len(), 9);
        for o in &obs {
            assert!(simulated(o));
            statuses.insert(o.status.clone().unwrap());
            if s % 600 == 0 {
                assert!(metres_to_road(&l, pos(o)) < 1.0, "{} left the roads", o.external_id);
            }
        }
    }
    for s in ["available", "en_route", "on_scene"] {
        assert!(statuses.contains(s), "never saw {s}: {statuses:?}");
    }
}

#[test]
fn police_units_patrol_central_hai_chau_on_roads() {
    let l = layers(false);
    let cfg = DemoConfig::default();
    let mut fleet = police_fleet(&cfg, graph(&l), T0).unwrap();
    let [min_lon, min_lat, max_lon, max_lat] = cfg.police_area;
    // Shortest paths between junctions of the area may cut a corner outside it.
    let near_area =
        BBox { min_lon: min_lon - 0.005, min_lat: min_lat - 0.005, max_lon: max_lon + 0.005, max_lat: max_lat + 0.005 };
    let first = fleet.step(T0);
    let ids: std::collections::HashSet<_> = first.iter().map(|o| o.external_id.clone()).collect();
    assert!(ids.len() >= 5, "{} police units", ids.len());
    assert_eq!(fleet.count(EntityKind::PoliceUnit), first.len());
    for o in &first {
        assert_eq!((o.kind, o.source.as_str()), (EntityKind::PoliceUnit, emergency::POLICE_SOURCE));
        assert!(simulated(o));
        assert_eq!(o.properties.get("call_sign"), Some(&PropertyValue::Text(o.external_id.clone())));
        assert!(o.external_id.starts_with("113-"), "{}", o.external_id);
    }
    let mut moved = std::collections::HashSet::new();
    let mut statuses = std::collections::HashSet::new();
    for s in 1..=1_800 {
        let obs = fleet.step(T0.plus_millis(s * 1_000));
        assert_eq!(obs.len(), first.len());
        for (o, start) in obs.iter().zip(&first) {
            assert_eq!(o.external_id, start.external_id);
            statuses.insert(o.status.clone().unwrap());
            if distance_m(pos(o), pos(start)) > 100.0 {
                moved.insert(o.external_id.clone());
            }
            if s % 120 == 0 {
                assert!(metres_to_road(&l, pos(o)) < 1.0, "{} left the roads", o.external_id);
                assert!(near_area.contains(pos(o)), "{} left central Hải Châu: {:?}", o.external_id, pos(o));
            }
        }
    }
    assert_eq!(moved, ids, "every unit drives off");
    for s in ["available", "patrolling", "en_route", "on_scene"] {
        assert!(statuses.contains(s), "never saw {s}: {statuses:?}");
    }
}

#[test]
fn police_area_must_be_a_box() {
    let l = layers(false);
    let cfg = DemoConfig { police_area: [108.23, 16.05, 108.20, 16.07], ..DemoConfig::default() };
    let err = police_fleet(&cfg, graph(&l), T0).err().unwrap();
    assert!(err.to_string().starts_with("demo.police_area: "), "{err}");
}

/// Land: the level-2 districts (without the offshore Hoàng Sa district) and every land-use polygon
/// that is not water, bucketed in a 0.01° grid.
struct Land {
    polys: Vec<Polygon<f64>>,
    grid: std::collections::HashMap<(i32, i32), Vec<usize>>,
}

impl Land {
    fn new(l: &ReferenceLayers) -> Self {
        let mut polys = Vec::new();
        let mut add = |g: &Geometry<f64>| match g {
            Geometry::Polygon(p) => polys.push(p.clone()),
            Geometry::MultiPolygon(MultiPolygon(ps)) => polys.extend(ps.iter().cloned()),
            _ => {}
        };
        for f in &l.get("boundaries").unwrap().features {
            if f.properties["level"] == 2 && f.properties["id"] != "498" {
                add(&f.geometry);
            }
        }
        for f in &l.get("landuse").unwrap().features {
            if f.properties.get("natural").and_then(|v| v.as_str()) != Some("water") {
                add(&f.geometry);
            }
        }
        let cell = |x: f64, y: f64| ((x * 100.0).floor() as i32, (y * 100.0).floor() as i32);
        let mut grid: std::collections::HashMap<(i32, i32), Vec<usize>> = Default::default();
        for (i, p) in polys.iter().enumerate() {
            let r = p.bounding_rect().unwrap();
            let (x0, y0) = cell(r.min().x, r.min().y);
            let (x1, y1) = cell(r.max().x, r.max().y);
            for x in x0..=x1 {
                for y in y0..=y1 {
                    grid.entry((x, y)).or_default().push(i);
                }
            }
        }
        assert!(polys.len() > 2_000);
        Self { polys, grid }
    }

    fn contains(&self, p: Position) -> bool {
        let key = ((p.lon * 100.0).floor() as i32, (p.lat * 100.0).floor() as i32);
        let pt = Point::new(p.lon, p.lat);
        self.grid.get(&key).is_some_and(|ids| ids.iter().any(|i| self.polys[*i].contains(&pt)))
    }
}

#[test]
fn vessels_stay_at_sea() {
    let l = layers(true);
    let land = Land::new(&l);
    // The check itself works: a point in Hải Châu is land, the middle of the bay is not.
    assert!(land.contains(Position::new(108.2160, 16.0600)));
    assert!(!land.contains(Position::new(108.1750, 16.1400)));
    let fleet = VesselFleet::new(26, 24, 50);
    assert!(fleet.len() >= 30);
    assert!(fleet.count(EntityKind::FishingBoat) >= 10 && fleet.count(EntityKind::Vessel) >= 10);
    // Every 20 s over 8 simulated hours covers each loop (the longest takes ~3.5 h) many times.
    for k in 0..1_440 {
        let now = T0.plus_millis(k * 20_000);
        for o in fleet.step(now) {
            let p = pos(&o);
            assert!(simulated(&o));
            assert!(CITY.contains(p), "{} left the city bbox at {p:?}", o.external_id);
            assert!(!land.contains(p), "{} ({}) is on land at {p:?}", o.external_id, o.kind);
        }
    }
    let a = fleet.step(T0);
    let b = fleet.step(T0.plus_millis(5_000));
    for (a, b) in a.iter().zip(&b) {
        assert!(distance_m(pos(a), pos(b)) > 5.0, "{} does not move", a.external_id);
        let mmsi = &a.external_id;
        assert!(mmsi.len() == 9 && mmsi.starts_with("574") && mmsi.bytes().all(|c| c.is_ascii_digit()));
    }
}

/// The rows of a CSV file as fields, read independently of the demo's parser.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

fn prop_f64(o: &Observation, key: &str) -> f64 {
    o.properties[key].as_f64().unwrap()
}

#[test]
fn sensors_replay_the_real_series() {
    let l = layers(true);
    let g = graph(&l);
    let cfg = DemoConfig::default();
    let rain_path = data_dir().join(&cfg.rain_series);
    let pm_path = data_dir().join(&cfg.pm25_series);
    let rain = series::load_rain(&rain_path).unwrap();
    let pm25 = series::load_pm25(&pm_path).unwrap();
    let sites = flood_sites(&g, 24);
    let net = SensorNetwork::new(rain, pm25, sites.clone(), 6, 12, 10.0, T0, 3);
    let (flood, gauges, aq) = net.counts();
    assert!(flood >= 20 && gauges >= 5 && aq >= 10, "{flood} flood, {gauges} rain, {aq} air");

    let rain_rows = csv_rows(&rain_path);
    let pm_rows: Vec<_> = csv_rows(&pm_path).into_iter().filter(|r| !r[10].starts_with('-')).collect();
    let land = Land::new(&l);
    let mut offsets = std::collections::HashSet::new();
    for step in [0, 7, 100, 5_000] {
        let now = T0.plus_millis(step * 10_000 + 3_000);
        let obs = net.step(now);
        let (mut g, mut a) = (0, 0);
        for o in &obs {
            assert!(simulated(o) && o.properties.contains_key("replay_of"));
            assert!(land.contains(pos(o)), "{} is not on land", o.external_id);
            match o.kind {
                EntityKind::RainGauge => {
                    let i = net.rain_index(g, now);
                    offsets.insert((i as i64 - step).rem_euclid(rain_rows.len() as i64));
                    let expected: f64 = rain_rows[i][1].parse::<f64>().unwrap() * 1000.0;
                    assert!((prop_f64(o, "rain_mm_h") - expected.max(0.0)).abs() < 1e-9);
                    assert_eq!(o.properties["series_time"].as_str(), Some(rain_rows[i][0].as_str()));
                    g += 1;
                }
                EntityKind::AirQualityStation => {
                    let i = net.pm25_index(a, now);
                    assert_eq!(prop_f64(o, "pm25_ugm3"), pm_rows[i][10].parse::<f64>().unwrap());
                    assert!(o.properties.contains_key("vn_aqi_category"));
                    a += 1;
                }
                EntityKind::FloodSensor => assert!(prop_f64(o, "water_depth_m") >= 0.0),
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(offsets.len(), 6, "each gauge replays from its own offset");
    // Flood sensors sit on distinct real road vertices.
    let vertices: std::collections::HashSet<(u64, u64)> = l
        .get("roads")
        .unwrap()
        .features
        .iter()
        .filter_map(|f| if let Geometry::LineString(ls) = &f.geometry { Some(ls.0.clone()) } else { None })
        .flatten()
        .map(|c| (c.x.to_bits(), c.y.to_bits()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for s in &sites {
        let key = (s.position.lon.to_bits(), s.position.lat.to_bits());
        assert!(vertices.contains(&key) && seen.insert(key), "{} is not a distinct road vertex", s.id);
    }
}

#[test]
fn vn_aqi_breakpoints() {
    assert_eq!(sensors::vn_aqi(0.0), (0, "Tốt (good)"));
    assert_eq!(sensors::vn_aqi(25.0).0, 50);
    assert_eq!(sensors::vn_aqi(37.5).0, 75);
    assert_eq!(sensors::vn_aqi(80.0), (150, "Kém (poor)"));
    assert_eq!(sensors::vn_aqi(115.0), (175, "Xấu (bad)"));
    assert_eq!(sensors::vn_aqi(900.0).1, "Nguy hại (hazardous)");
}

#[test]
fn shipped_config_builds_at_least_the_required_fleets() {
    let shipped = shipped();
    let base_dir = data_dir();
    let demo = shipped.demo.clone();
    assert!(demo.enabled);
    let l = ReferenceLayers::load(&shipped.layers, &base_dir).unwrap();
    let g = graph(&l);
    let buses = BusFleet::new(&g, demo.buses, demo.seed);
    let fire: Vec<Base> = demo
        .fire_stations
        .iter()
        .map(|s| Base { name: s.name.clone(), position: Position::new(s.lon, s.lat), assumed: s.assumed })
        .collect();
    let em = EmergencyFleet::new(g.clone(), &hospitals(&l), demo.ambulances, &fire, demo.fire_trucks, 1, T0);
    let vessels = VesselFleet::new(demo.vessels, demo.fishing_boats, 2);
    let rain = series::load_rain(&base_dir.join(&demo.rain_series)).unwrap();
    let pm25 = series::load_pm25(&base_dir.join(&demo.pm25_series)).unwrap();
    let net = SensorNetwork::new(
        rain,
        pm25,
        flood_sites(&g, demo.flood_sensors),
        demo.rain_gauges,
        demo.air_quality_stations,
        demo.series_seconds_per_hour,
        T0,
        3,
    );
    let (flood, gauges, aq) = net.counts();
    let police = police_fleet(&demo, g.clone(), T0).unwrap();
    assert!(police.count(EntityKind::PoliceUnit) >= 5);
    assert!(buses.len() >= 20 && em.count(EntityKind::Ambulance) >= 5 && em.count(EntityKind::FireTruck) >= 3);
    assert!(vessels.len() >= 30 && flood >= 20 && gauges >= 5 && aq >= 10);
    assert!(buses.len() + em.len() + vessels.len() + flood + gauges + aq >= 90);
    let bbox: Vec<f64> = shipped.city["bbox"].clone().try_into().unwrap();
    assert_eq!(bbox, [CITY.min_lon, CITY.min_lat, CITY.max_lon, CITY.max_lat]);
}

#[test]
fn bus_feed_decodes_back_to_the_simulated_buses() {
    use prost::Message;
    let l = layers(false);
    let fleet = BusFleet::new(&graph(&l), 20, 48);
    let buses = fleet.step(T0);
    let bytes = gtfs_rt::bus_feed(&buses, T0).encode_to_vec();
    // Through the same decoder the poll connector uses.
    let feed = twin_ingest::gtfs_rt::decode_feed(&bytes).unwrap();
    assert_eq!(feed.header.timestamp, Some(1_795_000_000));
    let opts = twin_ingest::gtfs_rt::ObservationOptions { source: "t".into(), fallback_time: T0 };
    let back = twin_ingest::gtfs_rt::to_observations(&feed, &opts);
    assert_eq!((back.observations.len(), back.skipped), (buses.len(), 0));
    for (a, b) in buses.iter().zip(&back.observations) {
        assert_eq!((b.kind, &b.external_id, b.time), (EntityKind::Bus, &a.external_id, T0));
        // GTFS-realtime carries f32 degrees: within a metre here.
        assert!(distance_m(pos(a), pos(b)) < 1.0, "{} moved {} m", a.external_id, distance_m(pos(a), pos(b)));
        assert!((a.heading.unwrap() - b.heading.unwrap()).abs() < 1e-3);
        assert!((a.speed.unwrap() - b.speed.unwrap()).abs() < 1e-4);
        assert_eq!(b.properties.get("route_id"), a.properties.get("route_id"));
        assert_eq!(b.properties.get("vehicle_label"), a.properties.get("route"));
        assert_eq!(b.properties.get("license_plate"), Some(&PropertyValue::Text(a.external_id.clone())));
    }
}

#[test]
fn emergency_reports_parse_back_as_osmand_fixes() {
    let l = layers(false);
    let fire = [Base {
        name: "Assumed fire station, Hải Châu".into(),
        position: Position::new(108.216, 16.052),
        assumed: true,
    }];
    let mut fleet = EmergencyFleet::new(graph(&l), &hospitals(&l), 6, &fire, 3, 49, T0);
    // Late enough that some units are under way.
    let units = fleet.step(T0.plus_millis(40_000));
    assert_eq!(units.len(), 9);
    for o in &units {
        let q = osmand::query(o).unwrap();
        let fix = twin_ingest::osmand::parse_query(&q).unwrap();
        assert_eq!(fix.device_id, o.external_id);
        assert_eq!(fix.time, Some(o.time));
        assert!(distance_m(fix.position.unwrap(), pos(o)) < 0.05, "7 decimals: centimetres");
        assert!((fix.speed_mps.unwrap() - o.speed.unwrap()).abs() < 1e-3, "knots on the wire, m/s back");
        let attr = |k: &str| fix.attributes.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(attr("status"), o.status.clone().map(PropertyValue::Text));
        assert_eq!(attr("simulated"), Some(PropertyValue::Bool(true)));
        assert_eq!(attr("base").as_ref(), o.properties.get("base"));
        assert_eq!(attr("task").as_ref(), o.properties.get("task"));
    }
}

/// The sections of the shipped city config the demo uses, read as the server reads them.
#[derive(serde::Deserialize)]
struct Shipped {
    demo: DemoConfig,
    layers: LayerPaths,
    city: toml::Value,
    devices: Vec<twin_ingest::osmand::Device>,
    #[serde(default)]
    trackers: twin_feeds::connectors::TrackersSection,
}

fn shipped() -> Shipped {
    let text = std::fs::read_to_string(data_dir().join("danang.toml")).unwrap();
    let table = toml::from_str::<toml::Table>(&text).unwrap();
    let pick = |k: &str| table.get(k).cloned().map(|v| (k.to_owned(), v));
    toml::Table::from_iter(["demo", "layers", "city", "devices", "trackers"].into_iter().filter_map(pick))
        .try_into()
        .unwrap()
}

#[test]
fn shipped_config_registers_every_demo_unit_as_a_tracker() {
    let cfg = shipped();
    let registry = twin_feeds::connectors::device_registry(&cfg.devices, &cfg.trackers).unwrap();
    let l = layers(false);
    let fire: Vec<Base> = cfg
        .demo
        .fire_stations
        .iter()
        .map(|s| Base { name: s.name.clone(), position: Position::new(s.lon, s.lat), assumed: s.assumed })
        .collect();
    let d = &cfg.demo;
    let mut fleet = EmergencyFleet::new(graph(&l), &hospitals(&l), d.ambulances, &fire, d.fire_trucks, d.seed + 1, T0);
    let units = fleet.step(T0);
    assert_eq!(units.len(), d.ambulances + d.fire_trucks);
    for o in &units {
        let dev = registry.get(&o.external_id).unwrap_or_else(|| panic!("{} is not in [[devices]]", o.external_id));
        assert_eq!(dev.kind, o.kind);
        assert_eq!(dev.agency.as_ref().map(|a| PropertyValue::Text(a.clone())).as_ref(), o.properties.get("agency"));
    }
}
