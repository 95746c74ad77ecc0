//! Frame → model input: bilinear resize of the whole frame (the model's default) or letterbox.

use crate::detector::{BBox, Frame};

/// How model-input pixels map back to frame pixels: `frame = (input - pad) / scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputTransform {
    pub scale_x: f32,
    pub scale_y: f32,
    pub pad_x: f32,
    pub pad_y: f32,
}

impl InputTransform {
    /// Maps a box from model-input pixels to frame pixels.
    pub fn to_frame(&self, b: &BBox) -> BBox {
        [
            (b[0] - self.pad_x) / self.scale_x,
            (b[1] - self.pad_y) / self.scale_y,
            (b[2] - self.pad_x) / self.scale_x,
            (b[3] - self.pad_y) / self.scale_y,
        ]
    }
}

/// Resize mode of the pre-processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    /// Whole frame stretched to the square input (aspect ratio not kept).
    Stretch,
    /// Aspect ratio kept, borders filled with grey 114.
    Letterbox,
}

/// Resizes `frame` to `size × size` RGB. Empty or inconsistent frames give `None`.
pub fn prepare(frame: &Frame, size: usize, mode: Resize) -> Option<(Frame, InputTransform)> {
    if frame.width == 0 || frame.height == 0 || size == 0 || !frame.is_consistent() {
        return None;
    }
    let (fw, fh) = (frame.width as f32, frame.height as f32);
    match mode {
        Resize::Stretch => {
            let out = resize_bilinear(frame, size, size);
            let t = InputTransform { scale_x: size as f32 / fw, scale_y: size as f32 / fh, pad_x: 0.0, pad_y: 0.0 };
            Some((out, t))
        }
        Resize::Letterbox => {
            let s = (size as f32 / fw).min(size as f32 / fh);
            let nw = ((fw * s).round() as usize).clamp(1, size);
            let nh = ((fh * s).round() as usize).clamp(1, size);
            let inner = resize_bilinear(frame, nw, nh);
            let (px, py) = ((size - nw) / 2, (size - nh) / 2);
            let mut out = Frame::filled(size, size, [114, 114, 114]);
            for y in 0..nh {
                let src = &inner.rgb[y * nw * 3..(y + 1) * nw * 3];
                let start = ((y + py) * size + px) * 3;
                out.rgb[start..start + nw * 3].copy_from_slice(src);
            }
            let t =
                InputTransform { scale_x: nw as f32 / fw, scale_y: nh as f32 / fh, pad_x: px as f32, pad_y: py as f32 };
            Some((out, t))
        }
    }
}

/// Bilinear resize with half-pixel centres (the convention of TensorFlow 2 and ONNX `Resize`).
pub fn resize_bilinear(frame: &Frame, width: usize, height: usize) -> Frame {
    let mut out = vec![0u8; width * height * 3];
    let sx = frame.width as f32 / width as f32;
    let sy = frame.height as f32 / height as f32;
    let (max_x, max_y) = (frame.width - 1, frame.height - 1);
    // Horizontal taps are the same on every row: compute them once.
    let taps: Vec<(usize, usize, f32)> = (0..width)
        .map(|x| {
            let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
            let x0 = (fx.floor() as usize).min(max_x);
            (x0, (x0 + 1).min(max_x), fx - x0 as f32)
        })
        .collect();
    for y in 0..height {
        let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
        let y0 = (fy.floor() as usize).min(max_y);
        let y1 = (y0 + 1).min(max_y);
        let wy = fy - y0 as f32;
        let row0 = &frame.rgb[y0 * frame.width * 3..];
        let row1 = &frame.rgb[y1 * frame.width * 3..];
        for (x, &(x0, x1, wx)) in taps.iter().enumerate() {
            for c in 0..3 {
                let top = row0[x0 * 3 + c] as f32 * (1.0 - wx) + row0[x1 * 3 + c] as f32 * wx;
                let bot = row1[x0 * 3 + c] as f32 * (1.0 - wx) + row1[x1 * 3 + c] as f32 * wx;
                let v = top * (1.0 - wy) + bot * wy;
                out[(y * width + x) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Frame { width, height, rgb: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Frame {
        let mut f = Frame::filled(w, h, [0, 0, 0]);
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) * 3;
                f.rgb[i] = (x * 255 / (w - 1)) as u8;
                f.rgb[i + 1] = (y * 255 / (h - 1)) as u8;
            }
        }
        f
    }

    #[test]
    fn constant_frame_stays_constant() {
        let f = Frame::filled(640, 360, [10, 200, 30]);
        let (out, t) = prepare(&f, 512, Resize::Stretch).unwrap();
        assert_eq!((out.width, out.height), (512, 512));
        assert!(out.rgb.chunks(3).all(|p| p == [10, 200, 30]));
        assert!((t.scale_x - 0.8).abs() < 1e-6);
    }

    #[test]
    fn downscale_by_two_averages_pixel_pairs() {
        // Half-pixel centres: output pixel x samples input at 2x + 0.5, the mean of 2x and 2x+1.
        let mut f = Frame::filled(4, 2, [0, 0, 0]);
        for x in 0..4 {
            for y in 0..2 {
                f.rgb[(y * 4 + x) * 3] = (x * 40) as u8;
            }
        }
        let out = resize_bilinear(&f, 2, 1);
        assert_eq!(out.rgb[0], 20);
        assert_eq!(out.rgb[3], 100);
    }

    #[test]
    fn ramp_stays_monotonic() {
        let out = resize_bilinear(&ramp(100, 50), 512, 512);
        let row: Vec<u8> = (0..512).map(|x| out.rgb[(256 * 512 + x) * 3]).collect();
        assert!(row.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(row[0], 0);
        assert_eq!(row[511], 255);
    }

    #[test]
    fn letterbox_keeps_aspect_and_maps_boxes_back() {
        let f = ramp(1280, 720);
        let (out, t) = prepare(&f, 512, Resize::Letterbox).unwrap();
        assert_eq!(t.pad_x, 0.0);
        assert_eq!(t.pad_y, 112.0); // 720 * 0.4 = 288 rows, (512 - 288) / 2 padding
        assert_eq!(&out.rgb[0..3], &[114, 114, 114]);
        let back = t.to_frame(&[0.0, 112.0, 512.0, 400.0]);
        for (a, b) in back.iter().zip([0.0, 0.0, 1280.0, 720.0]) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn inconsistent_frame_is_refused() {
        let f = Frame { width: 10, height: 10, rgb: vec![0; 5] };
        assert!(prepare(&f, 512, Resize::Stretch).is_none());
    }
}
