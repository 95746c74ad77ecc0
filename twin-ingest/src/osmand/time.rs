//! Tracker timestamps: Unix seconds, Unix milliseconds, or ISO 8601 text.

use chrono::{DateTime, NaiveDateTime};
use twin_core::Timestamp;

use super::OsmandError;

/// Numbers below this are seconds, at or above it milliseconds (the convention Traccar uses:
/// seconds fit a signed 32-bit integer until 2038, milliseconds since 1970-01-25 do not).
pub const SECONDS_LIMIT: f64 = i32::MAX as f64;

/// Parses `1700000000`, `1700000000.250`, `1700000000250`, `2023-11-14T22:13:20Z`,
/// `2023-11-14T22:13:20.250+07:00`, `2023-11-14 22:13:20` (no zone: UTC).
pub fn parse_timestamp(text: &str) -> Result<Timestamp, OsmandError> {
    let t = text.trim();
    let bad = || OsmandError::BadTimestamp(text.to_owned());
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        let n: f64 = t.parse().map_err(|_| bad())?;
        if !n.is_finite() || n < 0.0 {
            return Err(bad());
        }
        let ms = if n < SECONDS_LIMIT { n * 1000.0 } else { n };
        // Beyond year 9999 is not a tracker clock.
        if ms > 253_402_300_799_000.0 {
            return Err(bad());
        }
        return Ok(Timestamp::from_millis(ms.round() as i64));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(Timestamp::from_millis(dt.timestamp_millis()));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(Timestamp::from_millis(dt.and_utc().timestamp_millis()));
        }
    }
    Err(bad())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn seconds_milliseconds_and_text_agree() {
        let expected = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(parse_timestamp("1700000000").unwrap(), expected);
        assert_eq!(parse_timestamp("1700000000000").unwrap(), expected);
        assert_eq!(parse_timestamp("2023-11-14T22:13:20Z").unwrap(), expected);
        assert_eq!(parse_timestamp("2023-11-15T05:13:20+07:00").unwrap(), expected);
        assert_eq!(parse_timestamp("2023-11-14 22:13:20").unwrap(), expected);
        assert_eq!(parse_timestamp("1700000000.25").unwrap(), expected.plus_millis(250));
    }

    #[test]
    fn garbage_is_rejected() {
        for t in ["", "yesterday", "-5", "1e400", "99999999999999999999", "2023-13-45T00:00:00Z"] {
            assert!(parse_timestamp(t).is_err(), "{t}");
        }
    }
}
