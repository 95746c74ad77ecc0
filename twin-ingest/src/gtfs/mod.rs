//! GTFS static feeds: a zip of CSV files (agency, routes, stops, trips, stop_times, shapes) read
//! into typed rows, and turned into reference layers: one line per route and shape, one point per
//! stop.
//!
//! ```
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gtfs/usf_bullrunner_gtfs.zip")).unwrap();
//! let feed = twin_ingest::gtfs::GtfsFeed::from_zip_bytes(&bytes).unwrap();
//! assert_eq!(feed.routes.len(), 6);
//! let layers = feed.layers("gtfs");
//! assert_eq!(layers[0].name, "gtfs_routes");
//! ```

mod csv_rows;
mod error;
mod layers;

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};

use serde::de::DeserializeOwned;

pub use csv_rows::{Agency, Route, ShapePoint, Stop, StopTime, Trip};
pub use error::GtfsError;

/// The parts of a GTFS feed CityTwin uses.
#[derive(Debug, Clone, Default)]
pub struct GtfsFeed {
    pub agencies: Vec<Agency>,
    pub routes: Vec<Route>,
    pub stops: Vec<Stop>,
    pub trips: Vec<Trip>,
    pub stop_times: Vec<StopTime>,
    /// Points of each shape, ordered by `shape_pt_sequence`.
    pub shapes: BTreeMap<String, Vec<ShapePoint>>,
}

impl GtfsFeed {
    /// Reads a GTFS zip held in memory.
    pub fn from_zip_bytes(bytes: &[u8]) -> Result<Self, GtfsError> {
        Self::from_zip_reader(Cursor::new(bytes))
    }

    /// Reads a GTFS zip. Files may sit at the archive root or in one folder inside it.
    /// `shapes.txt` is optional (routes then follow their stops).
    pub fn from_zip_reader<R: Read + Seek>(reader: R) -> Result<Self, GtfsError> {
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| GtfsError::Zip(e.to_string()))?;
        let mut shape_points: Vec<ShapePoint> = read_optional(&mut zip, "shapes.txt")?;
        shape_points.sort_by(|a, b| a.shape_id.cmp(&b.shape_id).then(a.shape_pt_sequence.cmp(&b.shape_pt_sequence)));
        let mut shapes: BTreeMap<String, Vec<ShapePoint>> = BTreeMap::new();
        for p in shape_points {
            shapes.entry(p.shape_id.clone()).or_default().push(p);
        }
        Ok(GtfsFeed {
            agencies: read_required(&mut zip, "agency.txt")?,
            routes: read_required(&mut zip, "routes.txt")?,
            stops: read_required(&mut zip, "stops.txt")?,
            trips: read_required(&mut zip, "trips.txt")?,
            stop_times: read_required(&mut zip, "stop_times.txt")?,
            shapes,
        })
    }
}

fn read_required<R: Read + Seek, T: DeserializeOwned>(
    zip: &mut zip::ZipArchive<R>,
    name: &'static str,
) -> Result<Vec<T>, GtfsError> {
    match read_file(zip, name)? {
        Some(rows) => Ok(rows),
        None => Err(GtfsError::MissingFile(name)),
    }
}

fn read_optional<R: Read + Seek, T: DeserializeOwned>(
    zip: &mut zip::ZipArchive<R>,
    name: &'static str,
) -> Result<Vec<T>, GtfsError> {
    Ok(read_file(zip, name)?.unwrap_or_default())
}

/// The rows of `name`, or `None` when the archive has no such file.
fn read_file<R: Read + Seek, T: DeserializeOwned>(
    zip: &mut zip::ZipArchive<R>,
    name: &'static str,
) -> Result<Option<Vec<T>>, GtfsError> {
    let Some(index) = find_entry(zip, name) else { return Ok(None) };
    let mut entry = zip.by_index(index).map_err(|e| GtfsError::Zip(e.to_string()))?;
    let mut text = Vec::new();
    entry.read_to_end(&mut text).map_err(|e| GtfsError::Zip(format!("{name}: {e}")))?;
    // Some producers start files with a UTF-8 byte order mark; it would end up in the first header.
    let body = text.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(body);
    let mut rows = Vec::new();
    for row in reader.deserialize() {
        let row: T = row.map_err(|e| GtfsError::Csv {
            file: name,
            line: e.position().map_or(0, csv::Position::line),
            reason: e.to_string(),
        })?;
        rows.push(row);
    }
    Ok(Some(rows))
}

/// Index of `name` at the root of the archive or one folder down.
fn find_entry<R: Read + Seek>(zip: &zip::ZipArchive<R>, name: &str) -> Option<usize> {
    if let Some(i) = zip.index_for_name(name) {
        return Some(i);
    }
    (0..zip.len()).find(|&i| {
        zip.name_for_index(i).and_then(Result::ok).is_some_and(|n| {
            n.rsplit_once('/').is_some_and(|(dir, file)| file == name && !dir.is_empty() && !dir.contains('/'))
        })
    })
}
