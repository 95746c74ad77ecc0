//! Recursive-descent parser: `or := and (OR and)*`, `and := not (AND not)*`, `not := NOT not | primary`.

use chrono::{DateTime, NaiveDate};
use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

use super::lexer::{tokenize, Tok};
use super::{CmpOp, Expr, GeomOperand, ParseError, Scalar};

/// Nesting deeper than this is refused so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

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
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let mut p = Parser { toks: tokenize(text)?, pos: 0, depth: 0 };
    let e = p.or()?;
    match p.peek() {
        Tok::Eof => Ok(e),
        t => Err(p.err(format!("unexpected {} after a complete expression", t.describe()))),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
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

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        if *self.peek() == Tok::LParen {
            self.pos += 1;
            self.enter()?;
            let e = self.or()?;
            self.depth -= 1;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
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
                match self.next() {
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

    fn coord(&mut self) -> Result<Coord<f64>, ParseError> {
        let x = self.number()?;
        let y = self.number()?;
        Ok(Coord { x, y })
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

    fn polygon_body(&mut self, at: usize) -> Result<Polygon<f64>, ParseError> {
        let mut rings = self.list(Self::coord_list)?;
        for r in &rings {
            if r.0.len() < 4 || r.0.first() != r.0.last() {
                return Err(ParseError::new(at, "a polygon ring needs at least 4 points and must be closed"));
            }
        }
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }
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
