//! GDAL's read of the SRTM GeoTIFF compared with the GDAL-free reader of twin-tiles.

#![cfg(feature = "gdal")]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};

use twin_layers::gdal;

fn repo_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data").join(rel)
}

#[test]
fn gdal_reads_the_srtm_dem_like_the_gdal_free_reader() {
    let path = repo_data("dem/danang_srtm_gl1_30m.tif");
    let ours = twin_tiles::terrain::Dem::read_geotiff(&path).unwrap();
    let raster = gdal::read_raster(&path).unwrap();
    assert_eq!((raster.width, raster.height), (ours.width, ours.height));
    let gt = raster.geo_transform;
    assert!((gt[0] - ours.west).abs() < 1e-9 && (gt[3] - ours.north).abs() < 1e-9);
    assert!((gt[1] - ours.dx).abs() < 1e-12 && (gt[5] + ours.dy).abs() < 1e-12);
    let mut compared = 0;
    for row in (0..raster.height).step_by(7) {
        for col in (0..raster.width).step_by(5) {
            assert_eq!(raster.pixel(col, row), ours.pixel(col, row), "pixel {col},{row}");
            compared += 1;
        }
    }
    assert!(compared > 1000);
    // Real terrain: the Son Tra peninsula rises well above the city.
    let max = raster.values.iter().flatten().fold(f64::MIN, |m, v| m.max(*v));
    assert!(max > 500.0, "max elevation {max}");
}
