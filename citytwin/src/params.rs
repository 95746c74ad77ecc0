//! Query-string parameters parsed by hand so every error names the parameter (400 problem+json).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use twin_core::{BBox, EntityKind, KindFilter, Timestamp};

use crate::problem::Problem;
use twin_runtime::clock::parse_rfc3339;

/// All query parameters of a request.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Problem::bad_param("query", e.body_text()))?;
        Ok(Params(map))
    }
}

impl Params {
    /// The raw value, treating an empty value as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    pub fn f64(&self, name: &str) -> Result<Option<f64>, Problem> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| Problem::bad_param(name, format!("`{name}` must be a number, got `{v}`")))
            })
            .transpose()
    }

    pub fn required_f64(&self, name: &str) -> Result<f64, Problem> {
        self.f64(name)?.ok_or_else(|| Problem::bad_param(name, format!("`{name}` is required")))
    }

    /// A non-negative integer no larger than `max`.
    pub fn usize(&self, name: &str, max: usize) -> Result<Option<usize>, Problem> {
        self.get(name)
            .map(|v| match v.trim().parse::<usize>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(Problem::bad_param(name, format!("`{name}` must be an integer in 0..={max}, got `{v}`"))),
            })
            .transpose()
    }

    /// `bbox=minLon,minLat,maxLon,maxLat`.
    pub fn bbox(&self) -> Result<Option<BBox>, Problem> {
        let Some(v) = self.get("bbox") else { return Ok(None) };
        let bad =
            || Problem::bad_param("bbox", format!("`bbox` must be minLon,minLat,maxLon,maxLat in WGS84, got `{v}`"));
        let nums: Vec<f64> =
            v.split(',').map(|s| s.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
        let [a, b, c, d] = nums[..] else { return Err(bad()) };
        BBox::new(a, b, c, d).map(Some).map_err(|_| bad())
    }

    /// `kind=bus,vessel` (also `kinds=`); absent means every kind.
    pub fn kinds(&self) -> Result<KindFilter, Problem> {
        let (name, v) = match (self.get("kind"), self.get("kinds")) {
            (Some(v), _) => ("kind", v),
            (None, Some(v)) => ("kinds", v),
            (None, None) => return Ok(KindFilter::ALL),
        };
        parse_kinds(v).map_err(|bad| Problem::bad_param(name, format!("unknown entity kind `{bad}`")))
    }

    pub fn time(&self, name: &str) -> Result<Option<Timestamp>, Problem> {
        self.get(name)
            .map(|v| {
                parse_rfc3339(v.trim())
                    .ok_or_else(|| Problem::bad_param(name, format!("`{name}` must be an RFC 3339 time, got `{v}`")))
            })
            .transpose()
    }
}

/// Parses a comma list of kind names; on error returns the bad name.
pub fn parse_kinds(list: &str) -> Result<KindFilter, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<EntityKind>().map_err(|_| s.to_owned()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn bbox_and_kinds() {
        let p = params(&[("bbox", "108,16,108.5,16.2"), ("kind", "bus, vessel")]);
        assert_eq!(p.bbox().unwrap().unwrap().max_lon, 108.5);
        let k = p.kinds().unwrap();
        assert!(k.contains(EntityKind::Bus) && k.contains(EntityKind::Vessel) && !k.contains(EntityKind::Drone));
        let bad = params(&[("bbox", "1,2,3"), ("kind", "bus,car")]);
        assert_eq!(bad.bbox().unwrap_err().field.as_deref(), Some("bbox"));
        let e = bad.kinds().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("kind"));
        assert!(e.detail.contains("car"));
    }
}
