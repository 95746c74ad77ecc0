//! Strongly connected components (Kosaraju, iterative so large graphs cannot overflow the stack).

use super::{NodeId, RoadGraph};

impl RoadGraph {
    /// Component number of every node; nodes in the same component reach each other both ways.
    pub fn strongly_connected_components(&self) -> Vec<u32> {
        let n = self.node_count();
        // Pass 1: nodes in order of DFS completion on the graph.
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for root in 0..n {
            if seen[root] {
                continue;
            }
            seen[root] = true;
            let mut stack = vec![(root, 0usize)];
            while let Some((v, i)) = stack.last_mut() {
                let out = self.outgoing(NodeId(*v as u32));
                if let Some(e) = out.get(*i) {
                    *i += 1;
                    let w = self.edge(*e).to.0 as usize;
                    if !seen[w] {
                        seen[w] = true;
                        stack.push((w, 0));
                    }
                } else {
                    order.push(*v);
                    stack.pop();
                }
            }
        }
        // Pass 2: flood the reversed graph in reverse completion order.
        let mut incoming = vec![Vec::new(); n];
        for (_, e) in self.edges() {
            incoming[e.to.0 as usize].push(e.from.0 as usize);
        }
        let mut comp = vec![u32::MAX; n];
        let mut next = 0;
        for &root in order.iter().rev() {
            if comp[root] != u32::MAX {
                continue;
            }
            comp[root] = next;
            let mut stack = vec![root];
            while let Some(v) = stack.pop() {
                for &u in &incoming[v] {
                    if comp[u] == u32::MAX {
                        comp[u] = next;
                        stack.push(u);
                    }
                }
            }
            next += 1;
        }
        comp
    }

    /// The nodes of the largest strongly connected component, in id order (empty for an empty graph).
    pub fn largest_component(&self) -> Vec<NodeId> {
        let comp = self.strongly_connected_components();
        let mut sizes = vec![0usize; comp.iter().map(|c| *c as usize + 1).max().unwrap_or(0)];
        comp.iter().for_each(|c| sizes[*c as usize] += 1);
        let Some(biggest) = (0..sizes.len()).max_by_key(|c| (sizes[*c], std::cmp::Reverse(*c))) else {
            return Vec::new();
        };
        (0..comp.len()).filter(|v| comp[*v] as usize == biggest).map(|v| NodeId(v as u32)).collect()
    }
}
