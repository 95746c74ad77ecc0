//! Emergency reach: road length an emergency vehicle can cover from a node within a time budget.

use std::collections::HashMap;

use super::network::Network;
use super::paths::{LinkTree, Scratch};

/// Road length (m) reachable from `origin` within each budget (s), driving at `times` (s per
/// link). A road open both ways counts once; a link partly reached counts pro rata.
pub fn reachable_length_m(net: &Network, times: &[f64], origin: u32, budgets_s: &[f64]) -> Vec<f64> {
    let max_budget = budgets_s.iter().copied().fold(0.0, f64::max);
    let tree = LinkTree::build(net, times, origin, max_budget, &mut Scratch::default());
    budgets_s
        .iter()
        .map(|&budget| {
            let mut best: HashMap<(u32, u32), f64> = HashMap::new();
            for (i, l) in net.links().iter().enumerate() {
                let end = tree.label[i];
                if !end.is_finite() {
                    continue;
                }
                let t = times[i];
                let start = end - t;
                let frac = if end <= budget {
                    1.0
                } else if start < budget && t > 0.0 {
                    (budget - start) / t
                } else {
                    0.0
                };
                if frac > 0.0 {
                    let key = (l.from.min(l.to), l.from.max(l.to));
                    let v = best.entry(key).or_insert(0.0);
                    *v = v.max(frac * l.length_m);
                }
            }
            best.values().fold(0.0, |a, b| a + b)
        })
        .collect()
}
