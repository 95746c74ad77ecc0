//! Cell transmission model against kinematic-wave theory (triangular fundamental diagram):
//! the back of the queue behind a bottleneck moves at w₁₂ = (q₂ − q₁)/(k₂ − k₁), and after the
//! bottleneck clears the recovery wave moves at (q_max − q₂)/(k_c − k₂).

#![allow(clippy::unwrap_used)] // tests may unwrap

use twin_scenarios::traffic::{Ctm, Triangular};

const FD: Triangular = Triangular { vf: 15.0, w: 5.0, kj: 0.15 };

/// Least-squares slope of (t, x).
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mt, mx) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = points.iter().map(|(t, x)| (t - mt) * (x - mx)).sum();
    let var: f64 = points.iter().map(|(t, _)| (t - mt) * (t - mt)).sum();
    cov / var
}

#[test]
fn queue_back_and_recovery_waves_match_kinematic_wave_theory() {
    let dt = 1.0;
    let mut ctm = Ctm::new(dt, 2).unwrap();
    let link = ctm.add_link(0, 1, 20_000.0, FD).unwrap();
    let dx = ctm.cell_length(link);
    let bottleneck = ctm.link_cells(link) * 3 / 4;
    let (qmax, kc, kj) = (FD.qmax(), FD.kc(), FD.kj);
    let q1 = 0.6 * qmax;
    let k1 = q1 / FD.vf;
    let drop = 0.3;
    let q2 = drop * qmax;
    let k2 = kj - q2 / FD.w;
    let shock = (q2 - q1) / (k2 - k1);
    let recovery = (qmax - q2) / (kc - k2);
    ctm.set_source(link, q1);
    // Fill the road with the upstream state first.
    let fill = (20_000.0 / FD.vf / dt) as usize + 10;
    for _ in 0..fill {
        ctm.step();
    }
    ctm.set_capacity_factor(link, bottleneck..bottleneck + 1, drop);
    let x_of = |c: usize| (c as f64 + 0.5) * dx;
    let incident_s = 1800;
    let mut back = Vec::new();
    for s in 1..=incident_s {
        ctm.step();
        if s >= 300 && s % 10 == 0 {
            let k = ctm.densities(link);
            let mid = 0.5 * (k1 + k2);
            let first_jam = (0..bottleneck).find(|&c| k[c] > mid).unwrap();
            // Interpolate the crossing between the cell before and the first jammed cell.
            let c0 = first_jam - 1;
            let frac = (mid - k[c0]) / (k[first_jam] - k[c0]);
            back.push((s as f64, x_of(c0) + frac * dx));
        }
    }
    let measured = slope(&back);
    assert!((measured - shock).abs() <= 0.02 * shock.abs(), "queue back {measured} m/s, theory {shock} m/s");

    ctm.set_capacity_factor(link, bottleneck..bottleneck + 1, 1.0);
    let mut front = Vec::new();
    for s in 1..=800 {
        ctm.step();
        if s >= 100 && s % 10 == 0 {
            let k = ctm.densities(link);
            let mid = 0.5 * (k2 + kc);
            // The downstream edge of what is left of the jam.
            let last_jam = (0..bottleneck).rev().find(|&c| k[c] > mid).unwrap();
            let c1 = last_jam + 1;
            let frac = (k[last_jam] - mid) / (k[last_jam] - k[c1]);
            front.push((s as f64, x_of(last_jam) + frac * dx));
        }
    }
    let measured = slope(&front);
    assert!(
        (measured - recovery).abs() <= 0.02 * recovery.abs(),
        "recovery wave {measured} m/s, theory {recovery} m/s"
    );
    // Discharge from the clearing queue runs at capacity.
    let k = ctm.densities(link);
    let discharge = FD.flow(k[bottleneck + 5]);
    assert!((discharge - qmax).abs() <= 0.02 * qmax, "discharge {discharge}, capacity {qmax}");
}

#[test]
fn closure_spills_back_through_a_diverge_and_conserves_vehicles() {
    // 0 → 1 then a diverge at 1 into 1 → 2 and 1 → 3 (half each); close 1 → 3.
    let mut ctm = Ctm::new(1.0, 4).unwrap();
    let up = ctm.add_link(0, 1, 1500.0, FD).unwrap();
    let a = ctm.add_link(1, 2, 900.0, FD).unwrap();
    let b = ctm.add_link(1, 3, 900.0, FD).unwrap();
    ctm.set_split(up, a, 0.5).unwrap();
    ctm.set_split(up, b, 0.5).unwrap();
    ctm.set_source(up, 0.5 * FD.qmax());
    for _ in 0..600 {
        ctm.step();
    }
    let free_a = ctm.densities(a)[10];
    assert!(free_a > 0.0);
    let cells_b = ctm.link_cells(b);
    ctm.set_capacity_factor(b, cells_b - 1..cells_b, 0.0);
    for _ in 0..3000 {
        ctm.step();
    }
    // Branch b filled to jam density, the queue reached the upstream link (spill-back), and
    // first-in-first-out starved branch a as well.
    let kb = ctm.densities(b);
    // The closed cell itself neither receives nor sends; everything upstream of it is jammed.
    assert!(kb[..cells_b - 1].iter().all(|k| (k - FD.kj).abs() < 1e-6 * FD.kj), "branch b not jammed");
    let kup = ctm.densities(up);
    assert!(kup.iter().all(|k| (k - FD.kj).abs() < 1e-6 * FD.kj), "queue did not spill back");
    assert!(ctm.densities(a).iter().all(|k| *k < 1e-9), "branch a should be starved");
    let balance = ctm.entered - ctm.exited - ctm.vehicles();
    assert!(balance.abs() < 1e-6, "vehicles not conserved: {balance}");
    // Reopen: everything drains.
    ctm.set_capacity_factor(b, cells_b - 1..cells_b, 1.0);
    ctm.set_source(up, 0.0);
    for _ in 0..4000 {
        ctm.step();
    }
    assert!(ctm.vehicles() + ctm.origin_queues() < 1e-6, "left: {}", ctm.vehicles());
}

#[test]
fn merge_shares_supply_by_capacity() {
    // Two equal links merge into one; both demand more than half its capacity.
    let mut ctm = Ctm::new(1.0, 4).unwrap();
    let a = ctm.add_link(0, 2, 600.0, FD).unwrap();
    let b = ctm.add_link(1, 2, 600.0, FD).unwrap();
    let out = ctm.add_link(2, 3, 600.0, FD).unwrap();
    ctm.set_source(a, 0.8 * FD.qmax());
    ctm.set_source(b, 0.8 * FD.qmax());
    for _ in 0..2000 {
        ctm.step();
    }
    let k_out = ctm.densities(out);
    let q_out = FD.flow(k_out[k_out.len() / 2]);
    assert!((q_out - FD.qmax()).abs() < 1e-6 * FD.qmax(), "merge discharges at capacity: {q_out}");
    // Symmetric inputs get equal shares: both queues equally long.
    let (qa, qb): (f64, f64) = (ctm.densities(a).iter().sum(), ctm.densities(b).iter().sum());
    assert!((qa - qb).abs() < 1e-6 * qa);
}
