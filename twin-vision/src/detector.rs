//! The detector contract: an RGB frame in, class-labelled boxes in frame pixels out.

use serde::{Deserialize, Serialize};

/// Axis-aligned box `[x1, y1, x2, y2]` in pixels.
pub type BBox = [f32; 4];

/// One detected object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Class index of the model (COCO for the default model).
    pub class: u32,
    pub score: f32,
    pub bbox: BBox,
}

/// Interleaved 8-bit RGB frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    /// `width * height * 3` bytes, row-major.
    pub rgb: Vec<u8>,
}

impl Frame {
    /// A frame filled with one colour.
    pub fn filled(width: usize, height: usize, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            data.extend_from_slice(&rgb);
        }
        Self { width, height, rgb: data }
    }

    /// Whether the buffer length matches the dimensions.
    pub fn is_consistent(&self) -> bool {
        self.rgb.len() == self.width * self.height * 3
    }
}

/// Anything that turns a frame into detections (a neural model, a replay of stored results…).
pub trait Detector {
    type Error: std::error::Error + Send + Sync + 'static;
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Self::Error>;
}

/// Intersection over union of two boxes; 0 for empty boxes.
pub fn iou(a: &BBox, b: &BBox) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let area_a = (a[2] - a[0]).max(0.0) * (a[3] - a[1]).max(0.0);
    let area_b = (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
    let union = area_a + area_b - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_half_overlapping_boxes() {
        let a = [0.0, 0.0, 10.0, 10.0];
        let b = [5.0, 0.0, 15.0, 10.0];
        // intersection 50, union 150
        assert!((iou(&a, &b) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&a, &[20.0, 20.0, 30.0, 30.0]), 0.0);
        assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
    }
}
