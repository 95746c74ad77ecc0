//! Topic patterns such as `city/{kind}/{sensor_id}`.

use twin_core::EntityKind;

use super::MqttError;

/// Why a topic pattern was refused (a configuration error, unlike [`MqttError`] which refuses one message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicPatternError {
    #[error("topic pattern {0:?} needs one {{sensor_id}} and at most one {{kind}}")]
    Placeholders(String),
    #[error("topic pattern {0:?}: wildcards only as whole levels")]
    PartialWildcard(String),
}

pub const DEFAULT_PATTERN: &str = "city/{kind}/{sensor_id}";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Literal(String),
    Kind,
    SensorId,
    Any,
}

/// A parsed topic pattern: one level per `/`, `{kind}`, `{sensor_id}` (required) or `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern {
    levels: Vec<Level>,
}

/// What a topic said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMatch<'a> {
    pub kind: Option<EntityKind>,
    pub sensor_id: &'a str,
}

impl Default for TopicPattern {
    fn default() -> Self {
        Self::parse(DEFAULT_PATTERN).unwrap_or(Self { levels: vec![Level::SensorId] })
    }
}

impl TopicPattern {
    /// Parses a pattern; it must hold `{sensor_id}` exactly once and no `#`.
    pub fn parse(pattern: &str) -> Result<Self, TopicPatternError> {
        let levels: Vec<Level> = pattern
            .split('/')
            .map(|l| match l {
                "{kind}" => Level::Kind,
                "{sensor_id}" => Level::SensorId,
                "+" => Level::Any,
                other => Level::Literal(other.to_owned()),
            })
            .collect();
        let ids = levels.iter().filter(|l| **l == Level::SensorId).count();
        let kinds = levels.iter().filter(|l| **l == Level::Kind).count();
        if ids != 1 || kinds > 1 {
            return Err(TopicPatternError::Placeholders(pattern.to_owned()));
        }
        if levels.iter().any(|l| matches!(l, Level::Literal(s) if s.contains(['#', '+', '{', '}']))) {
            return Err(TopicPatternError::PartialWildcard(pattern.to_owned()));
        }
        Ok(Self { levels })
    }

    /// The MQTT subscription filter (`{…}` → `+`).
    pub fn subscription(&self) -> String {
        let parts: Vec<&str> = self
            .levels
            .iter()
            .map(|l| match l {
                Level::Literal(s) => s.as_str(),
                _ => "+",
            })
            .collect();
        parts.join("/")
    }

    /// Fills the pattern in for publishing (`+` levels become `_`).
    pub fn topic_for(&self, kind: EntityKind, sensor_id: &str) -> String {
        let parts: Vec<&str> = self
            .levels
            .iter()
            .map(|l| match l {
                Level::Literal(s) => s.as_str(),
                Level::Kind => kind.as_str(),
                Level::SensorId => sensor_id,
                Level::Any => "_",
            })
            .collect();
        parts.join("/")
    }

    pub fn matches<'a>(&self, topic: &'a str) -> Result<TopicMatch<'a>, MqttError> {
        let mismatch = || MqttError::TopicMismatch(topic.chars().take(200).collect());
        let mut kind = None;
        let mut sensor_id = None;
        let mut parts = topic.split('/');
        for level in &self.levels {
            let part = parts.next().ok_or_else(mismatch)?;
            match level {
                Level::Literal(s) if s != part => return Err(mismatch()),
                Level::Literal(_) | Level::Any => {}
                Level::Kind => kind = Some(parse_kind(part)?),
                Level::SensorId => sensor_id = Some(part),
            }
        }
        if parts.next().is_some() {
            return Err(mismatch());
        }
        let sensor_id = sensor_id.ok_or_else(mismatch)?;
        if sensor_id.is_empty() || sensor_id.len() > 128 {
            return Err(MqttError::BadSensorId);
        }
        Ok(TopicMatch { kind, sensor_id })
    }
}

/// Entity kind names plus the short aliases sensors commonly use.
fn parse_kind(s: &str) -> Result<EntityKind, MqttError> {
    let kind = match s {
        "flood" => EntityKind::FloodSensor,
        "rain" => EntityKind::RainGauge,
        "air" | "aq" => EntityKind::AirQualityStation,
        "water" | "wq" => EntityKind::WaterQualityStation,
        other => other.parse().map_err(|_| MqttError::UnknownKind(other.chars().take(64).collect()))?,
    };
    Ok(kind)
}
