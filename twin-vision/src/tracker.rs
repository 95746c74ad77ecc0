//! ByteTrack-style multi-object tracker: Kalman prediction, IoU cost, Hungarian assignment,
//! high-score then low-score association, tentative → confirmed → lost → removed tracks.

use crate::detector::{iou, BBox, Detection};
use crate::hungarian::assign;
use crate::kalman::{BoxFilter, Noise};

/// Tracker thresholds.
#[derive(Debug, Clone, Copy)]
pub struct TrackerConfig {
    /// Detections at or above this score start tracks and match first.
    pub high_score: f32,
    /// Detections between this and `high_score` only extend existing confirmed tracks.
    pub low_score: f32,
    /// Minimum IoU for a match in the first stage.
    pub match_iou: f32,
    /// Minimum IoU for a match with low-score detections.
    pub low_match_iou: f32,
    /// Consecutive hits before a track is confirmed.
    pub confirm_hits: u32,
    /// Frames a confirmed track survives without a match.
    pub max_age: u32,
    pub noise: Noise,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.5,
            low_score: 0.1,
            match_iou: 0.2,
            low_match_iou: 0.4,
            confirm_hits: 3,
            max_age: 30,
            noise: Noise::default(),
        }
    }
}

/// A tracked object as reported after a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub id: u64,
    pub class: u32,
    pub score: f32,
    pub bbox: BBox,
    /// Frames since the track was last matched (0 = matched this frame).
    pub missed: u32,
    pub confirmed: bool,
}

#[derive(Debug, Clone)]
struct State {
    id: u64,
    class: u32,
    score: f32,
    filter: BoxFilter,
    hits: u32,
    missed: u32,
    confirmed: bool,
}

/// Multi-object tracker for one camera.
#[derive(Debug, Clone)]
pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<State>,
    next_id: u64,
}

/// Cost above which a pair is not a match (1 − IoU is at most 1).
const FORBIDDEN: f64 = 10.0;

impl Tracker {
    pub fn new(cfg: TrackerConfig) -> Self {
        Self { cfg, tracks: Vec::new(), next_id: 1 }
    }

    /// Feeds one frame's detections; returns the confirmed tracks matched in this frame.
    pub fn update(&mut self, dets: &[Detection]) -> Vec<Track> {
        for t in &mut self.tracks {
            t.filter.predict();
        }
        let high: Vec<usize> = (0..dets.len()).filter(|&i| dets[i].score >= self.cfg.high_score).collect();
        let low: Vec<usize> = (0..dets.len())
            .filter(|&i| dets[i].score >= self.cfg.low_score && dets[i].score < self.cfg.high_score)
            .collect();
        let all: Vec<usize> = (0..self.tracks.len()).collect();
        let mut matched = vec![false; self.tracks.len()];

        let (pairs, unmatched_high) = self.associate(&all, &high, dets, self.cfg.match_iou);
        self.apply(&pairs, dets, &mut matched);
        // Second stage: confirmed tracks left over may continue on weak detections (occlusion).
        let rest: Vec<usize> = all.iter().copied().filter(|&t| !matched[t] && self.tracks[t].confirmed).collect();
        let (pairs, _) = self.associate(&rest, &low, dets, self.cfg.low_match_iou);
        self.apply(&pairs, dets, &mut matched);

        for (t, m) in self.tracks.iter_mut().zip(&matched) {
            if !m {
                t.missed += 1;
                t.hits = 0;
            }
        }
        let max_age = self.cfg.max_age;
        // Unconfirmed tracks die on their first miss: they are most likely false positives.
        self.tracks.retain(|t| if t.confirmed { t.missed <= max_age } else { t.missed == 0 });
        for &d in &unmatched_high {
            self.spawn(&dets[d]);
        }
        self.tracks
            .iter()
            .filter(|t| t.confirmed && t.missed == 0)
            .map(|t| Track {
                id: t.id,
                class: t.class,
                score: t.score,
                bbox: t.filter.bbox(),
                missed: t.missed,
                confirmed: t.confirmed,
            })
            .collect()
    }

    /// Every live track, including tentative and currently unmatched ones.
    pub fn live(&self) -> usize {
        self.tracks.len()
    }

    fn spawn(&mut self, d: &Detection) {
        let confirmed = self.cfg.confirm_hits <= 1;
        self.tracks.push(State {
            id: self.next_id,
            class: d.class,
            score: d.score,
            filter: BoxFilter::new(&d.bbox, self.cfg.noise),
            hits: 1,
            missed: 0,
            confirmed,
        });
        self.next_id += 1;
    }

    fn apply(&mut self, pairs: &[(usize, usize)], dets: &[Detection], matched: &mut [bool]) {
        for &(t, d) in pairs {
            let s = &mut self.tracks[t];
            s.filter.update(&dets[d].bbox);
            s.score = dets[d].score;
            s.hits += 1;
            s.missed = 0;
            if s.hits >= self.cfg.confirm_hits {
                s.confirmed = true;
            }
            matched[t] = true;
        }
    }

    /// Hungarian matching of `tracks × dets` on 1 − IoU with class gating; returns the
    /// (track, detection) pairs and the unmatched detections.
    fn associate(
        &self,
        tracks: &[usize],
        dets_idx: &[usize],
        dets: &[Detection],
        min_iou: f32,
    ) -> (Vec<(usize, usize)>, Vec<usize>) {
        if tracks.is_empty() || dets_idx.is_empty() {
            return (Vec::new(), dets_idx.to_vec());
        }
        let (n, m) = (tracks.len(), dets_idx.len());
        let boxes: Vec<BBox> = tracks.iter().map(|&t| self.tracks[t].filter.bbox()).collect();
        let mut cost = vec![FORBIDDEN; n * m];
        for (r, &t) in tracks.iter().enumerate() {
            for (c, &d) in dets_idx.iter().enumerate() {
                let o = iou(&boxes[r], &dets[d].bbox);
                if self.tracks[t].class == dets[d].class && o >= min_iou {
                    cost[r * m + c] = 1.0 - o as f64;
                }
            }
        }
        let mut used = vec![false; m];
        let mut pairs = Vec::new();
        for (r, c) in assign(&cost, n, m).into_iter().enumerate() {
            if let Some(c) = c.filter(|&c| cost[r * m + c] < FORBIDDEN) {
                used[c] = true;
                pairs.push((tracks[r], dets_idx[c]));
            }
        }
        let left = dets_idx.iter().zip(&used).filter(|(_, u)| !**u).map(|(d, _)| *d).collect();
        (pairs, left)
    }
}
