//! Georeferencing: the city DEM (degrees) as a metric grid for the flood solver, and back.

use crate::flood::{Grid, MAX_GRID_CELLS};
use twin_layers::Layer;
use twin_tiles::terrain::Dem;

use super::JobError;

/// How grid coordinates relate to longitude and latitude.
#[derive(Debug, Clone, Copy)]
pub struct GeoRef {
    pub west: f64,
    pub south: f64,
    pub dx_deg: f64,
    pub dy_deg: f64,
    pub cellsize: f64,
}

impl GeoRef {
    pub fn to_grid(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.west) / self.dx_deg * self.cellsize, (lat - self.south) / self.dy_deg * self.cellsize)
    }
    pub fn to_lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.west + x / self.cellsize * self.dx_deg, self.south + y / self.cellsize * self.dy_deg)
    }
}

/// A geographic DEM (degrees) cut to `bbox` as a metric grid for the flood solver. Cells are
/// taken as squares of the geometric mean of their east and north sizes (at Đà Nẵng's latitude
/// the two differ by ~4 %); the returned [`GeoRef`] maps back exactly by cell index.
pub fn dem_to_grid(dem: &Dem, bbox: Option<[f64; 4]>) -> Result<(Grid, GeoRef), JobError> {
    let [w, s, e, n] = bbox.unwrap_or(dem.bounds());
    if ![w, s, e, n].iter().all(|v| v.is_finite()) || w >= e || s >= n {
        return Err(JobError::field(
            "bbox",
            "must be finite [west, south, east, north] with west < east, south < north",
        ));
    }
    let c0 = (((w - dem.west) / dem.dx).floor().max(0.0)) as usize;
    let c1 = (((e - dem.west) / dem.dx).ceil() as usize).min(dem.width);
    let r0 = (((dem.north - n) / dem.dy).floor().max(0.0)) as usize;
    let r1 = (((dem.north - s) / dem.dy).ceil() as usize).min(dem.height);
    if c1 <= c0 + 2 || r1 <= r0 + 2 {
        return Err(JobError::Invalid("the area does not overlap the DEM".into()));
    }
    let (ncols, nrows) = (c1 - c0, r1 - r0);
    // The crop is sized before it is filled: a fine city DEM must not become a huge grid.
    if ncols.checked_mul(nrows).is_none_or(|cells| cells > MAX_GRID_CELLS) {
        return Err(JobError::field(
            "bbox",
            format!(
                "the area is {ncols} x {nrows} DEM cells, at most {MAX_GRID_CELLS} are allowed; choose a smaller bbox"
            ),
        ));
    }
    let lat = dem.north - (r0 + r1) as f64 * 0.5 * dem.dy;
    let cellsize = (dem.dx * 111_320.0 * lat.to_radians().cos() * dem.dy * 110_574.0).sqrt();
    let mut data = Vec::with_capacity(ncols * nrows);
    for r in r0..r1 {
        for c in c0..c1 {
            data.push(dem.pixel(c, r).unwrap_or(f64::NAN));
        }
    }
    let grid = Grid { ncols, nrows, xll: 0.0, yll: 0.0, cellsize, data };
    let geo = GeoRef {
        west: dem.west + c0 as f64 * dem.dx,
        south: dem.north - r1 as f64 * dem.dy,
        dx_deg: dem.dx,
        dy_deg: dem.dy,
        cellsize,
    };
    Ok((grid, geo))
}

/// Longitude/latitude extent of a layer's vertices.
pub(super) fn layer_bbox(layer: &Layer, margin_deg: f64) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    let mut b: Option<[f64; 4]> = None;
    for f in &layer.features {
        if let Some(r) = f.geometry.bounding_rect() {
            let x = b.get_or_insert([r.min().x, r.min().y, r.max().x, r.max().y]);
            *x = [x[0].min(r.min().x), x[1].min(r.min().y), x[2].max(r.max().x), x[3].max(r.max().y)];
        }
    }
    b.map(|[w, s, e, n]| [w - margin_deg, s - margin_deg, e + margin_deg, n + margin_deg])
}
