//! The solver against a direct transcription of the published update formulas on a 1-D channel.
//!
//! de Almeida et al. (2012), eq. for the face discharge:
//! q_{i+½}ⁿ⁺¹ = [θ q_{i+½}ⁿ + (1−θ)/2 (q_{i−½}ⁿ + q_{i+3/2}ⁿ) − g h_f Δt (η_{i+1} − η_i)/Δx]
//!              / [1 + g Δt n² |q_{i+½}ⁿ| / h_f^{7/3}],
//! with h_f = max(η_i, η_{i+1}) − max(z_i, z_{i+1}); θ = 1 is Bates et al. (2010). Continuity:
//! h_iⁿ⁺¹ = h_iⁿ + Δt/Δx (q_{i−½}ⁿ⁺¹ − q_{i+½}ⁿ⁺¹), and Δt = α Δx / √(g max h).

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the assertion

use twin_scenarios::flood::{FloodSetup, Grid, InitialWater, Simulation, SolverConfig};

/// Straightforward 1-D version of the formulas above with closed ends (all cells stay wet).
fn reference(z: &[f64], h0: &[f64], n: f64, dx: f64, theta: f64, steps: usize) -> Vec<f64> {
    let (g, alpha) = (9.81, 0.7);
    let cells = z.len();
    let mut h = h0.to_vec();
    let mut q = vec![0.0; cells + 1];
    for _ in 0..steps {
        let h_max = h.iter().copied().fold(0.0, f64::max);
        let dt = alpha * dx / (g * h_max).sqrt();
        let mut q_new = vec![0.0; cells + 1];
        for f in 1..cells {
            let (eta_l, eta_r) = (z[f - 1] + h[f - 1], z[f] + h[f]);
            let hf = eta_l.max(eta_r) - z[f - 1].max(z[f]);
            let weighted = theta * q[f] + (1.0 - theta) / 2.0 * (q[f - 1] + q[f + 1]);
            q_new[f] = (weighted - g * hf * dt * (eta_r - eta_l) / dx)
                / (1.0 + g * dt * n * n * q[f].abs() / hf.powf(7.0 / 3.0));
        }
        for i in 0..cells {
            h[i] += dt / dx * (q_new[i] - q_new[i + 1]);
        }
        q = q_new;
    }
    h
}

fn compare(theta: f64) {
    let (cells, dx, n, steps) = (12, 5.0, 0.05, 200);
    let z: Vec<f64> = (0..cells).map(|i| 0.3 * (i as f64 * 0.9).sin()).collect();
    // A dam-break-like step in the surface, all cells wet.
    let h0: Vec<f64> = z.iter().enumerate().map(|(i, zi)| if i < 5 { 2.0 - zi } else { 1.0 - zi }).collect();
    let expected = reference(&z, &h0, n, dx, theta, steps);
    let moved = expected.iter().zip(&h0).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(moved > 0.1, "the case must actually move water ({moved} m)");

    let mut dem = Grid::filled(cells, 1, dx, 0.0);
    dem.data.clone_from(&z);
    let mut setup = FloodSetup::new(dem, n);
    setup.initial = InitialWater::Depth(h0.clone());
    let cfg = SolverConfig { theta, ..SolverConfig::default() };
    let mut sim = Simulation::new(setup, cfg).unwrap();
    for _ in 0..steps {
        sim.step(f64::INFINITY).unwrap();
    }
    assert_eq!(sim.limited_steps(), 0, "the reference has no limiter; this case must not need it");
    for (i, (got, want)) in sim.depth().iter().zip(&expected).enumerate() {
        // The solver's fast h^(7/3) is accurate to 2e-9; everything else is the same arithmetic.
        assert!((got - want).abs() <= 1e-8 * want, "theta {theta}, cell {i}: {got} vs {want}");
    }
}

#[test]
fn matches_bates_2010_update() {
    compare(1.0);
}

#[test]
fn matches_de_almeida_2012_update() {
    compare(0.7);
}
