//! Recommendation latency percentiles: `cargo run --release -p twin-dispatch --example latency`.
//! 1,000 random cases, the 5 best of 500 units, on the Hải Châu roads and a 100k-junction grid.
//! Every case is timed in three passes: the first pass's percentiles, and those of each case's
//! fastest pass (which filters out preemption on a shared machine).

use std::time::Instant;

use twin_dispatch::SearchBuffers;

#[path = "../benches/setup.rs"]
mod setup;

const PASSES: usize = 3;

fn main() {
    for s in [setup::danang(500, 1000), setup::grid(500, 1000)] {
        let costs = s.dispatcher.free_flow();
        let mut buf = SearchBuffers::new();
        let mut first = Vec::with_capacity(s.cases.len());
        let mut best = vec![f64::INFINITY; s.cases.len()];
        let (mut settled, mut answered) = (0usize, 0usize);
        for pass in 0..PASSES {
            for (i, case) in s.cases.iter().enumerate() {
                let t = Instant::now();
                let r = s.dispatcher.recommend(*case, &s.units, setup::ambulances_of_health, 5, &costs, &mut buf);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                best[i] = best[i].min(ms);
                if pass == 0 {
                    first.push(ms);
                    settled += buf.last_settled_nodes();
                    answered += usize::from(r.is_ok_and(|r| r.best.len() == 5));
                }
            }
        }
        let pct = |v: &mut Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v[((v.len() - 1) as f64 * p).round() as usize]
        };
        println!(
            "{}: {} nodes, {} cases, {:.0} nodes settled on average, {answered} answered with 5 units",
            s.name,
            s.dispatcher.graph().node_count(),
            s.cases.len(),
            settled as f64 / s.cases.len() as f64
        );
        println!(
            "  first pass: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            pct(&mut first, 0.5),
            pct(&mut first, 0.99),
            pct(&mut first, 1.0)
        );
        println!(
            "  fastest of {PASSES} per case: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            pct(&mut best, 0.5),
            pct(&mut best, 0.99),
            pct(&mut best, 1.0)
        );
    }
}
