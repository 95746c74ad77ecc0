//! The `gdal` feature against independent readers: OGR reads of GeoPackage and Shapefile copies that
//! `ogr2ogr` writes from the shipped GeoJSON, compared with our GeoJSON reader. (The raster test is
//! in gdal_dem.rs: it links twin-tiles, whose bundled SQLite clashes with libgdal's GeoPackage driver
//! in one process.)

#![cfg(feature = "gdal")]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::process::Command;

use geo::CoordsIter;
use twin_layers::{gdal, Layer};

fn repo_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data").join(rel)
}

fn ogr2ogr(format: &str, out: &Path, src: &Path) {
    let status = Command::new("ogr2ogr")
        .arg("-f")
        .arg(format)
        .arg(out)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("ogr2ogr (apt: gdal-bin) is required: {e}"));
    assert!(status.success(), "ogr2ogr -f {format} failed");
}

/// Same vertices per feature; `any_order` for Shapefiles, which store rings clockwise.
fn assert_same_geometries(a: &Layer, b: &Layer, any_order: bool) {
    assert_eq!(a.features.len(), b.features.len());
    for (i, (x, y)) in a.features.iter().zip(&b.features).enumerate() {
        let (mut xc, mut yc): (Vec<_>, Vec<_>) =
            (x.geometry.coords_iter().collect(), y.geometry.coords_iter().collect());
        if any_order {
            for c in [&mut xc, &mut yc] {
                c.sort_by(|p, q| p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y)));
            }
        }
        assert_eq!(xc.len(), yc.len(), "vertices of feature {i}");
        assert!(xc.iter().zip(&yc).all(|(p, q)| (p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9), "feature {i}");
    }
}

#[test]
fn geopackage_and_shapefile_read_like_the_geojson_source() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["danang_haichau_buildings.geojson", "danang_haichau_roads.geojson"] {
        let src = repo_data(&format!("osm/{file}"));
        let reference = Layer::from_geojson_file("l", &src).unwrap();
        let gpkg = dir.path().join(file.replace(".geojson", ".gpkg"));
        ogr2ogr("GPKG", &gpkg, &src);
        // from_path picks the OGR reader by extension.
        let read = Layer::from_path("l", &gpkg).unwrap();
        assert_same_geometries(&reference, &read, false);
        for (r, g) in reference.features.iter().zip(&read.features) {
            // GeoPackage keeps names and values; integers may come back as another JSON number type.
            for (k, v) in &r.properties {
                let got = &g.properties[k];
                assert!(v == got || v.as_f64() == got.as_f64() && v.is_number(), "{k}: {v} vs {got}");
            }
        }
        let shp = dir.path().join(file.replace(".geojson", ".shp"));
        ogr2ogr("ESRI Shapefile", &shp, &src);
        assert_same_geometries(&reference, &Layer::from_path("l", &shp).unwrap(), true);
    }
}

#[test]
fn a_missing_source_is_an_error() {
    let err = gdal::read_vector("l", Path::new("/nonexistent/x.gpkg")).unwrap_err();
    assert!(err.to_string().contains("x.gpkg"));
    assert!(gdal::read_raster(Path::new("/nonexistent/x.tif")).is_err());
}
