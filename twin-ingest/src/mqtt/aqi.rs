//! Vietnamese AQI (VN_AQI) for PM2.5, by Decision 1459/QĐ-TCMT (2019).

/// A VN_AQI band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VnAqiCategory {
    Good,
    Moderate,
    Poor,
    Bad,
    VeryBad,
    Hazardous,
}

impl VnAqiCategory {
    /// Vietnamese label with the English word, as shown to operators.
    pub fn label(self) -> &'static str {
        match self {
            Self::Good => "Tốt (good)",
            Self::Moderate => "Trung bình (moderate)",
            Self::Poor => "Kém (poor)",
            Self::Bad => "Xấu (bad)",
            Self::VeryBad => "Rất xấu (very bad)",
            Self::Hazardous => "Nguy hại (hazardous)",
        }
    }

    fn of(aqi: u32) -> Self {
        match aqi {
            0..=50 => Self::Good,
            51..=100 => Self::Moderate,
            101..=150 => Self::Poor,
            151..=200 => Self::Bad,
            201..=300 => Self::VeryBad,
            _ => Self::Hazardous,
        }
    }
}

/// PM2.5 breakpoints (µg/m³) and their index range.
const BREAKPOINTS: &[(f64, f64, f64, f64)] = &[
    (0.0, 25.0, 0.0, 50.0),
    (25.0, 50.0, 50.0, 100.0),
    (50.0, 80.0, 100.0, 150.0),
    (80.0, 150.0, 150.0, 200.0),
    (150.0, 250.0, 200.0, 300.0),
    (250.0, 350.0, 300.0, 400.0),
    (350.0, 500.0, 400.0, 500.0),
];

/// VN_AQI sub-index and band for an hourly PM2.5 concentration (µg/m³), linear between
/// breakpoints, applied to the hourly value directly (no NowCast). Above 500 µg/m³ the index is
/// capped at 500; negative or NaN input counts as 0.
pub fn vn_aqi(pm25: f64) -> (u32, VnAqiCategory) {
    let c = if pm25.is_nan() { 0.0 } else { pm25.max(0.0) };
    let last = BREAKPOINTS[BREAKPOINTS.len() - 1];
    let (lo, hi, ilo, ihi) = BREAKPOINTS.iter().copied().find(|(_, hi, _, _)| c <= *hi).unwrap_or(last);
    let aqi = (ilo + (ihi - ilo) * (c.min(hi) - lo) / (hi - lo)).round() as u32;
    (aqi, VnAqiCategory::of(aqi))
}
