//! Per-frame cost of tracking 50 objects and georeferencing their ground points.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use twin_vision::{Calibration, ControlPoint, Detection, Tracker, TrackerConfig};

fn frames(objects: usize, n: usize) -> Vec<Vec<Detection>> {
    (0..n)
        .map(|f| {
            (0..objects)
                .map(|k| {
                    let (x, y) = (25.0 * (k % 40) as f32, 80.0 + 60.0 * (k / 40) as f32 * 4.0);
                    let dx = if k % 2 == 0 { 2.0 } else { -2.0 } * f as f32;
                    Detection { class: 2, score: 0.8, bbox: [x + dx, y, x + dx + 20.0, y + 30.0] }
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let seq = frames(50, 200);
    let cps = [
        (100.0, 700.0, 108.2208, 16.0678),
        (1180.0, 700.0, 108.2210, 16.0678),
        (900.0, 300.0, 108.2212, 16.0684),
        (300.0, 300.0, 108.2206, 16.0684),
        (640.0, 500.0, 108.2209, 16.0681),
    ]
    .map(|(px, py, lon, lat)| ControlPoint { px, py, lon, lat });
    let cal = Calibration::from_control_points(108.2209, 16.0675, &cps).expect("calibration");
    let sign = cal.ground_sign(1280.0, 720.0);
    c.bench_function("track+georef 50 objects / frame", |b| {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let mut i = 0;
        b.iter(|| {
            let tracks = tracker.update(&seq[i % seq.len()]);
            i += 1;
            if i % seq.len() == 0 {
                tracker = Tracker::new(TrackerConfig::default());
            }
            for t in &tracks {
                black_box(cal.box_to_lonlat(&t.bbox, sign).ok());
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
