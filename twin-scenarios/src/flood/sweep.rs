//! The per-row kernels of one time step: face discharges (momentum) and depths (continuity).
//!
//! Faces are staggered: `qx` has `ncols + 1` faces per row (face `c` is the west side of cell
//! `c`), `qy` has `nrows + 1` rows of `ncols` faces (face row `r` is the north side of cell row
//! `r`). Positive discharge points east (x) or south (y, increasing row). Each kernel touches
//! only its own row of output, so rows run in parallel and the result does not depend on the
//! number of threads.

use super::boundary::EdgeRule;
use super::limiter::cell_depth;

/// Constants of one time step shared by all kernels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepConstants {
    pub g: f64,
    pub dt: f64,
    pub inv_dx: f64,
    /// Faces with a flow depth at or below this carry no water (wet/dry threshold).
    pub h_min: f64,
    /// de Almeida et al. (2012) weight of the face's own previous discharge.
    pub theta: f64,
    /// (1 − θ) / 2: weight of each neighbouring face.
    pub half_rest: f64,
    /// Rain depth added to every active cell in this step (m).
    pub rain: f64,
}

/// h^(−7/3) for the friction term, without division, `powf` or branches.
///
/// The inverse cube root starts from an exponent-dividing bit trick (within 3.5 %) and takes
/// three Newton steps `r ← r (4/3 − x r³ / 3)`, reaching 2.6e-10 relative error for the root and
/// so under 2e-9 for its 7th power, far below the uncertainty of any Manning n. The platform `cbrt` plus a division cost several times more
/// and dominated the whole step. Depths are clamped to [1e-30, 1e30] m.
#[inline(always)]
pub(crate) fn inv_pow_7_3(x: f64) -> f64 {
    let x = x.clamp(1e-30, 1e30);
    let mut r = f64::from_bits(0x553E_F0FF_289D_D796 - x.to_bits() / 3);
    let x3 = x * (1.0 / 3.0);
    for _ in 0..3 {
        r *= 4.0 / 3.0 - x3 * (r * r * r);
    }
    let r2 = r * r;
    r2 * r2 * r2 * r
}

/// Local-inertial discharge through a face from cell `a` to cell `b` (Bates et al. 2010 with the
/// θ-weighting of de Almeida et al. 2012 and semi-implicit Manning friction).
///
/// The flow depth is `max(η_a, η_b) − max(z_a, z_b)`; it never exceeds the depth of the upwind
/// cell, so a dry cell (depth ≤ `h_min`) never sends water.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn face_flux(za: f64, ha: f64, zb: f64, hb: f64, q: f64, q_prev: f64, q_next: f64, gn2: f64, k: &StepConstants) -> f64 {
    let eta_a = za + ha;
    let eta_b = zb + hb;
    let hf = eta_a.max(eta_b) - za.max(zb);
    let q_weighted = k.theta * q + k.half_rest * (q_prev + q_next);
    let q_new =
        (q_weighted - k.g * k.dt * hf * (eta_b - eta_a) * k.inv_dx) / (1.0 + k.dt * gn2 * q.abs() * inv_pow_7_3(hf));
    // Computed unconditionally and then selected, so the loop has no branch.
    if hf > k.h_min {
        q_new
    } else {
        0.0
    }
}

/// One row of cells: its bed, depth and g n², all of length `ncols`.
#[derive(Clone, Copy)]
pub(crate) struct CellRow<'a> {
    pub z: &'a [f64],
    pub h: &'a [f64],
    pub gn2: &'a [f64],
}

/// East-west faces of one row, boundary faces included.
pub(crate) fn x_faces(
    q_new: &mut [f64],
    q_old: &[f64],
    row: CellRow<'_>,
    west: EdgeRule,
    east: EdgeRule,
    k: &StepConstants,
) {
    let n = row.h.len();
    let (z, h, gn2) = (row.z, row.h, row.gn2);
    let q_old = &q_old[..=n];
    let q_new = &mut q_new[..=n];
    for f in 1..n {
        let g = 0.5 * (gn2[f - 1] + gn2[f]);
        q_new[f] = face_flux(z[f - 1], h[f - 1], z[f], h[f], q_old[f], q_old[f - 1], q_old[f + 1], g, k);
    }
    // Boundary rules work with the outward discharge; west's outward direction is −x.
    q_new[0] = -west.outward_flux(h[0], z[0], -q_old[0], gn2[0], k);
    q_new[n] = east.outward_flux(h[n - 1], z[n - 1], q_old[n], gn2[n - 1], k);
}

/// North-south faces between cell rows `up` (north) and `down` (south). `q_up` and `q_down` are
/// the previous discharges of the face rows above and below, used by the θ-weighting.
pub(crate) fn y_faces(
    q_new: &mut [f64],
    q_old: &[f64],
    q_up: &[f64],
    q_down: &[f64],
    up: CellRow<'_>,
    down: CellRow<'_>,
    k: &StepConstants,
) {
    let n = q_new.len();
    let (q_old, q_up, q_down) = (&q_old[..n], &q_up[..n], &q_down[..n]);
    let (zu, hu, gu) = (&up.z[..n], &up.h[..n], &up.gn2[..n]);
    let (zd, hd, gd) = (&down.z[..n], &down.h[..n], &down.gn2[..n]);
    for c in 0..n {
        let g = 0.5 * (gu[c] + gd[c]);
        q_new[c] = face_flux(zu[c], hu[c], zd[c], hd[c], q_old[c], q_up[c], q_down[c], g, k);
    }
}

/// Faces on the north (`outward_sign = −1`) or south (`+1`) edge.
pub(crate) fn edge_y_faces(
    q_new: &mut [f64],
    q_old: &[f64],
    row: CellRow<'_>,
    rule: EdgeRule,
    sign: f64,
    k: &StepConstants,
) {
    for (c, q) in q_new.iter_mut().enumerate() {
        *q = sign * rule.outward_flux(row.h[c], row.z[c], sign * q_old[c], row.gn2[c], k);
    }
}

/// Result of the continuity update of one row.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowStats {
    pub h_max: f64,
    pub sum: f64,
    pub negative: bool,
}

/// Discharges around one row of cells: west/east faces (`ncols + 1`), north and south face rows.
#[derive(Clone, Copy)]
pub(crate) struct RowFaces<'a> {
    pub qx: &'a [f64],
    pub qn: &'a [f64],
    pub qs: &'a [f64],
}

/// New depths of one row: net inflow through the four faces plus rain on active cells.
/// Depths may come out negative here; [`super::limiter`] corrects those cells.
pub(crate) fn continuity(
    h_new: &mut [f64],
    h: &[f64],
    faces: RowFaces<'_>,
    active: &[bool],
    k: &StepConstants,
) -> RowStats {
    let n = h_new.len();
    let (h, active) = (&h[..n], &active[..n]);
    let (qw, qe) = (&faces.qx[..n], &faces.qx[1..=n]);
    let (qn, qs) = (&faces.qn[..n], &faces.qs[..n]);
    let mut stats = RowStats::default();
    for c in 0..n {
        let rain = if active[c] { k.rain } else { 0.0 };
        let v = cell_depth(h[c], qw[c], qe[c], qn[c], qs[c], rain, k);
        stats.negative |= v < 0.0;
        stats.h_max = stats.h_max.max(v);
        stats.sum += v;
        h_new[c] = v;
    }
    stats
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn friction_power_is_accurate() {
        let mut x: f64 = 1e-12;
        while x < 1e6 {
            let exact = x.powf(-7.0 / 3.0);
            let rel = (inv_pow_7_3(x) - exact).abs() / exact;
            assert!(rel < 2e-9, "{x}^(-7/3) off by {rel:e}");
            x *= 1.013;
        }
        assert!(inv_pow_7_3(0.0).is_finite());
    }
}
