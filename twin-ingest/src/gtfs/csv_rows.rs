//! The rows of each GTFS file we read, as typed records (unknown columns are ignored).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Agency {
    pub agency_id: Option<String>,
    pub agency_name: String,
    pub agency_url: Option<String>,
    pub agency_timezone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    pub route_id: String,
    pub agency_id: Option<String>,
    pub route_short_name: Option<String>,
    pub route_long_name: Option<String>,
    pub route_type: Option<i64>,
    /// Hex `RRGGBB` without `#`.
    pub route_color: Option<String>,
    pub route_text_color: Option<String>,
}

impl Route {
    /// Short name, else long name, else id.
    pub fn display_name(&self) -> &str {
        fn nonempty(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        nonempty(&self.route_short_name).or(nonempty(&self.route_long_name)).unwrap_or(&self.route_id)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Stop {
    pub stop_id: String,
    pub stop_code: Option<String>,
    pub stop_name: Option<String>,
    /// Absent for generic nodes and boarding areas (location_type 3, 4).
    pub stop_lat: Option<f64>,
    pub stop_lon: Option<f64>,
    pub location_type: Option<i64>,
    pub parent_station: Option<String>,
    pub wheelchair_boarding: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Trip {
    pub route_id: String,
    pub service_id: String,
    pub trip_id: String,
    pub trip_headsign: Option<String>,
    pub direction_id: Option<i64>,
    pub shape_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StopTime {
    pub trip_id: String,
    pub stop_id: Option<String>,
    pub stop_sequence: u32,
    pub arrival_time: Option<String>,
    pub departure_time: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShapePoint {
    pub shape_id: String,
    pub shape_pt_lat: f64,
    pub shape_pt_lon: f64,
    pub shape_pt_sequence: u32,
    pub shape_dist_traveled: Option<f64>,
}
