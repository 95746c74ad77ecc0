//! A Mapbox Vector Tile 2.1 encoder: layers with deduplicated key/value tables and features whose
//! geometry is a packed stream of MoveTo/LineTo/ClosePath commands with zigzag deltas.

pub mod clip;
mod geometry;
mod value;
pub(crate) mod wire;

use std::collections::HashMap;

pub use geometry::ring_area2;
use geometry::{encode_lines, encode_points, encode_polygons};
use value::FxBuild;
pub use value::{FxHasher, MvtValue, Val};
use wire::{put_bytes_field, put_key, put_packed_field, put_varint_field};

/// Default tile extent (units per tile side).
pub const EXTENT: u32 = 4096;

/// A point in tile units (y grows downwards).
pub type TilePoint = (i32, i32);

/// Geometry already in tile units.
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    Points(Vec<TilePoint>),
    Lines(Vec<Vec<TilePoint>>),
    /// Each polygon: exterior ring first, then holes. Rings need not repeat the first point and may
    /// come in any winding: the encoder writes exteriors clockwise on screen and holes the other way.
    Polygons(Vec<Vec<Vec<TilePoint>>>),
}

/// Builds one layer; features are encoded as they are added.
#[derive(Debug)]
pub struct LayerBuilder {
    name: String,
    extent: u32,
    features: Vec<u8>,
    count: usize,
    keys: Vec<String>,
    key_index: HashMap<String, u32, FxBuild>,
    /// Encoded `Value` messages, each already framed as field 4 of the layer.
    values: Vec<u8>,
    value_count: u32,
    /// String values by hash → (value index, byte range of the string inside `values`); equality is
    /// checked against those bytes, and the rare colliding strings go to `str_collisions`.
    str_index: HashMap<u64, (u32, u32, u32), FxBuild>,
    str_collisions: HashMap<Box<str>, u32, FxBuild>,
    num_index: HashMap<(u8, u64), u32, FxBuild>,
    /// Key index used at each attribute position of the previous feature: features of one layer
    /// usually list their attributes in the same order, so this skips the hash lookup.
    key_hints: Vec<u32>,
    tags: Vec<u32>,
    commands: Vec<u32>,
    scratch: Vec<u8>,
    feature: Vec<u8>,
}

impl LayerBuilder {
    pub fn new(name: impl Into<String>, extent: u32) -> Self {
        Self::with_capacity(name, extent, 0)
    }

    /// Sized for about `features` point features with a dozen mostly distinct attributes each.
    pub fn with_capacity(name: impl Into<String>, extent: u32, features: usize) -> Self {
        Self {
            name: name.into(),
            extent,
            features: Vec::with_capacity(features * 100),
            count: 0,
            keys: Vec::new(),
            key_index: HashMap::default(),
            values: Vec::with_capacity(features * 40),
            value_count: 0,
            str_index: HashMap::with_capacity_and_hasher(features * 2, FxBuild::default()),
            str_collisions: HashMap::default(),
            num_index: HashMap::with_capacity_and_hasher(features * 4, FxBuild::default()),
            key_hints: Vec::new(),
            tags: Vec::new(),
            commands: Vec::new(),
            scratch: Vec::new(),
            feature: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a feature; returns false (adding nothing) when the geometry has nothing left to draw
    /// after dropping repeated points and degenerate lines and rings.
    pub fn add_feature(&mut self, id: Option<u64>, geometry: &TileGeometry, attrs: &[(&str, MvtValue)]) -> bool {
        self.commands.clear();
        let kind = match geometry {
            TileGeometry::Points(pts) => {
                encode_points(pts, &mut self.commands);
                1
            }
            TileGeometry::Lines(lines) => {
                encode_lines(lines, &mut self.commands);
                2
            }
            TileGeometry::Polygons(polys) => {
                encode_polygons(polys, &mut self.commands);
                3
            }
        };
        if self.commands.is_empty() {
            return false;
        }
        self.tags.clear();
        for (j, (k, v)) in attrs.iter().enumerate() {
            self.push_tag(j, k, v.as_val());
        }
        self.write_feature(id, kind);
        true
    }

    /// Adds a single-point feature (the hot path of live layers).
    pub fn add_point(&mut self, id: Option<u64>, p: TilePoint, attrs: &[(&str, Val<'_>)]) {
        self.commands.clear();
        encode_points(&[p], &mut self.commands);
        self.tags.clear();
        for (j, (k, v)) in attrs.iter().enumerate() {
            self.push_tag(j, k, *v);
        }
        self.write_feature(id, 1);
    }

    fn push_tag(&mut self, position: usize, k: &str, v: Val<'_>) {
        let hinted = self.key_hints.get(position).copied().filter(|&i| self.keys[i as usize] == k);
        let ki = match hinted.or_else(|| self.key_index.get(k).copied()) {
            Some(i) => i,
            None => {
                let i = self.keys.len() as u32;
                self.keys.push(k.to_owned());
                self.key_index.insert(k.to_owned(), i);
                i
            }
        };
        match self.key_hints.get_mut(position) {
            Some(h) => *h = ki,
            None => self.key_hints.push(ki),
        }
        let next = self.value_count;
        let (vi, fresh) = match v {
            Val::Str(s) => {
                let vi = self.string_value(s);
                self.tags.push(ki);
                self.tags.push(vi);
                return;
            }
            other => match self.num_index.entry(other.num_key()) {
                std::collections::hash_map::Entry::Occupied(o) => (*o.get(), false),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(next);
                    (next, true)
                }
            },
        };
        if fresh {
            self.value_count += 1;
            self.scratch.clear();
            v.encode(&mut self.scratch);
            put_key(&mut self.values, 4, wire::LEN);
            wire::put_varint(&mut self.values, self.scratch.len() as u64);
            self.values.extend_from_slice(&self.scratch);
        }
        self.tags.push(ki);
        self.tags.push(vi);
    }

    /// Index of a string value, appending it when new (no allocation for the lookup).
    fn string_value(&mut self, s: &str) -> u32 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = FxBuild::default().build_hasher();
        h.write(s.as_bytes());
        let hash = h.finish();
        if let Some(&(vi, off, len)) = self.str_index.get(&hash) {
            if &self.values[off as usize..(off + len) as usize] == s.as_bytes() {
                return vi;
            }
            if let Some(&vi) = self.str_collisions.get(s) {
                return vi;
            }
            let vi = self.append_string(s).0;
            self.str_collisions.insert(s.into(), vi);
            return vi;
        }
        let (vi, off) = self.append_string(s);
        self.str_index.insert(hash, (vi, off, s.len() as u32));
        vi
    }

    /// Appends `Value { string_value: s }`; returns its index and where the string bytes start.
    fn append_string(&mut self, s: &str) -> (u32, u32) {
        self.scratch.clear();
        wire::put_varint(&mut self.scratch, s.len() as u64);
        let msg_len = 1 + self.scratch.len() + s.len();
        put_key(&mut self.values, 4, wire::LEN);
        wire::put_varint(&mut self.values, msg_len as u64);
        put_key(&mut self.values, 1, wire::LEN);
        self.values.extend_from_slice(&self.scratch);
        let off = self.values.len() as u32;
        self.values.extend_from_slice(s.as_bytes());
        let vi = self.value_count;
        self.value_count += 1;
        (vi, off)
    }

    fn write_feature(&mut self, id: Option<u64>, kind: u64) {
        self.feature.clear();
        if let Some(id) = id {
            put_varint_field(&mut self.feature, 1, id);
        }
        if !self.tags.is_empty() {
            put_packed_field(&mut self.feature, 2, &self.tags, &mut self.scratch);
        }
        put_varint_field(&mut self.feature, 3, kind);
        put_packed_field(&mut self.feature, 4, &self.commands, &mut self.scratch);
        put_bytes_field(&mut self.features, 2, &self.feature);
        self.count += 1;
    }

    /// Appends the layer as field 3 of a `Tile` message, without an intermediate copy.
    pub fn finish_into(&self, out: &mut Vec<u8>) {
        let mut head = Vec::with_capacity(self.name.len() + 4);
        put_bytes_field(&mut head, 1, self.name.as_bytes());
        let mut keys = Vec::with_capacity(self.keys.iter().map(|k| k.len() + 2).sum());
        for k in &self.keys {
            put_bytes_field(&mut keys, 3, k.as_bytes());
        }
        let mut tail = Vec::with_capacity(8);
        put_varint_field(&mut tail, 5, u64::from(self.extent));
        put_varint_field(&mut tail, 15, 2);
        let len = head.len() + self.features.len() + keys.len() + self.values.len() + tail.len();
        out.reserve(len + 6);
        put_key(out, 3, wire::LEN);
        wire::put_varint(out, len as u64);
        for part in [&head, &self.features, &keys, &self.values, &tail] {
            out.extend_from_slice(part);
        }
    }

    /// The encoded `Layer` message.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.features.len() + 64 + self.keys.len() * 8);
        put_bytes_field(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.keys {
            put_bytes_field(&mut out, 3, k.as_bytes());
        }
        out.extend_from_slice(&self.values);
        put_varint_field(&mut out, 5, u64::from(self.extent));
        put_varint_field(&mut out, 15, 2);
        out
    }
}

/// Encodes a tile from its layers; empty layers are left out, so a tile with nothing is zero bytes.
pub fn encode_tile(layers: &[LayerBuilder]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in layers.iter().filter(|l| !l.is_empty()) {
        l.finish_into(&mut out);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::geometry::encode_ring;
    use super::*;

    #[test]
    fn spec_examples_encode_as_in_the_spec() {
        // MVT 2.1 spec §4.3.5: point (25,17) → [9, 50, 34].
        let mut c = Vec::new();
        encode_points(&[(25, 17)], &mut c);
        assert_eq!(c, [9, 50, 34]);
        // Linestring (2,2) (2,10) (10,10) → [9,4,4,18,0,16,16,0].
        c.clear();
        encode_lines(&[vec![(2, 2), (2, 10), (10, 10)]], &mut c);
        assert_eq!(c, [9, 4, 4, 18, 0, 16, 16, 0]);
        // Polygon (3,6) (8,12) (20,34) → [9,6,12,18,10,12,24,44,15].
        c.clear();
        encode_polygons(&[vec![vec![(3, 6), (8, 12), (20, 34), (3, 6)]]], &mut c);
        assert_eq!(c, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn keys_and_values_are_deduplicated() {
        let mut l = LayerBuilder::new("x", EXTENT);
        for i in 0..3 {
            l.add_point(Some(i), (1, 1), &[("kind", Val::Str("bus")), ("speed", Val::Double(2.5))]);
            l.add_point(None, (2, 2), &[("kind", Val::Str("2.5")), ("n", Val::Uint(7)), ("m", Val::Int(7))]);
        }
        assert_eq!(l.len(), 6);
        assert_eq!(l.keys, ["kind", "speed", "n", "m"]);
        // "bus", 2.5 (double), "2.5" (string) and 7 (uint 7 and int 7 encode alike) are the values.
        assert_eq!(l.value_count, 4);
    }

    #[test]
    fn winding_is_fixed_and_degenerates_dropped() {
        let ccw = vec![(0, 0), (0, 10), (10, 10), (10, 0)];
        assert!(ring_area2(&ccw) < 0);
        let mut c = Vec::new();
        let mut cursor = (0, 0);
        assert!(encode_ring(&ccw, true, &mut cursor, &mut c));
        // The encoder reversed it: after MoveTo(10,0) comes a LineTo that starts at (10,10).
        assert_eq!(&c[..3], &[9, 20, 0]);
        let mut l = LayerBuilder::new("x", EXTENT);
        assert!(!l.add_feature(None, &TileGeometry::Lines(vec![vec![(1, 1), (1, 1)]]), &[]));
        assert!(!l.add_feature(None, &TileGeometry::Polygons(vec![vec![vec![(0, 0), (5, 5), (10, 10)]]]), &[]));
        assert!(l.is_empty());
    }
}
