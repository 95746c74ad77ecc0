//! Privacy: blur the head region of person boxes (or whole boxes) in an RGB frame before a
//! snapshot is stored.

use crate::detector::{Detection, Frame};

/// Which part of a box is blurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlurRegion {
    /// The top third of the box, where the face is on a standing person.
    Head,
    Whole,
}

/// Pixelates (block-averages) the chosen region of every detection of `class`. Block size
/// scales with the box so a face is never legible; boxes are clipped to the frame.
pub fn blur_boxes(frame: &mut Frame, dets: &[Detection], class: u32, region: BlurRegion) {
    if !frame.is_consistent() {
        return;
    }
    for d in dets.iter().filter(|d| d.class == class) {
        let [x1, y1, x2, y2] = d.bbox;
        let y2 = match region {
            BlurRegion::Head => y1 + (y2 - y1) / 3.0,
            BlurRegion::Whole => y2,
        };
        let clampx = |v: f32| (v.max(0.0) as usize).min(frame.width);
        let clampy = |v: f32| (v.max(0.0) as usize).min(frame.height);
        let (x1, x2, y1, y2) = (clampx(x1.floor()), clampx(x2.ceil()), clampy(y1.floor()), clampy(y2.ceil()));
        if x2 <= x1 || y2 <= y1 {
            continue;
        }
        let block = ((x2 - x1).max(y2 - y1) / 6).max(4);
        pixelate(frame, x1, y1, x2, y2, block);
    }
}

fn pixelate(f: &mut Frame, x1: usize, y1: usize, x2: usize, y2: usize, block: usize) {
    for by in (y1..y2).step_by(block) {
        for bx in (x1..x2).step_by(block) {
            let (ex, ey) = ((bx + block).min(x2), (by + block).min(y2));
            let mut sum = [0u32; 3];
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * f.width + x) * 3;
                    for (acc, v) in sum.iter_mut().zip(&f.rgb[i..i + 3]) {
                        *acc += *v as u32;
                    }
                }
            }
            let n = ((ex - bx) * (ey - by)) as u32;
            let mean = sum.map(|s| ((s + n / 2) / n) as u8);
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * f.width + x) * 3;
                    f.rgb[i..i + 3].copy_from_slice(&mean);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkerboard: maximal detail that any blur must remove.
    fn checker(w: usize, h: usize) -> Frame {
        let mut f = Frame::filled(w, h, [0, 0, 0]);
        for y in 0..h {
            for x in 0..w {
                let v = if (x + y) % 2 == 0 { 255 } else { 0 };
                f.rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[v, v, v]);
            }
        }
        f
    }

    fn person(bbox: [f32; 4]) -> Detection {
        Detection { class: 0, score: 0.9, bbox }
    }

    #[test]
    fn head_region_is_flattened_and_the_rest_untouched() {
        let orig = checker(100, 100);
        let mut f = orig.clone();
        blur_boxes(&mut f, &[person([20.0, 10.0, 50.0, 70.0])], 0, BlurRegion::Head);
        let px = |f: &Frame, x: usize, y: usize| f.rgb[(y * 100 + x) * 3];
        // Head rows 10..30: neighbouring pixels no longer alternate.
        for y in 10..30 {
            for x in 20..49 {
                assert!((px(&f, x, y) as i32 - px(&f, x + 1, y) as i32).abs() <= 255 / 2 + 1);
            }
        }
        assert!((120..=135).contains(&px(&f, 25, 15)), "block mean of a checkerboard");
        // Body below the head and everything outside the box are unchanged.
        for (x, y) in [(30, 40), (30, 69), (10, 10), (60, 20)] {
            assert_eq!(px(&f, x, y), px(&orig, x, y));
        }
    }

    #[test]
    fn whole_box_other_classes_and_out_of_frame_boxes() {
        let orig = checker(64, 64);
        let mut f = orig.clone();
        let car = Detection { class: 2, score: 0.9, bbox: [0.0, 0.0, 64.0, 64.0] };
        blur_boxes(&mut f, &[car], 0, BlurRegion::Whole);
        assert_eq!(f, orig, "only persons are blurred");
        blur_boxes(&mut f, &[person([-10.0, 40.0, 20.0, 90.0])], 0, BlurRegion::Whole);
        let changed = (40..64).flat_map(|y| (0..20).map(move |x| (x, y)));
        let flat = changed.filter(|&(x, y)| f.rgb[(y * 64 + x) * 3] != orig.rgb[(y * 64 + x) * 3]).count();
        assert!(flat > 0);
        assert_eq!(f.rgb[(10 * 64 + 30) * 3], orig.rgb[(10 * 64 + 30) * 3]);
    }
}
