//! Arbitrary bytes as an MQTT topic and payload through the sensor decoder. Any panic is a bug;
//! an observation with a position must validate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_core::{EntityKind, Timestamp};
use twin_ingest::mqtt::{decode, SensorConfig, SensorRegistry, TopicPattern};

fuzz_target!(|data: &[u8]| {
    // First byte: topic length; the topic, then the payload.
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n).min(rest.len());
    let (topic, payload) = rest.split_at(n);
    let Ok(topic) = std::str::from_utf8(topic) else { return };
    let registry = SensorRegistry::new([SensorConfig {
        id: "s1".into(),
        kind: EntityKind::FloodSensor,
        lon: 108.22,
        lat: 16.06,
        name: None,
    }]);
    let pattern = TopicPattern::default();
    if let Ok(obs) = decode(topic, payload, &pattern, &registry, Timestamp::from_millis(0)) {
        if obs.position.is_some() {
            assert!(obs.validate().is_ok(), "invalid observation {obs:?}");
        }
    }
});
