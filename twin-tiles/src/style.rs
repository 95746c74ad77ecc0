//! MapLibre styles built on our own sources only: `basemap` (reference layers), `live` (entities and
//! hexagons) and `terrain` (raster-dem). Two themes: `operations` (dark, for the map wall) and
//! `planning` (light).

use serde_json::{json, Value};
use twin_core::EntityKind;

use crate::live::HEXAGON_LAYER;
use crate::TileError;

/// Theme colours.
struct Palette {
    background: &'static str,
    water: &'static str,
    landuse: &'static str,
    building: &'static str,
    road_major: &'static str,
    road_minor: &'static str,
    boundary: &'static str,
    text: &'static str,
    halo: &'static str,
}

const OPERATIONS: Palette = Palette {
    background: "#0b1020",
    water: "#14304f",
    landuse: "#141b2e",
    building: "#27314a",
    road_major: "#5b6b8c",
    road_minor: "#323c55",
    boundary: "#8a7fb8",
    text: "#c9d3e6",
    halo: "#0b1020",
};

const PLANNING: Palette = Palette {
    background: "#f4f2ee",
    water: "#a9cce8",
    landuse: "#e3e8d8",
    building: "#d6d0c6",
    road_major: "#ffffff",
    road_minor: "#ffffff",
    boundary: "#7a5aa6",
    text: "#333333",
    halo: "#ffffff",
};

/// Names of the styles we serve.
pub const STYLES: &[&str] = &["operations", "planning"];

/// Marker colour of a live kind.
pub fn kind_color(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Vessel | EntityKind::FishingBoat => "#4fc3f7",
        EntityKind::Bus => "#ffd54f",
        EntityKind::Ambulance => "#ef5350",
        EntityKind::FireTruck => "#ff7043",
        EntityKind::PoliceUnit => "#5c6bc0",
        EntityKind::Camera | EntityKind::Drone | EntityKind::Detection => "#ab47bc",
        EntityKind::FloodSensor | EntityKind::RainGauge | EntityKind::WaterQualityStation => "#26c6da",
        EntityKind::AirQualityStation => "#9ccc65",
        EntityKind::CitizenReport | EntityKind::Incident => "#ec407a",
    }
}

/// The style document; `base_url` is the scheme and authority the client used.
pub fn style(name: &str, base_url: &str, city: &str, center: [f64; 2]) -> Result<Value, TileError> {
    let p = match name {
        "operations" => &OPERATIONS,
        "planning" => &PLANNING,
        other => return Err(TileError::UnknownStyle(other.to_owned())),
    };
    let mut layers = vec![
        json!({"id": "background", "type": "background", "paint": {"background-color": p.background}}),
        json!({"id": "landuse", "type": "fill", "source": "basemap", "source-layer": "landuse",
            "paint": {"fill-color": p.landuse, "fill-opacity": 0.7}}),
        json!({"id": "water", "type": "fill", "source": "basemap", "source-layer": "water",
            "paint": {"fill-color": p.water}}),
        json!({"id": "roads-minor", "type": "line", "source": "basemap", "source-layer": "roads",
            "filter": ["!", ["in", ["get", "class"], ["literal", ["motorway", "trunk", "primary", "secondary"]]]],
            "paint": {"line-color": p.road_minor, "line-width": ["interpolate", ["linear"], ["zoom"], 12, 0.5, 18, 6]}}),
        json!({"id": "roads-major", "type": "line", "source": "basemap", "source-layer": "roads",
            "filter": ["in", ["get", "class"], ["literal", ["motorway", "trunk", "primary", "secondary"]]],
            "paint": {"line-color": p.road_major, "line-width": ["interpolate", ["linear"], ["zoom"], 8, 0.8, 18, 12]}}),
        json!({"id": "buildings", "type": "fill-extrusion", "source": "basemap", "source-layer": "buildings",
            "minzoom": 14,
            "paint": {"fill-extrusion-color": p.building, "fill-extrusion-opacity": 0.8,
                "fill-extrusion-height": ["coalesce", ["get", "height"], 6]}}),
        json!({"id": "boundaries", "type": "line", "source": "basemap", "source-layer": "boundaries",
            "paint": {"line-color": p.boundary, "line-width": 1.2, "line-dasharray": [3, 2]}}),
        json!({"id": "road-labels", "type": "symbol", "source": "basemap", "source-layer": "roads", "minzoom": 14,
            "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-size": 11,
                "text-font": ["Noto Sans Regular"]},
            "paint": {"text-color": p.text, "text-halo-color": p.halo, "text-halo-width": 1.2}}),
        json!({"id": "hexagons", "type": "fill", "source": "live", "source-layer": HEXAGON_LAYER,
            "paint": {"fill-opacity": 0.55, "fill-outline-color": p.halo,
                "fill-color": ["interpolate", ["linear"], ["get", "total"],
                    1, "#2c7bb6", 10, "#abd9e9", 50, "#ffffbf", 200, "#fdae61", 1000, "#d7191c"]}}),
    ];
    for k in EntityKind::ALL {
        layers.push(json!({
            "id": format!("live-{}", k.as_str()), "type": "circle", "source": "live", "source-layer": k.as_str(),
            "paint": {
                "circle-color": kind_color(*k),
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 3, 18, 8],
                "circle-stroke-color": p.halo, "circle-stroke-width": 1,
                "circle-opacity": ["case", ["get", "stale"], 0.35, 1.0],
            }
        }));
    }
    Ok(json!({
        "version": 8,
        "name": format!("{city} {name}"),
        "center": center,
        "zoom": 12,
        "glyphs": format!("{base_url}/fonts/{{fontstack}}/{{range}}.pbf"),
        "sources": {
            "basemap": {"type": "vector", "url": format!("{base_url}/tiles/basemap.json")},
            "live": {"type": "vector", "url": format!("{base_url}/tiles/live.json")},
            "terrain": {"type": "raster-dem", "url": format!("{base_url}/tiles/terrain.json"), "tileSize": 256,
                "encoding": "terrarium"},
        },
        "layers": layers,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn styles_use_only_our_sources() {
        for name in STYLES {
            let s = style(name, "http://h:1", "Da Nang", [108.2, 16.05]).unwrap();
            assert_eq!(s["version"], 8);
            for l in s["layers"].as_array().unwrap() {
                if let Some(src) = l.get("source").and_then(Value::as_str) {
                    assert!(s["sources"].get(src).is_some(), "{src}");
                }
            }
            assert!(s["sources"]["live"]["url"].as_str().unwrap().starts_with("http://h:1/"));
        }
        assert!(style("satellite", "", "", [0.0, 0.0]).is_err());
    }
}
