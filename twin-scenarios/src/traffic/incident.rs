//! Incidents and closures on the real network: a cell transmission model fed by the user
//! equilibrium.
//!
//! Every network link becomes a CTM link with its free-flow speed and capacity and a jam density
//! per lane. Trips enter where their equilibrium paths start (origin queues when there is no room),
//! turn by the equilibrium's turning movements and leave where their paths end, all at the
//! peak-hour rates of the assignment. The turning fractions stay those of the equilibrium before
//! the incident: drivers do not divert en route, so a closure's queue grows and spills back over
//! the junctions upstream until the road reopens, and then clears by the recovery wave.
//!
//! A run is: warm-up (the empty network fills), the incident (capacity of the chosen links scaled
//! by `capacity_factor`, 0 closes them) and recovery after reopening, measured against the same
//! model run on without the incident.
//!
//! Links shorter than one free-flow step `vf Δt` are modelled as one cell at the speed `L / Δt`
//! (capacity kept), and the backward wave speed comes from capacity and jam density, capped at the
//! free-flow speed (raising the jam density where it must) so every cell obeys the CFL condition.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::assignment::Assignment;
use super::ctm::{Ctm, Triangular};
use super::error::TrafficError;
use super::network::Network;

/// Parameters of an incident run.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentConfig {
    /// Time step (s).
    pub dt_s: f64,
    /// Jam density per lane (veh/m); 0.14 is one car per ~7 m.
    pub jam_density_veh_m_lane: f64,
    /// Time before the incident, to fill the network (s).
    pub warmup_s: f64,
    /// How long the incident lasts (s).
    pub incident_s: f64,
    /// Time simulated after reopening (s).
    pub recovery_s: f64,
    /// Capacity share left on the incident links (0 = closed).
    pub capacity_factor: f64,
    /// Interval of the timeline samples (s).
    pub sample_every_s: f64,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            dt_s: 1.0,
            jam_density_veh_m_lane: 0.14,
            warmup_s: 900.0,
            incident_s: 1200.0,
            recovery_s: 1800.0,
            capacity_factor: 0.0,
            sample_every_s: 60.0,
        }
    }
}

/// The state of the network at one time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IncidentSample {
    pub t_s: f64,
    /// Vehicles on the links.
    pub vehicles: f64,
    /// Vehicles waiting to enter at their origins.
    pub origin_queue_veh: f64,
    /// Total length of congested cells (density above critical), km.
    pub queue_km: f64,
    /// The same in the run without the incident (equal to `queue_km` before it).
    pub baseline_queue_km: f64,
    /// Vehicles on links and in origin queues beyond the run without the incident.
    pub extra_vehicles: f64,
}

/// Queue on one link.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinkQueue {
    pub link: u32,
    pub edge: Option<u32>,
    pub length_m: f64,
    /// Longest congested length over the same period without the incident (m).
    pub baseline_queue_m: f64,
    /// Longest congested length during the incident and recovery (m).
    pub max_queue_m: f64,
    /// One of the incident links.
    pub incident: bool,
}

/// Outcome of an incident run.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentResult {
    pub timeline: Vec<IncidentSample>,
    /// Links whose longest queue beat that of the run without the incident by at least one cell
    /// (incident links included).
    pub queued_links: Vec<LinkQueue>,
    /// Links upstream of the incident (not incident links) whose queue grew by a cell or more.
    pub spillback_links: usize,
    /// Total queue (km) when it exceeded the run without the incident the most, and when (s).
    pub max_queue_km: f64,
    pub max_queue_at_s: f64,
    /// Seconds after reopening until the total queue stays within 10 % (or 50 m) of the run
    /// without the incident; `None` if it did not within `recovery_s`.
    pub recovered_after_s: Option<f64>,
    /// Vehicle-hours on the links and in origin queues beyond the run without the incident.
    pub extra_vehicle_hours: f64,
    pub entered_veh: f64,
    pub exited_veh: f64,
    pub cells: usize,
    pub steps: u64,
    pub cell_updates_per_s: f64,
}

/// Progress: share of the simulated time done (0–1).
pub type IncidentProgress = f64;

/// Triangular diagram of a link: `(free speed used, diagram)` for time step `dt`.
fn link_diagram(length_m: f64, speed_kmh: f64, capacity_veh_h: f64, lanes: u32, kj_lane: f64, dt: f64) -> Triangular {
    let q = (capacity_veh_h / 3600.0).max(1e-6);
    let mut vf = (speed_kmh / 3.6).max(1.0);
    let length = length_m.max(0.5);
    if length < vf * dt {
        vf = length / dt;
    }
    let mut kj = kj_lane * f64::from(lanes.max(1));
    let w = if kj * vf > q * 1.01 { q * vf / (kj * vf - q) } else { f64::INFINITY };
    let w = if w > vf {
        // Keep the capacity with w = vf: the jam density this needs.
        kj = 2.0 * q / vf;
        vf
    } else {
        w
    };
    Triangular { vf, w, kj }
}

/// Builds the CTM of `net` loaded by `eq`; returns it with the CTM link of each network link.
pub fn network_ctm(net: &Network, eq: &Assignment, cfg: &IncidentConfig) -> Result<Ctm, TrafficError> {
    if eq.link_flows.len() != net.link_count() || eq.entry_flows.len() != net.link_count() {
        return Err(TrafficError::InvalidNetwork("assignment does not belong to this network".into()));
    }
    if cfg.jam_density_veh_m_lane.is_nan() || cfg.jam_density_veh_m_lane <= 0.0 {
        return Err(TrafficError::InvalidParameter("jam density must be positive".into()));
    }
    let mut ctm = Ctm::new(cfg.dt_s, net.node_count())?;
    for l in net.links() {
        let fd = link_diagram(l.length_m, l.speed_kmh, l.capacity_veh_h, l.lanes, cfg.jam_density_veh_m_lane, cfg.dt_s);
        ctm.add_link(l.from, l.to, l.length_m.max(fd.vf * cfg.dt_s), fd)?;
    }
    for ((a, b), f) in &eq.turn_flows {
        ctm.set_split(*a as usize, *b as usize, *f)?;
    }
    for (l, f) in eq.exit_flows.iter().enumerate() {
        ctm.set_exit(l, *f);
    }
    for (l, f) in eq.entry_flows.iter().enumerate() {
        ctm.set_source(l, f / 3600.0);
    }
    for l in 0..net.link_count() {
        if net.is_closed(l as u32) {
            ctm.set_capacity_factor(l, 0..usize::MAX, 0.0);
        }
    }
    Ok(ctm)
}

fn total_queue_m(ctm: &Ctm) -> f64 {
    (0..ctm.link_count()).map(|l| ctm.queue_length(l)).sum()
}

/// Runs warm-up, incident on `links` and recovery on the network loaded by `eq`. From the end of
/// the warm-up a copy of the model runs alongside without the incident, and every figure of the
/// incident is measured against it at the same time (an equilibrium loaded with BPR costs may
/// have links over capacity that queue anyway).
pub fn run_incident(
    net: &Network,
    eq: &Assignment,
    links: &[u32],
    cfg: &IncidentConfig,
    mut progress: impl FnMut(IncidentProgress),
    cancel: &AtomicBool,
) -> Result<IncidentResult, TrafficError> {
    if let Some(bad) = links.iter().find(|l| **l as usize >= net.link_count()) {
        return Err(TrafficError::InvalidNetwork(format!("no link {bad}")));
    }
    let times = [cfg.warmup_s, cfg.incident_s, cfg.recovery_s, cfg.sample_every_s];
    if times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) || cfg.sample_every_s <= 0.0 {
        return Err(TrafficError::InvalidParameter("durations must be finite and not negative".into()));
    }
    let mut ctm = network_ctm(net, eq, cfg)?;
    let dt = cfg.dt_s;
    let steps_of = |s: f64| (s / dt).round() as u64;
    let (warm, inc, rec) = (steps_of(cfg.warmup_s), steps_of(cfg.incident_s), steps_of(cfg.recovery_s));
    let total = warm + inc + rec;
    let every = steps_of(cfg.sample_every_s).max(1);
    let sample = |ctm: &Ctm, base: Option<&Ctm>| {
        let queue_km = total_queue_m(ctm) / 1000.0;
        let held = |m: &Ctm| m.vehicles() + m.origin_queues();
        IncidentSample {
            t_s: ctm.time_s,
            vehicles: ctm.vehicles(),
            origin_queue_veh: ctm.origin_queues(),
            queue_km,
            baseline_queue_km: base.map_or(queue_km, |b| total_queue_m(b) / 1000.0),
            extra_vehicles: base.map_or(0.0, |b| held(ctm) - held(b)),
        }
    };
    let started = Instant::now();
    let mut timeline = vec![sample(&ctm, None)];
    let check_cancel = |step: u64| {
        if step.is_multiple_of(256) && cancel.load(Ordering::Relaxed) {
            Err(TrafficError::Cancelled { iterations: step as usize })
        } else {
            Ok(())
        }
    };
    for step in 1..=warm {
        check_cancel(step)?;
        ctm.step();
        if step % every == 0 {
            timeline.push(sample(&ctm, None));
            progress(step as f64 / total.max(1) as f64);
        }
    }
    let mut base = ctm.clone();
    let m = ctm.link_count();
    let mut max_q: Vec<f64> = (0..m).map(|l| ctm.queue_length(l)).collect();
    let mut base_max_q = max_q.clone();
    for &l in links {
        ctm.set_capacity_factor(l as usize, 0..usize::MAX, cfg.capacity_factor);
    }
    let mut extra_veh_s = 0.0;
    let (mut max_extra_m, mut max_queue_m, mut max_queue_at) = (0.0, 0.0, 0.0);
    let mut recovered_at: Option<f64> = None;
    let reopen = warm + inc;
    for step in warm + 1..=total {
        check_cancel(step)?;
        if step == reopen + 1 {
            for &l in links {
                let f = if net.is_closed(l) { 0.0 } else { 1.0 };
                ctm.set_capacity_factor(l as usize, 0..usize::MAX, f);
            }
        }
        ctm.step();
        base.step();
        extra_veh_s += (ctm.vehicles() + ctm.origin_queues() - base.vehicles() - base.origin_queues()) * dt;
        let (mut queue_m, mut base_m) = (0.0, 0.0);
        for l in 0..m {
            let (q, b) = (ctm.queue_length(l), base.queue_length(l));
            queue_m += q;
            base_m += b;
            max_q[l] = max_q[l].max(q);
            base_max_q[l] = base_max_q[l].max(b);
        }
        if queue_m - base_m > max_extra_m {
            (max_extra_m, max_queue_m, max_queue_at) = (queue_m - base_m, queue_m, ctm.time_s);
        }
        if step > reopen {
            let back = (queue_m - base_m).abs() <= 0.1 * base_m + 50.0;
            match (back, recovered_at) {
                (true, None) => recovered_at = Some(ctm.time_s - reopen as f64 * dt),
                (false, Some(_)) => recovered_at = None,
                _ => {}
            }
        }
        if step % every == 0 || step == total {
            timeline.push(sample(&ctm, Some(&base)));
            progress(step as f64 / total.max(1) as f64);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let mut queued_links = Vec::new();
    for l in 0..m {
        let cell = ctm.cell_length(l);
        if max_q[l] >= base_max_q[l] + cell * 0.999 {
            let link = net.link(l as u32);
            queued_links.push(LinkQueue {
                link: l as u32,
                edge: link.edge.map(|e| e.0),
                length_m: link.length_m,
                baseline_queue_m: base_max_q[l],
                max_queue_m: max_q[l],
                incident: links.contains(&(l as u32)),
            });
        }
    }
    let spillback_links = queued_links.iter().filter(|q| !q.incident).count();
    // Both models step after the warm-up: count their cells once per step each.
    let updates = ctm.cell_count() as f64 * (ctm.steps + base.steps - warm) as f64;
    Ok(IncidentResult {
        timeline,
        queued_links,
        spillback_links,
        max_queue_km: max_queue_m / 1000.0,
        max_queue_at_s: max_queue_at,
        recovered_after_s: recovered_at,
        extra_vehicle_hours: extra_veh_s / 3600.0,
        entered_veh: ctm.entered,
        exited_veh: ctm.exited,
        cells: ctm.cell_count(),
        steps: ctm.steps,
        cell_updates_per_s: if secs > 0.0 { updates / secs } else { 0.0 },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn diagrams_keep_capacity_and_obey_the_cfl_condition() {
        for (len, kmh, cap, lanes) in [(200.0, 50.0, 1400.0, 1), (5.0, 50.0, 1400.0, 1), (1.0, 30.0, 3200.0, 2)] {
            let fd = link_diagram(len, kmh, cap, lanes, 0.14, 1.0);
            assert!((fd.qmax() * 3600.0 - cap).abs() < 1e-6 * cap, "{fd:?}");
            assert!(fd.w <= fd.vf + 1e-12);
            assert!(fd.vf * 1.0 <= len.max(0.5) + 1e-9);
        }
    }
}
