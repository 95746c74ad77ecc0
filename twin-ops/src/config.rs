//! Settings and durations as the city config writes them (`"15m"`, `"4h"`, `"1h30m"`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::MAX_DURATION_MS;
use crate::routing::RoutingRule;
use crate::unit::UnitSpec;
use crate::OpsError;

/// A positive duration in milliseconds, written in config as `<n><unit>…` with units `ms`, `s`,
/// `m`, `h`, `d` (`"15m"`, `"4h"`, `"1h30m"`), at most [`MAX_DURATION_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DurationSpec(i64);

impl DurationSpec {
    pub fn from_millis(ms: i64) -> Result<Self, OpsError> {
        if ms <= 0 || ms > MAX_DURATION_MS {
            return Err(OpsError::Invalid { field: "duration", reason: "must be positive and at most 366 days" });
        }
        Ok(Self(ms))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Self, OpsError> {
        const BAD: OpsError =
            OpsError::Invalid { field: "duration", reason: "expected e.g. \"15m\", \"4h\", \"1h30m\"" };
        if text.is_empty() || text.len() > 32 {
            return Err(BAD);
        }
        let bytes = text.as_bytes();
        let mut total: i64 = 0;
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let number: i64 = text.get(start..i).and_then(|d| d.parse().ok()).ok_or(BAD)?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let scale = match text.get(unit_start..i) {
                Some("ms") => 1,
                Some("s") => 1_000,
                Some("m") => 60_000,
                Some("h") => 3_600_000,
                Some("d") => 86_400_000,
                _ => return Err(BAD),
            };
            total = number.checked_mul(scale).and_then(|v| total.checked_add(v)).ok_or(BAD)?;
        }
        Self::from_millis(total)
    }
}

impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The largest unit that divides exactly, so the text parses back to the same value.
        for (unit, scale) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
            if self.0 % scale == 0 {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The `[ops]` section: policy the model applies. Logged (in [`crate::Command::Configure`]) so a
/// replay applies the policy that was in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How long after resolution a case may be reopened.
    #[serde(default = "Settings::default_reopen_window")]
    pub reopen_window: DurationSpec,
    /// Acknowledgement deadline given to the receiving agency of a transfer (unless the command says).
    #[serde(default = "Settings::default_transfer_ack_within")]
    pub transfer_ack_within: DurationSpec,
    /// A dispatched unit is on scene once it reports a position this close to the case's location.
    #[serde(default = "Settings::default_arrival_radius_m")]
    pub arrival_radius_m: f64,
}

impl Settings {
    fn default_reopen_window() -> DurationSpec {
        DurationSpec(72 * 3_600_000)
    }
    fn default_transfer_ack_within() -> DurationSpec {
        DurationSpec(15 * 60_000)
    }
    const fn default_arrival_radius_m() -> f64 {
        150.0
    }

    pub(crate) fn validate(&self) -> Result<(), OpsError> {
        if !(self.arrival_radius_m.is_finite() && self.arrival_radius_m > 0.0 && self.arrival_radius_m <= 100_000.0) {
            return Err(OpsError::Invalid { field: "arrival_radius_m", reason: "must be in (0, 100000] metres" });
        }
        // DurationSpec is only built through its checks, but JSON may carry other values.
        for d in [self.reopen_window, self.transfer_ack_within] {
            DurationSpec::from_millis(d.0)?;
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reopen_window: Self::default_reopen_window(),
            transfer_ack_within: Self::default_transfer_ack_within(),
            arrival_radius_m: Self::default_arrival_radius_m(),
        }
    }
}

/// The operations sections of the city config, for servers that read them in one go:
/// `[ops]` ([`Settings`]), `[[routing]]` ([`RoutingRule`], see [`crate::routing`]) and `[[units]]`
/// ([`UnitSpec`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpsConfig {
    #[serde(default)]
    pub ops: Settings,
    #[serde(default)]
    pub routing: Vec<RoutingRule>,
    #[serde(default)]
    pub units: Vec<UnitSpec>,
}
