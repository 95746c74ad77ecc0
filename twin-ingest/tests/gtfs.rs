//! GTFS static: the real USF Bull Runner feed loaded into reference layers. Expected counts are
//! computed from the raw files by plain line splitting, not by the loader's CSV reader.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeSet;
use std::io::Read;

use twin_ingest::gtfs::{GtfsError, GtfsFeed};

const ZIP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gtfs/usf_bullrunner_gtfs.zip");

/// Data lines of a file in the zip, split on commas (this feed has no quoted fields).
fn raw_rows(name: &str) -> Vec<Vec<String>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(ZIP).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().to_owned()).collect())
        .collect()
}

fn feed() -> GtfsFeed {
    GtfsFeed::from_zip_bytes(&std::fs::read(ZIP).unwrap()).unwrap()
}

#[test]
fn counts_match_the_files() {
    let feed = feed();
    assert_eq!(feed.agencies.len(), raw_rows("agency.txt").len());
    assert_eq!(feed.routes.len(), raw_rows("routes.txt").len());
    assert_eq!(feed.stops.len(), raw_rows("stops.txt").len());
    assert_eq!(feed.trips.len(), raw_rows("trips.txt").len());
    assert_eq!(feed.stop_times.len(), raw_rows("stop_times.txt").len());
    let shape_rows = raw_rows("shapes.txt");
    let shape_ids: BTreeSet<&str> = shape_rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(feed.shapes.len(), shape_ids.len());
    assert_eq!(feed.shapes.values().map(Vec::len).sum::<usize>(), shape_rows.len());
}

#[test]
fn layers_hold_one_line_per_route_shape_and_one_point_per_stop() {
    let feed = feed();
    let layers = feed.layers("gtfs");
    let (routes, stops) = (&layers[0], &layers[1]);
    assert_eq!(routes.name, "gtfs_routes");
    assert_eq!(stops.name, "gtfs_stops");

    // trips.txt: route_id,service_id,trip_id,shape_id
    let pairs: BTreeSet<(String, String)> =
        raw_rows("trips.txt").into_iter().map(|r| (r[0].clone(), r[3].clone())).collect();
    assert_eq!(routes.features.len(), pairs.len());
    let route_rows = raw_rows("routes.txt");
    for f in &routes.features {
        let route_id = f.properties["route_id"].as_str().unwrap();
        let shape_id = f.properties["shape_id"].as_str().unwrap();
        assert!(pairs.contains(&(route_id.to_owned(), shape_id.to_owned())));
        // routes.txt: route_id,route_short_name,route_long_name,route_type,route_url,route_color,...
        let row = route_rows.iter().find(|r| r[0] == route_id).unwrap();
        assert_eq!(f.properties["color"], format!("#{}", row[5]));
        assert_eq!(f.properties["long_name"], row[2].as_str());
        let geo::Geometry::LineString(line) = &f.geometry else { panic!("route is not a line") };
        let shape_points = raw_rows("shapes.txt").iter().filter(|r| r[0] == shape_id).count();
        assert_eq!(line.0.len(), shape_points);
    }

    // stops.txt: stop_id,stop_name,stop_lat,stop_lon
    let stop_rows = raw_rows("stops.txt");
    assert_eq!(stops.features.len(), stop_rows.len());
    for (f, row) in stops.features.iter().zip(&stop_rows) {
        let geo::Geometry::Point(p) = f.geometry else { panic!("stop is not a point") };
        assert_eq!(f.properties["stop_id"], row[0].as_str());
        assert_eq!(p.y(), row[2].parse::<f64>().unwrap());
        assert_eq!(p.x(), row[3].parse::<f64>().unwrap());
    }
}

#[test]
fn shape_points_follow_their_sequence() {
    for points in feed().shapes.values() {
        assert!(points.windows(2).all(|w| w[0].shape_pt_sequence < w[1].shape_pt_sequence));
    }
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    for (name, body) in files {
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        std::io::Write::write_all(&mut w, body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    out.into_inner()
}

#[test]
fn routes_without_shapes_follow_their_stops_and_files_may_sit_in_a_folder() {
    let bytes = zip_of(&[
        ("feed/agency.txt", "\u{feff}agency_name,agency_url,agency_timezone\nDa Nang Bus,http://x,Asia/Ho_Chi_Minh\n"),
        ("feed/routes.txt", "route_id,route_short_name,route_type\nR1,01,3\n"),
        ("feed/stops.txt", "stop_id,stop_name,stop_lat,stop_lon\nS1,Cầu Rồng,16.0612,108.2275\nS2,Chợ Hàn,16.0680,108.2240\nS3,Nowhere,,\n"),
        ("feed/trips.txt", "route_id,service_id,trip_id\nR1,daily,T1\n"),
        ("feed/stop_times.txt", "trip_id,stop_id,stop_sequence\nT1,S2,2\nT1,S1,1\nT1,S3,3\n"),
    ]);
    let feed = GtfsFeed::from_zip_bytes(&bytes).unwrap();
    assert_eq!(feed.agencies[0].agency_name, "Da Nang Bus");
    let layers = feed.layers("bus");
    assert_eq!(layers[0].features.len(), 1);
    let geo::Geometry::LineString(line) = &layers[0].features[0].geometry else { panic!() };
    assert_eq!(line.0[0].x, 108.2275, "ordered by stop_sequence");
    assert_eq!(line.0.len(), 2, "the stop without a position is left out");
    assert_eq!(layers[0].features[0].properties["name"], "01");
    assert_eq!(layers[0].features[0].properties["color"], "#FFFFFF");
    assert_eq!(layers[1].features.len(), 2);
}

#[test]
fn broken_feeds_are_typed_errors() {
    assert!(matches!(GtfsFeed::from_zip_bytes(b"not a zip"), Err(GtfsError::Zip(_))));
    let no_stops = zip_of(&[("agency.txt", "agency_name\nX\n"), ("routes.txt", "route_id\nR\n")]);
    assert!(matches!(GtfsFeed::from_zip_bytes(&no_stops), Err(GtfsError::MissingFile("stops.txt"))));
    let bad = zip_of(&[
        ("agency.txt", "agency_name\nX\n"),
        ("routes.txt", "route_id\nR\n"),
        ("stops.txt", "stop_id,stop_lat,stop_lon\nS1,north,108\n"),
        ("trips.txt", "route_id,service_id,trip_id\n"),
        ("stop_times.txt", "trip_id,stop_id,stop_sequence\n"),
    ]);
    match GtfsFeed::from_zip_bytes(&bad) {
        Err(GtfsError::Csv { file, line, .. }) => assert_eq!((file, line), ("stops.txt", 2)),
        other => panic!("{other:?}"),
    }
}
