//! CQL2 text out: `parse(&e.to_string()) == e` for every expression the parser can produce.

use std::fmt::{self, Display, Formatter, Write};

use chrono::{DateTime, SecondsFormat};
use geo::{Coord, Geometry, LineString, Polygon};

use super::parser::RESERVED;
use super::{Expr, GeomOperand, Scalar};

/// Output still to write, last first: the printer keeps its own stack instead of recursing, so the
/// thread's stack use does not grow with the depth of the filter.
enum Item<'e> {
    Expr(&'e Expr),
    Text(&'static str),
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut todo = vec![Item::Expr(self)];
        while let Some(item) = todo.pop() {
            match item {
                Item::Text(t) => f.write_str(t)?,
                // An operand of the same (or, under AND, the looser) operator keeps its parentheses, so
                // the text parses back to the same tree.
                Item::Expr(Expr::Or(v)) => chain(&mut todo, v, " OR ", "FALSE", |e| matches!(e, Expr::Or(_))),
                Item::Expr(Expr::And(v)) => {
                    chain(&mut todo, v, " AND ", "TRUE", |e| matches!(e, Expr::Or(_) | Expr::And(_)))
                }
                Item::Expr(Expr::Not(e)) => {
                    f.write_str("NOT ")?;
                    group(&mut todo, e, matches!(**e, Expr::Or(_) | Expr::And(_)));
                }
                Item::Expr(leaf) => predicate(f, leaf)?,
            }
        }
        Ok(())
    }
}

fn group<'e>(todo: &mut Vec<Item<'e>>, e: &'e Expr, parens: bool) {
    if parens {
        todo.extend([Item::Text(")"), Item::Expr(e), Item::Text("(")]);
    } else {
        todo.push(Item::Expr(e));
    }
}

fn chain<'e>(
    todo: &mut Vec<Item<'e>>,
    v: &'e [Expr],
    sep: &'static str,
    empty: &'static str,
    parens: fn(&Expr) -> bool,
) {
    if v.is_empty() {
        todo.push(Item::Text(empty));
    }
    for (i, e) in v.iter().enumerate().rev() {
        group(todo, e, parens(e));
        if i > 0 {
            todo.push(Item::Text(sep));
        }
    }
}

/// Everything but the boolean operators.
fn predicate(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        // Handled by the loop in `fmt`.
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) => Ok(()),
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

fn not(negated: bool) -> &'static str {
    if negated {
        "NOT "
    } else {
        ""
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
