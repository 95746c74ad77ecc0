//! Constant-velocity Kalman filter on a box (centre x, centre y, width, height).
//! The motion model is decoupled per coordinate, so it runs as four exact 2-state
//! (position, velocity) filters instead of one 8-state filter.

use crate::detector::BBox;

/// Process and measurement noise, relative to the box height (scale-aware like SORT/ByteTrack).
#[derive(Debug, Clone, Copy)]
pub struct Noise {
    pub position: f32,
    pub velocity: f32,
    pub measurement: f32,
}

impl Default for Noise {
    fn default() -> Self {
        Self { position: 1.0 / 20.0, velocity: 1.0 / 160.0, measurement: 1.0 / 20.0 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Axis {
    x: f32,
    v: f32,
    // Covariance [[p00, p01], [p01, p11]].
    p00: f32,
    p01: f32,
    p11: f32,
}

impl Axis {
    fn new(x: f32, sd_x: f32, sd_v: f32) -> Self {
        Self { x, v: 0.0, p00: sd_x * sd_x, p01: 0.0, p11: sd_v * sd_v }
    }

    fn predict(&mut self, q_x: f32, q_v: f32) {
        self.x += self.v;
        // P = F P Fᵀ + Q with F = [[1, 1], [0, 1]].
        self.p00 += 2.0 * self.p01 + self.p11 + q_x;
        self.p01 += self.p11;
        self.p11 += q_v;
    }

    fn update(&mut self, z: f32, r: f32) {
        let s = self.p00 + r;
        let (k0, k1) = (self.p00 / s, self.p01 / s);
        let y = z - self.x;
        self.x += k0 * y;
        self.v += k1 * y;
        let (p00, p01, p11) = (self.p00, self.p01, self.p11);
        self.p00 = (1.0 - k0) * p00;
        self.p01 = (1.0 - k0) * p01;
        self.p11 = p11 - k1 * p01;
    }
}

/// Box state filter.
#[derive(Debug, Clone, Copy)]
pub struct BoxFilter {
    axes: [Axis; 4],
    noise: Noise,
}

impl BoxFilter {
    pub fn new(b: &BBox, noise: Noise) -> Self {
        let z = measure(b);
        let h = z[3].max(1.0);
        let sd_x = 2.0 * noise.position * h;
        let sd_v = 10.0 * noise.velocity * h;
        Self { axes: z.map(|v| Axis::new(v, sd_x, sd_v)), noise }
    }

    /// Advances one frame.
    pub fn predict(&mut self) {
        let h = self.axes[3].x.max(1.0);
        let (qx, qv) = ((self.noise.position * h).powi(2), (self.noise.velocity * h).powi(2));
        for a in &mut self.axes {
            a.predict(qx, qv);
        }
    }

    /// Corrects with a measured box.
    pub fn update(&mut self, b: &BBox) {
        let z = measure(b);
        let r = (self.noise.measurement * z[3].max(1.0)).powi(2);
        for (a, v) in self.axes.iter_mut().zip(z) {
            a.update(v, r);
        }
    }

    /// Current box estimate.
    pub fn bbox(&self) -> BBox {
        let [cx, cy, w, h] = self.axes.map(|a| a.x);
        let (w, h) = (w.max(0.0), h.max(0.0));
        [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
    }

    /// Velocity of the box centre in pixels per frame.
    pub fn velocity(&self) -> (f32, f32) {
        (self.axes[0].v, self.axes[1].v)
    }
}

fn measure(b: &BBox) -> [f32; 4] {
    [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, b[2] - b[0], b[3] - b[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_constant_velocity() {
        let mut f = BoxFilter::new(&[0.0, 0.0, 20.0, 40.0], Noise::default());
        for t in 1..30 {
            f.predict();
            let x = 3.0 * t as f32;
            f.update(&[x, 0.0, x + 20.0, 40.0]);
        }
        let (vx, vy) = f.velocity();
        assert!((vx - 3.0).abs() < 0.1, "vx {vx}");
        assert!(vy.abs() < 0.1);
        f.predict();
        let b = f.bbox();
        assert!((b[0] - 90.0).abs() < 0.5, "{b:?}");
    }
}
