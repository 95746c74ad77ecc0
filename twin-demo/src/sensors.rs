//! Simulated fixed sensors whose values replay real hourly series, time-compressed:
//! rain gauges replay KNMI Vlissingen precipitation, flood sensors a bucket model driven by the rain
//! of their nearest gauge (labelled `derived`), air-quality stations the US Embassy Hanoi PM2.5.

use twin_core::geodesy::distance_m;
use twin_core::{EntityKind, Observation, Position, PropertyValue, Timestamp};
use twin_layers::roads::RoadGraph;

use super::series::{Bucket, Sample};
use super::track::Rng;

pub const SOURCE: &str = "demo:sensors";
pub const RAIN_LABEL: &str = "KNMI Vlissingen hourly precipitation";
pub const PM25_LABEL: &str = "US Embassy Hanoi hourly PM2.5 (AirNow)";

/// Rain gauges, one per urban district (lon, lat), all on land.
pub const GAUGE_SITES: &[(&str, f64, f64)] = &[
    ("Hải Châu", 108.2160, 16.0600),
    ("Thanh Khê", 108.1900, 16.0650),
    ("Sơn Trà", 108.2400, 16.0700),
    ("Ngũ Hành Sơn", 108.2450, 16.0000),
    ("Cẩm Lệ", 108.2000, 16.0150),
    ("Liên Chiểu", 108.1500, 16.0750),
];

/// Air-quality stations (lon, lat), all on land.
pub const AQ_SITES: &[(&str, f64, f64)] = &[
    ("Hải Châu – Bạch Đằng", 108.2230, 16.0700),
    ("Hải Châu – Hòa Cường", 108.2150, 16.0350),
    ("Thanh Khê – Điện Biên Phủ", 108.1850, 16.0620),
    ("Thanh Khê – Xuân Hà", 108.1950, 16.0720),
    ("Sơn Trà – An Hải", 108.2350, 16.0650),
    ("Sơn Trà – Thọ Quang", 108.2450, 16.1000),
    ("Ngũ Hành Sơn – Mỹ An", 108.2450, 16.0400),
    ("Ngũ Hành Sơn – Hòa Hải", 108.2580, 15.9900),
    ("Cẩm Lệ – Hòa Xuân", 108.2200, 16.0050),
    ("Cẩm Lệ – Hòa Thọ", 108.1900, 16.0200),
    ("Liên Chiểu – Hòa Khánh", 108.1500, 16.0700),
    ("Hòa Vang – Hòa Tiến", 108.1800, 15.9700),
];

/// Low points where flood sensors are wanted: the west bank of the Hàn river (Bạch Đằng), then
/// low inner-city streets. Each is snapped to the nearest road vertex.
fn flood_targets() -> Vec<Position> {
    let mut t: Vec<Position> = (0..14).map(|k| Position::new(108.2243, 16.040 + 0.0035 * k as f64)).collect();
    t.extend(
        [
            (108.2050, 16.0650),
            (108.2000, 16.0500),
            (108.2100, 16.0450),
            (108.1950, 16.0400),
            (108.2150, 16.0300),
            (108.2200, 16.0200),
            (108.2050, 16.0800),
            (108.2150, 16.0750),
            (108.1980, 16.0600),
            (108.2120, 16.0550),
            (108.2080, 16.0700),
            (108.2250, 16.0330),
            (108.2000, 16.0300),
            (108.1930, 16.0500),
            (108.2180, 16.0480),
            (108.2220, 16.0920),
            (108.2070, 16.0580),
            (108.2160, 16.0660),
            (108.1960, 16.0720),
            (108.2300, 16.0250),
        ]
        .map(|(x, y)| Position::new(x, y)),
    );
    t
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub position: Position,
}

/// Up to `n` flood-sensor sites on distinct road vertices.
pub fn flood_sites(graph: &RoadGraph, n: usize) -> Vec<Site> {
    let mut used = Vec::new();
    let mut out = Vec::new();
    for target in flood_targets() {
        if out.len() >= n {
            break;
        }
        let Some(node) = graph.nearest_node(target, None) else { break };
        if used.contains(&node) {
            continue;
        }
        used.push(node);
        let street = graph.outgoing(node).iter().find_map(|e| graph.edge(*e).name.clone());
        let c = graph.node(node);
        out.push(Site {
            id: format!("FL-{:02}", out.len() + 1),
            name: format!("Flood sensor – {}", street.unwrap_or_else(|| "unnamed street".into())),
            position: Position::new(c.x, c.y),
        });
    }
    out
}

/// VN_AQI sub-index and its operator label for an hourly PM2.5 concentration (µg/m³); the
/// breakpoints live with the MQTT sensor decoder so the demo and real sensors agree.
pub fn vn_aqi(pm25: f64) -> (u32, &'static str) {
    let (aqi, category) = twin_ingest::mqtt::vn_aqi(pm25);
    (aqi, category.label())
}

#[derive(Debug, Clone)]
struct Gauge {
    site: Site,
    offset: usize,
}

#[derive(Debug, Clone)]
struct FloodSensor {
    site: Site,
    gauge: usize,
    depths_m: Vec<f64>,
}

/// All demo sensors. Values are a pure function of time: series hour = hours since `start` (one
/// series hour per `ms_per_hour` of wall time) plus the sensor's offset, wrapping around.
#[derive(Debug, Clone)]
pub struct SensorNetwork {
    start: Timestamp,
    ms_per_hour: f64,
    rain: Vec<Sample>,
    pm25: Vec<Sample>,
    gauges: Vec<Gauge>,
    flood: Vec<FloodSensor>,
    aq: Vec<Gauge>,
}

impl SensorNetwork {
    /// Rain gauges start a few hours before distinct heavy-rain events so the demo shows rain soon.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rain: Vec<Sample>,
        pm25: Vec<Sample>,
        flood_sites: Vec<Site>,
        gauges: usize,
        aq_stations: usize,
        seconds_per_series_hour: f64,
        start: Timestamp,
        seed: u64,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let mut wettest: Vec<usize> = (0..rain.len()).collect();
        wettest.sort_by(|a, b| rain[*b].value.total_cmp(&rain[*a].value));
        let mut offsets: Vec<usize> = Vec::new();
        for h in wettest {
            // Distinct events: at least three days apart.
            if offsets.iter().all(|o| o.abs_diff(h) > 72) {
                offsets.push(h);
            }
            if offsets.len() >= gauges {
                break;
            }
        }
        let len = rain.len().max(1);
        let gauges: Vec<Gauge> = GAUGE_SITES
            .iter()
            .take(gauges)
            .enumerate()
            .map(|(i, (name, x, y))| Gauge {
                site: Site {
                    id: format!("RG-{:02}", i + 1),
                    name: format!("Rain gauge – {name}"),
                    position: Position::new(*x, *y),
                },
                offset: offsets.get(i).map_or(i * 1_753 % len, |h| (h + len - 3) % len),
            })
            .collect();
        let rain_mm: Vec<f64> = rain.iter().map(|s| s.value).collect();
        let flood = flood_sites
            .into_iter()
            .filter_map(|site| {
                let gauge = (0..gauges.len()).min_by(|a, b| {
                    distance_m(site.position, gauges[*a].site.position)
                        .total_cmp(&distance_m(site.position, gauges[*b].site.position))
                })?;
                // Streets differ in how much they collect and how well they drain.
                let bucket = Bucket {
                    runoff_coefficient: 0.8,
                    catchment_ratio: rng.range(10.0, 30.0),
                    drain_mm_h: rng.range(6.0, 16.0),
                };
                Some(FloodSensor { site, gauge, depths_m: bucket.depths_m(&rain_mm) })
            })
            .collect();
        let aq_len = pm25.len().max(1);
        let aq = AQ_SITES
            .iter()
            .take(aq_stations)
            .enumerate()
            .map(|(i, (name, x, y))| Gauge {
                site: Site {
                    id: format!("AQ-{:02}", i + 1),
                    name: format!("Air quality – {name}"),
                    position: Position::new(*x, *y),
                },
                offset: (i * 613 + rng.below(48)) % aq_len,
            })
            .collect();
        Self { start, ms_per_hour: (seconds_per_series_hour * 1000.0).max(1.0), rain, pm25, gauges, flood, aq }
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        (self.flood.len(), self.gauges.len(), self.aq.len())
    }

    fn hour(&self, now: Timestamp) -> usize {
        ((now.as_millis() - self.start.as_millis()).max(0) as f64 / self.ms_per_hour).floor() as usize
    }

    /// Index into the rain series that gauge `g` replays at `now`.
    pub fn rain_index(&self, g: usize, now: Timestamp) -> usize {
        (self.hour(now) + self.gauges[g].offset) % self.rain.len()
    }

    /// Index into the PM2.5 series that station `s` replays at `now`.
    pub fn pm25_index(&self, s: usize, now: Timestamp) -> usize {
        (self.hour(now) + self.aq[s].offset) % self.pm25.len()
    }

    fn obs(kind: EntityKind, site: &Site, now: Timestamp, props: Vec<(&str, PropertyValue)>) -> Observation {
        let mut o = Observation::new(kind, site.id.clone(), now).at(site.position.lon, site.position.lat);
        o.source = SOURCE.to_owned();
        o.status = Some("online".into());
        o.properties.insert("simulated".into(), PropertyValue::Bool(true));
        o.properties.insert("name".into(), PropertyValue::Text(site.name.clone()));
        o.properties.extend(props.into_iter().map(|(k, v)| (k.to_owned(), v)));
        o
    }

    /// One observation per sensor at `now`.
    pub fn step(&self, now: Timestamp) -> Vec<Observation> {
        let mut out = Vec::new();
        for (g, gauge) in self.gauges.iter().enumerate() {
            let s = &self.rain[self.rain_index(g, now)];
            out.push(Self::obs(
                EntityKind::RainGauge,
                &gauge.site,
                now,
                vec![
                    ("rain_mm_h", PropertyValue::Float(s.value)),
                    ("replay_of", PropertyValue::Text(RAIN_LABEL.into())),
                    ("series_time", PropertyValue::Text(s.time.clone())),
                ],
            ));
        }
        for f in &self.flood {
            let i = self.rain_index(f.gauge, now);
            out.push(Self::obs(
                EntityKind::FloodSensor,
                &f.site,
                now,
                vec![
                    ("water_depth_m", PropertyValue::Float(f.depths_m[i])),
                    ("derived", PropertyValue::Text("bucket runoff model driven by the replayed rain".into())),
                    ("replay_of", PropertyValue::Text(RAIN_LABEL.into())),
                    ("rain_gauge", PropertyValue::Text(self.gauges[f.gauge].site.id.clone())),
                    ("series_time", PropertyValue::Text(self.rain[i].time.clone())),
                ],
            ));
        }
        for (a, st) in self.aq.iter().enumerate() {
            let s = &self.pm25[self.pm25_index(a, now)];
            let (aqi, category) = vn_aqi(s.value);
            out.push(Self::obs(
                EntityKind::AirQualityStation,
                &st.site,
                now,
                vec![
                    ("pm25_ugm3", PropertyValue::Float(s.value)),
                    ("vn_aqi", PropertyValue::Int(i64::from(aqi))),
                    ("vn_aqi_category", PropertyValue::Text(category.into())),
                    ("replay_of", PropertyValue::Text(PM25_LABEL.into())),
                    ("series_time", PropertyValue::Text(s.time.clone())),
                ],
            ));
        }
        out
    }
}
