//! Georeferencing against a synthetic pinhole camera with a known pose.
#![allow(clippy::unwrap_used)]

use twin_vision::footprint::{contains, footprint, to_geojson};
use twin_vision::homography::LocalFrame;
use twin_vision::{Calibration, ControlPoint, GeoError};

/// Pinhole camera at (0, 0, height) in a local east/north/up frame, looking along `yaw`
/// (clockwise from north) and tilted down by `tilt`.
struct Camera {
    height: f64,
    yaw: f64,
    tilt: f64,
    focal: f64,
    cx: f64,
    cy: f64,
}

impl Camera {
    /// Ground point (east, north) → pixel; `None` behind the camera.
    fn project(&self, e: f64, n: f64) -> Option<(f64, f64)> {
        let (sy, cyw) = self.yaw.sin_cos();
        let (st, ct) = self.tilt.sin_cos();
        let fwd = [ct * sy, ct * cyw, -st];
        let right = [cyw, -sy, 0.0];
        let down = [-st * sy, -st * cyw, -ct];
        let p = [e, n, -self.height];
        let dot = |a: [f64; 3]| a[0] * p[0] + a[1] * p[1] + a[2] * p[2];
        let z = dot(fwd);
        if z <= 0.0 {
            return None;
        }
        Some((self.cx + self.focal * dot(right) / z, self.cy + self.focal * dot(down) / z))
    }
}

const LON: f64 = 108.2208;
const LAT: f64 = 16.0678;

fn camera() -> Camera {
    Camera { height: 8.0, yaw: 0.6, tilt: 0.35, focal: 900.0, cx: 640.0, cy: 360.0 }
}

fn control_points(cam: &Camera, ground: &[(f64, f64)], noise_px: f64, seed: u64) -> Vec<ControlPoint> {
    let frame = LocalFrame { lon0: LON, lat0: LAT };
    let mut s = seed;
    let mut rnd = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    ground
        .iter()
        .map(|&(e, n)| {
            let (px, py) = cam.project(e, n).unwrap();
            let (lon, lat) = frame.to_lonlat(e, n);
            ControlPoint { px: px + noise_px * rnd(), py: py + noise_px * rnd(), lon, lat }
        })
        .collect()
}

/// Ground points in front of the camera (yaw 0.6 rad ≈ north-east), 15–60 m away.
fn ground_grid() -> Vec<(f64, f64)> {
    let mut g = Vec::new();
    for r in [15.0, 25.0, 40.0, 60.0] {
        for a in [-0.3, -0.1, 0.1, 0.3] {
            let b: f64 = 0.6 + a;
            g.push((r * b.sin(), r * b.cos()));
        }
    }
    g
}

fn error_m(cal: &Calibration, cam: &Camera, e: f64, n: f64) -> f64 {
    let (px, py) = cam.project(e, n).unwrap();
    let sign = cal.ground_sign(1280.0, 720.0);
    let bbox = [(px - 10.0) as f32, (py - 30.0) as f32, (px + 10.0) as f32, py as f32];
    let (lon, lat) = cal.box_to_lonlat(&bbox, sign).unwrap();
    let (ge, gn) = LocalFrame { lon0: LON, lat0: LAT }.to_local(lon, lat);
    (ge - e).hypot(gn - n)
}

#[test]
fn exact_control_points_recover_ground_positions_within_10_cm() {
    let cam = camera();
    let corners = [(6.0, 12.0), (22.0, 8.0), (40.0, 45.0), (10.0, 50.0)];
    let cal = Calibration::from_control_points(LON, LAT, &control_points(&cam, &corners, 0.0, 1)).unwrap();
    for (e, n) in ground_grid() {
        let err = error_m(&cal, &cam, e, n);
        // f32 box coordinates limit the precision to about a centimetre at 60 m.
        assert!(err < 0.1, "error {err} m at ({e}, {n})");
    }
}

#[test]
fn pixel_noise_gives_bounded_error_and_more_points_help() {
    let cam = camera();
    let grid = ground_grid();
    let mean_err = |pts: &[(f64, f64)]| {
        let mut total = 0.0;
        for seed in 0..20 {
            let cal = Calibration::from_control_points(LON, LAT, &control_points(&cam, pts, 1.0, seed)).unwrap();
            total += grid.iter().map(|&(e, n)| error_m(&cal, &cam, e, n)).sum::<f64>() / grid.len() as f64;
        }
        total / 20.0
    };
    let four = mean_err(&[(6.0, 12.0), (22.0, 8.0), (40.0, 45.0), (10.0, 50.0)]);
    let all = mean_err(&grid);
    assert!(all < four, "16 points ({all} m) should beat 4 ({four} m)");
    assert!(all < 0.5, "±1 px noise with 16 points: mean error {all} m");
}

#[test]
fn degenerate_control_points_are_rejected_with_clear_errors() {
    let cam = camera();
    let line: Vec<(f64, f64)> = (1..6).map(|i| (5.0 * i as f64, 10.0 * i as f64)).collect();
    let err = Calibration::from_control_points(LON, LAT, &control_points(&cam, &line, 0.0, 1)).unwrap_err();
    assert!(matches!(err, GeoError::Collinear(_)));
    assert!(err.to_string().contains("collinear"));
    let three = control_points(&cam, &[(6.0, 12.0), (22.0, 8.0), (40.0, 45.0)], 0.0, 1);
    assert_eq!(Calibration::from_control_points(LON, LAT, &three), Err(GeoError::TooFewPoints(3)));
    let mut dup = control_points(&cam, &[(6.0, 12.0), (22.0, 8.0), (40.0, 45.0)], 0.0, 1);
    dup.push(dup[1]);
    assert_eq!(Calibration::from_control_points(LON, LAT, &dup), Err(GeoError::Duplicate(1, 3)));
}

#[test]
fn points_above_the_horizon_do_not_map() {
    let cam = camera();
    let cal = Calibration::from_control_points(
        LON,
        LAT,
        &control_points(&cam, &[(6.0, 12.0), (22.0, 8.0), (40.0, 45.0), (10.0, 50.0)], 0.0, 1),
    )
    .unwrap();
    let sign = cal.ground_sign(1280.0, 720.0);
    // Horizon row: cy - f·tan(tilt) ≈ 31; the top row of the image is sky.
    assert_eq!(cal.pixel_to_local(640.0, 0.0, sign), Err(GeoError::AboveHorizon));
}

#[test]
fn footprint_covers_the_view_and_not_behind_the_camera() {
    let cam = camera();
    let cal = Calibration::from_control_points(
        LON,
        LAT,
        &control_points(&cam, &[(6.0, 12.0), (22.0, 8.0), (40.0, 45.0), (10.0, 50.0)], 0.0, 1),
    )
    .unwrap();
    let ring = footprint(&cal, 1280.0, 720.0, 150.0);
    assert!(ring.len() > 4);
    assert_eq!(ring.first(), ring.last());
    let frame = LocalFrame { lon0: LON, lat0: LAT };
    // Every vertex within the range cap.
    for &(lon, lat) in &ring {
        let (e, n) = frame.to_local(lon, lat);
        assert!(e.hypot(n) <= 150.0 + 1e-6);
    }
    for (e, n) in ground_grid() {
        let (lon, lat) = frame.to_lonlat(e, n);
        assert!(contains(&ring, lon, lat), "({e}, {n}) should be seen");
    }
    let (lon, lat) = frame.to_lonlat(-20.0, -20.0);
    assert!(!contains(&ring, lon, lat), "behind the camera");
    assert!(to_geojson(&ring).starts_with("{\"type\":\"Polygon\""));
}
