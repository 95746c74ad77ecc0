//! The web viewer: `/` (the map), `/wall` (the operations map wall) and `/assets/*`, served from the
//! built `web-viewer/dist`. Without a build, `/` is the plain status page with a hint to build it.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use twin_core::{EntityKind, Severity};

use crate::problem::Problem;

/// `[viewer]` of the city config: named layouts of the operations map wall.
///
/// ```toml
/// [viewer]
/// default_wall = "ioc"            # what /wall shows without ?layout=
/// [viewer.walls.ioc]
/// cols = 3
/// rows = 2
/// lang = "vi"                     # optional; ?lang= overrides
/// [[viewer.walls.ioc.panels]]
/// id = "port"                     # unique in the wall; also the title's translation key
/// kind = "map"                    # map | alerts | kpi
/// title = "Cảng và biển"          # optional
/// center = [108.265, 16.15]       # map: required
/// zoom = 11.0                     # map: required
/// pitch = 30.0                    # map: optional (0..=75), bearing optional
/// layers = ["vessel", "fishing_boat"]  # map: entity kinds shown (default: all)
/// # alerts: severities = ["severe", "extreme"], max = 12
/// # kpi: counters = ["entities", "moving", "active_alerts", "stale", "max_flood", "avg_pm25"]
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "RawViewer")]
pub struct ViewerSection {
    pub default_wall: Option<String>,
    pub walls: BTreeMap<String, WallLayout>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawViewer {
    default_wall: Option<String>,
    walls: BTreeMap<String, WallLayout>,
}

/// One wall: a grid of panels, filled row by row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallLayout {
    pub cols: u8,
    pub rows: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default)]
    pub kiosk: bool,
    pub panels: Vec<WallPanel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelKind {
    Map,
    Alerts,
    Kpi,
}

/// KPI counters the wall knows how to compute.
pub const KPI_COUNTERS: [&str; 6] = ["entities", "moving", "active_alerts", "stale", "max_flood", "avg_pm25"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallPanel {
    pub id: String,
    pub kind: PanelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<f64>,
    #[serde(default)]
    pub pitch: f64,
    #[serde(default)]
    pub bearing: f64,
    /// Entity kinds drawn (map panels); absent: every kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// Alert severities listed (alerts panels); absent: every severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severities: Option<Vec<String>>,
    /// Most alerts listed (alerts panels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u16>,
    /// Counters shown, in order (KPI panels); absent: all of [`KPI_COUNTERS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<Vec<String>>,
}

impl TryFrom<RawViewer> for ViewerSection {
    type Error = String;

    fn try_from(raw: RawViewer) -> Result<Self, String> {
        for (name, wall) in &raw.walls {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(format!("viewer.walls: `{name}` is not a wall name (letters, digits, - and _)"));
            }
            wall.validate().map_err(|e| format!("viewer.walls.{name}: {e}"))?;
        }
        if let Some(d) = &raw.default_wall {
            if !raw.walls.contains_key(d) {
                return Err(format!("viewer.default_wall: no wall named `{d}` under [viewer.walls]"));
            }
        }
        Ok(Self { default_wall: raw.default_wall, walls: raw.walls })
    }
}

impl WallLayout {
    fn validate(&self) -> Result<(), String> {
        if !(1..=8).contains(&self.cols) || !(1..=8).contains(&self.rows) {
            return Err(format!("cols and rows must be 1..=8, got {}x{}", self.cols, self.rows));
        }
        let cells = usize::from(self.cols) * usize::from(self.rows);
        if self.panels.is_empty() || self.panels.len() > cells {
            return Err(format!(
                "{} panels do not fit a {}x{} grid (1..={cells})",
                self.panels.len(),
                self.cols,
                self.rows
            ));
        }
        if let Some(l) = &self.lang {
            if l != "vi" && l != "en" {
                return Err(format!("lang must be `vi` or `en`, got `{l}`"));
            }
        }
        let mut ids = HashSet::new();
        for (i, p) in self.panels.iter().enumerate() {
            if !ids.insert(p.id.as_str()) {
                return Err(format!("panels[{i}]: id `{}` is used twice", p.id));
            }
            p.validate().map_err(|e| format!("panels[{i}] ({}): {e}", p.id))?;
        }
        Ok(())
    }
}

impl WallPanel {
    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || !self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("id must be letters, digits, - and _".into());
        }
        let map_only =
            [("center", self.center.is_some()), ("zoom", self.zoom.is_some()), ("layers", self.layers.is_some())];
        let alerts_only = [("severities", self.severities.is_some()), ("max", self.max.is_some())];
        let kpi_only = [("counters", self.counters.is_some())];
        let foreign: Vec<&[(&str, bool)]> = match self.kind {
            PanelKind::Map => vec![&alerts_only, &kpi_only],
            PanelKind::Alerts => vec![&map_only, &kpi_only],
            PanelKind::Kpi => vec![&map_only, &alerts_only],
        };
        if let Some((field, _)) = foreign.into_iter().flatten().find(|(_, set)| *set) {
            return Err(format!("`{field}` does not apply to a {:?} panel", self.kind).to_lowercase());
        }
        if self.kind == PanelKind::Map {
            let [lon, lat] = self.center.ok_or("a map panel needs `center = [lon, lat]`")?;
            if !twin_core::Position::new(lon, lat).is_valid() {
                return Err(format!("center ({lon}, {lat}) is not a WGS84 position"));
            }
            let zoom = self.zoom.ok_or("a map panel needs `zoom`")?;
            if !(0.0..=22.0).contains(&zoom) {
                return Err(format!("zoom must be 0..=22, got {zoom}"));
            }
        }
        if !(0.0..=75.0).contains(&self.pitch) {
            return Err(format!("pitch must be 0..=75 degrees, got {}", self.pitch));
        }
        if !(-360.0..=360.0).contains(&self.bearing) {
            return Err(format!("bearing must be -360..=360 degrees, got {}", self.bearing));
        }
        for k in self.layers.iter().flatten() {
            k.parse::<EntityKind>().map_err(|_| format!("layers: unknown entity kind `{k}`"))?;
        }
        for s in self.severities.iter().flatten() {
            serde_json::from_value::<Severity>(serde_json::Value::String(s.clone()))
                .map_err(|_| format!("severities: unknown severity `{s}` (minor, moderate, severe, extreme)"))?;
        }
        if self.max == Some(0) {
            return Err("max must be at least 1".into());
        }
        for c in self.counters.iter().flatten() {
            if !KPI_COUNTERS.contains(&c.as_str()) {
                return Err(format!("counters: unknown counter `{c}` ({})", KPI_COUNTERS.join(", ")));
            }
        }
        Ok(())
    }
}

/// The city's `[viewer]` section, set at start-up (`citytwin serve` reads it from the city config).
#[derive(Debug, Default)]
pub struct ViewerSettings(Arc<ViewerSection>);

impl ViewerSettings {
    pub fn new(section: &ViewerSection) -> Self {
        tracing::info!(walls = section.walls.len(), default = ?section.default_wall, "viewer wall layouts");
        Self(Arc::new(section.clone()))
    }

    pub fn current(&self) -> Arc<ViewerSection> {
        self.0.clone()
    }
}

/// `web-viewer/dist` under the CWD, else the one beside the source tree. Resolved per request so a
/// viewer built while the server runs is picked up.
pub fn dist_dir() -> Option<PathBuf> {
    let candidates =
        [PathBuf::from("web-viewer/dist"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web-viewer/dist"))];
    candidates.into_iter().find(|d| d.join("index.html").is_file())
}

const BUILD_HINT: &str = "<p style=\"background:#fff3cd;color:#5c4400;padding:8px 12px;border-radius:4px\">\
The map viewer is not built. Run <code>npm ci --prefix web-viewer &amp;&amp; npm run build --prefix \
web-viewer</code> and reload.</p>";

async fn serve(file: PathBuf, req: Request) -> Response {
    match ServeFile::new(file).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "viewer-error", e.to_string()).into_response(),
    }
}

/// `GET /`: the viewer, or the status page with a build hint.
pub async fn index(req: Request) -> Response {
    match dist_dir() {
        Some(dir) => serve(dir.join("index.html"), req).await,
        None => {
            tracing::warn!("web-viewer/dist not found; serving the plain status page");
            let page = include_str!("../../assets/index.html");
            Html(page.replacen("<body>", &format!("<body>{BUILD_HINT}"), 1)).into_response()
        }
    }
}

/// `GET /wall`: the map wall (layout from the query string).
pub async fn wall(req: Request) -> Response {
    match dist_dir() {
        Some(dir) if dir.join("wall.html").is_file() => serve(dir.join("wall.html"), req).await,
        _ => Problem::not_found("the map wall needs the built viewer (npm run build --prefix web-viewer)")
            .into_response(),
    }
}

/// `GET /assets/*`: the viewer's hashed bundles.
pub async fn assets(req: Request) -> Response {
    let Some(dir) = dist_dir() else {
        return Problem::not_found("the viewer is not built").into_response();
    };
    // The router matched `/assets/{*path}`; ServeDir resolves the full URI path under dist/.
    match ServeDir::new(dir).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "viewer-error", e.to_string()).into_response(),
    }
}

/// `GET /api/viewer`: what the viewer needs to know before building its map (asking for a missing
/// resource would show up as a failed request on an operations screen), and the wall layouts.
#[utoipa::path(get, path = "/api/viewer", tag = "tiles",
    responses((status = 200, description = "`{\"terrain\": bool, \"bbox\": [minLon, minLat, maxLon, maxLat], \"default_wall\": name|null, \"walls\": {name: layout}}`")))]
pub async fn viewer_config(
    axum::extract::State(st): axum::extract::State<crate::state::AppState>,
) -> axum::Json<serde_json::Value> {
    let b = st.city_bbox;
    let v = st.viewer.current();
    axum::Json(serde_json::json!({
        "terrain": st.tiles.dem().is_some(),
        "bbox": [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
        "default_wall": v.default_wall,
        "walls": v.walls,
    }))
}

/// `GET /api/viewer/walls/{name}`: one wall layout of the city config.
#[utoipa::path(get, path = "/api/viewer/walls/{name}", tag = "tiles",
    params(("name" = String, Path, description = "a wall under [viewer.walls] of the city config")),
    responses((status = 200, description = "the layout: cols, rows, lang, kiosk, panels"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn wall_layout(
    axum::extract::State(st): axum::extract::State<crate::state::AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<WallLayout>, Problem> {
    layout_named(&st.viewer.current(), &name)
}

fn layout_named(v: &ViewerSection, name: &str) -> Result<axum::Json<WallLayout>, Problem> {
    v.walls.get(name).cloned().map(axum::Json).ok_or_else(|| {
        let known: Vec<&str> = v.walls.keys().map(String::as_str).collect();
        Problem::not_found(format!("no wall layout `{name}` (the city config has: {})", known.join(", ")))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default)]
        viewer: ViewerSection,
    }

    fn parse(text: &str) -> Result<ViewerSection, String> {
        toml::from_str::<Doc>(text).map(|d| d.viewer).map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"
[viewer]
default_wall = "ioc"
[viewer.walls.ioc]
cols = 2
rows = 2
lang = "vi"
kiosk = true
[[viewer.walls.ioc.panels]]
id = "port"
kind = "map"
title = "Cảng và biển"
center = [108.265, 16.15]
zoom = 11.0
pitch = 30.0
layers = ["vessel", "fishing_boat"]
[[viewer.walls.ioc.panels]]
id = "alerts"
kind = "alerts"
severities = ["severe", "extreme"]
max = 8
[[viewer.walls.ioc.panels]]
id = "kpi"
kind = "kpi"
counters = ["entities", "max_flood"]
"#;

    #[test]
    fn wall_layouts_parse() {
        let v = parse(GOOD).unwrap();
        assert_eq!(v.default_wall.as_deref(), Some("ioc"));
        let w = &v.walls["ioc"];
        assert_eq!((w.cols, w.rows, w.kiosk, w.lang.as_deref()), (2, 2, true, Some("vi")));
        assert_eq!(w.panels.len(), 3);
        assert_eq!(w.panels[0].kind, PanelKind::Map);
        assert_eq!(w.panels[0].center, Some([108.265, 16.15]));
        assert_eq!(w.panels[0].bearing, 0.0);
        assert_eq!(w.panels[1].severities.as_deref(), Some(&["severe".to_owned(), "extreme".to_owned()][..]));
        assert_eq!(w.panels[2].counters.as_ref().unwrap().len(), 2);
        // No [viewer] at all: no walls.
        assert!(parse("").unwrap().walls.is_empty());
    }

    #[test]
    fn bad_wall_layouts_name_the_problem() {
        let cases = [
            (GOOD.replace("default_wall = \"ioc\"", "default_wall = \"lobby\""), "no wall named `lobby`"),
            (GOOD.replace("cols = 2", "cols = 1"), "3 panels do not fit a 1x2 grid"),
            (GOOD.replace("cols = 2", "cols = 9"), "cols and rows must be 1..=8"),
            (GOOD.replace("\"fishing_boat\"", "\"submarine\""), "unknown entity kind `submarine`"),
            (GOOD.replace("\"extreme\"", "\"apocalyptic\""), "unknown severity `apocalyptic`"),
            (GOOD.replace("\"max_flood\"", "\"happiness\""), "unknown counter `happiness`"),
            (GOOD.replace("center = [108.265, 16.15]", "center = [208.0, 16.15]"), "not a WGS84 position"),
            (GOOD.replace("center = [108.265, 16.15]\n", ""), "a map panel needs `center"),
            (GOOD.replace("zoom = 11.0", "zoom = 30.0"), "zoom must be 0..=22"),
            (GOOD.replace("pitch = 30.0", "pitch = 89.0"), "pitch must be 0..=75"),
            (GOOD.replace("id = \"kpi\"", "id = \"port\""), "id `port` is used twice"),
            (GOOD.replace("max = 8", "max = 8\nzoom = 3.0"), "`zoom` does not apply to a alerts panel"),
            (GOOD.replace("kind = \"kpi\"", "kind = \"clock\""), "unknown variant `clock`"),
            (GOOD.replace("lang = \"vi\"", "lang = \"fr\""), "lang must be `vi` or `en`"),
            (GOOD.replace("kiosk = true", "kiosk = true\ncolumns = 3"), "unknown field `columns`"),
            (
                GOOD.replace("[viewer.walls.ioc]", "[viewer.walls.\"i o c\"]")
                    .replace("walls.ioc.panels", "walls.\"i o c\".panels"),
                "not a wall name",
            ),
        ];
        for (text, want) in cases {
            let err = parse(&text).expect_err(want);
            assert!(err.contains(want), "expected `{want}` in: {err}");
        }
        // toml points at the line of the [viewer] table for semantic errors.
        let err = parse(&GOOD.replace("zoom = 11.0", "zoom = 30.0")).unwrap_err();
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn configured_walls_are_served_by_name() {
        let settings = ViewerSettings::new(&parse(GOOD).unwrap());
        let axum::Json(w) = layout_named(&settings.current(), "ioc").unwrap();
        assert_eq!(w.panels[0].id, "port");
        let e = layout_named(&settings.current(), "lobby").unwrap_err();
        assert_eq!(e.status, 404);
        assert!(e.detail.contains("ioc"), "{}", e.detail);
        let served = serde_json::to_value(&*settings.current()).unwrap();
        assert_eq!(served["walls"]["ioc"]["panels"][1]["severities"][0], "severe");
        assert!(served["walls"]["ioc"]["panels"][1].get("center").is_none(), "unset options are left out");
    }

    #[test]
    fn danang_config_has_a_default_wall() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/danang.toml")).unwrap();
        let config =
            crate::config::LoadedConfig::parse(&text, std::path::Path::new("danang.toml"), std::path::Path::new("."));
        let v = config.unwrap().raw.viewer;
        let name = v.default_wall.as_deref().expect("danang.toml names a default wall");
        let wall = &v.walls[name];
        let kinds: HashSet<PanelKind> = wall.panels.iter().map(|p| p.kind).collect();
        assert_eq!(kinds.len(), 3, "map, alerts and KPI panels");
        assert!(wall.panels.iter().filter(|p| p.kind == PanelKind::Map).count() >= 3);
    }
}
