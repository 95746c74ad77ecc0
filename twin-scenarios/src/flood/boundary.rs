//! Boundary conditions on the four edges of the grid.
//!
//! Each boundary face gets an outward discharge per unit width (m²/s) from the rule of its edge.
//! Cells marked NODATA inside the grid are walls and always closed.

use super::error::FloodError;
use super::forcing::Series;
use super::setup::SetupError;
use super::sweep::{inv_pow_7_3, StepConstants};

/// What happens at one edge of the domain.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Boundary {
    /// No flow through the edge.
    #[default]
    Closed,
    /// Water leaves freely; it never enters.
    ///
    /// With `slope: Some(S)` the outward water-surface slope is S, so the outflow tends to the
    /// Manning normal-depth discharge for slope S. With `slope: None` the outflow is critical,
    /// `q = h √(g h)`.
    FreeOutflow { slope: Option<f64> },
    /// Water level (m, same datum as the DEM) in a ghost cell one cell width outside the edge,
    /// e.g. the sea with a tide series. Flow goes in or out, driven by the level difference.
    Level(Series),
}

impl std::str::FromStr for Boundary {
    type Err = FloodError;

    /// Parses the command-line forms `closed`, `open` (critical free outflow), `open:S` (free
    /// outflow at water-surface slope S) and `level:Z` (fixed water level Z).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || FloodError::InvalidSetup(format!("boundary '{s}': expected closed, open, open:SLOPE or level:Z"));
        let number = |v: &str| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(bad);
        match s.trim().split_once(':') {
            None if s.trim().eq_ignore_ascii_case("closed") => Ok(Self::Closed),
            None if s.trim().eq_ignore_ascii_case("open") => Ok(Self::FreeOutflow { slope: None }),
            Some((k, v)) if k.eq_ignore_ascii_case("open") => {
                let slope = number(v)?;
                if slope <= 0.0 {
                    return Err(bad());
                }
                Ok(Self::FreeOutflow { slope: Some(slope) })
            }
            Some((k, v)) if k.eq_ignore_ascii_case("level") => Ok(Self::Level(Series::constant(number(v)?)?)),
            _ => Err(bad()),
        }
    }
}

/// The boundary of each edge. North is row 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Boundaries {
    pub north: Boundary,
    pub south: Boundary,
    pub east: Boundary,
    pub west: Boundary,
}

impl Boundaries {
    /// The same rule on all four edges.
    pub fn all(rule: Boundary) -> Self {
        Self { north: rule.clone(), south: rule.clone(), east: rule.clone(), west: rule }
    }

    /// Rules with levels evaluated at time `t` (north, south, east, west).
    pub(crate) fn at(&self, t: f64) -> [EdgeRule; 4] {
        [&self.north, &self.south, &self.east, &self.west].map(|b| EdgeRule::from_boundary(b, t))
    }

    /// Checks parameters that would make the solver misbehave.
    pub(crate) fn validate(&self) -> Result<(), SetupError> {
        for b in [&self.north, &self.south, &self.east, &self.west] {
            if let Boundary::FreeOutflow { slope: Some(s) } = b {
                if !(s.is_finite() && *s > 0.0) {
                    return Err(SetupError::OutflowSlope(*s));
                }
            }
        }
        Ok(())
    }
}

/// A boundary rule for one time step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EdgeRule {
    Closed,
    Slope(f64),
    Critical,
    Level(f64),
}

impl EdgeRule {
    fn from_boundary(b: &Boundary, t: f64) -> Self {
        match b {
            Boundary::Closed => Self::Closed,
            Boundary::FreeOutflow { slope: Some(s) } => Self::Slope(*s),
            Boundary::FreeOutflow { slope: None } => Self::Critical,
            Boundary::Level(series) => Self::Level(series.value_at(t)),
        }
    }

    /// Outward discharge per unit width through a boundary face of a cell with bed `z` and
    /// depth `h`; `q_old` is the previous outward discharge and `gn2` is g n² of the cell.
    /// Uses the same semi-implicit friction as interior faces.
    #[inline]
    pub(crate) fn outward_flux(self, h: f64, z: f64, q_old: f64, gn2: f64, k: &StepConstants) -> f64 {
        match self {
            Self::Closed => 0.0,
            Self::Critical => {
                if h > k.h_min {
                    h * (k.g * h).sqrt()
                } else {
                    0.0
                }
            }
            Self::Slope(s) => {
                if h <= k.h_min {
                    return 0.0;
                }
                let q = (q_old + k.g * k.dt * h * s) / (1.0 + k.dt * gn2 * q_old.abs() * inv_pow_7_3(h));
                q.max(0.0)
            }
            Self::Level(level) => {
                // A ghost below the bed drains the cell as if the ghost were dry at the cell's bed.
                let eta_ghost = level.max(z);
                let eta = z + h;
                let hf = eta.max(eta_ghost) - z;
                if hf <= k.h_min {
                    return 0.0;
                }
                (q_old - k.g * k.dt * hf * (eta_ghost - eta) * k.inv_dx)
                    / (1.0 + k.dt * gn2 * q_old.abs() * inv_pow_7_3(hf))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_command_line_forms() {
        assert_eq!("closed".parse::<Boundary>().ok(), Some(Boundary::Closed));
        assert_eq!("open".parse::<Boundary>().ok(), Some(Boundary::FreeOutflow { slope: None }));
        assert_eq!("open:0.002".parse::<Boundary>().ok(), Some(Boundary::FreeOutflow { slope: Some(0.002) }));
        match "level:1.5".parse::<Boundary>() {
            Ok(Boundary::Level(series)) => assert_eq!(series.value_at(1e6), 1.5),
            other => panic!("{other:?}"),
        }
        for bad in ["", "level", "level:x", "open:-1", "tide:2"] {
            assert!(bad.parse::<Boundary>().is_err(), "{bad}");
        }
    }
}
