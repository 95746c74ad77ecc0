//! CenterNet post-processing: 3×3 peak finding on the class heatmap, boxes from the
//! left/top/right/bottom distance map, class-aware non-maximum suppression.

use crate::detector::{iou, Detection};
use crate::preprocess::InputTransform;

/// Raw model outputs, channels last (`[y][x][c]`), as the default model produces them.
#[derive(Debug, Clone)]
pub struct CenterNetOutput<'a> {
    /// `grid_h * grid_w * classes` scores in 0..1.
    pub heatmap: &'a [f32],
    /// `grid_h * grid_w * 4` distances from the centre to the left, top, right, bottom edges,
    /// in model-input pixels.
    pub ltrb: &'a [f32],
    pub grid_w: usize,
    pub grid_h: usize,
    pub classes: usize,
    /// Input pixels per grid cell (4 for the default model).
    pub stride: f32,
}

/// Decoding parameters.
#[derive(Debug, Clone, Copy)]
pub struct DecodeConfig {
    pub threshold: f32,
    pub nms_iou: f32,
    pub max_detections: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self { threshold: 0.3, nms_iou: 0.5, max_detections: 100 }
    }
}

/// Decodes peaks into boxes in frame pixels. Outputs whose lengths do not match the grid give none.
pub fn decode(out: &CenterNetOutput<'_>, t: &InputTransform, cfg: &DecodeConfig) -> Vec<Detection> {
    let (w, h, c) = (out.grid_w, out.grid_h, out.classes);
    if out.heatmap.len() != w * h * c || out.ltrb.len() != w * h * 4 {
        return Vec::new();
    }
    let at = |x: usize, y: usize, k: usize| out.heatmap[(y * w + x) * c + k];
    let mut found = Vec::new();
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                let s = at(x, y, k);
                if s < cfg.threshold || !is_peak(&at, x, y, k, w, h, s) {
                    continue;
                }
                let d = &out.ltrb[(y * w + x) * 4..(y * w + x) * 4 + 4];
                let (cx, cy) = (x as f32 * out.stride, y as f32 * out.stride);
                let b = [cx - d[0], cy - d[1], cx + d[2], cy + d[3]];
                found.push(Detection { class: k as u32, score: s, bbox: t.to_frame(&b) });
            }
        }
    }
    let mut kept = nms(found, cfg.nms_iou);
    kept.truncate(cfg.max_detections);
    kept
}

/// Max-pool test: the value equals the maximum of its 3×3 neighbourhood (ties keep the
/// first cell in scan order so a flat plateau gives one peak).
fn is_peak(at: &impl Fn(usize, usize, usize) -> f32, x: usize, y: usize, k: usize, w: usize, h: usize, s: f32) -> bool {
    for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
        for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
            if (nx, ny) == (x, y) {
                continue;
            }
            let v = at(nx, ny, k);
            let before = (ny, nx) < (y, x);
            if v > s || (v == s && before) {
                return false;
            }
        }
    }
    true
}

/// Class-aware greedy NMS; the result is sorted by descending score.
pub fn nms(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        let suppressed = kept.iter().any(|k| k.class == d.class && iou(&k.bbox, &d.bbox) > iou_threshold);
        if !suppressed {
            kept.push(d);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: InputTransform = InputTransform { scale_x: 1.0, scale_y: 1.0, pad_x: 0.0, pad_y: 0.0 };

    struct Maps {
        heat: Vec<f32>,
        ltrb: Vec<f32>,
    }

    impl Maps {
        fn new(w: usize, h: usize, c: usize) -> Self {
            Self { heat: vec![0.0; w * h * c], ltrb: vec![0.0; w * h * 4] }
        }
        /// A Gaussian blob centred on a cell, with box distances on the centre cell.
        fn blob(&mut self, w: usize, c: usize, at: (usize, usize, usize), peak: f32, d: [f32; 4]) {
            let (x, y, k) = at;
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                    if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= w {
                        continue;
                    }
                    let v = peak * (-((dx * dx + dy * dy) as f32) / 2.0).exp();
                    let i = (ny as usize * w + nx as usize) * c + k;
                    self.heat[i] = self.heat[i].max(v);
                }
            }
            self.ltrb[(y * w + x) * 4..(y * w + x) * 4 + 4].copy_from_slice(&d);
        }
        fn out(&self, w: usize, c: usize) -> CenterNetOutput<'_> {
            CenterNetOutput { heatmap: &self.heat, ltrb: &self.ltrb, grid_w: w, grid_h: w, classes: c, stride: 4.0 }
        }
    }

    #[test]
    fn finds_known_peaks_with_boxes() {
        let (w, c) = (32, 3);
        let mut m = Maps::new(w, w, c);
        m.blob(w, c, (10, 8, 2), 0.9, [8.0, 4.0, 12.0, 6.0]);
        m.blob(w, c, (25, 20, 0), 0.6, [5.0, 5.0, 5.0, 5.0]);
        m.blob(w, c, (3, 28, 1), 0.2, [5.0, 5.0, 5.0, 5.0]); // below threshold
        let dets = decode(&m.out(w, c), &ID, &DecodeConfig::default());
        assert_eq!(dets.len(), 2);
        assert_eq!(dets[0].class, 2);
        assert!((dets[0].score - 0.9).abs() < 1e-6);
        assert_eq!(dets[0].bbox, [32.0, 28.0, 52.0, 38.0]);
        assert_eq!(dets[1].class, 0);
        assert_eq!(dets[1].bbox, [95.0, 75.0, 105.0, 85.0]);
    }

    #[test]
    fn boxes_map_back_to_frame_pixels() {
        let (w, c) = (16, 1);
        let mut m = Maps::new(w, w, c);
        m.blob(w, c, (8, 8, 0), 0.8, [4.0, 4.0, 4.0, 4.0]);
        // Frame 128×64 stretched to 64×64 input: x halves, y unchanged.
        let t = InputTransform { scale_x: 0.5, scale_y: 1.0, pad_x: 0.0, pad_y: 0.0 };
        let dets = decode(&m.out(w, c), &t, &DecodeConfig::default());
        assert_eq!(dets.len(), 1);
        assert_eq!(dets[0].bbox, [56.0, 28.0, 72.0, 36.0]);
    }

    #[test]
    fn plateau_gives_a_single_peak() {
        let (w, c) = (8, 1);
        let mut m = Maps::new(w, w, c);
        for i in [(3, 3), (4, 3), (3, 4), (4, 4)] {
            m.heat[(i.1 * w + i.0) * c] = 0.7;
        }
        let cfg = DecodeConfig { nms_iou: 1.1, ..DecodeConfig::default() };
        assert_eq!(decode(&m.out(w, c), &ID, &cfg).len(), 1);
    }

    #[test]
    fn nms_is_class_aware() {
        let d = |class, score| Detection { class, score, bbox: [0.0, 0.0, 10.0, 10.0] };
        let shifted = Detection { class: 0, score: 0.5, bbox: [1.0, 0.0, 11.0, 10.0] };
        let far = Detection { class: 0, score: 0.4, bbox: [50.0, 50.0, 60.0, 60.0] };
        let kept = nms(vec![shifted, d(0, 0.9), d(1, 0.8), far], 0.5);
        let summary: Vec<(u32, f32)> = kept.iter().map(|k| (k.class, k.score)).collect();
        assert_eq!(summary, vec![(0, 0.9), (1, 0.8), (0, 0.4)]);
    }

    #[test]
    fn mismatched_outputs_give_nothing() {
        let heat = vec![1.0; 10];
        let out = CenterNetOutput { heatmap: &heat, ltrb: &heat, grid_w: 4, grid_h: 4, classes: 1, stride: 4.0 };
        assert!(decode(&out, &ID, &DecodeConfig::default()).is_empty());
    }
}
