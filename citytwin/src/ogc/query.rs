//! The query parameters of `/ogc/collections/{id}/items`: paging, `bbox`, `datetime`, `filter`.

use axum::http::StatusCode;
use twin_core::{BBox, Timestamp};
use twin_layers::cql2::{self, Expr};

use crate::params::Params;
use crate::problem::Problem;
use twin_runtime::clock::parse_rfc3339;

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 10_000;

/// A `datetime` parameter: an instant or a closed or half-open interval (bounds inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl TimeRange {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

pub struct ItemsQuery {
    pub limit: usize,
    pub offset: usize,
    pub bbox: Option<BBox>,
    pub datetime: Option<TimeRange>,
    pub filter: Option<Expr>,
}

impl ItemsQuery {
    pub fn from_params(p: &Params) -> Result<Self, Problem> {
        // A limit above the maximum is served as the maximum (OGC API Features, Part 1, 7.15.4).
        let limit = match p.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_LIMIT),
                _ => return Err(Problem::bad_param("limit", format!("`limit` must be a positive integer, got `{v}`"))),
            },
        };
        let offset = p.usize("offset", usize::MAX)?.unwrap_or(0);
        let datetime = p.get("datetime").map(parse_datetime).transpose()?;
        Ok(Self { limit, offset, bbox: p.bbox()?, datetime, filter: filter(p)? })
    }
}

fn parse_datetime(v: &str) -> Result<TimeRange, Problem> {
    let bad = || {
        Problem::bad_param("datetime", format!("`datetime` must be an RFC 3339 instant or an interval a/b, got `{v}`"))
    };
    let bound = |s: &str| -> Result<Option<Timestamp>, Problem> {
        match s.trim() {
            "" | ".." => Ok(None),
            t => parse_rfc3339(t).map(Some).ok_or_else(bad),
        }
    };
    match v.split_once('/') {
        Some((a, b)) => {
            let r = TimeRange { start: bound(a)?, end: bound(b)? };
            match (r.start, r.end) {
                (Some(s), Some(e)) if s > e => Err(bad()),
                _ => Ok(r),
            }
        }
        None => {
            let t = parse_rfc3339(v.trim()).ok_or_else(bad)?;
            Ok(TimeRange { start: Some(t), end: Some(t) })
        }
    }
}

fn filter(p: &Params) -> Result<Option<Expr>, Problem> {
    if let Some(lang) = p.get("filter-lang") {
        // `cql-text` is the name the drafts (and GDAL 3.6) use for the same text encoding.
        let lang = lang.trim();
        if !lang.eq_ignore_ascii_case("cql2-text") && !lang.eq_ignore_ascii_case("cql-text") {
            return Err(Problem::bad_param("filter-lang", format!("only `cql2-text` is supported, got `{lang}`")));
        }
    }
    if let Some(crs) = p.get("filter-crs") {
        if !is_crs84(crs) {
            return Err(Problem::bad_param("filter-crs", format!("only CRS84 is supported, got `{crs}`")));
        }
    }
    let Some(text) = p.get("filter") else { return Ok(None) };
    cql2::parse(text).map(Some).map_err(|e| {
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-filter",
            format!("bad CQL2 filter: {} at offset {} (`{}`)", e.message, e.offset, near(text, e.offset)),
        )
        .field("filter");
        problem.offset = Some(e.offset);
        problem
    })
}

/// The filter text from `offset`, shortened, to show where parsing stopped.
fn near(text: &str, offset: usize) -> String {
    let start = (0..=offset.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let rest: String = text[start..].chars().take(20).collect();
    if rest.is_empty() {
        "end of filter".into()
    } else {
        rest
    }
}

pub fn is_crs84(crs: &str) -> bool {
    let c = crs.trim();
    c == crate::ogc::CRS84 || c.eq_ignore_ascii_case("CRS84") || c.eq_ignore_ascii_case("OGC:CRS84")
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string of `p` with `offset` and `limit` replaced, in a stable order.
pub fn with_page(p: &Params, offset: usize, limit: usize) -> String {
    let mut pairs: Vec<(&String, &String)> =
        p.0.iter().filter(|(k, _)| k.as_str() != "offset" && k.as_str() != "limit").collect();
    pairs.sort();
    let mut q: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    q.push(format!("limit={limit}"));
    q.push(format!("offset={offset}"));
    q.join("&")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn datetime_forms() {
        let r = parse_datetime("2026-01-01T00:00:00Z/..").unwrap();
        assert!(r.start.is_some() && r.end.is_none());
        let r = parse_datetime("../2026-01-01T00:00:00Z").unwrap();
        assert!(r.start.is_none() && r.end.is_some());
        let r = parse_datetime("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(r.start, r.end);
        assert!(parse_datetime("2026-02-01T00:00:00Z/2026-01-01T00:00:00Z").is_err());
        assert!(parse_datetime("yesterday").is_err());
    }

    #[test]
    fn encoding_keeps_unreserved() {
        assert_eq!(encode("a b='x'"), "a%20b%3D%27x%27");
        assert_eq!(encode("Đ"), "%C4%90");
    }
}
