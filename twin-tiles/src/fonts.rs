//! Map label glyphs: SDF glyph ranges in the MapLibre glyph protobuf, rendered from the shipped
//! Noto Sans TTFs (OFL, full Vietnamese coverage) with our own outline-to-distance-field code, so no
//! system FreeType is needed. Ranges are rendered on first request and cached.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use prost::Message;
use ttf_parser::{Face, OutlineBuilder};

/// The em size the glyphs are rendered at (what MapLibre expects).
pub const GLYPH_SIZE: f64 = 24.0;
/// Border around each bitmap, in pixels (what MapLibre expects).
pub const BUFFER: i32 = 3;
/// Distances beyond this many pixels are clamped.
const RADIUS: f64 = 8.0;
/// Share of the byte range used for distances inside the outline (edge at 192).
const CUTOFF: f64 = 0.25;
/// Line segments per Bézier curve when flattening outlines.
const CURVE_STEPS: usize = 8;

/// The fonts we ship: fontstack name → TTF bytes.
const FONTS: &[(&str, &[u8])] = &[
    ("Noto Sans Regular", include_bytes!("../../data/fonts/NotoSans-Regular.ttf")),
    ("Noto Sans Bold", include_bytes!("../../data/fonts/NotoSans-Bold.ttf")),
];

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("no font in the stack `{0}` is served (available: Noto Sans Regular, Noto Sans Bold)")]
    UnknownFont(String),
    #[error("`{0}` is not a glyph range: expected START-END with START a multiple of 256 and END = START + 255")]
    BadRange(String),
    #[error("the font `{0}` could not be parsed: {1}")]
    Parse(String, String),
}

/// The glyph protobuf (`glyphs.proto` of the MapLibre/Mapbox font format).
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Glyph {
        #[prost(uint32, required, tag = "1")]
        pub id: u32,
        #[prost(bytes = "vec", optional, tag = "2")]
        pub bitmap: Option<Vec<u8>>,
        #[prost(uint32, required, tag = "3")]
        pub width: u32,
        #[prost(uint32, required, tag = "4")]
        pub height: u32,
        #[prost(sint32, required, tag = "5")]
        pub left: i32,
        #[prost(sint32, required, tag = "6")]
        pub top: i32,
        #[prost(uint32, required, tag = "7")]
        pub advance: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Fontstack {
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(string, required, tag = "2")]
        pub range: String,
        #[prost(message, repeated, tag = "3")]
        pub glyphs: Vec<Glyph>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Glyphs {
        #[prost(message, repeated, tag = "1")]
        pub stacks: Vec<Fontstack>,
    }
}

/// Parses `0-255` into the first code point of the range.
pub fn parse_range(range: &str) -> Result<u32, FontError> {
    let bad = || FontError::BadRange(range.to_owned());
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let start: u32 = a.parse().map_err(|_| bad())?;
    let end: u32 = b.parse().map_err(|_| bad())?;
    if !start.is_multiple_of(256) || end != start + 255 || end > 0xFFFF {
        return Err(bad());
    }
    Ok(start)
}

/// The first served font named in a comma-separated fontstack (MapLibre joins `text-font` lists).
pub fn resolve_font(stack: &str) -> Result<(&'static str, &'static [u8]), FontError> {
    stack
        .split(',')
        .map(str::trim)
        .find_map(|name| FONTS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).copied())
        .ok_or_else(|| FontError::UnknownFont(stack.to_owned()))
}

/// Encoded ranges keyed by (font, first code point).
type RangeMap = HashMap<(&'static str, u32), Arc<Vec<u8>>>;

/// Rendered ranges; each value is the encoded protobuf.
#[derive(Default, Clone)]
pub struct GlyphCache {
    ranges: Arc<Mutex<RangeMap>>,
}

impl GlyphCache {
    /// The encoded range, rendering it on first use (CPU work: call from a blocking thread).
    pub fn range(&self, stack: &str, range: &str) -> Result<Arc<Vec<u8>>, FontError> {
        let start = parse_range(range)?;
        let (name, bytes) = resolve_font(stack)?;
        if let Some(hit) = self.ranges.lock().get(&(name, start)) {
            return Ok(hit.clone());
        }
        let encoded = Arc::new(render_range(name, bytes, start)?.encode_to_vec());
        self.ranges.lock().insert((name, start), encoded.clone());
        Ok(encoded)
    }
}

/// Renders the 256 code points from `start` (those the font has) as one fontstack.
pub fn render_range(name: &str, bytes: &[u8], start: u32) -> Result<proto::Glyphs, FontError> {
    let face = Face::parse(bytes, 0).map_err(|e| FontError::Parse(name.to_owned(), e.to_string()))?;
    let glyphs = (start..start + 256).filter_map(|cp| render_glyph(&face, cp)).collect();
    let stack = proto::Fontstack { name: name.to_owned(), range: format!("{}-{}", start, start + 255), glyphs };
    Ok(proto::Glyphs { stacks: vec![stack] })
}

/// Flattens an outline into closed polylines, in pixels with y up.
struct Flattener {
    scale: f64,
    segments: Vec<[f64; 4]>,
    start: (f64, f64),
    at: (f64, f64),
}

impl Flattener {
    fn push(&mut self, x: f64, y: f64) {
        self.segments.push([self.at.0, self.at.1, x, y]);
        self.at = (x, y);
    }
}

impl OutlineBuilder for Flattener {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = (f64::from(x) * self.scale, f64::from(y) * self.scale);
        self.at = self.start;
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.push(f64::from(x) * self.scale, f64::from(y) * self.scale);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x0, y0) = self.at;
        let (cx, cy) = (f64::from(x1) * self.scale, f64::from(y1) * self.scale);
        let (ex, ey) = (f64::from(x) * self.scale, f64::from(y) * self.scale);
        for i in 1..=CURVE_STEPS {
            let t = i as f64 / CURVE_STEPS as f64;
            let u = 1.0 - t;
            self.push(u * u * x0 + 2.0 * u * t * cx + t * t * ex, u * u * y0 + 2.0 * u * t * cy + t * t * ey);
        }
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x0, y0) = self.at;
        let s = self.scale;
        let (ax, ay, bx, by) = (f64::from(x1) * s, f64::from(y1) * s, f64::from(x2) * s, f64::from(y2) * s);
        let (ex, ey) = (f64::from(x) * s, f64::from(y) * s);
        for i in 1..=CURVE_STEPS {
            let t = i as f64 / CURVE_STEPS as f64;
            let u = 1.0 - t;
            let (w0, w1, w2, w3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.push(w0 * x0 + w1 * ax + w2 * bx + w3 * ex, w0 * y0 + w1 * ay + w2 * by + w3 * ey);
        }
    }
    fn close(&mut self) {
        if self.at != self.start {
            let (x, y) = self.start;
            self.push(x, y);
        }
    }
}

fn segment_distance(px: f64, py: f64, s: &[f64; 4]) -> f64 {
    let (dx, dy) = (s[2] - s[0], s[3] - s[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((px - s[0]) * dx + (py - s[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (cx, cy) = (s[0] + t * dx - px, s[1] + t * dy - py);
    (cx * cx + cy * cy).sqrt()
}

/// Non-zero winding rule, as TrueType fills.
fn inside(px: f64, py: f64, segments: &[[f64; 4]]) -> bool {
    let mut winding = 0i32;
    for s in segments {
        if (s[1] <= py) != (s[3] <= py) {
            let x = s[0] + (py - s[1]) / (s[3] - s[1]) * (s[2] - s[0]);
            if x > px {
                winding += if s[3] > s[1] { 1 } else { -1 };
            }
        }
    }
    winding != 0
}

fn render_glyph(face: &Face<'_>, cp: u32) -> Option<proto::Glyph> {
    let gid = face.glyph_index(char::from_u32(cp)?)?;
    let scale = GLYPH_SIZE / f64::from(face.units_per_em());
    let advance = (f64::from(face.glyph_hor_advance(gid).unwrap_or(0)) * scale).round() as u32;
    let mut flat = Flattener { scale, segments: Vec::new(), start: (0.0, 0.0), at: (0.0, 0.0) };
    let Some(bbox) = face.outline_glyph(gid, &mut flat) else {
        // Spaces and other blank glyphs: metrics only.
        return Some(proto::Glyph { id: cp, bitmap: None, width: 0, height: 0, left: 0, top: 0, advance });
    };
    let ascender = (f64::from(face.ascender()) * scale).round() as i32;
    let x0 = (f64::from(bbox.x_min) * scale).floor() as i32;
    let x1 = (f64::from(bbox.x_max) * scale).ceil() as i32;
    let y0 = (f64::from(bbox.y_min) * scale).floor() as i32;
    let y1 = (f64::from(bbox.y_max) * scale).ceil() as i32;
    let (w, h) = ((x1 - x0).max(0), (y1 - y0).max(0));
    let (bw, bh) = (w + 2 * BUFFER, h + 2 * BUFFER);
    let mut bitmap = Vec::with_capacity((bw * bh) as usize);
    for row in 0..bh {
        let py = f64::from(y1 + BUFFER - row) - 0.5;
        for col in 0..bw {
            let px = f64::from(x0 - BUFFER + col) + 0.5;
            let d = flat.segments.iter().map(|s| segment_distance(px, py, s)).fold(f64::INFINITY, f64::min);
            let signed = if inside(px, py, &flat.segments) { -d } else { d };
            let v = 255.0 - 255.0 * (signed / RADIUS + CUTOFF);
            bitmap.push(v.clamp(0.0, 255.0).round() as u8);
        }
    }
    Some(proto::Glyph {
        id: cp,
        bitmap: Some(bitmap),
        width: w as u32,
        height: h as u32,
        left: x0,
        top: y1 - ascender,
        advance,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn ranges_and_stacks() {
        assert_eq!(parse_range("7680-7935").unwrap(), 7680);
        assert!(parse_range("1-256").is_err() && parse_range("0-511").is_err() && parse_range("x").is_err());
        assert_eq!(resolve_font("Unknown Font,Noto Sans Bold").unwrap().0, "Noto Sans Bold");
        assert!(resolve_font("Arial").is_err());
    }

    #[test]
    fn sdf_is_dark_outside_and_bright_inside() {
        let (name, bytes) = resolve_font("Noto Sans Regular").unwrap();
        let glyphs = render_range(name, bytes, 0).unwrap();
        let l = glyphs.stacks[0].glyphs.iter().find(|g| g.id == u32::from('l')).unwrap();
        let bitmap = l.bitmap.as_ref().unwrap();
        let bw = (l.width as i32 + 2 * BUFFER) as usize;
        assert_eq!(bitmap.len(), bw * (l.height as usize + 2 * BUFFER as usize));
        // The corner lies in the border, well outside; the middle of the stem is inside the outline.
        assert!(bitmap[0] < 100, "corner {}", bitmap[0]);
        let mid = bitmap[(bitmap.len() / bw / 2) * bw + bw / 2];
        assert!(mid > 192, "stem {mid}");
        let space = glyphs.stacks[0].glyphs.iter().find(|g| g.id == 32).unwrap();
        assert!(space.bitmap.is_none() && space.advance > 0);
    }
}
