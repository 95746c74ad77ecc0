//! Shortest paths over links (labels on links, not nodes) so that turn bans and turn penalties
//! are honoured exactly.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::network::Network;

/// Marks "no predecessor" in a [`LinkTree`].
pub const NONE: u32 = u32::MAX;

/// Shortest-path tree from one origin node: for every link, the cheapest cost of reaching its
/// end (`label`) and the link before it (`pred`).
#[derive(Debug, Clone)]
pub struct LinkTree {
    pub origin: u32,
    pub label: Vec<f64>,
    pub pred: Vec<u32>,
}

#[derive(Debug, PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Min-heap on cost.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// Scratch space reused across trees (avoids reallocating per origin).
#[derive(Debug, Default)]
pub struct Scratch {
    heap: BinaryHeap<Item>,
}

impl LinkTree {
    /// Dijkstra over links with link times `times` (closed links skipped). With `limit`, labels
    /// beyond it are not expanded (isochrones).
    pub fn build(net: &Network, times: &[f64], origin: u32, limit: f64, scratch: &mut Scratch) -> Self {
        let m = net.link_count();
        let mut label = vec![f64::INFINITY; m];
        let mut pred = vec![NONE; m];
        let heap = &mut scratch.heap;
        heap.clear();
        for &l in net.out_links(origin) {
            if !net.is_closed(l) && times[l as usize] <= limit {
                label[l as usize] = times[l as usize];
                heap.push(Item(times[l as usize], l));
            }
        }
        while let Some(Item(cost, l)) = heap.pop() {
            if cost > label[l as usize] {
                continue;
            }
            let to = net.link(l).to;
            for &n in net.out_links(to) {
                if net.is_closed(n) {
                    continue;
                }
                let Some(turn) = net.turn_cost(l, n) else { continue };
                let next = cost + turn + times[n as usize];
                if next < label[n as usize] && next <= limit {
                    label[n as usize] = next;
                    pred[n as usize] = l;
                    heap.push(Item(next, n));
                }
            }
        }
        Self { origin, label, pred }
    }

    /// The cheapest arriving link at `node` and its cost.
    pub fn best_into(&self, net: &Network, node: u32) -> Option<(u32, f64)> {
        net.in_links(node)
            .iter()
            .map(|&l| (l, self.label[l as usize]))
            .filter(|(_, c)| c.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Cost to reach `node` (0 at the origin, infinite when unreachable).
    pub fn cost_to(&self, net: &Network, node: u32) -> f64 {
        if node == self.origin {
            return 0.0;
        }
        self.best_into(net, node).map_or(f64::INFINITY, |(_, c)| c)
    }

    /// The links of the cheapest path to `node`, in travel order (empty at the origin).
    pub fn path_to(&self, net: &Network, node: u32) -> Option<Vec<u32>> {
        if node == self.origin {
            return Some(Vec::new());
        }
        let (mut l, _) = self.best_into(net, node)?;
        let mut links = vec![l];
        while self.pred[l as usize] != NONE {
            l = self.pred[l as usize];
            links.push(l);
            if links.len() > self.pred.len() {
                return None; // defensive: a cycle would be a bug
            }
        }
        links.reverse();
        Some(links)
    }
}

/// Travel time (s) of a path: link times plus turn costs.
pub fn path_cost(net: &Network, times: &[f64], links: &[u32]) -> f64 {
    let mut c: f64 = links.iter().map(|&l| times[l as usize]).sum();
    for w in links.windows(2) {
        c += net.turn_cost(w[0], w[1]).unwrap_or(f64::INFINITY);
    }
    c
}
