//! Flood inputs from the city layers: Manning roughness per land-use class and buildings as raised
//! cells, rasterised onto the DEM.
//!
//! Manning n (s/m^⅓) per OSM class, from the floodplain tables of Chow (1959), *Open-Channel
//! Hydraulics*, Table 5-6 (mid-range of the "normal" column), and the urban values used in 2D urban
//! flood modelling (streets and yards between buildings are rougher than bare asphalt):
//!
//! | OSM tags | n | Chow 1959 / note |
//! |---|---|---|
//! | `natural=water`, `landuse=basin`/`reservoir`/`aquaculture`, `waterway=*` | 0.030 | clean natural channel |
//! | `landuse=commercial`/`retail`/`industrial`/`railway`/`depot` | 0.040 | mostly paved, yards and kerbs |
//! | `landuse=construction`/`brownfield`/`landfill`/`quarry` | 0.035 | bare or gravelly ground |
//! | `landuse=residential`/`education`/`religious`/`military` | 0.050 | streets, walls, gardens |
//! | `landuse=grass`/`meadow`/`greenfield`/`recreation_ground`/`village_green`/`cemetery`, `leisure=park` | 0.035 | pasture, high grass |
//! | `landuse=farmland`/`farmyard`/`allotments`/`greenhouse_horticulture`/`flowerbed` | 0.035 | cultivated, mature row crops |
//! | `landuse=paddy` | 0.040 | mature field crops |
//! | `landuse=orchard`/`vineyard` | 0.060 | light brush and trees |
//! | `natural=scrub`/`heath` | 0.080 | medium to dense brush |
//! | `landuse=forest`, `natural=wood` | 0.100 | dense stand of timber |
//!
//! Everything else (roads, unmapped land) keeps the run's default n. Where polygons overlap the
//! smaller one wins (a park inside a residential area is a park). A cell takes the class of the
//! polygon containing its centre.
//!
//! Buildings: on a 30 m DEM a building rarely fills a cell, so a cell becomes an obstacle only
//! when footprints cover at least a given share of it (estimated on a 4 × 4 grid of points per
//! cell); it is then raised so that water flows around it unless it overtops it, and rain on the
//! roof runs off to the neighbours.

use geo::{Area, BoundingRect, Contains, Coord, Geometry, MapCoords, Point};
use serde_json::{Map, Value};
use twin_layers::Layer;

use super::grid::Grid;

/// Manning n of a land-use feature by its OSM tags; `None` when the class is not in the table.
pub fn manning_of_tags(props: &Map<String, Value>) -> Option<f64> {
    let tag = |k: &str| props.get(k).and_then(Value::as_str);
    if tag("waterway").is_some() {
        return Some(0.030);
    }
    if let Some(n) = tag("natural").and_then(|v| match v {
        "water" | "wetland" => Some(0.030),
        "scrub" | "heath" => Some(0.080),
        "wood" => Some(0.100),
        "grassland" => Some(0.035),
        _ => None,
    }) {
        return Some(n);
    }
    if tag("leisure").is_some_and(|v| matches!(v, "park" | "garden" | "pitch")) {
        return Some(0.035);
    }
    Some(match tag("landuse")? {
        "basin" | "reservoir" | "aquaculture" | "salt_pond" => 0.030,
        "commercial" | "retail" | "industrial" | "railway" | "depot" | "port" => 0.040,
        "construction" | "brownfield" | "landfill" | "quarry" => 0.035,
        "residential" | "education" | "religious" | "military" | "garages" => 0.050,
        "grass" | "meadow" | "greenfield" | "recreation_ground" | "village_green" | "cemetery" => 0.035,
        "farmland" | "farmyard" | "allotments" | "greenhouse_horticulture" | "flowerbed" | "plant_nursery" => 0.035,
        "paddy" => 0.040,
        "orchard" | "vineyard" => 0.060,
        "forest" => 0.100,
        _ => return None,
    })
}

/// Areal features in grid coordinates (only polygons and multipolygons).
fn to_grid_geometry(g: &Geometry<f64>, to_grid: &dyn Fn(f64, f64) -> (f64, f64)) -> Option<Geometry<f64>> {
    match g {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) => Some(g.map_coords(|c| {
            let (x, y) = to_grid(c.x, c.y);
            Coord { x, y }
        })),
        _ => None,
    }
}

/// Range of rows and columns whose cells intersect the bounding box of `g` (grid coordinates).
fn cell_range(dem: &Grid, g: &Geometry<f64>) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let r = g.bounding_rect()?;
    let cs = dem.cellsize;
    let c0 = ((r.min().x - dem.xll) / cs).floor().max(0.0) as usize;
    let c1 = (((r.max().x - dem.xll) / cs).ceil().max(0.0) as usize).min(dem.ncols);
    // Rows count from the north.
    let s0 = ((r.min().y - dem.yll) / cs).floor().max(0.0) as usize;
    let s1 = (((r.max().y - dem.yll) / cs).ceil().max(0.0) as usize).min(dem.nrows);
    if c0 >= c1 || s0 >= s1 {
        return None;
    }
    Some((dem.nrows - s1..dem.nrows - s0, c0..c1))
}

/// Counts of a roughness raster: cells per n value (for the run's summary).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RoughnessStats {
    /// Cells that got a class from the land-use layer.
    pub classified_cells: usize,
    /// `(n, cells)` sorted by n.
    pub cells_by_n: Vec<(f64, usize)>,
}

/// Manning n per cell from a land-use layer; cells outside every classified polygon get
/// `default_n`. `to_grid` maps the layer's (lon, lat) to grid coordinates.
pub fn manning_grid(
    dem: &Grid,
    landuse: &Layer,
    to_grid: &dyn Fn(f64, f64) -> (f64, f64),
    default_n: f64,
) -> (Vec<f64>, RoughnessStats) {
    let mut polys: Vec<(f64, f64, Geometry<f64>)> = landuse
        .features
        .iter()
        .filter_map(|f| {
            let n = manning_of_tags(&f.properties)?;
            let g = to_grid_geometry(&f.geometry, to_grid)?;
            Some((g.unsigned_area(), n, g))
        })
        .collect();
    // Largest first, so smaller (more specific) polygons paint over the areas around them.
    polys.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut n = vec![default_n; dem.ncols * dem.nrows];
    let mut classified = vec![false; n.len()];
    for (_, value, g) in &polys {
        let Some((rows, cols)) = cell_range(dem, g) else { continue };
        for r in rows {
            for c in cols.clone() {
                let (x, y) = dem.cell_centre(r, c);
                if g.contains(&Point::new(x, y)) {
                    n[r * dem.ncols + c] = *value;
                    classified[r * dem.ncols + c] = true;
                }
            }
        }
    }
    let mut by_n: Vec<(f64, usize)> = Vec::new();
    for (v, _) in n.iter().zip(&classified).filter(|(_, c)| **c) {
        match by_n.iter_mut().find(|(x, _)| x == v) {
            Some(e) => e.1 += 1,
            None => by_n.push((*v, 1)),
        }
    }
    by_n.sort_by(|a, b| a.0.total_cmp(&b.0));
    let stats = RoughnessStats { classified_cells: classified.iter().filter(|c| **c).count(), cells_by_n: by_n };
    (n, stats)
}

/// Sample points per cell side for the building cover.
const COVER_SAMPLES: usize = 4;

/// Cells whose area is covered by building footprints for at least `min_cover` (0–1).
pub fn building_mask(
    dem: &Grid,
    buildings: &Layer,
    to_grid: &dyn Fn(f64, f64) -> (f64, f64),
    min_cover: f64,
) -> Vec<bool> {
    let mut hits = vec![0u16; dem.ncols * dem.nrows];
    let k = COVER_SAMPLES as f64;
    for f in &buildings.features {
        let Some(g) = to_grid_geometry(&f.geometry, to_grid) else { continue };
        let Some((rows, cols)) = cell_range(dem, &g) else { continue };
        for r in rows {
            for c in cols.clone() {
                let (cx, cy) = dem.cell_centre(r, c);
                let (x0, y0) = (cx - 0.5 * dem.cellsize, cy - 0.5 * dem.cellsize);
                for i in 0..COVER_SAMPLES {
                    for j in 0..COVER_SAMPLES {
                        let p = Point::new(
                            x0 + (i as f64 + 0.5) / k * dem.cellsize,
                            y0 + (j as f64 + 0.5) / k * dem.cellsize,
                        );
                        if g.contains(&p) {
                            hits[r * dem.ncols + c] += 1;
                        }
                    }
                }
            }
        }
    }
    let need = (min_cover.clamp(0.0, 1.0) * (COVER_SAMPLES * COVER_SAMPLES) as f64).ceil().max(1.0) as u16;
    hits.iter().map(|h| *h >= need).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use serde_json::json;
    use twin_layers::Feature;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64, tags: Value) -> Feature {
        let poly =
            geo::Polygon::new(geo::LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![]);
        Feature { geometry: Geometry::Polygon(poly), properties: tags.as_object().cloned().unwrap() }
    }

    #[test]
    fn table_covers_the_common_classes() {
        let n = |v: Value| manning_of_tags(v.as_object().unwrap());
        assert_eq!(n(json!({"landuse": "forest"})), Some(0.1));
        assert_eq!(n(json!({"landuse": "grass", "natural": null})), Some(0.035));
        assert_eq!(n(json!({"natural": "water", "landuse": null})), Some(0.03));
        assert_eq!(n(json!({"landuse": "residential"})), Some(0.05));
        assert_eq!(n(json!({"landuse": "something_else"})), None);
        assert_eq!(n(json!({"building": "yes"})), None);
    }

    #[test]
    fn smaller_polygons_win_and_cells_take_the_class_of_their_centre() {
        let dem = Grid::filled(10, 10, 1.0, 0.0);
        let layer = Layer {
            name: "landuse".into(),
            features: vec![
                square(0.0, 0.0, 10.0, 10.0, json!({"landuse": "residential"})),
                square(2.0, 2.0, 4.0, 4.0, json!({"landuse": "forest"})),
                square(6.6, 6.6, 6.9, 6.9, json!({"landuse": "grass"})), // misses every centre
            ],
        };
        let (n, stats) = manning_grid(&dem, &layer, &|x, y| (x, y), 0.02);
        // Row 0 is the north edge: y from 9 to 10.
        let at = |x: usize, y: usize| n[(9 - y) * 10 + x];
        assert_eq!(at(0, 0), 0.05);
        assert_eq!(at(2, 2), 0.1);
        assert_eq!(at(3, 3), 0.1);
        assert_eq!(at(4, 4), 0.05);
        assert_eq!(at(6, 6), 0.05);
        assert_eq!(stats.classified_cells, 100);
        assert_eq!(stats.cells_by_n, vec![(0.05, 96), (0.1, 4)]);
    }

    #[test]
    fn buildings_mark_cells_they_mostly_cover() {
        let dem = Grid::filled(4, 4, 10.0, 0.0);
        let b = Layer {
            name: "buildings".into(),
            features: vec![
                square(0.0, 0.0, 10.0, 10.0, json!({"building": "yes"})), // all of cell (3, 0)
                square(20.0, 20.0, 23.0, 30.0, json!({"building": "yes"})), // 30 % of cell (1, 2)
            ],
        };
        let mask = building_mask(&dem, &b, &|x, y| (x, y), 0.5);
        assert!(mask[3 * 4]);
        assert!(!mask[4 + 2]);
        assert_eq!(mask.iter().filter(|m| **m).count(), 1);
        // The 4 × 4 samples see 25 % of the second cell covered.
        let mask = building_mask(&dem, &b, &|x, y| (x, y), 0.25);
        assert!(mask[4 + 2]);
    }
}
