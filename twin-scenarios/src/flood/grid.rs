//! A north-up raster of `f64` values and the ESRI ASCII grid (`.asc`) format.
//!
//! Row 0 is the northern row, as in the file; `(row, col)` index `data[row * ncols + col]`.
//! Missing values are `None` in [`Grid::get`] and stored as NaN in `data`.

use std::fmt::Write as _;
use std::path::Path;

use super::error::FloodError;

/// NODATA value written to files when a grid has missing cells.
pub const DEFAULT_NODATA: f64 = -9999.0;

/// Most cells a grid read from text (or cut from the city DEM) may have: 2000 × 2000. The solver
/// keeps about a dozen `f64` arrays of this size, ~400 MB at the cap.
pub const MAX_GRID_CELLS: usize = 4_000_000;

/// A regular raster with square cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub ncols: usize,
    pub nrows: usize,
    /// X of the lower-left corner of the lower-left cell.
    pub xll: f64,
    /// Y of the lower-left corner of the lower-left cell.
    pub yll: f64,
    pub cellsize: f64,
    /// Row-major values, north row first; NaN marks a missing (NODATA) cell.
    pub data: Vec<f64>,
}

impl Grid {
    /// A grid filled with `value`.
    pub fn filled(ncols: usize, nrows: usize, cellsize: f64, value: f64) -> Self {
        Self { ncols, nrows, xll: 0.0, yll: 0.0, cellsize, data: vec![value; ncols * nrows] }
    }

    /// A grid with the same geometry as `self` and the given values.
    pub fn with_data(&self, data: Vec<f64>) -> Result<Self, FloodError> {
        if data.len() != self.ncols * self.nrows {
            return Err(FloodError::InvalidSetup(format!(
                "grid data has {} values, expected {}",
                data.len(),
                self.ncols * self.nrows
            )));
        }
        Ok(Self { data, ..*self })
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The value at `(row, col)`, `None` when outside the grid or NODATA.
    pub fn get(&self, row: usize, col: usize) -> Option<f64> {
        if row >= self.nrows || col >= self.ncols {
            return None;
        }
        let v = self.data[row * self.ncols + col];
        (!v.is_nan()).then_some(v)
    }

    /// The cell containing map coordinate `(x, y)`, if inside the grid.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let col = ((x - self.xll) / self.cellsize).floor();
        let row_from_south = ((y - self.yll) / self.cellsize).floor();
        if col < 0.0 || row_from_south < 0.0 || col >= self.ncols as f64 || row_from_south >= self.nrows as f64 {
            return None;
        }
        Some((self.nrows - 1 - row_from_south as usize, col as usize))
    }

    /// Map coordinate of the centre of `(row, col)`.
    pub fn cell_centre(&self, row: usize, col: usize) -> (f64, f64) {
        let x = self.xll + (col as f64 + 0.5) * self.cellsize;
        let y = self.yll + ((self.nrows - row) as f64 - 0.5) * self.cellsize;
        (x, y)
    }

    /// Reads only the header of ESRI ASCII grid text: the size a grid would have, checked against
    /// [`MAX_GRID_CELLS`] without allocating anything.
    pub fn parse_asc_header(text: &str) -> Result<AscHeader, FloodError> {
        Ok(split_asc(text)?.0)
    }

    /// Parses ESRI ASCII grid text. Values may wrap over lines in any way; the count must match.
    pub fn parse_asc(text: &str) -> Result<Self, FloodError> {
        let err = |line: usize, message: String| FloodError::GridParse { line, message };
        let (header, lines) = split_asc(text)?;
        let AscHeader { ncols, nrows, cellsize, xll, yll, nodata } = header;
        let expected = header.cells();
        // The header is only a claim: reserve no more than the text can hold (a value and a
        // separator take at least two bytes), so a lying header cannot ask for a huge buffer.
        let mut data = Vec::with_capacity(expected.min(text.len() / 2 + 1));
        for (idx, line) in lines {
            for token in line.split_ascii_whitespace() {
                if data.len() == expected {
                    return Err(err(idx + 1, format!("more than ncols x nrows = {expected} values")));
                }
                let v: f64 = token.parse().map_err(|_| err(idx + 1, format!("'{token}' is not a number")))?;
                let missing = nodata.is_some_and(|nd| v == nd) || v.is_nan();
                data.push(if missing { f64::NAN } else { v });
            }
        }
        if data.len() != expected {
            let line = text.lines().count().max(1);
            return Err(err(line, format!("found {} values, expected ncols x nrows = {expected}", data.len())));
        }
        Ok(Self { ncols, nrows, xll, yll, cellsize, data })
    }

    /// Reads an `.asc` file.
    pub fn read_asc(path: &Path) -> Result<Self, FloodError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| FloodError::Io { path: path.display().to_string(), source })?;
        Self::parse_asc(&text)
    }

    /// Formats as ESRI ASCII grid; NaN cells are written as [`DEFAULT_NODATA`].
    pub fn to_asc(&self) -> String {
        let mut out = String::with_capacity(self.data.len() * 8 + 200);
        // Writing to a String cannot fail.
        let _ = writeln!(out, "ncols {}", self.ncols);
        let _ = writeln!(out, "nrows {}", self.nrows);
        let _ = writeln!(out, "xllcorner {}", self.xll);
        let _ = writeln!(out, "yllcorner {}", self.yll);
        let _ = writeln!(out, "cellsize {}", self.cellsize);
        let _ = writeln!(out, "NODATA_value {DEFAULT_NODATA}");
        for row in self.data.chunks(self.ncols.max(1)) {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let v = if v.is_nan() { DEFAULT_NODATA } else { *v };
                let _ = write!(out, "{v}");
            }
            out.push('\n');
        }
        out
    }

    /// Writes an `.asc` file.
    pub fn write_asc(&self, path: &Path) -> Result<(), FloodError> {
        std::fs::write(path, self.to_asc())
            .map_err(|source| FloodError::Io { path: path.display().to_string(), source })
    }
}

/// The header of an ESRI ASCII grid, checked: positive sizes whose product is at most
/// [`MAX_GRID_CELLS`], a positive finite cell size, finite origin and NODATA value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AscHeader {
    pub ncols: usize,
    pub nrows: usize,
    pub cellsize: f64,
    /// Lower-left corner of the lower-left cell (a "center" origin already shifted).
    pub xll: f64,
    pub yll: f64,
    pub nodata: Option<f64>,
}

impl AscHeader {
    /// `ncols × nrows` (checked against overflow when the header was read).
    pub fn cells(&self) -> usize {
        self.ncols * self.nrows
    }
}

type Lines<'a> = std::iter::Peekable<std::iter::Enumerate<std::str::Lines<'a>>>;

/// The checked header and the lines after it.
fn split_asc(text: &str) -> Result<(AscHeader, Lines<'_>), FloodError> {
    let err = |line: usize, message: String| FloodError::GridParse { line, message };
    let mut header = Header::default();
    let mut lines = text.lines().enumerate().peekable();
    // Header lines start with a keyword; the first line starting with a number begins the data.
    while let Some(&(idx, line)) = lines.peek() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            lines.next();
            continue;
        }
        let mut parts = trimmed.split_ascii_whitespace();
        let key = parts.next().unwrap_or_default().to_ascii_lowercase();
        if !key.starts_with(|c: char| c.is_ascii_alphabetic()) || key == "nan" || key == "inf" {
            break;
        }
        let value = parts.next().ok_or_else(|| err(idx + 1, format!("header key '{key}' has no value")))?;
        if parts.next().is_some() {
            return Err(err(idx + 1, format!("header line '{trimmed}' has more than one value")));
        }
        header.set(&key, value).map_err(|e| err(idx + 1, e.to_string()))?;
        lines.next();
    }
    let last_header_line = lines.peek().map_or(text.lines().count(), |&(i, _)| i);
    let checked = header.finish().map_err(|e| match e {
        HeaderError::TooLarge { ncols, nrows } => FloodError::GridTooLarge { ncols, nrows, max: MAX_GRID_CELLS },
        e => err(last_header_line.max(1), e.to_string()),
    })?;
    Ok((checked, lines))
}

/// Why an ASCII grid header was refused; [`Grid::parse_asc`] adds the line number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum HeaderError {
    #[error("'{value}' is not a number for '{key}'")]
    NotANumber { key: String, value: String },
    #[error("'{0}' must be a positive integer")]
    NotACount(String),
    #[error("unknown header key '{0}'")]
    UnknownKey(String),
    #[error("header lacks {0}")]
    Missing(&'static str),
    #[error("cells must be square, got dx {dx} and dy {dy}")]
    NotSquare { dx: f64, dy: f64 },
    #[error("header must give either cellsize or both dx and dy")]
    CellSizeForm,
    #[error("cellsize must be positive, got {0}")]
    CellSize(f64),
    #[error("'{0}' must be finite")]
    NotFinite(&'static str),
    #[error("{ncols} x {nrows} cells is too large")]
    TooLarge { ncols: usize, nrows: usize },
}

/// Header fields collected while parsing.
#[derive(Default)]
struct Header {
    ncols: Option<usize>,
    nrows: Option<usize>,
    cellsize: Option<f64>,
    dx: Option<f64>,
    dy: Option<f64>,
    x: Option<(f64, bool)>,
    y: Option<(f64, bool)>,
    nodata: Option<f64>,
}

impl Header {
    fn set(&mut self, key: &str, value: &str) -> Result<(), HeaderError> {
        let num = || {
            value.parse::<f64>().map_err(|_| HeaderError::NotANumber { key: key.to_owned(), value: value.to_owned() })
        };
        let count =
            || value.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| HeaderError::NotACount(key.to_owned()));
        match key {
            "ncols" => self.ncols = Some(count()?),
            "nrows" => self.nrows = Some(count()?),
            "cellsize" => self.cellsize = Some(num()?),
            // GDAL writes dx/dy instead of cellsize for non-square pixels.
            "dx" => self.dx = Some(num()?),
            "dy" => self.dy = Some(num()?),
            "xllcorner" => self.x = Some((num()?, false)),
            "xllcenter" => self.x = Some((num()?, true)),
            "yllcorner" => self.y = Some((num()?, false)),
            "yllcenter" => self.y = Some((num()?, true)),
            "nodata_value" => self.nodata = Some(num()?),
            _ => return Err(HeaderError::UnknownKey(key.to_owned())),
        }
        Ok(())
    }

    fn finish(&self) -> Result<AscHeader, HeaderError> {
        let ncols = self.ncols.ok_or(HeaderError::Missing("ncols"))?;
        let nrows = self.nrows.ok_or(HeaderError::Missing("nrows"))?;
        // Before anything is sized from them: the product must not overflow nor pass the cap.
        if ncols.checked_mul(nrows).is_none_or(|cells| cells > MAX_GRID_CELLS) {
            return Err(HeaderError::TooLarge { ncols, nrows });
        }
        let cellsize = match (self.cellsize, self.dx, self.dy) {
            (Some(c), None, None) => c,
            (None, Some(dx), Some(dy)) if dx == dy => dx,
            (None, Some(dx), Some(dy)) => return Err(HeaderError::NotSquare { dx, dy }),
            (None, None, None) => return Err(HeaderError::Missing("cellsize")),
            _ => return Err(HeaderError::CellSizeForm),
        };
        if !(cellsize.is_finite() && cellsize > 0.0) {
            return Err(HeaderError::CellSize(cellsize));
        }
        let (x, xc) = self.x.ok_or(HeaderError::Missing("xllcorner/xllcenter"))?;
        let (y, yc) = self.y.ok_or(HeaderError::Missing("yllcorner/yllcenter"))?;
        if !x.is_finite() {
            return Err(HeaderError::NotFinite("xllcorner/xllcenter"));
        }
        if !y.is_finite() {
            return Err(HeaderError::NotFinite("yllcorner/yllcenter"));
        }
        // A NaN NODATA would never match a value; an infinite one is a broken header.
        if self.nodata.is_some_and(|nd| !nd.is_finite()) {
            return Err(HeaderError::NotFinite("nodata_value"));
        }
        // A "center" origin refers to the middle of the lower-left cell.
        let half = 0.5 * cellsize;
        Ok(AscHeader {
            ncols,
            nrows,
            cellsize,
            xll: if xc { x - half } else { x },
            yll: if yc { y - half } else { y },
            nodata: self.nodata,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    const SMALL: &str = "ncols 3\nnrows 2\nxllcorner 100\nyllcorner 200\ncellsize 10\nNODATA_value -9999\n\
                         1 2 3\n4 -9999 6\n";

    #[test]
    fn parses_values_and_nodata() {
        let g = Grid::parse_asc(SMALL).unwrap();
        assert_eq!((g.ncols, g.nrows, g.cellsize), (3, 2, 10.0));
        assert_eq!(g.get(0, 2), Some(3.0));
        assert_eq!(g.get(1, 1), None);
        assert_eq!(g.get(1, 0), Some(4.0));
        // Lower-left cell (row 1, col 0) spans x 100..110, y 200..210.
        assert_eq!(g.cell_at(105.0, 205.0), Some((1, 0)));
        assert_eq!(g.cell_at(125.0, 219.0), Some((0, 2)));
        assert_eq!(g.cell_at(99.0, 205.0), None);
        assert_eq!(g.cell_centre(1, 0), (105.0, 205.0));
    }

    #[test]
    fn centre_origin_is_shifted_to_corner() {
        let text = SMALL.replace("xllcorner 100", "xllcenter 105").replace("yllcorner 200", "YLLCENTER 205");
        let g = Grid::parse_asc(&text).unwrap();
        assert_eq!((g.xll, g.yll), (100.0, 200.0));
    }

    #[test]
    fn round_trips_through_text() {
        let g = Grid::parse_asc(SMALL).unwrap();
        let again = Grid::parse_asc(&g.to_asc()).unwrap();
        assert_eq!(g.ncols, again.ncols);
        assert_eq!(g.xll, again.xll);
        for (a, b) in g.data.iter().zip(&again.data) {
            assert!(a == b || (a.is_nan() && b.is_nan()));
        }
    }

    fn parse_error_line(text: &str) -> (usize, String) {
        match Grid::parse_asc(text) {
            Err(FloodError::GridParse { line, message }) => (line, message),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_files_report_the_line() {
        let (line, msg) = parse_error_line(&SMALL.replace("4 -9999 6", "4 x 6"));
        assert_eq!(line, 8);
        assert!(msg.contains("'x'"), "{msg}");

        let (line, msg) = parse_error_line(&SMALL.replace("4 -9999 6\n", "4 5\n"));
        assert_eq!(line, 8);
        assert!(msg.contains("found 5 values"), "{msg}");

        let (line, msg) = parse_error_line(&SMALL.replace("4 -9999 6", "4 5 6 7"));
        assert_eq!(line, 8);
        assert!(msg.contains("more than"), "{msg}");

        let (line, msg) = parse_error_line(&SMALL.replace("cellsize 10", "cellsize ten"));
        assert_eq!(line, 5);
        assert!(msg.contains("not a number"), "{msg}");

        let (line, _) = parse_error_line(&SMALL.replace("nrows 2", "nrows -2"));
        assert_eq!(line, 2);

        let (_, msg) = parse_error_line(&SMALL.replace("ncols 3\n", ""));
        assert!(msg.contains("lacks ncols"), "{msg}");

        let (line, msg) = parse_error_line(&SMALL.replace("cellsize 10", "cellsize 10 12"));
        assert_eq!(line, 5);
        assert!(msg.contains("more than one value"), "{msg}");

        let (_, msg) = parse_error_line(&SMALL.replace("cellsize 10", "dx 10\ndy 20"));
        assert!(msg.contains("square"), "{msg}");
        let square = Grid::parse_asc(&SMALL.replace("cellsize 10", "dx 10\ndy 10")).unwrap();
        assert_eq!(square.cellsize, 10.0);

        let (line, msg) = parse_error_line(&SMALL.replace("cellsize 10", "pixelsize 10"));
        assert_eq!(line, 5);
        assert!(msg.contains("unknown header key"), "{msg}");
    }

    #[test]
    fn lying_headers_are_refused_before_allocating() {
        let too_large = |text: &str| match Grid::parse_asc(text) {
            Err(FloodError::GridTooLarge { ncols, nrows, max }) => {
                assert_eq!(max, MAX_GRID_CELLS);
                (ncols, nrows)
            }
            other => panic!("expected GridTooLarge, got {other:?}"),
        };
        // 3.6 billion cells claimed over six values.
        assert_eq!(
            too_large(&SMALL.replace("ncols 3", "ncols 60000").replace("nrows 2", "nrows 60000")),
            (60000, 60000)
        );
        // A product that overflows usize.
        let max = usize::MAX;
        assert_eq!(too_large(&SMALL.replace("ncols 3", &format!("ncols {max}"))), (max, 2));
        // One cell over the cap.
        let over = format!("ncols {}\nnrows 1\n", MAX_GRID_CELLS + 1);
        assert_eq!(too_large(&SMALL.replace("ncols 3\nnrows 2\n", &over)), (MAX_GRID_CELLS + 1, 1));
        // The header-only read gives the same answer without touching the values.
        assert!(matches!(
            Grid::parse_asc_header(&SMALL.replace("nrows 2", "nrows 99999999")),
            Err(FloodError::GridTooLarge { .. })
        ));
        // At the cap the header is accepted; the missing values are reported, not allocated.
        let at_cap = SMALL.replace("ncols 3\nnrows 2\n", &format!("ncols {MAX_GRID_CELLS}\nnrows 1\n"));
        assert_eq!(Grid::parse_asc_header(&at_cap).unwrap().cells(), MAX_GRID_CELLS);
        let (_, msg) = parse_error_line(&at_cap);
        assert!(msg.contains("found 6 values"), "{msg}");
        // Counts beyond any integer are not numbers at all.
        let (line, _) = parse_error_line(&SMALL.replace("ncols 3", "ncols 1e30"));
        assert_eq!(line, 1);
    }

    #[test]
    fn non_finite_header_values_are_refused() {
        for (from, to, what) in [
            ("NODATA_value -9999", "NODATA_value inf", "nodata_value"),
            ("NODATA_value -9999", "NODATA_value NaN", "nodata_value"),
            ("xllcorner 100", "xllcorner -inf", "xllcorner"),
            ("yllcorner 200", "yllcorner NaN", "yllcorner"),
        ] {
            let (line, msg) = parse_error_line(&SMALL.replace(from, to));
            assert!(msg.contains(what) && msg.contains("finite"), "{to}: {msg}");
            assert!(line >= 6, "{to}: line {line}");
        }
        let (_, msg) = parse_error_line(&SMALL.replace("cellsize 10", "cellsize 0"));
        assert!(msg.contains("cellsize must be positive"), "{msg}");
    }
}
