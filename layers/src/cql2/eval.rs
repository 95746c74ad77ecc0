//! Evaluation of a filter against one feature.
//!
//! A comparison with a missing or null property, or between values of different types, is false
//! (so `NOT (x = 1)` is true where `x` is missing). Text compares with timestamps by parsing it as
//! RFC 3339; no other coercion is made.

use std::cmp::Ordering;

use geo::{Coord, Geometry, Intersects, Rect};
use serde_json::Value;

use super::parser::{parse_date, parse_timestamp};
use super::{CmpOp, Expr, GeomOperand, Scalar};
use crate::Feature;

/// What a filter reads from a feature.
pub trait Cql2Feature {
    fn property(&self, name: &str) -> Option<&Value>;
    fn geometry(&self) -> Option<&Geometry<f64>>;
}

impl Cql2Feature for Feature {
    fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        Some(&self.geometry)
    }
}

#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Null,
    Num(f64),
    Str(&'a str),
    Bool(bool),
    Time(i64),
}

impl Expr {
    /// Whether the feature satisfies the filter.
    pub fn matches(&self, f: &impl Cql2Feature) -> bool {
        match self {
            Expr::And(a, b) => a.matches(f) && b.matches(f),
            Expr::Or(a, b) => a.matches(f) || b.matches(f),
            Expr::Not(e) => !e.matches(f),
            Expr::Literal(b) => *b,
            Expr::Compare { op, left, right } => {
                let ord = compare(resolve(left, f), resolve(right, f));
                ord.is_some_and(|o| match op {
                    CmpOp::Eq => o == Ordering::Equal,
                    CmpOp::Ne => o != Ordering::Equal,
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    CmpOp::Ge => o != Ordering::Less,
                })
            }
            Expr::Like { value, pattern, negated } => match resolve(value, f) {
                Val::Str(s) => like_matches(s, pattern) != *negated,
                _ => false,
            },
            Expr::In { value, list, negated } => {
                let v = resolve(value, f);
                if matches!(v, Val::Null) {
                    return false;
                }
                let found = list.iter().any(|s| compare(v, resolve(s, f)) == Some(Ordering::Equal));
                found != *negated
            }
            Expr::Between { value, low, high, negated } => {
                let v = resolve(value, f);
                match (compare(v, resolve(low, f)), compare(v, resolve(high, f))) {
                    (Some(lo), Some(hi)) => (lo != Ordering::Less && hi != Ordering::Greater) != *negated,
                    _ => false,
                }
            }
            Expr::IsNull { value, negated } => matches!(resolve(value, f), Val::Null) != *negated,
            Expr::Intersects(a, b) => match (geometry(a, f), geometry(b, f)) {
                (Some(a), Some(b)) => a.intersects(&b),
                _ => false,
            },
        }
    }
}

fn resolve<'a>(s: &'a Scalar, f: &'a impl Cql2Feature) -> Val<'a> {
    match s {
        Scalar::Property(p) => match f.property(p) {
            Some(Value::Number(n)) => n.as_f64().map_or(Val::Null, Val::Num),
            Some(Value::String(s)) => Val::Str(s),
            Some(Value::Bool(b)) => Val::Bool(*b),
            _ => Val::Null,
        },
        Scalar::Text(t) => Val::Str(t),
        Scalar::Number(n) => Val::Num(*n),
        Scalar::Bool(b) => Val::Bool(*b),
        Scalar::Timestamp(ms) | Scalar::Date(ms) => Val::Time(*ms),
    }
}

fn as_time(s: &str) -> Option<i64> {
    parse_timestamp(s).or_else(|| parse_date(s))
}

fn compare(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(&y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        (Val::Time(x), Val::Time(y)) => Some(x.cmp(&y)),
        (Val::Str(s), Val::Time(t)) => as_time(s).map(|x| x.cmp(&t)),
        (Val::Time(t), Val::Str(s)) => as_time(s).map(|y| t.cmp(&y)),
        _ => None,
    }
}

fn geometry(g: &GeomOperand, f: &impl Cql2Feature) -> Option<Geometry<f64>> {
    match g {
        GeomOperand::Property(_) => f.geometry().cloned(),
        GeomOperand::Bbox([a, b, c, d]) => {
            Some(Geometry::Polygon(Rect::new(Coord { x: *a, y: *b }, Coord { x: *c, y: *d }).to_polygon()))
        }
        GeomOperand::Wkt(g) => Some(g.clone()),
    }
}

/// CQL2 `LIKE`: `%` matches any run of characters, `_` exactly one, `\` escapes the next one.
pub fn like_matches(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Lit(char),
    }
    let mut pat = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Lit(chars.next().unwrap_or('\\')),
            c => P::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy match with backtracking to the last `%` (linear in practice, no recursion).
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(P::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(P::One) => {
                t += 1;
                p += 1;
            }
            Some(P::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|x| *x == P::Any)
}
