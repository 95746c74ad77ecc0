//! Time series forcings: rainfall (mm/h), point inflows (m³/s) and boundary water levels (m).
//!
//! A [`Series`] is piecewise linear between its points and constant before the first and after
//! the last. The solver integrates it exactly over each time step, so the volume it books is the
//! volume it adds to the grid.

use std::path::Path;

use super::error::FloodError;

/// A piecewise-linear function of time (seconds from the start of the simulation).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    times: Vec<f64>,
    values: Vec<f64>,
    /// Integral from `times[0]` to `times[k]`.
    cumulative: Vec<f64>,
}

impl Series {
    /// A series through `(time_s, value)` points; times must be strictly increasing.
    pub fn new(points: Vec<(f64, f64)>) -> Result<Self, FloodError> {
        if points.is_empty() {
            return Err(FloodError::InvalidSeries("a series needs at least one point".into()));
        }
        if let Some((t, v)) = points.iter().find(|(t, v)| !t.is_finite() || !v.is_finite()) {
            return Err(FloodError::InvalidSeries(format!("non-finite point ({t}, {v})")));
        }
        if let Some(w) = points.windows(2).find(|w| w[1].0 <= w[0].0) {
            return Err(FloodError::InvalidSeries(format!(
                "times must increase strictly, got {} then {}",
                w[0].0, w[1].0
            )));
        }
        let (times, values): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
        let mut cumulative = Vec::with_capacity(times.len());
        let mut acc = 0.0;
        cumulative.push(acc);
        for k in 1..times.len() {
            acc += 0.5 * (values[k] + values[k - 1]) * (times[k] - times[k - 1]);
            cumulative.push(acc);
        }
        Ok(Self { times, values, cumulative })
    }

    /// A series that is `value` at all times.
    pub fn constant(value: f64) -> Result<Self, FloodError> {
        Self::new(vec![(0.0, value)])
    }

    /// The smallest value of the series (the extreme of a piecewise-linear function is at a point).
    pub fn min_value(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Value at time `t`, linearly interpolated.
    pub fn value_at(&self, t: f64) -> f64 {
        let k = self.times.partition_point(|&tk| tk <= t);
        if k == 0 {
            return self.values[0];
        }
        if k == self.times.len() {
            return self.values[k - 1];
        }
        let (t0, t1) = (self.times[k - 1], self.times[k]);
        let (v0, v1) = (self.values[k - 1], self.values[k]);
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// Exact integral of the series over `[t0, t1]`.
    pub fn integral(&self, t0: f64, t1: f64) -> f64 {
        self.antiderivative(t1) - self.antiderivative(t0)
    }

    /// Integral from `times[0]` to `t` (negative before `times[0]`).
    fn antiderivative(&self, t: f64) -> f64 {
        let k = self.times.partition_point(|&tk| tk <= t);
        if k == 0 {
            return self.values[0] * (t - self.times[0]);
        }
        let (tk, vk) = (self.times[k - 1], self.values[k - 1]);
        if k == self.times.len() {
            return self.cumulative[k - 1] + vk * (t - tk);
        }
        let slope = (self.values[k] - vk) / (self.times[k] - tk);
        let s = t - tk;
        self.cumulative[k - 1] + vk * s + 0.5 * slope * s * s
    }

    /// Parses CSV text with a header line and columns `time_s,value`.
    pub fn parse_csv(text: &str) -> Result<Self, FloodError> {
        let err = |line: usize, message: String| FloodError::SeriesParse { line, message };
        let mut points = Vec::new();
        let mut header_seen = false;
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                header_seen = true;
                // The header names the columns; a numeric first line means it is missing.
                if line.split(',').next().is_some_and(|c| c.trim().parse::<f64>().is_ok()) {
                    return Err(err(idx + 1, "expected a header line 'time_s,value'".into()));
                }
                continue;
            }
            let mut cols = line.split(',').map(str::trim);
            let (Some(t), Some(v), None) = (cols.next(), cols.next(), cols.next()) else {
                return Err(err(idx + 1, format!("expected two columns 'time_s,value', got '{line}'")));
            };
            let t: f64 = t.parse().map_err(|_| err(idx + 1, format!("time '{t}' is not a number")))?;
            let v: f64 = v.parse().map_err(|_| err(idx + 1, format!("value '{v}' is not a number")))?;
            if !t.is_finite() || !v.is_finite() {
                return Err(err(idx + 1, "time and value must be finite".into()));
            }
            if let Some(&(prev, _)) = points.last() {
                if t <= prev {
                    return Err(err(idx + 1, format!("time {t} does not increase (previous {prev})")));
                }
            }
            points.push((t, v));
        }
        if points.is_empty() {
            return Err(err(text.lines().count().max(1), "no data rows".into()));
        }
        Self::new(points)
    }

    /// Reads a `time_s,value` CSV file.
    pub fn read_csv(path: &Path) -> Result<Self, FloodError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| FloodError::Io { path: path.display().to_string(), source })?;
        Self::parse_csv(&text)
    }
}

/// A discharge (m³/s) entering the grid at one cell, e.g. a river or culvert hydrograph.
#[derive(Debug, Clone, PartialEq)]
pub struct Inflow {
    pub row: usize,
    pub col: usize,
    pub discharge_m3_s: Series,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn series() -> Series {
        Series::new(vec![(0.0, 0.0), (10.0, 10.0), (20.0, 0.0)]).unwrap()
    }

    #[test]
    fn interpolates_and_extrapolates_flat() {
        let s = series();
        assert_eq!(s.value_at(-5.0), 0.0);
        assert_eq!(s.value_at(5.0), 5.0);
        assert_eq!(s.value_at(15.0), 5.0);
        assert_eq!(s.value_at(50.0), 0.0);
    }

    #[test]
    fn integral_matches_geometry() {
        let s = series();
        // Triangle of base 20 and height 10.
        assert!((s.integral(0.0, 20.0) - 100.0).abs() < 1e-12);
        // 0..5: triangle 5 * 5 / 2; 5..15 straddles the peak: 100 - 2 * 12.5.
        assert!((s.integral(0.0, 5.0) - 12.5).abs() < 1e-12);
        assert!((s.integral(5.0, 15.0) - 75.0).abs() < 1e-12);
        // Constant extrapolation outside the points.
        let c = Series::new(vec![(10.0, 2.0), (20.0, 4.0)]).unwrap();
        assert!((c.integral(0.0, 10.0) - 20.0).abs() < 1e-12);
        assert!((c.integral(20.0, 30.0) - 40.0).abs() < 1e-12);
        // Sum of step integrals equals the whole integral, whatever the steps.
        let whole = s.integral(0.0, 20.0);
        let mut t = 0.0;
        let mut acc = 0.0;
        while t < 20.0 {
            let t1 = (t + 0.37f64).min(20.0);
            acc += s.integral(t, t1);
            t = t1;
        }
        assert!((acc - whole).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_series() {
        assert!(Series::new(vec![]).is_err());
        assert!(Series::new(vec![(0.0, 1.0), (0.0, 2.0)]).is_err());
        assert!(Series::new(vec![(0.0, f64::NAN)]).is_err());
    }

    #[test]
    fn parses_csv_and_reports_lines() {
        let s = Series::parse_csv("time_s,value\n0,0\n3600, 20\n\n7200,0\n").unwrap();
        assert_eq!(s.value_at(1800.0), 10.0);
        let line_of = |text: &str| match Series::parse_csv(text) {
            Err(FloodError::SeriesParse { line, .. }) => line,
            other => panic!("expected a parse error, got {other:?}"),
        };
        assert_eq!(line_of("0,1\n"), 1);
        assert_eq!(line_of("time_s,value\n0,1\n10,x\n"), 3);
        assert_eq!(line_of("time_s,value\n0,1\n10\n"), 3);
        assert_eq!(line_of("time_s,value\n0,1\n0,2\n"), 3);
        assert_eq!(line_of("time_s,value\n"), 1);
        assert_eq!(line_of("time_s,value\n5,1,2\n"), 2);
    }
}
