//! The `gdal` feature against independent readers: OGR reads of GeoPackage and Shapefile copies that
//! `ogr2ogr` writes from the shipped GeoJSON, compared with our GeoJSON reader; and GDAL's GeoPackage
//! reader with twin-tiles' MBTiles writer in one process (both on the one system SQLite).

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

/// GeoPackage in through GDAL, MBTiles out through twin-tiles (rusqlite), then GDAL's MBTiles driver
/// reads the archive back: three SQLite users in one process.
#[test]
fn a_geopackage_read_by_gdal_exports_to_mbtiles_that_gdal_reads() {
    use ::gdal::vector::LayerAccess;
    use twin_tiles::export::{archive_info, covering_tiles, export_tile, ExportOptions};
    use twin_tiles::mbtiles::{read_mbtiles_tile, write_mbtiles};
    use twin_tiles::reference::ReferenceIndex;
    use twin_tiles::TileRenderer;

    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("buildings.gpkg");
    ogr2ogr("GPKG", &gpkg, &repo_data("osm/danang_haichau_buildings.geojson"));
    let buildings = Layer::from_path("buildings", &gpkg).unwrap();
    assert!(!buildings.features.is_empty());
    let renderer =
        TileRenderer::new(ReferenceIndex::build(&twin_layers::ReferenceLayers { layers: vec![buildings.clone()] }));
    let rect = buildings
        .features
        .iter()
        .filter_map(|f| geo::BoundingRect::bounding_rect(&f.geometry))
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .unwrap();
    let opts = ExportOptions {
        layers: vec!["buildings".into()],
        minzoom: 14,
        maxzoom: 15,
        bounds: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
    };
    let tiles: Vec<_> =
        covering_tiles(&opts).unwrap().into_iter().map(|t| (t, export_tile(&renderer, &opts, t))).collect();
    let non_empty: Vec<_> = tiles.iter().filter(|(_, b)| !b.is_empty()).cloned().collect();
    let mbtiles = dir.path().join("city.mbtiles");
    let stored = write_mbtiles(&mbtiles, tiles, &archive_info(&renderer, &opts, "city", "OSM")).unwrap();
    assert_eq!(stored as usize, non_empty.len());
    for (t, bytes) in &non_empty {
        // MBTiles stores vector tiles gzipped.
        let stored = read_mbtiles_tile(&mbtiles, *t).unwrap().unwrap();
        assert_eq!(&twin_tiles::compress::gunzip(&stored).unwrap(), bytes);
    }
    // GDAL opens the GeoPackage again and the MBTiles we wrote, in the same process.
    let again = Layer::from_path("buildings", &gpkg).unwrap();
    assert_eq!(again.features.len(), buildings.features.len());
    let ds = ::gdal::Dataset::open(&mbtiles).unwrap();
    assert_eq!(ds.driver().short_name(), "MBTiles");
    let mut layer = ds.layer_by_name("buildings").unwrap();
    assert!(layer.features().count() >= buildings.features.len(), "each building is in at least one z15 tile");
}
