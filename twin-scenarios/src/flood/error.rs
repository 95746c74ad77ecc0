//! Errors of the flood module.

use thiserror::Error;

/// Everything that can go wrong when reading flood inputs or running the solver.
#[derive(Debug, Error)]
pub enum FloodError {
    /// An ESRI ASCII grid could not be parsed; `line` is 1-based.
    #[error("ASCII grid, line {line}: {message}")]
    GridParse { line: usize, message: String },
    /// A grid header asks for more than [`super::MAX_GRID_CELLS`] cells (or an overflowing count).
    #[error("grid of {ncols} x {nrows} cells is larger than the {max} cells allowed")]
    GridTooLarge { ncols: usize, nrows: usize, max: usize },
    /// A `time_s,value` series could not be parsed; `line` is 1-based.
    #[error("series CSV, line {line}: {message}")]
    SeriesParse { line: usize, message: String },
    /// A series given in code is unusable (empty, unordered times, non-finite values).
    #[error("invalid series: {0}")]
    InvalidSeries(String),
    /// The model setup is inconsistent (sizes, parameters, inflow location).
    #[error("invalid flood setup: {0}")]
    InvalidSetup(String),
    /// A setup or solver parameter check failed.
    #[error("invalid flood setup: {0}")]
    Setup(#[from] super::setup::SetupError),
    /// The run was cancelled through the cancellation flag; the state reached so far is kept.
    #[error("flood simulation cancelled at t = {simulated_s} s")]
    Cancelled { simulated_s: f64 },
    /// The solution blew up (non-finite depth), e.g. because the time step factor is too large.
    #[error("flood solver became unstable at t = {simulated_s} s")]
    Unstable { simulated_s: f64 },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("summary serialisation: {0}")]
    Json(#[from] serde_json::Error),
}
