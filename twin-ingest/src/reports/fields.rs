//! The text fields of a report form: channel, category, description, contact, lon/lat, status.

use std::str::FromStr;

use twin_core::Position;

use super::{ReportError, MAX_CONTACT_CHARS, MAX_DESCRIPTION_CHARS};

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident, $err:ident, { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl FromStr for $name {
            type Err = ReportError;
            fn from_str(s: &str) -> Result<Self, ReportError> {
                match s.trim() {
                    $($word => Ok($name::$variant),)+
                    other => Err(ReportError::$err(other.chars().take(64).collect())),
                }
            }
        }
    };
}

word_enum!(
    /// How the report reached the city.
    Channel, UnknownChannel, {
    Hotline1022 => "hotline_1022",
    App => "app",
    Zalo => "zalo",
    Facebook => "facebook",
    Web => "web",
});

word_enum!(
    /// What the report is about.
    Category, UnknownCategory, {
    TrafficJam => "traffic_jam",
    Flooding => "flooding",
    Environment => "environment",
    Fire => "fire",
    Accident => "accident",
    Infrastructure => "infrastructure",
    Other => "other",
});

word_enum!(
    /// Workflow of a report: new → acknowledged → dispatched → resolved.
    ReportStatus, UnknownStatus, {
    New => "new",
    Acknowledged => "acknowledged",
    Dispatched => "dispatched",
    Resolved => "resolved",
});

fn utf8<'a>(field: &'static str, bytes: &'a [u8]) -> Result<&'a str, ReportError> {
    std::str::from_utf8(bytes).map_err(|_| ReportError::NotUtf8(field))
}

/// Free text: UTF-8, trimmed, at most `max` characters, no control characters but line breaks and tabs.
fn text(field: &'static str, bytes: &[u8], max: usize) -> Result<String, ReportError> {
    let s = utf8(field, bytes)?.trim();
    let len = s.chars().count();
    if len > max {
        return Err(ReportError::TooLong { field, len, max });
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ReportError::ControlCharacters(field));
    }
    Ok(s.to_owned())
}

/// The description: Vietnamese (or any) UTF-8 text, not empty.
pub fn parse_description(bytes: &[u8]) -> Result<String, ReportError> {
    let s = text("description", bytes, MAX_DESCRIPTION_CHARS)?;
    if s.is_empty() {
        return Err(ReportError::Missing("description"));
    }
    Ok(s)
}

/// The optional reporter contact (phone, Zalo id, e-mail); empty means none.
pub fn parse_contact(bytes: &[u8]) -> Result<Option<String>, ReportError> {
    let s = text("reporter_contact", bytes, MAX_CONTACT_CHARS)?;
    Ok((!s.is_empty()).then_some(s))
}

/// One coordinate in degrees; `field` is `lon` or `lat` and sets the allowed range.
pub fn parse_coordinate(field: &'static str, bytes: &[u8]) -> Result<f64, ReportError> {
    let s = utf8(field, bytes)?.trim();
    let bad = |reason: String| ReportError::BadCoordinate { field, reason };
    let v: f64 = s.parse().map_err(|_| bad(format!("`{}` is not a number", s.chars().take(32).collect::<String>())))?;
    let limit = if field == "lat" { 90.0 } else { 180.0 };
    if !v.is_finite() || v.abs() > limit {
        return Err(bad(format!("{v} is outside ±{limit}")));
    }
    Ok(v)
}

/// The form location: both coordinates, or neither (then a photo's EXIF GPS may supply it).
pub fn parse_location(lon: Option<&[u8]>, lat: Option<&[u8]>) -> Result<Option<Position>, ReportError> {
    // Browsers send empty inputs as empty strings: treat them as absent.
    fn present(b: Option<&[u8]>) -> Option<&[u8]> {
        b.filter(|b| !b.iter().all(u8::is_ascii_whitespace))
    }
    match (present(lon), present(lat)) {
        (None, None) => Ok(None),
        (Some(lon), Some(lat)) => Ok(Some(Position::new(parse_coordinate("lon", lon)?, parse_coordinate("lat", lat)?))),
        _ => Err(ReportError::HalfLocation),
    }
}
