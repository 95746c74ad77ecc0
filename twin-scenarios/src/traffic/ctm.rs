//! Cell transmission model (Daganzo 1994, 1995) on a network of links.
//!
//! Each link is cut into cells no shorter than one free-flow step (`vf Δt`), so the scheme is
//! stable. A cell sends `min(n vfΔt/Δx, QΔt)` and receives `min(QΔt, wΔt/Δx (k_j Δx − n))`
//! (triangular fundamental diagram). Capacity drops (incidents, closures) scale Q of chosen
//! cells. Nodes split flow by turning fractions, first-in-first-out per incoming link, and share
//! each outgoing link's supply between incoming links in proportion to their capacity, handing
//! unused supply on (an incremental node model in the spirit of Tampère et al. 2011). Queues
//! spill back across nodes through the receiving functions.
//!
//! Trips start and end inside a network too: a link with a source takes vehicles from its origin
//! queue into its first cell with the supply the node left over, and an exit weight at the end of
//! a link is a turn that leaves the network (always free), so turning fractions from an
//! assignment's path flows can be used as they are.

use super::error::TrafficError;

/// A triangular fundamental diagram for a whole link (all lanes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triangular {
    /// Free-flow speed (m/s).
    pub vf: f64,
    /// Backward wave speed (m/s, positive number).
    pub w: f64,
    /// Jam density (veh/m).
    pub kj: f64,
}

impl Triangular {
    /// Capacity (veh/s): where the free-flow and congested branches meet.
    pub fn qmax(&self) -> f64 {
        self.vf * self.w * self.kj / (self.vf + self.w)
    }
    /// Critical density (veh/m).
    pub fn kc(&self) -> f64 {
        self.qmax() / self.vf
    }
    /// Flow (veh/s) at density `k`.
    pub fn flow(&self, k: f64) -> f64 {
        (self.vf * k).min(self.w * (self.kj - k)).max(0.0)
    }
}

#[derive(Debug, Clone)]
struct CtmLink {
    from: u32,
    to: u32,
    first: usize,
    cells: usize,
    dx: f64,
    fd: Triangular,
    /// Vehicles per step wanting to enter at the upstream end.
    source: f64,
    /// Vehicles waiting outside the network to enter this link.
    queue: f64,
    /// Weight of "leaving the network" among the turns at the downstream end.
    exit: f64,
}

/// Turn shares at one node, fixed between changes of splits (precomputed for the step loop).
#[derive(Debug, Clone, Default)]
struct NodeShares {
    /// `ins × outs`, row per incoming link.
    share: Vec<f64>,
    /// Share of each incoming link's outflow that leaves the network here.
    exit: Vec<f64>,
}

/// A CTM over links between numbered nodes.
#[derive(Debug, Clone)]
pub struct Ctm {
    dt: f64,
    nodes: usize,
    links: Vec<CtmLink>,
    /// Vehicles per cell.
    n: Vec<f64>,
    /// Capacity factor per cell (1 normal, 0 closed).
    factor: Vec<f64>,
    out_of: Vec<Vec<usize>>,
    in_of: Vec<Vec<usize>>,
    /// Turning fraction (in link, out link, share) per node; equal shares where unset.
    splits: Vec<Vec<(usize, usize, f64)>>,
    link_in: Vec<f64>,
    link_out: Vec<f64>,
    /// Vehicles per step leaving the network at the end of each link / entering at its start.
    link_exit: Vec<f64>,
    link_entry: Vec<f64>,
    shares: Vec<NodeShares>,
    shares_dirty: bool,
    scratch: NodeScratch,
    pub time_s: f64,
    pub steps: u64,
    pub entered: f64,
    pub exited: f64,
}

/// Buffers of the node model, reused across nodes and steps.
#[derive(Debug, Clone, Default)]
struct NodeScratch {
    supply: Vec<f64>,
    demand: Vec<f64>,
    priority: Vec<f64>,
    active: Vec<bool>,
    moved: Vec<f64>,
    trial: Vec<f64>,
}

impl Ctm {
    /// An empty model with time step `dt_s` over `nodes` nodes.
    pub fn new(dt_s: f64, nodes: usize) -> Result<Self, TrafficError> {
        if !(dt_s > 0.0 && dt_s.is_finite()) {
            return Err(TrafficError::InvalidParameter(format!("time step {dt_s}")));
        }
        Ok(Self {
            dt: dt_s,
            nodes,
            links: Vec::new(),
            n: Vec::new(),
            factor: Vec::new(),
            out_of: vec![Vec::new(); nodes],
            in_of: vec![Vec::new(); nodes],
            splits: vec![Vec::new(); nodes],
            link_in: Vec::new(),
            link_out: Vec::new(),
            link_exit: Vec::new(),
            link_entry: Vec::new(),
            shares: Vec::new(),
            shares_dirty: true,
            scratch: NodeScratch::default(),
            time_s: 0.0,
            steps: 0,
            entered: 0.0,
            exited: 0.0,
        })
    }

    /// Adds a link cut into cells of at least `vf Δt`; returns its index.
    pub fn add_link(&mut self, from: u32, to: u32, length_m: f64, fd: Triangular) -> Result<usize, TrafficError> {
        if from as usize >= self.nodes || to as usize >= self.nodes {
            return Err(TrafficError::InvalidNetwork(format!("link {from}→{to} outside {} nodes", self.nodes)));
        }
        if !(fd.vf > 0.0 && fd.w > 0.0 && fd.kj > 0.0 && length_m > 0.0) {
            return Err(TrafficError::InvalidParameter("link needs positive length, vf, w and kj".into()));
        }
        let step = fd.vf * self.dt;
        let cells = ((length_m / step).floor() as usize).max(1);
        let dx = length_m / cells as f64;
        if dx < step * (1.0 - 1e-12) {
            return Err(TrafficError::InvalidParameter(format!("link of {length_m} m is shorter than vf·Δt")));
        }
        let id = self.links.len();
        self.links.push(CtmLink { from, to, first: self.n.len(), cells, dx, fd, source: 0.0, queue: 0.0, exit: 0.0 });
        self.n.extend(std::iter::repeat_n(0.0, cells));
        self.factor.extend(std::iter::repeat_n(1.0, cells));
        self.out_of[from as usize].push(id);
        self.in_of[to as usize].push(id);
        self.link_in.push(0.0);
        self.link_out.push(0.0);
        self.link_exit.push(0.0);
        self.link_entry.push(0.0);
        self.shares_dirty = true;
        Ok(id)
    }

    /// Weight of leaving the network at the downstream end of `link`, on the same scale as the
    /// splits set for that link (e.g. veh/h of trips ending there next to veh/h of turns).
    pub fn set_exit(&mut self, link: usize, weight: f64) {
        if let Some(l) = self.links.get_mut(link) {
            l.exit = weight.max(0.0);
            self.shares_dirty = true;
        }
    }

    /// Demand (veh/s) entering at the upstream end of `link` (queueing outside while it has no room).
    pub fn set_source(&mut self, link: usize, veh_s: f64) {
        if let Some(l) = self.links.get_mut(link) {
            l.source = veh_s.max(0.0) * self.dt;
        }
    }

    /// Share of the flow leaving `from_link` that turns into `to_link` at their common node.
    pub fn set_split(&mut self, from_link: usize, to_link: usize, share: f64) -> Result<(), TrafficError> {
        let (Some(a), Some(b)) = (self.links.get(from_link), self.links.get(to_link)) else {
            return Err(TrafficError::InvalidNetwork("split on an unknown link".into()));
        };
        if a.to != b.from {
            return Err(TrafficError::InvalidNetwork("split between links that do not meet".into()));
        }
        let node = &mut self.splits[a.to as usize];
        node.retain(|(i, o, _)| !(*i == from_link && *o == to_link));
        node.push((from_link, to_link, share.max(0.0)));
        self.shares_dirty = true;
        Ok(())
    }

    /// Scales the capacity of cells `cells` of `link` (0 closes them, 1 restores them).
    pub fn set_capacity_factor(&mut self, link: usize, cells: std::ops::Range<usize>, factor: f64) {
        if let Some(l) = self.links.get(link) {
            let end = cells.end.min(l.cells);
            for c in cells.start.min(end)..end {
                self.factor[l.first + c] = factor.clamp(0.0, 1.0);
            }
        }
    }

    pub fn cell_count(&self) -> usize {
        self.n.len()
    }
    pub fn link_cells(&self, link: usize) -> usize {
        self.links.get(link).map_or(0, |l| l.cells)
    }
    /// Cell length (m) of a link.
    pub fn cell_length(&self, link: usize) -> f64 {
        self.links.get(link).map_or(0.0, |l| l.dx)
    }
    /// Density (veh/m) per cell of a link.
    pub fn densities(&self, link: usize) -> Vec<f64> {
        self.links
            .get(link)
            .map(|l| self.n[l.first..l.first + l.cells].iter().map(|n| n / l.dx).collect())
            .unwrap_or_default()
    }
    /// Vehicles on links now.
    pub fn vehicles(&self) -> f64 {
        self.n.iter().sum()
    }
    /// Vehicles waiting to enter at origins.
    pub fn origin_queues(&self) -> f64 {
        self.links.iter().map(|l| l.queue).sum()
    }
    /// Vehicles waiting to enter `link`.
    pub fn origin_queue(&self, link: usize) -> f64 {
        self.links.get(link).map_or(0.0, |l| l.queue)
    }
    pub fn link_count(&self) -> usize {
        self.links.len()
    }
    /// Length (m) of the cells of `link` whose density is above critical (the queue on it).
    pub fn queue_length(&self, link: usize) -> f64 {
        self.links.get(link).map_or(0.0, |l| {
            let nc = l.fd.kc() * l.dx * (1.0 + 1e-9);
            self.n[l.first..l.first + l.cells].iter().filter(|n| **n > nc).count() as f64 * l.dx
        })
    }

    /// Turn shares per node from the splits and exits: a link with splits or an exit weight
    /// shares by weight; one without shares equally among the outgoing links.
    fn prepare_shares(&mut self) {
        self.shares = (0..self.nodes)
            .map(|node| {
                let (ins, outs) = (&self.in_of[node], &self.out_of[node]);
                let set = &self.splits[node];
                let mut share = vec![0.0; ins.len() * outs.len()];
                let mut exit = vec![0.0; ins.len()];
                for (a, &i) in ins.iter().enumerate() {
                    let weight_of = |o: usize| set.iter().find(|(x, y, _)| *x == i && *y == o).map_or(0.0, |s| s.2);
                    let has_splits = set.iter().any(|(x, _, _)| *x == i);
                    let ex = self.links[i].exit;
                    if has_splits || ex > 0.0 {
                        let total: f64 = set.iter().filter(|(x, _, _)| *x == i).map(|s| s.2).sum::<f64>() + ex;
                        if total > 0.0 {
                            for (b, &o) in outs.iter().enumerate() {
                                share[a * outs.len() + b] = weight_of(o) / total;
                            }
                            exit[a] = ex / total;
                        }
                    } else if !outs.is_empty() {
                        for b in 0..outs.len() {
                            share[a * outs.len() + b] = 1.0 / outs.len() as f64;
                        }
                    }
                }
                NodeShares { share, exit }
            })
            .collect();
        self.shares_dirty = false;
    }

    #[inline]
    fn sending(&self, l: &CtmLink, c: usize) -> f64 {
        let i = l.first + c;
        (self.n[i] * l.fd.vf * self.dt / l.dx).min(l.fd.qmax() * self.dt * self.factor[i])
    }
    #[inline]
    fn receiving(&self, l: &CtmLink, c: usize) -> f64 {
        let i = l.first + c;
        let q = l.fd.qmax() * self.dt * self.factor[i];
        q.min(l.fd.w * self.dt / l.dx * (l.fd.kj * l.dx - self.n[i])).max(0.0)
    }

    /// Flows across every node from the current state into `link_in` / `link_out`.
    fn node_flows(&mut self) {
        if self.shares_dirty {
            self.prepare_shares();
        }
        for v in self.link_in.iter_mut().chain(self.link_out.iter_mut()).chain(self.link_exit.iter_mut()) {
            *v = 0.0;
        }
        let mut sc = std::mem::take(&mut self.scratch);
        for node in 0..self.nodes {
            let (ins, outs) = (&self.in_of[node], &self.out_of[node]);
            if ins.is_empty() {
                continue;
            }
            if outs.is_empty() {
                // A sink: everything that can leave, leaves.
                for &i in ins {
                    let l = &self.links[i];
                    self.link_out[i] = self.sending(l, l.cells - 1);
                    self.link_exit[i] = self.link_out[i];
                }
                continue;
            }
            let NodeShares { share, exit } = &self.shares[node];
            let no = outs.len();
            let share = |a: usize, b: usize| share[a * no + b];
            sc.supply.clear();
            sc.supply.extend(outs.iter().map(|&o| self.receiving(&self.links[o], 0)));
            sc.demand.clear();
            sc.demand.extend(ins.iter().map(|&i| self.sending(&self.links[i], self.links[i].cells - 1)));
            sc.priority.clear();
            sc.priority.extend(ins.iter().map(|&i| self.links[i].fd.qmax()));
            sc.active.clear();
            sc.active.extend(sc.demand.iter().map(|d| *d > 0.0));
            sc.moved.clear();
            sc.moved.resize(ins.len(), 0.0);
            // Incremental: satisfy links whose demand fits their share, hand the rest on.
            for _round in 0..=ins.len() {
                sc.trial.clear();
                sc.trial.resize(ins.len(), 0.0);
                let mut any_full = false;
                for a in 0..ins.len() {
                    if !sc.active[a] {
                        continue;
                    }
                    let mut y = sc.demand[a];
                    for b in 0..no {
                        let beta = share(a, b);
                        if beta <= 0.0 {
                            continue;
                        }
                        let competing: f64 =
                            (0..ins.len()).filter(|&k| sc.active[k] && share(k, b) > 0.0).map(|k| sc.priority[k]).sum();
                        y = y.min(sc.supply[b] * sc.priority[a] / competing / beta);
                    }
                    sc.trial[a] = y;
                    any_full |= y >= sc.demand[a] * (1.0 - 1e-12);
                }
                for a in 0..ins.len() {
                    let take = sc.active[a] && (!any_full || sc.trial[a] >= sc.demand[a] * (1.0 - 1e-12));
                    if !take {
                        continue;
                    }
                    sc.moved[a] += sc.trial[a];
                    sc.demand[a] -= sc.trial[a];
                    sc.active[a] = false;
                    for b in 0..no {
                        sc.supply[b] = (sc.supply[b] - share(a, b) * sc.trial[a]).max(0.0);
                    }
                }
                if !any_full || !sc.active.iter().any(|x| *x) {
                    break;
                }
            }
            for (a, &i) in ins.iter().enumerate() {
                self.link_out[i] = sc.moved[a];
                self.link_exit[i] = exit[a] * sc.moved[a];
                for (b, &o) in outs.iter().enumerate() {
                    self.link_in[o] += share(a, b) * sc.moved[a];
                }
            }
        }
        self.scratch = sc;
        // Trips starting on a link take the supply its node left over.
        for li in 0..self.links.len() {
            let l = &self.links[li];
            self.link_entry[li] = 0.0;
            let want = l.queue + l.source;
            if want > 0.0 {
                let got = want.min((self.receiving(l, 0) - self.link_in[li]).max(0.0));
                self.link_in[li] += got;
                self.link_entry[li] = got;
            }
        }
    }

    /// Advances one time step.
    pub fn step(&mut self) {
        self.node_flows();
        for li in 0..self.links.len() {
            let l = &self.links[li];
            let (first, cells) = (l.first, l.cells);
            let a = l.fd.vf * self.dt / l.dx;
            let b = l.fd.w * self.dt / l.dx;
            let nmax = l.fd.kj * l.dx;
            let q = l.fd.qmax() * self.dt;
            let cell_n = &mut self.n[first..first + cells];
            let factor = &self.factor[first..first + cells];
            let mut inflow = self.link_in[li];
            for c in 0..cells - 1 {
                let send = (cell_n[c] * a).min(q * factor[c]);
                let recv = (q * factor[c + 1]).min(b * (nmax - cell_n[c + 1])).max(0.0);
                let y = send.min(recv);
                cell_n[c] += inflow - y;
                inflow = y;
            }
            cell_n[cells - 1] += inflow - self.link_out[li];
            let l = &mut self.links[li];
            l.queue = (l.queue + l.source - self.link_entry[li]).max(0.0);
            self.entered += self.link_entry[li];
            self.exited += self.link_exit[li];
        }
        self.time_s += self.dt;
        self.steps += 1;
    }
}
