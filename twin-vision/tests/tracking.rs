//! Tracker on synthetic sequences with known ground truth, scored MOTA-style.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use twin_vision::detector::iou;
use twin_vision::hungarian::assign;
use twin_vision::{BBox, Detection, Tracker, TrackerConfig};

/// Per-sequence CLEAR-MOT counts.
#[derive(Debug, Default)]
struct Score {
    gt: usize,
    misses: usize,
    false_pos: usize,
    id_switches: usize,
}

impl Score {
    fn mota(&self) -> f64 {
        1.0 - (self.misses + self.false_pos + self.id_switches) as f64 / self.gt as f64
    }
}

/// Runs the tracker over frames of (ground-truth objects, detections) and scores it.
/// Frames before `warmup` are not scored (tracks need a few hits to be confirmed).
/// One frame: ground-truth (object id, box) pairs and the detector's output.
type SeqFrame = (Vec<(u32, BBox)>, Vec<Detection>);

fn run(frames: &[SeqFrame], warmup: usize) -> Score {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let mut score = Score::default();
    let mut last: HashMap<u32, u64> = HashMap::new();
    for (f, (gt, dets)) in frames.iter().enumerate() {
        let tracks = tracker.update(dets);
        if f < warmup {
            continue;
        }
        score.gt += gt.len();
        let (n, m) = (gt.len(), tracks.len());
        let mut cost = vec![10.0; n * m];
        for (i, g) in gt.iter().enumerate() {
            for (j, t) in tracks.iter().enumerate() {
                let o = iou(&g.1, &t.bbox);
                if o >= 0.5 {
                    cost[i * m + j] = 1.0 - o as f64;
                }
            }
        }
        let a = assign(&cost, n, m);
        let mut matched = 0;
        for (i, j) in a.iter().enumerate() {
            match j.filter(|&j| cost[i * m + j] < 10.0) {
                Some(j) => {
                    matched += 1;
                    let id = tracks[j].id;
                    if let Some(prev) = last.insert(gt[i].0, id) {
                        if prev != id {
                            score.id_switches += 1;
                        }
                    }
                }
                None => score.misses += 1,
            }
        }
        score.false_pos += m - matched;
    }
    score
}

fn bx(cx: f32, cy: f32, w: f32, h: f32) -> BBox {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

fn det(class: u32, score: f32, bbox: BBox) -> Detection {
    Detection { class, score, bbox }
}

/// Deterministic pseudo-random numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
}

#[test]
fn crossing_objects_keep_their_identities() {
    // Two cars cross head-on, their boxes overlapping heavily around frame 30.
    let frames: Vec<_> = (0..60)
        .map(|f| {
            let a = bx(50.0 + 5.0 * f as f32, 100.0, 40.0, 30.0);
            let b = bx(350.0 - 5.0 * f as f32, 108.0, 40.0, 30.0);
            (vec![(1, a), (2, b)], vec![det(2, 0.9, a), det(2, 0.85, b)])
        })
        .collect();
    let s = run(&frames, 3);
    assert_eq!(s.id_switches, 0, "{s:?}");
    assert_eq!(s.misses + s.false_pos, 0, "{s:?}");
}

#[test]
fn occlusion_gap_keeps_the_identity() {
    // A pedestrian walks behind a pole for 8 frames: no detection, then reappears.
    let frames: Vec<_> = (0..50)
        .map(|f| {
            let b = bx(100.0 + 3.0 * f as f32, 200.0, 30.0, 80.0);
            let dets = if (20..28).contains(&f) { vec![] } else { vec![det(0, 0.8, b)] };
            (vec![(1, b)], dets)
        })
        .collect();
    let mut tracker = Tracker::new(TrackerConfig::default());
    let mut ids = std::collections::BTreeSet::new();
    for (_, dets) in &frames {
        for t in tracker.update(dets) {
            ids.insert(t.id);
        }
    }
    assert_eq!(ids.len(), 1, "one identity across the gap, got {ids:?}");
}

#[test]
fn weak_detections_extend_tracks_but_never_start_them() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let mut ids = std::collections::BTreeSet::new();
    for f in 0..40 {
        let b = bx(100.0 + 2.0 * f as f32, 100.0, 40.0, 40.0);
        // Partly occluded from frame 15: the detector's score drops below the high threshold.
        let s = if f < 15 { 0.9 } else { 0.3 };
        let mut dets = vec![det(3, s, b)];
        // A lone weak detection far away never becomes a track.
        dets.push(det(3, 0.3, bx(400.0, 400.0, 40.0, 40.0)));
        let out = tracker.update(&dets);
        if f >= 3 {
            assert_eq!(out.len(), 1, "frame {f}: {out:?}");
        }
        ids.extend(out.iter().map(|t| t.id));
    }
    assert_eq!(ids.len(), 1);
}

#[test]
fn one_frame_false_positives_are_never_confirmed() {
    let mut rng = Lcg(7);
    let mut tracker = Tracker::new(TrackerConfig::default());
    for _ in 0..100 {
        let d = det(2, 0.9, bx(rng.next() * 1000.0, rng.next() * 1000.0, 30.0, 30.0));
        assert!(tracker.update(&[d]).is_empty());
    }
}

#[test]
fn busy_noisy_scene_scores_high_mota() {
    // 12 objects of two classes on straight lines, 2 px box noise, 5 % missed detections and
    // one random false positive per frame.
    let mut rng = Lcg(42);
    let objs: Vec<(f32, f32, f32, f32, u32)> = (0..12)
        .map(|i| {
            let (x, y) = (80.0 * i as f32 + 40.0, 60.0 + 70.0 * (i % 6) as f32);
            let (vx, vy) = (rng.next() * 6.0 - 3.0, rng.next() * 4.0 - 2.0);
            (x, y, vx, vy, (i % 2) as u32)
        })
        .collect();
    let frames: Vec<_> = (0..120)
        .map(|f| {
            let mut gt = Vec::new();
            let mut dets = Vec::new();
            for (k, &(x, y, vx, vy, class)) in objs.iter().enumerate() {
                let b = bx(x + vx * f as f32, y + vy * f as f32, 40.0, 50.0);
                gt.push((k as u32, b));
                if rng.next() > 0.05 {
                    let noisy = b.map(|v| v + rng.next() * 4.0 - 2.0);
                    dets.push(det(class, 0.6 + 0.4 * rng.next(), noisy));
                }
            }
            let fp = bx(rng.next() * 1000.0, rng.next() * 500.0, 40.0, 50.0);
            dets.push(det(0, 0.7, fp));
            (gt, dets)
        })
        .collect();
    let s = run(&frames, 5);
    assert!(s.id_switches <= 2, "{s:?}");
    assert!(s.mota() > 0.9, "MOTA {} {s:?}", s.mota());
}
