//! CQL2 text out: `parse(&e.to_string()) == e` for every expression the parser can produce.

use std::fmt::{self, Display, Formatter, Write};

use chrono::{DateTime, SecondsFormat};
use geo::{Coord, Geometry, LineString, Polygon};

use super::parser::RESERVED;
use super::{Expr, GeomOperand, Scalar};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            // Left-leaning chains print flat; a right child of the same operator keeps its parentheses.
            Expr::Or(l, r) => {
                write!(f, "{l} OR ")?;
                group(f, r, matches!(**r, Expr::Or(..)))
            }
            Expr::And(l, r) => {
                group(f, l, matches!(**l, Expr::Or(..)))?;
                f.write_str(" AND ")?;
                group(f, r, matches!(**r, Expr::Or(..) | Expr::And(..)))
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                group(f, e, matches!(**e, Expr::Or(..) | Expr::And(..)))
            }
            Expr::Literal(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Expr::Compare { op, left, right } => write!(f, "{left} {} {right}", op.symbol()),
            Expr::Like { value, pattern, negated } => {
                write!(f, "{value} {}LIKE ", not(*negated))?;
                quote(f, pattern, '\'')
            }
            Expr::In { value, list, negated } => {
                write!(f, "{value} {}IN (", not(*negated))?;
                for (i, s) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{s}")?;
                }
                f.write_char(')')
            }
            Expr::Between { value, low, high, negated } => {
                write!(f, "{value} {}BETWEEN {low} AND {high}", not(*negated))
            }
            Expr::IsNull { value, negated } => write!(f, "{value} IS {}NULL", not(*negated)),
            Expr::Intersects(a, b) => write!(f, "S_INTERSECTS({a}, {b})"),
        }
    }
}

fn not(negated: bool) -> &'static str {
    if negated {
        "NOT "
    } else {
        ""
    }
}

fn group(f: &mut Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn quote(f: &mut Formatter<'_>, s: &str, q: char) -> fmt::Result {
    f.write_char(q)?;
    for c in s.chars() {
        if c == q {
            f.write_char(q)?;
        }
        f.write_char(c)?;
    }
    f.write_char(q)
}

fn property(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.'))
        && !RESERVED.iter().any(|k| k.eq_ignore_ascii_case(name));
    if plain {
        f.write_str(name)
    } else {
        quote(f, name, '"')
    }
}

impl Display for Scalar {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Property(p) => property(f, p),
            Scalar::Text(s) => quote(f, s, '\''),
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Scalar::Timestamp(ms) => match DateTime::from_timestamp_millis(*ms) {
                Some(t) => write!(f, "TIMESTAMP('{}')", t.to_rfc3339_opts(SecondsFormat::Millis, true)),
                None => Err(fmt::Error),
            },
            Scalar::Date(ms) => match DateTime::from_timestamp_millis(*ms) {
                Some(t) => write!(f, "DATE('{}')", t.format("%Y-%m-%d")),
                None => Err(fmt::Error),
            },
        }
    }
}

impl Display for GeomOperand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            GeomOperand::Property(p) => property(f, p),
            GeomOperand::Bbox([a, b, c, d]) => write!(f, "BBOX({a}, {b}, {c}, {d})"),
            GeomOperand::Wkt(g) => wkt(f, g),
        }
    }
}

fn wkt(f: &mut Formatter<'_>, g: &Geometry<f64>) -> fmt::Result {
    match g {
        Geometry::Point(p) => write!(f, "POINT({} {})", p.x(), p.y()),
        Geometry::LineString(l) => {
            f.write_str("LINESTRING")?;
            ring(f, l)
        }
        Geometry::Polygon(p) => {
            f.write_str("POLYGON")?;
            polygon(f, p)
        }
        Geometry::MultiPolygon(mp) => {
            f.write_str("MULTIPOLYGON(")?;
            for (i, p) in mp.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                polygon(f, p)?;
            }
            f.write_char(')')
        }
        // The parser produces no other geometry types.
        _ => Err(fmt::Error),
    }
}

fn ring(f: &mut Formatter<'_>, l: &LineString<f64>) -> fmt::Result {
    f.write_char('(')?;
    for (i, Coord { x, y }) in l.0.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x} {y}")?;
    }
    f.write_char(')')
}

fn polygon(f: &mut Formatter<'_>, p: &Polygon<f64>) -> fmt::Result {
    f.write_char('(')?;
    ring(f, p.exterior())?;
    for r in p.interiors() {
        f.write_str(", ")?;
        ring(f, r)?;
    }
    f.write_char(')')
}
