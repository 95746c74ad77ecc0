//! Flood solver throughput: cell-updates per wall second and per CPU second on a 1000 × 1000
//! synthetic catchment (rain on a sloping, bumpy surface), with 1 and 2 threads, and the time of
//! a 1-hour event on the same 1M cells.
//!
//! `cargo bench -p twin-scenarios --bench flood` (add `-- --quick` for a short run).
//! CPU time comes from /proc/self/stat (Linux); elsewhere only wall figures are printed.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use twin_scenarios::flood::{Boundaries, Boundary, FloodSetup, Grid, Series, Simulation, SolverConfig};

const DX: f64 = 10.0;

fn catchment(size: usize) -> FloodSetup {
    let mut dem = Grid::filled(size, size, DX, 0.0);
    for r in 0..size {
        for c in 0..size {
            let (x, y) = (c as f64 * DX, r as f64 * DX);
            // 0.5 % slope to the east and south, with ponds and ridges of ± 1 m.
            let bumps = 0.6 * (x / 70.0).sin() * (y / 90.0).cos() + 0.4 * ((x + 2.0 * y) / 45.0).sin();
            dem.data[r * size + c] = 60.0 - 0.005 * (x + 0.5 * y) + bumps;
        }
    }
    let mut setup = FloodSetup::new(dem, 0.035);
    setup.rain_mm_h = Some(Series::constant(50.0).expect("constant series"));
    setup.boundaries = Boundaries {
        east: Boundary::FreeOutflow { slope: Some(0.005) },
        south: Boundary::FreeOutflow { slope: None },
        ..Boundaries::default()
    };
    setup
}

/// User + system CPU seconds of this process, if the platform exposes them.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let ticks = std::process::Command::new("getconf").arg("CLK_TCK").output().ok()?;
    let hz: f64 = String::from_utf8(ticks.stdout).ok()?.trim().parse().ok()?;
    Some((utime + stime) / hz)
}

fn throughput(threads: usize, wet: &Simulation, steps: u64) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    pool.install(|| {
        let mut sim = wet.clone();
        // Warm-up step so allocations and caches are settled.
        sim.step(f64::INFINITY).expect("stable");
        let cells = sim.summary().cells as f64;
        let (cpu0, wall0) = (cpu_seconds(), Instant::now());
        for _ in 0..steps {
            sim.step(f64::INFINITY).expect("stable");
        }
        let wall = wall0.elapsed().as_secs_f64();
        println!(
            "  limiter acted in {} of {} steps, on {:.0} cells per step",
            sim.limited_steps(),
            sim.steps(),
            sim.limited_cells() as f64 / sim.steps() as f64
        );
        let updates = cells * steps as f64;
        let per_wall = updates / wall;
        print!("threads {threads}: {steps} steps, wall {wall:.2} s, {:.1} M cell-updates/s wall", per_wall / 1e6);
        print!(", {:.1} M per thread-second", per_wall / threads as f64 / 1e6);
        match cpu0.zip(cpu_seconds()) {
            Some((a, b)) if b > a => println!(", {:.1} M per CPU-second", updates / (b - a) / 1e6),
            _ => println!(", CPU time unavailable"),
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--size N` runs an N × N grid instead of 1000 × 1000 (e.g. to see cache effects).
    let size = args.iter().position(|a| a == "--size").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(1000);
    let cancel = AtomicBool::new(false);
    println!("flood bench: {size} x {size} cells, dx {DX} m, rain 50 mm/h on a sloping bumpy surface");

    // A wetted state: 20 minutes of rain, so most cells carry water and fluxes.
    let mut wet = Simulation::new(catchment(size), SolverConfig::default()).expect("valid setup");
    wet.run_until(1200.0, |_| {}, &cancel).expect("spin-up");
    let wet_cells = wet.depth().iter().filter(|h| **h > 1e-3).count();
    println!("spin-up: {} steps, {wet_cells} wet cells", wet.steps());

    let steps = (if quick { 20 } else { 100 }) * (1_000_000 / (size * size)).max(1) as u64;
    for threads in [1, 2] {
        throughput(threads, &wet, steps);
    }

    let hours = if quick { 0.25 } else { 1.0 };
    let mut event = Simulation::new(catchment(size), SolverConfig::default()).expect("valid setup");
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let summary = event.run_until(hours * 3600.0, |_| {}, &cancel).expect("event");
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_seconds()).map(|(a, b)| b - a);
    println!(
        "{hours} h event on {} cells ({} threads): wall {wall:.1} s, CPU {}, {} steps, {:.1} M cell-updates/s wall, volume error {:.1e}",
        summary.cells,
        rayon::current_num_threads(),
        cpu.map_or("n/a".into(), |c| format!("{c:.1} s")),
        summary.steps,
        summary.cell_updates_per_s / 1e6,
        summary.volume_error_rel
    );
}
