//! Recent sensor readings for the viewer's charts. The model keeps only the latest properties, so a
//! commit observer on the live hub records the readings of sensor kinds as they are applied, in a
//! bounded ring per entity and property. The readings are also in the log: a restart rebuilds the
//! store from the recovered model's current values.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use twin_core::{Applied, Change, Entity, EntityId, EntityKind, Twin};

use crate::live::LiveHub;

/// Kinds whose numeric properties are readings worth a chart.
pub const SERIES_KINDS: [EntityKind; 4] =
    [EntityKind::FloodSensor, EntityKind::RainGauge, EntityKind::AirQualityStation, EntityKind::WaterQualityStation];

/// Readings kept per entity and property: two hours of a reading every 5 s.
pub const SERIES_CAPACITY: usize = 1440;

type Series = VecDeque<(i64, f64)>;

/// Recent readings of every sensor, per entity and numeric property, oldest first.
#[derive(Default)]
pub struct SeriesStore {
    entities: Mutex<HashMap<EntityId, BTreeMap<String, Series>>>,
}

impl SeriesStore {
    /// Adds the entity's current numeric properties at its observation time. A reading at or before
    /// the last one of that property is not added (a late observation leaves the properties as
    /// they were, and replays of the same state add nothing).
    pub fn record(&self, e: &Entity) {
        if !SERIES_KINDS.contains(&e.kind) {
            return;
        }
        let t = e.last_seen.as_millis();
        let mut all = self.entities.lock();
        let series = all.entry(e.id).or_default();
        for (key, value) in &e.properties {
            let Some(v) = value.as_f64().filter(|v| v.is_finite()) else { continue };
            if matches!(value, twin_core::PropertyValue::Bool(_)) {
                continue;
            }
            let s = series.entry(key.clone()).or_default();
            if s.back().is_some_and(|&(last, _)| last >= t) {
                continue;
            }
            if s.len() >= SERIES_CAPACITY {
                s.pop_front();
            }
            s.push_back((t, v));
        }
    }

    /// A store seeded with the model's current readings that follows every later commit. Call
    /// before the writer starts (boot does), so no commit is missed and no lock is contended.
    pub fn recording(twin: &Twin, hub: &LiveHub) -> Arc<Self> {
        let store = Arc::new(SeriesStore::default());
        for e in twin.entities() {
            store.record(e);
        }
        let observer = store.clone();
        hub.observe(Arc::new(move |twin, applied| observer.observe(twin, applied)));
        store
    }

    /// Follows one commit (called by the writer with the model held: only copies a few numbers).
    pub fn observe(&self, twin: &Twin, applied: &Applied) {
        for change in &applied.changes {
            match change {
                Change::Upserted(id) => {
                    if let Some(e) = twin.get(*id) {
                        self.record(e);
                    }
                }
                Change::Removed(e) => {
                    self.entities.lock().remove(&e.id);
                }
            }
        }
    }

    /// The entity's readings in [from, to], per property (`key` picks one), as `(times, values)`.
    pub fn series(
        &self,
        id: EntityId,
        from: i64,
        to: i64,
        key: Option<&str>,
    ) -> BTreeMap<String, (Vec<i64>, Vec<f64>)> {
        let all = self.entities.lock();
        let Some(series) = all.get(&id) else { return BTreeMap::new() };
        series
            .iter()
            .filter(|(k, _)| key.is_none_or(|want| want == k.as_str()))
            .map(|(k, s)| {
                let (t, v): (Vec<i64>, Vec<f64>) = s.iter().filter(|(t, _)| (from..=to).contains(t)).copied().unzip();
                (k.clone(), (t, v))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use twin_core::{Observation, PropertyValue, Timestamp};

    use super::*;

    fn reading(id: &str, t: i64, depth: f64) -> Observation {
        let mut o = Observation::new(EntityKind::FloodSensor, id, Timestamp::from_millis(t)).at(108.2, 16.05);
        o.properties.insert("water_depth_m".into(), PropertyValue::Float(depth));
        o.properties.insert("status_text".into(), PropertyValue::Text("ok".into()));
        o.properties.insert("simulated".into(), PropertyValue::Bool(true));
        o
    }

    #[test]
    fn store_keeps_numeric_readings_in_order_and_bounded() {
        let store = SeriesStore::default();
        let mut twin = Twin::new(twin_core::TwinConfig::default());
        let feed = |twin: &mut Twin, o: Observation| {
            let applied = twin.apply_batch(&[o]);
            store.observe(twin, &applied);
        };
        feed(&mut twin, reading("s1", 1_000, 0.10));
        feed(&mut twin, reading("s1", 2_000, 0.25));
        // Late: the model keeps the newer state, the series gains nothing.
        feed(&mut twin, reading("s1", 1_500, 9.0));
        let mut bus = Observation::new(EntityKind::Bus, "b1", Timestamp::from_millis(1_000)).at(108.2, 16.05);
        bus.properties.insert("occupancy".into(), PropertyValue::Int(12));
        feed(&mut twin, bus);
        let id = twin.entities().find(|e| e.external_id == "s1").unwrap().id;
        let s = store.series(id, 0, i64::MAX, None);
        assert_eq!(s.keys().collect::<Vec<_>>(), ["water_depth_m"], "text and bool properties are not series");
        assert_eq!(s["water_depth_m"], (vec![1_000, 2_000], vec![0.10, 0.25]));
        assert_eq!(store.series(id, 1_500, 3_000, None)["water_depth_m"].0, [2_000]);
        assert!(store.series(id, 0, i64::MAX, Some("pm25_ugm3")).is_empty());
        let bus_id = twin.entities().find(|e| e.external_id == "b1").unwrap().id;
        assert!(store.series(bus_id, 0, i64::MAX, None).is_empty(), "vehicles are not recorded");

        for i in 0..(SERIES_CAPACITY as i64 + 10) {
            feed(&mut twin, reading("s1", 10_000 + i, i as f64));
        }
        let (t, v) = &store.series(id, 0, i64::MAX, None)["water_depth_m"];
        assert_eq!(t.len(), SERIES_CAPACITY);
        assert_eq!(v.last().copied(), Some((SERIES_CAPACITY + 9) as f64));
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }
}
