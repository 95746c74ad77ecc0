//! A Mapbox Vector Tile 2.1 encoder: layers with deduplicated key/value tables and features whose
//! geometry is a packed stream of MoveTo/LineTo/ClosePath commands with zigzag deltas.

pub mod clip;
pub(crate) mod wire;

use std::collections::HashMap;

use wire::{put_bytes_field, put_key, put_packed_field, put_varint_field, FIXED64};

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

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum MvtValue {
    String(String),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl From<&str> for MvtValue {
    fn from(s: &str) -> Self {
        MvtValue::String(s.to_owned())
    }
}
impl From<String> for MvtValue {
    fn from(s: String) -> Self {
        MvtValue::String(s)
    }
}
impl From<f64> for MvtValue {
    fn from(v: f64) -> Self {
        MvtValue::Double(v)
    }
}
impl From<i64> for MvtValue {
    fn from(v: i64) -> Self {
        MvtValue::Int(v)
    }
}
impl From<u64> for MvtValue {
    fn from(v: u64) -> Self {
        MvtValue::Uint(v)
    }
}
impl From<bool> for MvtValue {
    fn from(v: bool) -> Self {
        MvtValue::Bool(v)
    }
}

/// A borrowed attribute value: what `LayerBuilder` takes on its fast path (no allocation unless the
/// value is new to the layer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    Str(&'a str),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl MvtValue {
    pub fn as_val(&self) -> Val<'_> {
        match self {
            MvtValue::String(s) => Val::Str(s),
            MvtValue::Double(d) => Val::Double(*d),
            MvtValue::Int(i) => Val::Int(*i),
            MvtValue::Uint(u) => Val::Uint(*u),
            MvtValue::Bool(b) => Val::Bool(*b),
        }
    }
}

impl Val<'_> {
    /// Identity of a non-string value in the dedup table: (type tag, bits).
    fn num_key(&self) -> (u8, u64) {
        match self {
            Val::Str(_) => (0, 0),
            Val::Double(d) => (1, d.to_bits()),
            // A non-negative int is written as uint_value: the same Value as the equal Uint.
            Val::Int(i) if *i >= 0 => (3, *i as u64),
            Val::Int(i) => (2, *i as u64),
            Val::Uint(u) => (3, *u),
            Val::Bool(b) => (4, u64::from(*b)),
        }
    }

    /// The `Value` message.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Val::Str(s) => put_bytes_field(out, 1, s.as_bytes()),
            Val::Double(d) => {
                put_key(out, 3, FIXED64);
                out.extend_from_slice(&d.to_le_bytes());
            }
            // Negative integers go in sint_value (zigzag) so they stay short; others in uint_value.
            Val::Int(i) if *i < 0 => put_varint_field(out, 6, wire::zigzag(*i)),
            Val::Int(i) => put_varint_field(out, 5, *i as u64),
            Val::Uint(u) => put_varint_field(out, 5, *u),
            Val::Bool(b) => put_varint_field(out, 7, u64::from(*b)),
        }
    }
}

/// A small multiplicative hasher for the dedup tables (keys are short and not adversarial: they
/// come from our own model and layers).
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

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

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

fn delta(cursor: &mut TilePoint, p: TilePoint, out: &mut Vec<u32>) {
    out.push(wire::zigzag(i64::from(p.0) - i64::from(cursor.0)) as u32);
    out.push(wire::zigzag(i64::from(p.1) - i64::from(cursor.1)) as u32);
    *cursor = p;
}

fn encode_points(pts: &[TilePoint], out: &mut Vec<u32>) {
    if pts.is_empty() {
        return;
    }
    out.push(command(1, pts.len()));
    let mut cursor = (0, 0);
    for p in pts {
        delta(&mut cursor, *p, out);
    }
}

/// Consecutive duplicates removed (and the closing point of a ring).
fn dedup(points: &[TilePoint], ring: bool) -> Vec<TilePoint> {
    let mut v: Vec<TilePoint> = Vec::with_capacity(points.len());
    for p in points {
        if v.last() != Some(p) {
            v.push(*p);
        }
    }
    if ring {
        while v.len() > 1 && v.first() == v.last() {
            v.pop();
        }
    }
    v
}

fn encode_lines(lines: &[Vec<TilePoint>], out: &mut Vec<u32>) {
    let mut cursor = (0, 0);
    for line in lines {
        let pts = dedup(line, false);
        if pts.len() < 2 {
            continue;
        }
        out.push(command(1, 1));
        delta(&mut cursor, pts[0], out);
        out.push(command(2, pts.len() - 1));
        for p in &pts[1..] {
            delta(&mut cursor, *p, out);
        }
    }
}

/// Twice the signed area in screen coordinates (y down): positive means clockwise on screen,
/// which MVT 2.1 requires of exterior rings.
pub fn ring_area2(ring: &[TilePoint]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

fn encode_polygons(polys: &[Vec<Vec<TilePoint>>], out: &mut Vec<u32>) {
    let mut cursor = (0, 0);
    for poly in polys {
        let mut rings = poly.iter();
        let Some(exterior) = rings.next() else { continue };
        // A polygon whose exterior collapsed is dropped with its holes.
        if !encode_ring(exterior, true, &mut cursor, out) {
            continue;
        }
        for hole in rings {
            encode_ring(hole, false, &mut cursor, out);
        }
    }
}

fn encode_ring(ring: &[TilePoint], exterior: bool, cursor: &mut TilePoint, out: &mut Vec<u32>) -> bool {
    let mut pts = dedup(ring, true);
    let area = ring_area2(&pts);
    if pts.len() < 3 || area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        pts.reverse();
    }
    out.push(command(1, 1));
    delta(cursor, pts[0], out);
    out.push(command(2, pts.len() - 1));
    for p in &pts[1..] {
        delta(cursor, *p, out);
    }
    out.push(command(7, 1));
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
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
