//! Live travel costs over a fixed network: measured speeds and closures, applied per query without
//! rebuilding anything.

use twin_layers::roads::EdgeId;

use crate::network::{Dispatcher, MAX_SPEED_KMH, MIN_SPEED_KMH};
use crate::DispatchError;

/// Travel seconds of every edge under current conditions. Dense (one entry per directed edge), so
/// the search reads a cost with one load; memory is bounded by the network's size.
///
/// Start from [`Dispatcher::free_flow`], then [`set_speed`](Self::set_speed) for edges measured by
/// cameras or buses and [`close`](Self::close) for edges a flood scenario (or an incident) blocks.
#[derive(Debug, Clone)]
pub struct EdgeCosts {
    network: u64,
    length_m: Vec<f64>,
    base_kmh: Vec<f64>,
    speed_kmh: Vec<f64>,
    closed: Vec<bool>,
    time_s: Vec<f64>,
    overrides: usize,
    closures: usize,
}

fn seconds(length_m: f64, kmh: f64) -> f64 {
    length_m / (kmh / 3.6)
}

impl EdgeCosts {
    pub(crate) fn new(net: &Dispatcher) -> Self {
        let time_s = net.length_m.iter().zip(&net.base_kmh).map(|(l, v)| seconds(*l, *v)).collect();
        Self {
            network: net.id,
            length_m: net.length_m.clone(),
            base_kmh: net.base_kmh.clone(),
            speed_kmh: net.base_kmh.clone(),
            closed: vec![false; net.length_m.len()],
            time_s,
            overrides: 0,
            closures: 0,
        }
    }

    pub(crate) fn check(&self, net: &Dispatcher) -> Result<(), DispatchError> {
        if self.network == net.id {
            Ok(())
        } else {
            Err(DispatchError::CostsMismatch)
        }
    }

    fn index(&self, e: EdgeId) -> Result<usize, DispatchError> {
        let i = e.0 as usize;
        if i < self.time_s.len() {
            Ok(i)
        } else {
            Err(DispatchError::UnknownEdge(e.0))
        }
    }

    /// A measured speed for one directed edge, km/h, within [`MIN_SPEED_KMH`]..=[`MAX_SPEED_KMH`].
    /// A stopped road is a closure, not a speed of 0.
    pub fn set_speed(&mut self, e: EdgeId, kmh: f64) -> Result<(), DispatchError> {
        let i = self.index(e)?;
        if !(MIN_SPEED_KMH..=MAX_SPEED_KMH).contains(&kmh) {
            return Err(DispatchError::BadSpeed { edge: e.0, kmh });
        }
        if self.speed_kmh[i] == self.base_kmh[i] {
            self.overrides += 1;
        }
        self.speed_kmh[i] = kmh;
        if self.speed_kmh[i] == self.base_kmh[i] {
            self.overrides -= 1;
        }
        self.refresh(i);
        Ok(())
    }

    /// Back to the mapped free-flow speed.
    pub fn clear_speed(&mut self, e: EdgeId) -> Result<(), DispatchError> {
        let i = self.index(e)?;
        if self.speed_kmh[i] != self.base_kmh[i] {
            self.overrides -= 1;
        }
        self.speed_kmh[i] = self.base_kmh[i];
        self.refresh(i);
        Ok(())
    }

    /// Closes one directed edge (close its [`Dispatcher::twin`] too for a whole road).
    pub fn close(&mut self, e: EdgeId) -> Result<(), DispatchError> {
        let i = self.index(e)?;
        if !self.closed[i] {
            self.closures += 1;
        }
        self.closed[i] = true;
        self.refresh(i);
        Ok(())
    }

    pub fn reopen(&mut self, e: EdgeId) -> Result<(), DispatchError> {
        let i = self.index(e)?;
        if self.closed[i] {
            self.closures -= 1;
        }
        self.closed[i] = false;
        self.refresh(i);
        Ok(())
    }

    fn refresh(&mut self, i: usize) {
        self.time_s[i] = if self.closed[i] { f64::INFINITY } else { seconds(self.length_m[i], self.speed_kmh[i]) };
    }

    /// Current travel seconds of an edge; `None` when closed or unknown.
    pub fn time_s(&self, e: EdgeId) -> Option<f64> {
        self.time_s.get(e.0 as usize).copied().filter(|t| t.is_finite())
    }

    /// The speed in force on an edge, km/h (measured or mapped).
    pub fn speed_kmh(&self, e: EdgeId) -> Option<f64> {
        self.speed_kmh.get(e.0 as usize).copied()
    }

    pub fn is_closed(&self, e: EdgeId) -> bool {
        self.closed.get(e.0 as usize).copied().unwrap_or(false)
    }

    /// Edges with a measured speed different from the mapped one.
    pub fn override_count(&self) -> usize {
        self.overrides
    }

    pub fn closed_count(&self) -> usize {
        self.closures
    }

    pub(crate) fn is_open(&self, e: u32) -> bool {
        self.time_s.get(e as usize).is_some_and(|t| t.is_finite())
    }

    /// Seconds of a directed edge for the search: infinite when closed.
    #[inline]
    pub(crate) fn raw(&self, e: u32) -> f64 {
        self.time_s.get(e as usize).copied().unwrap_or(f64::INFINITY)
    }
}
