//! CQL2-text filters (OGC 21-065): a hand-written parser, a printer that writes text the parser reads
//! back to the same tree, and an evaluator over one feature's properties and geometry.
//!
//! Supported: comparisons (`= <> < <= > >=`), `AND`/`OR`/`NOT` (precedence NOT > AND > OR), `LIKE`
//! with `%` and `_`, `IN (...)`, `IS [NOT] NULL`, `BETWEEN`, `S_INTERSECTS` against `BBOX(...)` or WKT
//! literals (POINT, LINESTRING, POLYGON, MULTI*), `TIMESTAMP('...')` and `DATE('...')` literals,
//! double-quoted property names and `''` escapes in strings.

mod eval;
mod lexer;
mod parser;
mod print;

pub use eval::{like_matches, Cql2Feature};
pub use parser::parse;

/// Where and why a filter text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub struct ParseError {
    /// Byte offset in the filter text.
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self { offset, message: message.into() }
    }
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
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
