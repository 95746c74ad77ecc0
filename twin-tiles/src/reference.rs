//! Reference layers (roads, buildings, water, …) prepared for tiling: geometry projected once to the
//! mercator unit square, an R-tree of envelopes per layer, attributes converted to MVT values. A
//! tile then scales, simplifies (geo's Ramer–Douglas–Peucker in tile units) and clips.

use geo::{Coord, Geometry, LineString, Simplify};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value;
use twin_layers::ReferenceLayers;

use crate::coord::{lonlat_to_world, TileCoord};
use crate::mvt::clip::{clip_line, clip_ring, ClipRect};
use crate::mvt::{LayerBuilder, MvtValue, TileGeometry};

type Ring = Vec<(f64, f64)>;

/// Geometry in mercator unit-square coordinates.
#[derive(Debug, Clone)]
enum WorldGeom {
    Points(Vec<(f64, f64)>),
    Lines(Vec<Ring>),
    Polygons(Vec<Vec<Ring>>),
}

#[derive(Debug)]
struct Prepared {
    geom: WorldGeom,
    attrs: Vec<(String, MvtValue)>,
}

/// One reference layer ready for tiling.
#[derive(Debug)]
pub struct IndexedLayer {
    pub name: String,
    /// Below this zoom the layer is left out of tiles (e.g. buildings are noise at city scale).
    pub minzoom: u8,
    /// Attribute names and their TileJSON types, in first-seen order.
    pub fields: Vec<(String, &'static str)>,
    features: Vec<Prepared>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

/// All reference layers, indexed.
#[derive(Debug, Default)]
pub struct ReferenceIndex {
    pub layers: Vec<IndexedLayer>,
}

/// Default minimum zoom of a reference layer by name.
pub fn default_minzoom(name: &str) -> u8 {
    match name {
        "buildings" => 13,
        "pois" => 12,
        "landuse" => 10,
        "roads" => 8,
        _ => 0,
    }
}

impl ReferenceIndex {
    pub fn build(layers: &ReferenceLayers) -> Self {
        let layers = layers
            .layers
            .iter()
            .map(|l| {
                let mut fields: Vec<(String, &'static str)> = Vec::new();
                let mut features = Vec::with_capacity(l.features.len());
                let mut boxes = Vec::with_capacity(l.features.len());
                for f in &l.features {
                    let Some(geom) = to_world(&f.geometry) else { continue };
                    let Some(env) = envelope(&geom) else { continue };
                    let attrs = attributes(&f.properties, &mut fields);
                    boxes.push(GeomWithData::new(Rectangle::from_corners(env.0, env.1), features.len()));
                    features.push(Prepared { geom, attrs });
                }
                IndexedLayer {
                    name: l.name.clone(),
                    minzoom: default_minzoom(&l.name),
                    fields,
                    features,
                    tree: RTree::bulk_load(boxes),
                }
            })
            .collect();
        Self { layers }
    }

    pub fn layer(&self, name: &str) -> Option<&IndexedLayer> {
        self.layers.iter().find(|l| l.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|l| l.name.as_str())
    }
}

impl IndexedLayer {
    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Bounds of the whole layer in lon/lat, `None` when empty.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        (!self.features.is_empty()).then(|| {
            let env = self.tree.root().envelope();
            let (w, n) = crate::coord::world_to_lonlat(env.lower()[0], env.lower()[1]);
            let (e, s) = crate::coord::world_to_lonlat(env.upper()[0], env.upper()[1]);
            [w, s, e, n]
        })
    }

    /// Draws the layer into a tile. `simplify` is the Douglas–Peucker tolerance in tile units
    /// (0 keeps every vertex).
    pub fn render(&self, tile: TileCoord, extent: u32, buffer: u32, simplify: f64) -> LayerBuilder {
        let mut out = LayerBuilder::new(self.name.as_str(), extent);
        if tile.z() < self.minzoom {
            return out;
        }
        let n = (1u64 << tile.z()) as f64;
        let pad = f64::from(buffer) / f64::from(extent.max(1));
        let lo = [(f64::from(tile.x()) - pad) / n, (f64::from(tile.y()) - pad) / n];
        let hi = [(f64::from(tile.x()) + 1.0 + pad) / n, (f64::from(tile.y()) + 1.0 + pad) / n];
        let scale = n * f64::from(extent);
        let (ox, oy) = (f64::from(tile.x()) * f64::from(extent), f64::from(tile.y()) * f64::from(extent));
        let to_tile = |p: &(f64, f64)| (p.0 * scale - ox, p.1 * scale - oy);
        let rect = ClipRect::buffered(extent, buffer);
        let mut hits: Vec<usize> =
            self.tree.locate_in_envelope_intersecting(&AABB::from_corners(lo, hi)).map(|g| g.data).collect();
        // Feature order is stable across tiles so labels and z-order do not flicker.
        hits.sort_unstable();
        for i in hits {
            let f = &self.features[i];
            let geom = match &f.geom {
                WorldGeom::Points(pts) => {
                    TileGeometry::Points(pts.iter().map(to_tile).filter(|p| rect.contains(*p)).map(round).collect())
                }
                WorldGeom::Lines(lines) => TileGeometry::Lines(
                    lines
                        .iter()
                        .flat_map(|l| clip_line(&rect, &simplified(l.iter().map(to_tile).collect(), simplify)))
                        .map(|l| l.iter().map(|p| round(*p)).collect())
                        .collect(),
                ),
                WorldGeom::Polygons(polys) => TileGeometry::Polygons(
                    polys
                        .iter()
                        .map(|rings| {
                            rings
                                .iter()
                                .map(|r| {
                                    let r = simplified(r.iter().map(to_tile).collect(), simplify);
                                    clip_ring(&rect, &r).iter().map(|p| round(*p)).collect()
                                })
                                .collect()
                        })
                        .collect(),
                ),
            };
            let attrs: Vec<(&str, MvtValue)> = f.attrs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            out.add_feature(Some(i as u64), &geom, &attrs);
        }
        out
    }
}

fn round(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

fn simplified(pts: Ring, epsilon: f64) -> Ring {
    if epsilon <= 0.0 || pts.len() < 4 {
        return pts;
    }
    // A closed ring starts and ends at the same point, where Douglas–Peucker has no baseline: simplify
    // its two halves separately.
    if pts.first() == pts.last() {
        let mid = pts.len() / 2;
        let mut a = rdp(&pts[..=mid], epsilon);
        let b = rdp(&pts[mid..], epsilon);
        a.pop();
        a.extend(b);
        return a;
    }
    rdp(&pts, epsilon)
}

fn rdp(pts: &[(f64, f64)], epsilon: f64) -> Ring {
    let ls: LineString<f64> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
    ls.simplify(epsilon).0.into_iter().map(|c| (c.x, c.y)).collect()
}

fn ring_world(ls: &LineString<f64>) -> Ring {
    ls.0.iter().map(|c| lonlat_to_world(c.x, c.y)).collect()
}

fn to_world(g: &Geometry<f64>) -> Option<WorldGeom> {
    Some(match g {
        Geometry::Point(p) => WorldGeom::Points(vec![lonlat_to_world(p.x(), p.y())]),
        Geometry::MultiPoint(mp) => WorldGeom::Points(mp.iter().map(|p| lonlat_to_world(p.x(), p.y())).collect()),
        Geometry::LineString(l) => WorldGeom::Lines(vec![ring_world(l)]),
        Geometry::MultiLineString(ml) => WorldGeom::Lines(ml.iter().map(ring_world).collect()),
        Geometry::Polygon(p) => WorldGeom::Polygons(vec![polygon_world(p)]),
        Geometry::MultiPolygon(mp) => WorldGeom::Polygons(mp.iter().map(polygon_world).collect()),
        Geometry::Rect(r) => WorldGeom::Polygons(vec![polygon_world(&r.to_polygon())]),
        Geometry::Triangle(t) => WorldGeom::Polygons(vec![polygon_world(&t.to_polygon())]),
        Geometry::Line(l) => {
            WorldGeom::Lines(vec![vec![lonlat_to_world(l.start.x, l.start.y), lonlat_to_world(l.end.x, l.end.y)]])
        }
        Geometry::GeometryCollection(_) => return None,
    })
}

fn polygon_world(p: &geo::Polygon<f64>) -> Vec<Ring> {
    std::iter::once(p.exterior()).chain(p.interiors()).map(ring_world).collect()
}

fn envelope(g: &WorldGeom) -> Option<([f64; 2], [f64; 2])> {
    let mut it: Box<dyn Iterator<Item = &(f64, f64)>> = match g {
        WorldGeom::Points(p) => Box::new(p.iter()),
        WorldGeom::Lines(l) => Box::new(l.iter().flatten()),
        WorldGeom::Polygons(p) => Box::new(p.iter().flat_map(|r| r.first()).flatten()),
    };
    let first = it.next()?;
    let (mut lo, mut hi) = ([first.0, first.1], [first.0, first.1]);
    for p in it {
        lo = [lo[0].min(p.0), lo[1].min(p.1)];
        hi = [hi[0].max(p.0), hi[1].max(p.1)];
    }
    Some((lo, hi))
}

/// Scalar JSON properties as MVT values (nested values and nulls are left out).
fn attributes(
    props: &serde_json::Map<String, Value>,
    fields: &mut Vec<(String, &'static str)>,
) -> Vec<(String, MvtValue)> {
    let mut out = Vec::with_capacity(props.len());
    for (k, v) in props {
        let (value, ty) = match v {
            Value::String(s) => (MvtValue::String(s.clone()), "String"),
            Value::Bool(b) => (MvtValue::Bool(*b), "Boolean"),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => (MvtValue::Uint(u), "Number"),
                (_, Some(i), _) => (MvtValue::Int(i), "Number"),
                (_, _, Some(f)) => (MvtValue::Double(f), "Number"),
                _ => continue,
            },
            _ => continue,
        };
        if !fields.iter().any(|(f, _)| f == k) {
            fields.push((k.clone(), ty));
        }
        out.push((k.clone(), value));
    }
    out
}
