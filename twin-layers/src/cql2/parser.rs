//! Parser of `or := and (OR and)*`, `and := not (AND not)*`, `not := NOT not | ( or ) | predicate`.
//!
//! The boolean structure is parsed with an explicit stack of open parentheses instead of recursion, so
//! the parser's own stack use does not grow with the input; `AND`/`OR` chains become flat n-ary nodes.
//! The depth bound still matters for the evaluator, the printer and `Drop`, which recurse over the tree.

use chrono::{DateTime, NaiveDate};
use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

use super::lexer::{tokenize, Tok};
use super::{
    CmpOp, Expr, GeomOperand, Limit, ParseError, Scalar, MAX_DEPTH, MAX_FILTER_BYTES, MAX_GEOMETRY_PARTS,
    MAX_IN_VALUES, MAX_LIKE_PATTERN_BYTES, MAX_TERMS, MAX_VERTICES,
};

/// Words that cannot be bare property names (the printer quotes properties spelled like them).
pub(crate) const RESERVED: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "IN",
    "BETWEEN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "TIMESTAMP",
    "DATE",
    "BBOX",
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOLYGON",
    "S_INTERSECTS",
];

/// Parses CQL2 text into an expression.
///
/// Every input is refused or accepted within the bounds of [`Limit`]: the text length, the nesting
/// depth, the number of predicates, literal lengths and geometry sizes.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(ParseError::over(MAX_FILTER_BYTES, Limit::FilterBytes));
    }
    let mut p = Parser { toks: tokenize(text)?, pos: 0, terms: 0, vertices: 0, parts: 0 };
    let e = p.boolean()?;
    match p.peek() {
        Tok::Eof => Ok(e),
        t => Err(p.err(format!("unexpected {} after a complete expression", t.describe()))),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    /// Predicates so far.
    terms: usize,
    /// Vertices of geometry literals so far.
    vertices: usize,
    /// Rings and polygons of geometry literals so far.
    parts: usize,
}

/// One open parenthesis (or the whole filter) while its contents are parsed.
struct Group {
    /// Finished `AND` chains, to be joined by `OR`.
    ors: Vec<Expr>,
    /// Operands of the `AND` chain being read.
    ands: Vec<Expr>,
    /// `NOT`s read before the next operand.
    nots: usize,
    /// `NOT`s before this group's `(`, applied to it when it closes.
    outer_nots: usize,
}

impl Group {
    fn new(outer_nots: usize) -> Self {
        Self { ors: Vec::new(), ands: Vec::new(), nots: 0, outer_nots }
    }
}

fn negate(mut e: Expr, nots: usize) -> Expr {
    for _ in 0..nots {
        e = Expr::Not(Box::new(e));
    }
    e
}

/// One operand stays itself; more become an n-ary node.
fn join(mut v: Vec<Expr>, node: fn(Vec<Expr>) -> Expr) -> Expr {
    if v.len() == 1 {
        v.pop().unwrap_or(Expr::Literal(true))
    } else {
        node(v)
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).or(self.toks.last()).map_or(0, |(o, _)| *o)
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.offset(), message)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect(&mut self, want: Tok) -> Result<(), ParseError> {
        if *self.peek() == want {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected {}, found {}", want.describe(), self.peek().describe())))
        }
    }

    /// The whole boolean expression: a loop over operands and operators with a stack of open groups.
    fn boolean(&mut self) -> Result<Expr, ParseError> {
        let mut stack = vec![Group::new(0)];
        // Open parentheses plus pending NOTs on the path to the current operand.
        let mut depth = 0usize;
        loop {
            // An operand: NOTs, then a parenthesized group or a predicate.
            let Some(top) = stack.last_mut() else { return Err(self.err("unbalanced parentheses")) };
            if self.is_kw("NOT") {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::over(self.offset(), Limit::Depth));
                }
                self.pos += 1;
                top.nots += 1;
                continue;
            }
            if *self.peek() == Tok::LParen {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::over(self.offset(), Limit::Depth));
                }
                self.pos += 1;
                let outer = std::mem::take(&mut top.nots);
                stack.push(Group::new(outer));
                continue;
            }
            let at = self.offset();
            self.terms += 1;
            if self.terms > MAX_TERMS {
                return Err(ParseError::over(at, Limit::Terms));
            }
            let leaf = self.predicate()?;
            let nots = std::mem::take(&mut top.nots);
            depth -= nots;
            let mut term = negate(leaf, nots);
            // After an operand: AND, OR, a closing parenthesis or the end.
            loop {
                let Some(top) = stack.last_mut() else { return Err(self.err("unbalanced parentheses")) };
                top.ands.push(term);
                if self.eat_kw("AND") {
                    break;
                }
                if self.eat_kw("OR") {
                    let ands = std::mem::take(&mut top.ands);
                    top.ors.push(join(ands, Expr::And));
                    break;
                }
                let ands = std::mem::take(&mut top.ands);
                top.ors.push(join(ands, Expr::And));
                let ors = std::mem::take(&mut top.ors);
                let outer = top.outer_nots;
                let done = join(ors, Expr::Or);
                if stack.len() == 1 {
                    return Ok(done);
                }
                self.expect(Tok::RParen)?;
                stack.pop();
                depth -= outer + 1;
                term = negate(done, outer);
            }
        }
    }

    /// A predicate: everything but the boolean operators and parentheses around them.
    fn predicate(&mut self) -> Result<Expr, ParseError> {
        if self.is_kw("S_INTERSECTS") {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let a = self.geom_operand()?;
            self.expect(Tok::Comma)?;
            let b = self.geom_operand()?;
            self.expect(Tok::RParen)?;
            return Ok(Expr::Intersects(a, b));
        }
        let start = self.offset();
        let value = self.scalar()?;
        let negated = self.eat_kw("NOT");
        let tail = self.peek().clone();
        match tail {
            Tok::Op(op) if !negated => {
                self.pos += 1;
                let right = self.scalar()?;
                Ok(Expr::Compare { op: cmp_op(op), left: value, right })
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("LIKE") => {
                self.pos += 1;
                let at = self.offset();
                match self.next() {
                    Tok::Str(pattern) if pattern.len() > MAX_LIKE_PATTERN_BYTES => {
                        Err(ParseError::over(at, Limit::LikePatternBytes))
                    }
                    Tok::Str(pattern) => Ok(Expr::Like { value, pattern, negated }),
                    t => {
                        self.pos -= 1;
                        Err(self.err(format!("LIKE needs a string pattern, found {}", t.describe())))
                    }
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("IN") => {
                self.pos += 1;
                self.expect(Tok::LParen)?;
                let mut list = vec![self.scalar()?];
                while *self.peek() == Tok::Comma {
                    self.pos += 1;
                    if list.len() == MAX_IN_VALUES {
                        return Err(ParseError::over(self.offset(), Limit::InValues));
                    }
                    list.push(self.scalar()?);
                }
                self.expect(Tok::RParen)?;
                Ok(Expr::In { value, list, negated })
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("BETWEEN") => {
                self.pos += 1;
                let low = self.scalar()?;
                if !self.eat_kw("AND") {
                    return Err(self.err(format!("BETWEEN needs AND, found {}", self.peek().describe())));
                }
                let high = self.scalar()?;
                Ok(Expr::Between { value, low, high, negated })
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("IS") && !negated => {
                self.pos += 1;
                let negated = self.eat_kw("NOT");
                if !self.eat_kw("NULL") {
                    return Err(self.err(format!("expected NULL, found {}", self.peek().describe())));
                }
                Ok(Expr::IsNull { value, negated })
            }
            _ if negated => Err(self.err(format!("expected LIKE, IN or BETWEEN after NOT, found {}", tail.describe()))),
            _ => match value {
                Scalar::Bool(b) => Ok(Expr::Literal(b)),
                _ => Err(ParseError::new(
                    start,
                    format!("a value must be followed by a comparison, found {}", tail.describe()),
                )),
            },
        }
    }

    fn scalar(&mut self) -> Result<Scalar, ParseError> {
        let here = self.offset();
        match self.next() {
            Tok::Str(s) => Ok(Scalar::Text(s)),
            Tok::Num(n) => Ok(Scalar::Number(n)),
            Tok::Quoted(p) => Ok(Scalar::Property(p)),
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" => Ok(Scalar::Bool(true)),
                    "FALSE" => Ok(Scalar::Bool(false)),
                    "TIMESTAMP" | "DATE" => {
                        self.expect(Tok::LParen)?;
                        let at = self.offset();
                        let text = match self.next() {
                            Tok::Str(s) => s,
                            t => {
                                return Err(ParseError::new(
                                    at,
                                    format!("{upper} needs a string, found {}", t.describe()),
                                ))
                            }
                        };
                        self.expect(Tok::RParen)?;
                        if upper == "DATE" {
                            parse_date(&text)
                                .map(Scalar::Date)
                                .ok_or_else(|| ParseError::new(at, format!("`{text}` is not a date (YYYY-MM-DD)")))
                        } else {
                            parse_timestamp(&text)
                                .map(Scalar::Timestamp)
                                .ok_or_else(|| ParseError::new(at, format!("`{text}` is not an RFC 3339 timestamp")))
                        }
                    }
                    _ if RESERVED.contains(&upper.as_str()) => {
                        Err(ParseError::new(here, format!("expected a property or a literal, found keyword {upper}")))
                    }
                    _ if *self.peek() == Tok::LParen => {
                        Err(ParseError::new(here, format!("unsupported function `{w}`")))
                    }
                    _ => Ok(Scalar::Property(w)),
                }
            }
            t => Err(ParseError::new(here, format!("expected a property or a literal, found {}", t.describe()))),
        }
    }

    fn geom_operand(&mut self) -> Result<GeomOperand, ParseError> {
        let here = self.offset();
        let word = match self.peek().clone() {
            Tok::Quoted(p) => {
                self.pos += 1;
                return Ok(GeomOperand::Property(p));
            }
            Tok::Word(w) => w,
            t => return Err(self.err(format!("expected a geometry, found {}", t.describe()))),
        };
        self.pos += 1;
        let upper = word.to_ascii_uppercase();
        let g = match upper.as_str() {
            "BBOX" => {
                self.expect(Tok::LParen)?;
                let mut v = [0.0; 4];
                for (i, slot) in v.iter_mut().enumerate() {
                    if i > 0 {
                        self.expect(Tok::Comma)?;
                    }
                    *slot = self.number()?;
                }
                self.expect(Tok::RParen)?;
                if !in_range(v[0], v[1]) || !in_range(v[2], v[3]) {
                    return Err(ParseError::new(
                        here,
                        "BBOX corners need longitude in [-180, 180] and latitude in [-90, 90]",
                    ));
                }
                if v[0] > v[2] || v[1] > v[3] {
                    return Err(ParseError::new(here, "BBOX needs minx <= maxx and miny <= maxy"));
                }
                return Ok(GeomOperand::Bbox(v));
            }
            "POINT" => {
                self.expect(Tok::LParen)?;
                let c = self.coord()?;
                self.expect(Tok::RParen)?;
                Geometry::Point(Point(c))
            }
            "LINESTRING" => {
                let line = self.coord_list()?;
                if line.0.len() < 2 {
                    return Err(ParseError::new(here, "a LINESTRING needs at least 2 points"));
                }
                Geometry::LineString(line)
            }
            "POLYGON" => Geometry::Polygon(self.polygon_body(here)?),
            "MULTIPOLYGON" => {
                let polys = self.list(|p| p.polygon_body(here))?;
                Geometry::MultiPolygon(MultiPolygon(polys))
            }
            _ if RESERVED.contains(&upper.as_str()) || *self.peek() == Tok::LParen => {
                return Err(ParseError::new(here, format!("unsupported geometry `{word}`")));
            }
            _ => return Ok(GeomOperand::Property(word)),
        };
        Ok(GeomOperand::Wkt(g))
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        match self.peek() {
            Tok::Num(n) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            t => Err(self.err(format!("expected a number, found {}", t.describe()))),
        }
    }

    /// One vertex of a geometry literal, counted against [`MAX_VERTICES`].
    fn coord(&mut self) -> Result<Coord<f64>, ParseError> {
        let at = self.offset();
        self.vertices += 1;
        if self.vertices > MAX_VERTICES {
            return Err(ParseError::over(at, Limit::Vertices));
        }
        let x = self.number()?;
        let y = self.number()?;
        if !in_range(x, y) {
            return Err(ParseError::new(at, "a vertex needs longitude in [-180, 180] and latitude in [-90, 90]"));
        }
        Ok(Coord { x, y })
    }

    /// A ring or a polygon of a geometry literal, counted against [`MAX_GEOMETRY_PARTS`].
    fn part(&mut self) -> Result<(), ParseError> {
        self.parts += 1;
        if self.parts > MAX_GEOMETRY_PARTS {
            return Err(ParseError::over(self.offset(), Limit::GeometryParts));
        }
        Ok(())
    }

    /// `( item, item, ... )`
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T, ParseError>) -> Result<Vec<T>, ParseError> {
        self.expect(Tok::LParen)?;
        let mut out = vec![item(self)?];
        while *self.peek() == Tok::Comma {
            self.pos += 1;
            out.push(item(self)?);
        }
        self.expect(Tok::RParen)?;
        Ok(out)
    }

    fn coord_list(&mut self) -> Result<LineString<f64>, ParseError> {
        self.list(Self::coord).map(LineString)
    }

    fn ring(&mut self) -> Result<LineString<f64>, ParseError> {
        self.part()?;
        self.coord_list()
    }

    fn polygon_body(&mut self, at: usize) -> Result<Polygon<f64>, ParseError> {
        self.part()?;
        let mut rings = self.list(Self::ring)?;
        for r in &rings {
            if r.0.len() < 4 || r.0.first() != r.0.last() {
                return Err(ParseError::new(at, "a polygon ring needs at least 4 points and must be closed"));
            }
        }
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }
}

/// CRS84 is the only filter CRS: longitude then latitude, in degrees (the lexer already refuses
/// non-finite numbers).
fn in_range(x: f64, y: f64) -> bool {
    (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)
}

fn cmp_op(op: &str) -> CmpOp {
    match op {
        "<>" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => CmpOp::Eq,
    }
}

/// RFC 3339 text to milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.timestamp_millis())
}

/// `YYYY-MM-DD` to milliseconds at midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}
