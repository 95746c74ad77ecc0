//! The real hourly series the demo sensors replay, and the flood bucket model driven by rain.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    #[error("cannot read series {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("series {path}, line {line}: {reason}")]
    Line { path: String, line: usize, reason: String },
    #[error("series {path} has no usable values")]
    Empty { path: String },
}

/// One hourly value with the series' own timestamp text (kept for labelling replays).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub time: String,
    pub value: f64,
}

fn read(path: &Path) -> Result<String, SeriesError> {
    std::fs::read_to_string(path)
        .map_err(|e| SeriesError::Read { path: path.display().to_string(), reason: e.to_string() })
}

/// KNMI hourly precipitation (`time,RH` with RH in metres per hour), as mm/h.
pub fn parse_rain_csv(path: &Path, text: &str) -> Result<Vec<Sample>, SeriesError> {
    let p = path.display().to_string();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let (time, value) = line.split_once(',').ok_or_else(|| SeriesError::Line {
            path: p.clone(),
            line: i + 1,
            reason: "expected time,value".into(),
        })?;
        let m_per_h: f64 = value.trim().parse().map_err(|_| SeriesError::Line {
            path: p.clone(),
            line: i + 1,
            reason: format!("{value:?} is not a number"),
        })?;
        // KNMI reports 0.1 mm steps (round away float noise from the unit change) and small
        // negative values for "less than 0.05 mm": treat those as dry.
        let mm = (m_per_h * 10_000.0).round() / 10.0;
        out.push(Sample { time: time.to_owned(), value: mm.max(0.0) });
    }
    if out.is_empty() {
        return Err(SeriesError::Empty { path: p });
    }
    Ok(out)
}

/// US Embassy Hanoi hourly PM2.5 (AirNow CSV): `Date (LT)` and `Raw Conc.` in µg/m³. Rows with −999
/// (missing) or another negative value (4 instrument artefacts in 2018) are skipped, so the replay
/// steps over the gaps.
pub fn parse_pm25_csv(path: &Path, text: &str) -> Result<Vec<Sample>, SeriesError> {
    let p = path.display().to_string();
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let col = |name: &str| header.split(',').position(|c| c.trim() == name);
    let (Some(time_col), Some(value_col)) = (col("Date (LT)"), col("Raw Conc.")) else {
        return Err(SeriesError::Line { path: p, line: 1, reason: "missing Date (LT) or Raw Conc. column".into() });
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        let (Some(time), Some(raw)) = (cells.get(time_col), cells.get(value_col)) else {
            return Err(SeriesError::Line { path: p, line: i + 1, reason: "too few columns".into() });
        };
        let value: f64 = raw.trim().parse().map_err(|_| SeriesError::Line {
            path: p.clone(),
            line: i + 1,
            reason: format!("{raw:?} is not a number"),
        })?;
        if value >= 0.0 {
            out.push(Sample { time: format!("{time} (UTC+7)"), value });
        }
    }
    if out.is_empty() {
        return Err(SeriesError::Empty { path: p });
    }
    Ok(out)
}

pub fn load_rain(path: &Path) -> Result<Vec<Sample>, SeriesError> {
    parse_rain_csv(path, &read(path)?)
}

pub fn load_pm25(path: &Path) -> Result<Vec<Sample>, SeriesError> {
    parse_pm25_csv(path, &read(path)?)
}

/// A linear-reservoir ("bucket") model of water standing at a low point of a street.
///
/// Each hour the point receives the runoff of its catchment: `rain × runoff coefficient × catchment
/// ratio` (the catchment's area over the ponding area), and the drains remove up to `drain_mm_h`.
/// Depth is the stored water. Deliberately simple: it turns a real rain series into plausible
/// ponding depths for alert demos; it is not a hydraulic model.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub runoff_coefficient: f64,
    pub catchment_ratio: f64,
    pub drain_mm_h: f64,
}

impl Bucket {
    /// Depth in metres at the end of every hour of `rain_mm_h`. The series is run twice and the
    /// second pass kept, so the replay wraps around without a jump to an empty bucket.
    pub fn depths_m(&self, rain_mm_h: &[f64]) -> Vec<f64> {
        let mut depth_mm = 0.0_f64;
        let mut out = vec![0.0; rain_mm_h.len()];
        for pass in 0..2 {
            for (i, r) in rain_mm_h.iter().enumerate() {
                depth_mm = (depth_mm + r * self.runoff_coefficient * self.catchment_ratio - self.drain_mm_h).max(0.0);
                if pass == 1 {
                    out[i] = depth_mm / 1000.0;
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn rain_is_converted_to_mm_per_hour() {
        let s =
            parse_rain_csv(Path::new("x.csv"), ",RH\n2019-01-01 01:00:00,0.0\n2019-01-01 02:00:00,0.0021\n").unwrap();
        assert_eq!(s.len(), 2);
        assert!((s[1].value - 2.1).abs() < 1e-9);
        assert_eq!(s[1].time, "2019-01-01 02:00:00");
        let err = parse_rain_csv(Path::new("x.csv"), ",RH\n2019,abc\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn pm25_skips_missing_values() {
        let csv = "Site,Parameter,Date (LT),Year,Month,Day,Hour,NowCast Conc.,AQI,AQI Category,Raw Conc.,Conc. Unit,Duration,QC Name\n\
            Hanoi,PM2.5 - Principal,2018-01-01 01:00 AM,2018,01,01,01,68.9,158,Unhealthy,69.2,UG/M3,1 Hr,Valid\n\
            Hanoi,PM2.5 - Principal,2018-01-01 02:00 AM,2018,01,01,02,-999.0,-999,N/A,-999.0,UG/M3,1 Hr,Missing\n\
            Hanoi,PM2.5 - Principal,2018-01-01 03:00 AM,2018,01,01,03,81.2,164,Unhealthy,90.2,UG/M3,1 Hr,Valid\n";
        let s = parse_pm25_csv(Path::new("x.csv"), csv).unwrap();
        assert_eq!(s.iter().map(|s| s.value).collect::<Vec<_>>(), vec![69.2, 90.2]);
    }

    #[test]
    fn bucket_fills_with_rain_and_drains() {
        let b = Bucket { runoff_coefficient: 0.8, catchment_ratio: 10.0, drain_mm_h: 10.0 };
        let d = b.depths_m(&[
            0.0, 10.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ]);
        assert!((d[1] - 0.070).abs() < 1e-12, "80 mm in, 10 mm out: {}", d[1]);
        assert!((d[2] - 0.140).abs() < 1e-12);
        assert!((d[3] - 0.130).abs() < 1e-12);
        assert_eq!(d[19], 0.0);
    }
}
