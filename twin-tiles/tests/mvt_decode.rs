//! Our tiles decoded by an independent protobuf decoder (geozero's prost `Tile`), with the geometry
//! command stream interpreted here from the MVT 2.1 spec, and positions checked against the Web
//! Mercator formulas written out in this file.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;

use geozero::mvt::tile::{GeomType, Layer, Value};
use geozero::mvt::{Message, Tile};
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp, Twin, TwinConfig};
use twin_layers::{Feature, Layer as RefLayer, ReferenceLayers};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::{TileCoord, TileLayer, TileRenderer};

fn decode(bytes: &[u8]) -> Tile {
    Tile::decode(bytes).expect("valid protobuf")
}

/// Interprets a command stream into parts (one per MoveTo), per the spec's command semantics.
fn commands(geom: &[u32]) -> Vec<(Vec<(i64, i64)>, bool)> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut parts: Vec<(Vec<(i64, i64)>, bool)> = Vec::new();
    let mut i = 0;
    let unzig = |v: u32| ((v >> 1) as i64) ^ -((v & 1) as i64);
    while i < geom.len() {
        let (id, count) = (geom[i] & 7, geom[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += unzig(geom[i]);
                    y += unzig(geom[i + 1]);
                    i += 2;
                    if id == 1 {
                        parts.push((vec![(x, y)], false));
                    } else {
                        parts.last_mut().expect("LineTo after MoveTo").0.push((x, y));
                    }
                }
            }
            7 => parts.last_mut().expect("ClosePath after MoveTo").1 = true,
            other => panic!("unknown command {other}"),
        }
    }
    parts
}

fn area2(r: &[(i64, i64)]) -> i64 {
    (0..r.len()).map(|i| r[i].0 * r[(i + 1) % r.len()].1 - r[(i + 1) % r.len()].0 * r[i].1).sum()
}

fn attrs(layer: &Layer, tags: &[u32]) -> HashMap<String, Value> {
    tags.chunks(2).map(|kv| (layer.keys[kv[0] as usize].clone(), layer.values[kv[1] as usize].clone())).collect()
}

/// Pixel position by the textbook formula (independent of the crate's projection code).
fn pixel(lon: f64, lat: f64, t: TileCoord) -> (f64, f64) {
    let n = f64::from(1u32 << t.z());
    let x = (lon + 180.0) / 360.0 * n;
    let r = lat.to_radians();
    let y = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    ((x - f64::from(t.x())) * 4096.0, (y - f64::from(t.y())) * 4096.0)
}

fn city() -> Twin {
    let mut twin = Twin::new(TwinConfig::default());
    let mut batch = Vec::new();
    for i in 0..200 {
        let kind = [EntityKind::Bus, EntityKind::Ambulance, EntityKind::Vessel][i % 3];
        let mut o = Observation::new(kind, format!("e{i}"), Timestamp(1_700_000_000_000))
            .at(108.20 + (i % 20) as f64 * 0.002, 16.05 + (i / 20) as f64 * 0.002);
        o.speed = Some(i as f64 / 10.0);
        o.heading = Some(90.0);
        o.properties.insert("agency".into(), PropertyValue::Text("DNTC".into()));
        batch.push(o);
    }
    let a = twin.apply_batch(&batch);
    assert!(a.rejected.is_empty());
    twin
}

#[test]
fn live_points_decode_with_their_attributes() {
    let twin = city();
    let r = TileRenderer::new(ReferenceIndex::default());
    let tile = TileCoord::containing(108.21, 16.06, 14).unwrap();
    let now = Timestamp(1_700_000_010_000);
    let t = decode(&r.render(&TileLayer::Live, tile, &twin, now).unwrap());
    let mut seen = 0;
    for layer in &t.layers {
        assert_eq!(layer.version, 2);
        assert_eq!(layer.extent, Some(4096));
        let kind: EntityKind = layer.name.parse().expect("layer per kind");
        for f in &layer.features {
            assert_eq!(f.r#type, Some(GeomType::Point as i32));
            let a = attrs(layer, &f.tags);
            let e = twin.get(twin_core::EntityId(f.id.unwrap())).unwrap();
            assert_eq!(e.kind, kind);
            assert_eq!(a["kind"].string_value.as_deref(), Some(kind.as_str()));
            assert_eq!(a["external_id"].string_value.as_deref(), Some(e.external_id.as_str()));
            assert_eq!(a["agency"].string_value.as_deref(), Some("DNTC"));
            assert_eq!(a["speed"].double_value, e.speed);
            assert_eq!(a["last_seen"].uint_value, Some(1_700_000_000));
            assert_eq!(a["stale"].bool_value, Some(false));
            let parts = commands(&f.geometry);
            assert_eq!(parts.len(), 1);
            let p = e.position.unwrap();
            let (ex, ey) = pixel(p.lon, p.lat, tile);
            assert!((parts[0].0[0].0 as f64 - ex).abs() <= 0.5 && (parts[0].0[0].1 as f64 - ey).abs() <= 0.5);
            seen += 1;
        }
    }
    // Every entity whose pixel lies in the buffered tile is drawn, and no other.
    let expected = twin
        .entities()
        .filter(|e| {
            let p = e.position.unwrap();
            let (x, y) = pixel(p.lon, p.lat, tile);
            (-64.0..=4160.0).contains(&x) && (-64.0..=4160.0).contains(&y)
        })
        .count();
    assert!(expected > 0);
    assert_eq!(seen, expected);
    // Later, silence makes them stale.
    let later =
        decode(&r.render(&TileLayer::Kind(EntityKind::Bus), tile, &twin, Timestamp(1_800_000_000_000)).unwrap());
    assert_eq!(later.layers.len(), 1);
    let l = &later.layers[0];
    assert!(l.features.iter().all(|f| attrs(l, &f.tags)["stale"].bool_value == Some(true)));
}

#[test]
fn low_zoom_hexagons_count_entities_per_cell() {
    let twin = city();
    let r = TileRenderer::new(ReferenceIndex::default());
    let tile = TileCoord::containing(108.21, 16.06, 10).unwrap();
    let t = decode(&r.render(&TileLayer::Live, tile, &twin, Timestamp(0)).unwrap());
    assert_eq!(t.layers.len(), 1);
    let l = &t.layers[0];
    assert_eq!(l.name, "hexagons");
    let res = twin_tiles::live::hexagon_resolution(10, h3o::Resolution::Nine);
    let mut expected: HashMap<String, (u64, u64)> = HashMap::new();
    for e in twin.entities() {
        let p = e.position.unwrap();
        // Membership follows H3's hierarchy from the index resolution (9), as documented by Twin::h3_counts.
        let cell = h3o::LatLng::new(p.lat, p.lon).unwrap().to_cell(h3o::Resolution::Nine).parent(res).unwrap();
        let slot = expected.entry(cell.to_string()).or_default();
        slot.0 += 1;
        slot.1 += u64::from(e.kind == EntityKind::Bus);
    }
    assert_eq!(l.features.len(), expected.len());
    for f in &l.features {
        let a = attrs(l, &f.tags);
        let h3 = a["h3"].string_value.clone().unwrap();
        let (total, buses) = expected[&h3];
        assert_eq!(a["total"].uint_value, Some(total));
        assert_eq!(a.get("bus").and_then(|v| v.uint_value).unwrap_or(0), buses);
        let parts = commands(&f.geometry);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].1, "ring closed");
        assert!(area2(&parts[0].0) > 0, "exterior clockwise on screen");
    }
}

#[test]
fn reference_polygons_keep_winding_and_lines_are_clipped() {
    let tile = TileCoord::containing(108.22, 16.06, 15).unwrap();
    let b = tile.bounds();
    let (cx, cy) = ((b.west + b.east) / 2.0, (b.north + b.south) / 2.0);
    let (dx, dy) = (b.east - b.west, b.north - b.south);
    // A square with a hole, anticlockwise in lon/lat (as GeoJSON right-hand rule), half outside the tile.
    let ring = |s: f64, ox: f64| {
        geo::LineString::from(vec![
            (cx + (ox - s) * dx, cy - s * dy),
            (cx + (ox + s) * dx, cy - s * dy),
            (cx + (ox + s) * dx, cy + s * dy),
            (cx + (ox - s) * dx, cy + s * dy),
            (cx + (ox - s) * dx, cy - s * dy),
        ])
    };
    let poly = geo::Polygon::new(ring(0.4, 0.3), vec![ring(0.1, 0.3)]);
    let line = geo::LineString::from(vec![(b.west - dx, cy), (b.east + dx, cy)]);
    let mut props = serde_json::Map::new();
    props.insert("height".into(), serde_json::json!(12.5));
    let layers = ReferenceLayers {
        layers: vec![
            RefLayer {
                name: "water".into(),
                features: vec![Feature { geometry: poly.into(), properties: props.clone() }],
            },
            RefLayer {
                name: "boundaries".into(),
                features: vec![Feature { geometry: line.into(), properties: props }],
            },
        ],
    };
    let r = TileRenderer::new(ReferenceIndex::build(&layers));
    let t = decode(&r.render(&TileLayer::Basemap, tile, &Twin::new(TwinConfig::default()), Timestamp(0)).unwrap());
    let names: Vec<&str> = t.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["water", "boundaries"]);
    for l in &t.layers {
        assert_eq!(l.features.len(), 1);
        let f = &l.features[0];
        assert_eq!(attrs(l, &f.tags)["height"].double_value, Some(12.5));
        let parts = commands(&f.geometry);
        for (pts, _) in &parts {
            assert!(pts.iter().all(|p| (-64..=4160).contains(&p.0) && (-64..=4160).contains(&p.1)), "{pts:?}");
        }
        if l.name == "water" {
            assert_eq!(f.r#type, Some(GeomType::Polygon as i32));
            assert_eq!(parts.len(), 2);
            assert!(parts[0].1 && parts[1].1);
            assert!(area2(&parts[0].0) > 0 && area2(&parts[1].0) < 0);
        } else {
            assert_eq!(f.r#type, Some(GeomType::Linestring as i32));
            assert_eq!(parts.len(), 1);
            let xs: Vec<i64> = parts[0].0.iter().map(|p| p.0).collect();
            assert_eq!((xs.iter().min(), xs.iter().max()), (Some(&-64), Some(&4160)));
        }
    }
}

mod encoder_props {
    use super::*;
    use proptest::prelude::*;
    use twin_tiles::mvt::{encode_tile, LayerBuilder, MvtValue, TileGeometry};

    fn dedup(v: &[(i32, i32)]) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for p in v {
            let p = (i64::from(p.0), i64::from(p.1));
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        out
    }

    proptest! {
        /// Any polyline and attribute set survives encoding: the independent decoder sees the same
        /// vertices (consecutive repeats dropped) and the same attribute values.
        #[test]
        fn lines_and_attributes_round_trip(
            pts in prop::collection::vec((-200i32..4300, -200i32..4300), 2..40),
            speed in -1e6f64..1e6,
            n in any::<i64>(),
            label in "[a-zA-Zà-ỹ0-9 ]{0,12}",
        ) {
            let expected = dedup(&pts);
            prop_assume!(expected.len() >= 2);
            let mut l = LayerBuilder::new("roads", 4096);
            let attrs = [("speed", MvtValue::Double(speed)), ("n", MvtValue::Int(n)), ("label", MvtValue::String(label.clone()))];
            prop_assert!(l.add_feature(Some(7), &TileGeometry::Lines(vec![pts.clone()]), &attrs));
            let t = decode(&encode_tile(&[l]));
            let layer = &t.layers[0];
            let f = &layer.features[0];
            prop_assert_eq!(f.r#type, Some(GeomType::Linestring as i32));
            let parts = commands(&f.geometry);
            prop_assert_eq!(parts.len(), 1);
            prop_assert_eq!(&parts[0].0, &expected);
            let a = attrs_of(layer, &f.tags);
            prop_assert_eq!(a["speed"].double_value, Some(speed));
            let got_n = a["n"].uint_value.map(|u| u as i64).or(a["n"].sint_value);
            prop_assert_eq!(got_n, Some(n));
            prop_assert_eq!(a["label"].string_value.as_deref(), Some(label.as_str()));
        }

        /// Rings of either winding come out with the exterior clockwise on screen (positive area).
        #[test]
        fn polygon_rings_get_mvt_winding(cx in 100i32..4000, cy in 100i32..4000, r in 5i32..90, reverse in any::<bool>()) {
            let mut ring: Vec<(i32, i32)> = (0..6)
                .map(|k| {
                    let a = f64::from(k) * std::f64::consts::PI / 3.0;
                    (cx + (f64::from(r) * a.cos()).round() as i32, cy + (f64::from(r) * a.sin()).round() as i32)
                })
                .collect();
            if reverse {
                ring.reverse();
            }
            let mut l = LayerBuilder::new("water", 4096);
            prop_assert!(l.add_feature(None, &TileGeometry::Polygons(vec![vec![ring]]), &[]));
            let t = decode(&encode_tile(&[l]));
            let parts = commands(&t.layers[0].features[0].geometry);
            prop_assert_eq!(parts.len(), 1);
            prop_assert!(parts[0].1);
            prop_assert!(area2(&parts[0].0) > 0);
        }
    }

    fn attrs_of(layer: &Layer, tags: &[u32]) -> HashMap<String, Value> {
        attrs(layer, tags)
    }
}
