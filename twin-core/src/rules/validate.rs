//! Checks a [`RuleSet`] before the engine uses it, naming the offending rule.

use std::collections::HashSet;

use geo::{CoordsIter, Validation};

use super::{Geofence, RuleSet, StaleRule, ThresholdRule};
use crate::Error;

fn invalid(rule: &str, reason: impl Into<String>) -> Error {
    Error::InvalidRule { rule: rule.to_owned(), reason: reason.into() }
}

/// Rule ids are unique across all rule types (alerts refer to rules by id alone).
pub(crate) fn check(rules: &RuleSet) -> Result<(), Error> {
    let mut seen = HashSet::new();
    let ids = rules
        .geofences
        .iter()
        .map(|g| g.id.as_str())
        .chain(rules.thresholds.iter().map(|t| t.id.as_str()))
        .chain(rules.stale.iter().map(|s| s.id.as_str()));
    for id in ids {
        if id.trim().is_empty() {
            return Err(invalid(id, "rule id must not be empty"));
        }
        if !seen.insert(id) {
            return Err(invalid(id, "rule id is used more than once"));
        }
    }
    rules.geofences.iter().try_for_each(geofence)?;
    rules.thresholds.iter().try_for_each(threshold)?;
    rules.stale.iter().try_for_each(stale)
}

fn geofence(g: &Geofence) -> Result<(), Error> {
    if g.area.0.is_empty() {
        return Err(invalid(&g.id, "area has no polygon"));
    }
    if !(g.hysteresis_m.is_finite() && g.hysteresis_m >= 0.0) {
        return Err(invalid(&g.id, format!("hysteresis_m must be a finite number ≥ 0, not {}", g.hysteresis_m)));
    }
    for c in g.area.coords_iter() {
        let ok = c.x.is_finite() && c.y.is_finite() && (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y);
        if !ok {
            return Err(invalid(&g.id, format!("({}, {}) is not a WGS84 lon/lat position", c.x, c.y)));
        }
    }
    // Self-intersections, too few points, holes outside the shell, overlapping parts.
    g.area.check_validation().map_err(|e| invalid(&g.id, format!("invalid area: {e}")))
}

fn threshold(t: &ThresholdRule) -> Result<(), Error> {
    if t.property.trim().is_empty() {
        return Err(invalid(&t.id, "property must not be empty"));
    }
    if !t.threshold.is_finite() {
        return Err(invalid(&t.id, format!("threshold must be finite, not {}", t.threshold)));
    }
    if t.duration_ms < 0 {
        return Err(invalid(&t.id, format!("duration_ms must be ≥ 0, not {}", t.duration_ms)));
    }
    Ok(())
}

fn stale(s: &StaleRule) -> Result<(), Error> {
    if !(s.factor.is_finite() && s.factor > 1.0) {
        return Err(invalid(&s.id, format!("factor must be a finite number > 1, not {}", s.factor)));
    }
    if s.min_silence_ms < 0 {
        return Err(invalid(&s.id, format!("min_silence_ms must be ≥ 0, not {}", s.min_silence_ms)));
    }
    Ok(())
}
