//! Building alerts and the human-readable words in their messages.

use super::{Alert, AlertId, RuleKind, Severity};
use crate::{Entity, Timestamp};

/// An alert about `entity` at `now`; the model assigns the id later.
pub(crate) fn alert(
    entity: &Entity,
    now: Timestamp,
    rule: &str,
    rule_kind: RuleKind,
    severity: Severity,
    message: String,
) -> Alert {
    Alert {
        id: AlertId(0),
        time: now,
        entity: Some(entity.id),
        entity_kind: entity.kind,
        external_id: entity.external_id.clone(),
        rule: rule.to_owned(),
        rule_kind,
        severity,
        message,
        position: entity.position,
        detail: crate::Properties::new(),
    }
}

/// "fishing boat QNg-90123" — the kind in words, then the entity's display name.
pub(crate) fn subject(entity: &Entity) -> String {
    format!("{} {}", entity.kind.as_str().replace('_', " "), entity.name())
}

/// A rule's display name, falling back to its id when the name is blank.
pub(crate) fn rule_name<'a>(name: &'a str, id: &'a str) -> &'a str {
    if name.trim().is_empty() {
        id
    } else {
        name
    }
}

/// Whole, human-sized units: "450 ms", "12 s", "5 min 3 s", "2 h 5 min".
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let s = ms / 1000;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, 0) => format!("{min} min"),
        (0, min, sec) => format!("{min} min {sec} s"),
        (h, 0, _) => format!("{h} h"),
        (h, min, _) => format!("{h} h {min} min"),
    }
}

/// A number without float noise: integers as integers, otherwise up to 3 decimals.
pub(crate) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(450), "450 ms");
        assert_eq!(duration(12_000), "12 s");
        assert_eq!(duration(300_000), "5 min");
        assert_eq!(duration(303_500), "5 min 3 s");
        assert_eq!(duration(7_200_000), "2 h");
        assert_eq!(duration(7_500_000), "2 h 5 min");
    }

    #[test]
    fn numbers_drop_float_noise() {
        assert_eq!(number(30.0), "30");
        assert_eq!(number(42.5), "42.5");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-3.25), "-3.25");
    }
}
