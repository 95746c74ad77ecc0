//! Why a GTFS static feed could not be loaded.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GtfsError {
    /// The bytes are not a readable zip archive.
    #[error("not a readable GTFS zip: {0}")]
    Zip(String),
    /// A file the loader needs is absent from the archive.
    #[error("GTFS feed has no {0}")]
    MissingFile(&'static str),
    /// A file is not valid CSV, or a row lacks a required column.
    #[error("{file}, line {line}: {reason}")]
    Csv { file: &'static str, line: u64, reason: String },
}
