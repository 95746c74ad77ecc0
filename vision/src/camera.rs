//! A camera as the city config describes it (`[[cameras]]`), and what follows from it:
//! the calibration and the ground footprint.

use serde::{Deserialize, Serialize};

use crate::counting::Zone;
use crate::footprint::{footprint, to_geojson};
use crate::homography::{Calibration, ControlPoint, GeoError};

/// Default cap on how far a footprint reaches (metres).
const DEFAULT_RANGE_M: f64 = 150.0;

/// A directed counting line in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineConfig {
    pub id: String,
    pub from: (f64, f64),
    pub to: (f64, f64),
}

/// One `[[cameras]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CameraConfig {
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// Image size the control points refer to.
    pub width: f64,
    pub height: f64,
    pub control_points: Vec<ControlPoint>,
    /// `http(s)://…` snapshot or MJPEG URL, or a video file path.
    pub source: String,
    #[serde(default = "default_fps")]
    pub sample_fps: f64,
    #[serde(default)]
    pub max_range_m: Option<f64>,
    #[serde(default)]
    pub lines: Vec<LineConfig>,
    #[serde(default)]
    pub zones: Vec<Zone>,
}

fn default_fps() -> f64 {
    2.0
}

impl CameraConfig {
    pub fn calibration(&self) -> Result<Calibration, GeoError> {
        Calibration::from_control_points(self.lon, self.lat, &self.control_points)
    }

    /// Footprint polygon as GeoJSON geometry text, for the camera entity's properties.
    pub fn footprint_geojson(&self) -> Result<String, GeoError> {
        let cal = self.calibration()?;
        let range = self.max_range_m.unwrap_or(DEFAULT_RANGE_M);
        Ok(to_geojson(&footprint(&cal, self.width, self.height, range)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_entry_parses_and_gives_a_footprint() {
        let cam: CameraConfig = toml::from_str(
            r#"
            id = "cam-1"
            name = "Nguyễn Văn Linh × Hàm Nghi"
            lon = 108.2110
            lat = 16.0610
            width = 1280
            height = 720
            source = "http://127.0.0.1:8081/video.mjpg"
            control_points = [
              { px = 100, py = 700, lon = 108.21105, lat = 16.06105 },
              { px = 1180, py = 700, lon = 108.21125, lat = 16.06100 },
              { px = 900, py = 300, lon = 108.21150, lat = 16.06140 },
              { px = 300, py = 300, lon = 108.21110, lat = 16.06150 },
            ]
            [[lines]]
            id = "northbound"
            from = [0, 500]
            to = [1280, 500]
            [[zones]]
            id = "kerb"
            kind = "no_stopping"
            polygon = [[0, 600], [200, 600], [200, 720], [0, 720]]
            "#,
        )
        .unwrap();
        assert_eq!(cam.sample_fps, 2.0);
        assert_eq!(cam.zones[0].kind, crate::counting::ZoneKind::NoStopping);
        let fp = cam.footprint_geojson().unwrap();
        assert!(fp.starts_with("{\"type\":\"Polygon\",\"coordinates\":[[["), "{fp}");
    }
}
