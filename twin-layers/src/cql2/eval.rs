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
    ///
    /// Walks the tree with a heap stack instead of recursion, so the thread's stack use does not grow
    /// with the depth of the filter; `AND` and `OR` stop at the first operand that decides them.
    pub fn matches(&self, f: &impl Cql2Feature) -> bool {
        enum Frame<'e> {
            /// The operands of an `AND` (or `OR`) and the index of the next one to evaluate.
            And(&'e [Expr], usize),
            Or(&'e [Expr], usize),
            Not,
        }
        let mut stack: Vec<Frame<'_>> = Vec::new();
        let mut node = self;
        loop {
            // Down the first operands to a predicate.
            let mut value = loop {
                match node {
                    Expr::And(v) => match v.first() {
                        Some(first) => {
                            stack.push(Frame::And(v, 1));
                            node = first;
                        }
                        None => break true,
                    },
                    Expr::Or(v) => match v.first() {
                        Some(first) => {
                            stack.push(Frame::Or(v, 1));
                            node = first;
                        }
                        None => break false,
                    },
                    Expr::Not(e) => {
                        stack.push(Frame::Not);
                        node = e;
                    }
                    leaf => break leaf.predicate(f),
                }
            };
            // Up until an operator needs its next operand.
            loop {
                match stack.pop() {
                    None => return value,
                    Some(Frame::Not) => value = !value,
                    Some(Frame::And(v, i)) if value && i < v.len() => {
                        stack.push(Frame::And(v, i + 1));
                        node = &v[i];
                        break;
                    }
                    Some(Frame::Or(v, i)) if !value && i < v.len() => {
                        stack.push(Frame::Or(v, i + 1));
                        node = &v[i];
                        break;
                    }
                    Some(Frame::And(..) | Frame::Or(..)) => {}
                }
            }
        }
    }

    /// One predicate; the boolean operators are handled by `matches`.
    fn predicate(&self, f: &impl Cql2Feature) -> bool {
        match self {
            Expr::And(_) | Expr::Or(_) | Expr::Not(_) => self.matches(f),
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

/// A spatial operand by reference: the filter's literals are not copied for each feature.
enum Geom<'a> {
    Shape(&'a Geometry<f64>),
    Rect(Rect<f64>),
}

impl Geom<'_> {
    fn intersects(&self, other: &Geom<'_>) -> bool {
        match (self, other) {
            (Geom::Shape(a), Geom::Shape(b)) => a.intersects(*b),
            (Geom::Shape(a), Geom::Rect(b)) | (Geom::Rect(b), Geom::Shape(a)) => a.intersects(b),
            (Geom::Rect(a), Geom::Rect(b)) => a.intersects(b),
        }
    }
}

fn geometry<'a>(g: &'a GeomOperand, f: &'a impl Cql2Feature) -> Option<Geom<'a>> {
    match g {
        GeomOperand::Property(_) => f.geometry().map(Geom::Shape),
        GeomOperand::Bbox([a, b, c, d]) => Some(Geom::Rect(Rect::new(Coord { x: *a, y: *b }, Coord { x: *c, y: *d }))),
        GeomOperand::Wkt(g) => Some(Geom::Shape(g)),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum P {
    Any,
    One,
    Lit(char),
}

/// CQL2 `LIKE`: `%` matches any run of characters, `_` exactly one, `\` escapes the next one.
///
/// A bit-parallel run of the pattern's automaton: one pass over `text`, each step a few operations
/// per 64 pattern characters, so the cost is O(len(text) × len(pattern) / 64) for every input, with
/// no backtracking (`%a%a%a…b` against a long run of `a` costs the same as any other pattern).
pub fn like_matches(text: &str, pattern: &str) -> bool {
    let mut pat: Vec<P> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let p = match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Lit(chars.next().unwrap_or('\\')),
            c => P::Lit(c),
        };
        // `%%` is `%`; collapsing runs keeps the empty-match step below to a single shift.
        if !(p == P::Any && pat.last() == Some(&P::Any)) {
            pat.push(p);
        }
    }
    // Bit j of a state set: the first j pattern items have matched; bit pat.len() is acceptance.
    let words = pat.len() / 64 + 1;
    let mut any = vec![0u64; words];
    let mut one = vec![0u64; words];
    // Pattern positions of each distinct literal; few distinct characters in any real pattern.
    let mut lits: Vec<(char, Vec<u64>)> = Vec::new();
    for (j, p) in pat.iter().enumerate() {
        let (w, bit) = (j / 64, 1u64 << (j % 64));
        match p {
            P::Any => any[w] |= bit,
            P::One => one[w] |= bit,
            P::Lit(c) => match lits.iter_mut().find(|(k, _)| k == c) {
                Some((_, m)) => m[w] |= bit,
                None => {
                    let mut m = vec![0u64; words];
                    m[w] |= bit;
                    lits.push((*c, m));
                }
            },
        }
    }
    let mut state = vec![0u64; words];
    state[0] = 1;
    let mut step = vec![0u64; words];
    close(&mut state, &any, &mut step);
    for c in text.chars() {
        let lit = lits.iter().find(|(k, _)| *k == c).map(|(_, m)| m.as_slice());
        // Items that consume `c` advance; a `%` also stays where it is.
        let mut carry = 0u64;
        let mut alive = 0u64;
        for w in 0..words {
            let consume = state[w] & (one[w] | lit.map_or(0, |m| m[w]));
            let next = (consume << 1) | carry | (state[w] & any[w]);
            carry = consume >> 63;
            step[w] = next;
            alive |= next;
        }
        if alive == 0 {
            return false;
        }
        std::mem::swap(&mut state, &mut step);
        close(&mut state, &any, &mut step);
    }
    let end = pat.len();
    state[end / 64] & (1u64 << (end % 64)) != 0
}

/// Adds the positions reached by letting each `%` in `state` match the empty string.
fn close(state: &mut [u64], any: &[u64], scratch: &mut [u64]) {
    let mut carry = 0u64;
    for w in 0..state.len() {
        let skip = state[w] & any[w];
        scratch[w] = (skip << 1) | carry;
        carry = skip >> 63;
    }
    for (s, x) in state.iter_mut().zip(scratch.iter()) {
        *s |= *x;
    }
}
