//! CQL2-text filters (OGC 21-065): a hand-written parser, a printer that writes text the parser reads
//! back to the same tree, and an evaluator over one feature's properties and geometry.
//!
//! Supported: comparisons (`= <> < <= > >=`), `AND`/`OR`/`NOT` (precedence NOT > AND > OR), `LIKE`
//! with `%` and `_`, `IN (...)`, `IS [NOT] NULL`, `BETWEEN`, `S_INTERSECTS` against `BBOX(...)` or WKT
//! literals (POINT, LINESTRING, POLYGON, MULTI*), `TIMESTAMP('...')` and `DATE('...')` literals,
//! double-quoted property names and `''` escapes in strings.
//!
//! # Bounds
//!
//! Filters come from anonymous query strings, so every input is accepted or refused within fixed
//! bounds, each a public constant and a [`Limit`] named by the [`ParseError`]: the text length
//! ([`MAX_FILTER_BYTES`]), nesting of parentheses and `NOT` ([`MAX_DEPTH`]), predicates per filter
//! ([`MAX_TERMS`]), `IN` list length ([`MAX_IN_VALUES`]), string literal and property name length
//! ([`MAX_LITERAL_BYTES`]), `LIKE` pattern length ([`MAX_LIKE_PATTERN_BYTES`]), and geometry literal
//! size ([`MAX_VERTICES`], [`MAX_GEOMETRY_PARTS`]); geometry coordinates must be CRS84 degrees.
//! `AND`/`OR` chains are flat n-ary nodes, and the parser, the evaluator, the printer and `Clone` and
//! `PartialEq` of [`Expr`] walk with heap stacks, not recursion. Only the derived `Drop` and `Debug`
//! recurse, as deep as the depth bound allows (a tree is at most about 2 × [`MAX_DEPTH`] deep): in an
//! unoptimized build the deepest accepted tree needs under 64 KiB of stack for everything but `Debug`,
//! which needs between 128 and 256 KiB; the server's workers have 2 MiB. The tests run the deepest
//! accepted trees and hostile filters on a thread with a 256 KiB stack. `LIKE` runs as a bit-parallel
//! automaton, O(value × pattern / 64) with no backtracking.
//!
//! # Why not the `cql2` crate
//!
//! The maintained `cql2` crate (0.6.0, used by STAC servers; text and JSON encodings, SQL output) was
//! weighed as a replacement (December 2026, release builds on a shared 2-core VM). It sets no bound
//! on its input: on a 2 MiB stack 1,000 nested parentheses, 10,000 `NOT`s and a 10,000-term `AND` chain
//! each abort the process with a stack overflow (100 parentheses already do on 256 KiB), and a
//! 100,000-vertex `LINESTRING` takes 95 s. It brings 155 crates (pest, sqlparser, jsonschema, jiff, a
//! second geozero) against 81 for all of this crate, and it evaluates JSON values, cloning the tree per
//! item: parsing and evaluating the filter of `benches/cql2.rs` over the same 100,000 features (one
//! timing harness, median of 5) took 1.83 s with it against 0.059 s here (1,530 matches from both),
//! and parsing alone 43 µs against 3.2 µs; the criterion bench gives 36 ms and 1.9 µs for ours.
//! So the hand-written parser stays; its bounds are above.
//!
//! # Fuzzing
//!
//! From `twin-layers/fuzz`, 60 seconds per target:
//! `cargo +nightly fuzz run cql2_parse -- -max_total_time=60` (parse, print, reparse) and
//! `cargo +nightly fuzz run cql2_eval -- -max_total_time=60` (a filter and a feature from one input).

mod eval;
mod lexer;
mod parser;
mod print;
mod tree;

pub use eval::{like_matches, Cql2Feature};
pub use parser::parse;

/// Longest filter text accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 64 * 1024;
/// Deepest nesting of parentheses and `NOT`s together.
pub const MAX_DEPTH: usize = 100;
/// Most predicates (comparisons, `LIKE`, `IN`, `BETWEEN`, `IS NULL`, `S_INTERSECTS`, `TRUE`/`FALSE`) in
/// one filter, so also the longest `AND`/`OR` chain.
pub const MAX_TERMS: usize = 1_000;
/// Most values in one `IN (...)` list.
pub const MAX_IN_VALUES: usize = 1_000;
/// Longest string literal or property name, in bytes (after `''` unescaping).
pub const MAX_LITERAL_BYTES: usize = 4 * 1024;
/// Longest `LIKE` pattern, in bytes: the matcher's cost per value character grows with it.
pub const MAX_LIKE_PATTERN_BYTES: usize = 1024;
/// Most vertices of all geometry literals of one filter together.
pub const MAX_VERTICES: usize = 10_000;
/// Most rings and polygons of all geometry literals of one filter together.
pub const MAX_GEOMETRY_PARTS: usize = 1_000;

/// Which bound a filter exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    FilterBytes,
    Depth,
    Terms,
    InValues,
    LiteralBytes,
    LikePatternBytes,
    Vertices,
    GeometryParts,
}

impl Limit {
    /// The bound itself.
    pub fn max(self) -> usize {
        match self {
            Limit::FilterBytes => MAX_FILTER_BYTES,
            Limit::Depth => MAX_DEPTH,
            Limit::Terms => MAX_TERMS,
            Limit::InValues => MAX_IN_VALUES,
            Limit::LiteralBytes => MAX_LITERAL_BYTES,
            Limit::LikePatternBytes => MAX_LIKE_PATTERN_BYTES,
            Limit::Vertices => MAX_VERTICES,
            Limit::GeometryParts => MAX_GEOMETRY_PARTS,
        }
    }

    /// What is counted, for messages and documentation.
    pub fn what(self) -> &'static str {
        match self {
            Limit::FilterBytes => "filter bytes",
            Limit::Depth => "levels of parentheses and NOT",
            Limit::Terms => "predicates",
            Limit::InValues => "IN values",
            Limit::LiteralBytes => "bytes in a string literal or property name",
            Limit::LikePatternBytes => "bytes in a LIKE pattern",
            Limit::Vertices => "geometry vertices",
            Limit::GeometryParts => "geometry rings and parts",
        }
    }
}

/// Where and why a filter text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub struct ParseError {
    /// Byte offset in the filter text.
    pub offset: usize,
    pub message: String,
    /// The bound the filter exceeded, when that is why it was refused.
    pub limit: Option<Limit>,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self { offset, message: message.into(), limit: None }
    }

    pub(crate) fn over(offset: usize, limit: Limit) -> Self {
        Self {
            offset,
            message: format!("filter exceeds the limit of {} {}", limit.max(), limit.what()),
            limit: Some(limit),
        }
    }
}

/// A boolean expression.
///
/// `AND` and `OR` chains are flat: `a AND b AND c` is one `And` of three operands, so no recursion grows
/// with the length of a chain. Parsed trees have at least two operands in each `And` and `Or`; an empty
/// `And` is true and an empty `Or` false.
///
/// `Clone` and `PartialEq` walk the tree with a heap stack (see `tree.rs`); the derived `Drop` and
/// `Debug` recurse, within the parser's depth bound.
#[derive(Debug)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Literal(bool),
    Compare { op: CmpOp, left: Scalar, right: Scalar },
    Like { value: Scalar, pattern: String, negated: bool },
    In { value: Scalar, list: Vec<Scalar>, negated: bool },
    Between { value: Scalar, low: Scalar, high: Scalar, negated: bool },
    IsNull { value: Scalar, negated: bool },
    Intersects(GeomOperand, GeomOperand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A value operand: a property reference or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Property(String),
    Text(String),
    Number(f64),
    Bool(bool),
    /// `TIMESTAMP('...')`, milliseconds since the epoch (UTC).
    Timestamp(i64),
    /// `DATE('...')`, milliseconds at midnight UTC.
    Date(i64),
}

/// An operand of a spatial function: the feature's geometry (named by any property) or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum GeomOperand {
    Property(String),
    /// `BBOX(minx, miny, maxx, maxy)`.
    Bbox([f64; 4]),
    Wkt(geo::Geometry<f64>),
}
