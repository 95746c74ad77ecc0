//! Keeps depths non-negative without losing volume.
//!
//! After the continuity sweep a few cells may end below zero: their planned outflow exceeded the
//! water they hold. Each such cell has all of its outflows scaled by `h / outflow`, so it sends
//! exactly what it holds; its downstream neighbours are recomputed, and any that now go negative
//! (they lost part of their inflow) are treated the same way in the next round. Cells are handled
//! in ascending index order on one thread, so the result does not depend on the thread count,
//! and the work is proportional to the number of affected cells, not to the grid.

use super::sweep::StepConstants;

/// Mark: the cell's outflows have been scaled this step.
const LIMITED: u8 = 1;
/// Mark: the cell is queued for recomputation in the current round.
const QUEUED: u8 = 2;

/// The grids the limiter reads and corrects.
pub(crate) struct LimiterState<'a> {
    pub ncols: usize,
    pub h: &'a [f64],
    pub h_next: &'a mut [f64],
    pub qx: &'a mut [f64],
    pub qy: &'a mut [f64],
    pub active: &'a [bool],
    /// Scratch marks, one per cell, all zero on entry and on return.
    pub marks: &'a mut [u8],
}

/// New depth of one cell from its four faces (the same arithmetic as the continuity sweep).
#[inline(always)]
pub(crate) fn cell_depth(h: f64, qw: f64, qe: f64, qn: f64, qs: f64, rain: f64, k: &StepConstants) -> f64 {
    h + k.dt * k.inv_dx * ((qw - qe) + (qn - qs)) + rain
}

/// A cell by row and column (kept together to avoid dividing indices in the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cell {
    pub row: usize,
    pub col: usize,
}

impl LimiterState<'_> {
    /// Corrects the cells listed in `negative` and returns the largest depth it set.
    ///
    /// Within a round the order of cells does not matter: a face is only ever scaled by the one
    /// cell it draws from, and recomputing a depth reads only that cell's faces.
    pub(crate) fn run(&mut self, mut negative: Vec<Cell>, k: &StepConstants) -> f64 {
        let nc = self.ncols;
        let mut touched = Vec::new();
        let mut recompute = Vec::new();
        let mut h_max: f64 = 0.0;
        while !negative.is_empty() {
            for &cell in &negative {
                let i = cell.row * nc + cell.col;
                let faces = self.faces(cell);
                self.scale_outflows(i, faces, k);
                self.marks[i] |= LIMITED;
                touched.push(i);
                for next in std::iter::once(cell).chain(self.downstream(cell, faces)) {
                    let j = next.row * nc + next.col;
                    if self.marks[j] & QUEUED == 0 {
                        self.marks[j] |= QUEUED;
                        recompute.push(next);
                    }
                }
            }
            negative.clear();
            for cell in recompute.drain(..) {
                let j = cell.row * nc + cell.col;
                self.marks[j] &= !QUEUED;
                let v = self.recompute(j, self.faces(cell), k);
                if self.marks[j] & LIMITED != 0 {
                    // Its outflow is at most what it holds: only round-off can make it negative.
                    self.h_next[j] = v.max(0.0);
                    h_max = h_max.max(self.h_next[j]);
                } else {
                    self.h_next[j] = v;
                    h_max = h_max.max(v);
                    if v < 0.0 {
                        negative.push(cell);
                    }
                }
            }
        }
        for i in touched {
            self.marks[i] = 0;
        }
        h_max
    }

    /// Indices of the west, east, north and south faces of a cell.
    fn faces(&self, cell: Cell) -> [usize; 4] {
        let west = cell.row * (self.ncols + 1) + cell.col;
        let north = cell.row * self.ncols + cell.col;
        [west, west + 1, north, north + self.ncols]
    }

    /// Scales every outflow of cell `i` so that together they carry at most its water.
    fn scale_outflows(&mut self, i: usize, [w, e, n, s]: [usize; 4], k: &StepConstants) {
        let out = k.dt
            * k.inv_dx
            * (self.qx[e].max(0.0) + (-self.qx[w]).max(0.0) + self.qy[s].max(0.0) + (-self.qy[n]).max(0.0));
        if out <= self.h[i] {
            return;
        }
        let f = self.h[i] / out;
        if self.qx[e] > 0.0 {
            self.qx[e] *= f;
        }
        if self.qx[w] < 0.0 {
            self.qx[w] *= f;
        }
        if self.qy[s] > 0.0 {
            self.qy[s] *= f;
        }
        if self.qy[n] < 0.0 {
            self.qy[n] *= f;
        }
    }

    /// Cells inside the grid that receive water from `cell`.
    fn downstream(&self, cell: Cell, [w, e, n, s]: [usize; 4]) -> impl Iterator<Item = Cell> {
        let nr = self.h.len() / self.ncols;
        let Cell { row, col } = cell;
        [
            (self.qx[e] > 0.0 && col + 1 < self.ncols).then(|| Cell { row, col: col + 1 }),
            (self.qx[w] < 0.0 && col > 0).then(|| Cell { row, col: col - 1 }),
            (self.qy[s] > 0.0 && row + 1 < nr).then(|| Cell { row: row + 1, col }),
            (self.qy[n] < 0.0 && row > 0).then(|| Cell { row: row - 1, col }),
        ]
        .into_iter()
        .flatten()
    }

    fn recompute(&self, j: usize, [w, e, n, s]: [usize; 4], k: &StepConstants) -> f64 {
        let rain = if self.active[j] { k.rain } else { 0.0 };
        cell_depth(self.h[j], self.qx[w], self.qx[e], self.qy[n], self.qy[s], rain, k)
    }
}
