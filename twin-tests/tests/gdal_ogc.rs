//! The real GDAL client against the real server with the Đà Nẵng config: `ogrinfo` lists every OGC
//! API collection, `ogr2ogr` copies a filtered collection to GeoPackage with the right feature count
//! (the filter sent to the server, as CQL text), and GDAL's MVT driver reads a vector tile we serve.
//! Needs `gdal-bin` (ogrinfo, ogr2ogr) on the PATH.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use twin_tests::http::Client;
use twin_tests::server::{workspace_root, Server};

/// Runs a GDAL tool; GDAL sends the harness's bearer token for the server it is pointed at, as
/// QGIS and GDAL users configure it (`GDAL_HTTP_HEADERS`).
fn gdal(tool: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(tool);
    let token = args
        .iter()
        .find(|a| a.contains("http://"))
        .and_then(|a| twin_tests::auth::token_for(&a[a.find("http://").unwrap_or(0)..]));
    if let Some(t) = token {
        cmd.env("GDAL_HTTP_HEADERS", format!("Authorization: Bearer {t}"));
    }
    cmd.args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{tool}` ({e}): install GDAL's command-line tools (`apt-get install -y gdal-bin`)")
    })
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn start(data: &Path) -> Server {
    Server::serve(&workspace_root().join("data/danang.toml"), data, &[])
}

/// `Feature Count: N` from `ogrinfo -so`.
fn feature_count(report: &str) -> usize {
    let line = report.lines().find(|l| l.starts_with("Feature Count:")).unwrap_or_else(|| panic!("{report}"));
    line["Feature Count:".len()..].trim().parse().unwrap()
}

#[test]
fn ogrinfo_lists_every_collection() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let url = format!("OAPIF:{}", server.url("/ogc"));
    let out = gdal("ogrinfo", &["-ro", "-so", &url]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let cols = Client::new(Duration::from_secs(30)).get_json(&server.url("/ogc/collections"));
    let ids: Vec<&str> = cols["collections"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(ids.contains(&"roads") && ids.contains(&"bus"));
    let listed: Vec<&str> = report
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .collect();
    for id in &ids {
        assert!(listed.contains(id), "ogrinfo does not list `{id}`:\n{report}");
    }
}

#[test]
fn ogr2ogr_copies_a_filtered_collection_to_geopackage() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let out_dir = tempfile::tempdir().unwrap();
    let gpkg = out_dir.path().join("primary.gpkg");
    let gpkg = gpkg.to_str().unwrap();
    let url = format!("OAPIF:{}", server.url("/ogc"));
    // GDAL 3.6 sends the attribute filter to the server as CQL text when the API description offers it.
    let args = [
        "--config",
        "OGR_OAPIF_ALLOW_CQL_TEXT",
        "YES",
        "--debug",
        "on",
        "-f",
        "GPKG",
        gpkg,
        &url,
        "roads",
        "-where",
        "class = 'primary'",
    ];
    let out = gdal("ogr2ogr", &args);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("filter="), "the filter was not sent to the server:\n{log}");

    // The count, independently: the raw OSM file's ways tagged highway=primary with a geometry.
    let raw: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("data/osm/danang_haichau_roads.geojson")).unwrap(),
    )
    .unwrap();
    let want = raw["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["geometry"].is_null() && f["properties"]["highway"] == "primary")
        .count();
    assert!(want > 10);
    let info = gdal("ogrinfo", &["-ro", "-so", gpkg, "roads"]);
    assert_eq!(feature_count(&text(&info)), want, "{}", text(&info));
}

/// XYZ tile of a WGS84 point (Web Mercator), written out here rather than taken from the server.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[test]
fn gdal_mvt_driver_reads_a_served_tile() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    // Hải Châu, on Bạch Đằng street: roads are certainly there.
    let (x, y) = tile_of(108.2238, 16.0680, 14);
    let (_, _, bytes) = Client::default().get_bytes(&server.url(&format!("/tiles/roads/14/{x}/{y}.mvt"))).unwrap();
    assert!(!bytes.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{y}.mvt"));
    std::fs::write(&file, &bytes).unwrap();
    let name = format!("MVT:{}", file.display());
    let out = gdal(
        "ogrinfo",
        &["-ro", "-al", "-so", "-oo", &format!("X={x}"), "-oo", &format!("Y={y}"), "-oo", "Z=14", &name],
    );
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(feature_count(&report) > 0, "{report}");
    assert!(report.contains("class:") || report.contains("class ("), "no class attribute:\n{report}");
}
