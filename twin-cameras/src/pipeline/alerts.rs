//! The camera's alert kinds: which kind each alert condition raises, its words, and the flags
//! that rise (0 → 1) from one published frame to the next.

use twin_vision::counting::Alert;

use super::Pipeline;

/// The camera's alert kinds; each is published as the flag `alert_<kind>`.
pub const ALERT_KINDS: [&str; 3] = ["queue", "stopped_vehicle", "person_restricted"];

/// The kind (one of [`ALERT_KINDS`]) an alert condition raises.
pub fn alert_kind(a: &Alert) -> &'static str {
    match a {
        Alert::Queue { .. } => ALERT_KINDS[0],
        Alert::StoppedVehicle { .. } => ALERT_KINDS[1],
        Alert::PersonInRestrictedZone { .. } => ALERT_KINDS[2],
    }
}

/// An alert flag that went from 0 to 1 in the measures of this frame.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedAlert {
    /// One of [`ALERT_KINDS`].
    pub kind: &'static str,
    /// The conditions behind it, in the words of `alert_detail`.
    pub detail: String,
    /// Its id once the sink logged it (the evidence is filed under it).
    pub alert_id: Option<u64>,
}

impl Pipeline {
    /// Flags now up that were down when last published; remembers the new state.
    pub(super) fn raised(&mut self, alerts: &[Alert]) -> Vec<RaisedAlert> {
        let mut out = Vec::new();
        for (kind, was) in ALERT_KINDS.iter().zip(self.flags.iter_mut()) {
            let now: Vec<String> = alerts.iter().filter(|a| alert_kind(a) == *kind).map(describe).collect();
            if !now.is_empty() && !*was {
                out.push(RaisedAlert { kind, detail: now.join("; "), alert_id: None });
            }
            *was = !now.is_empty();
        }
        out
    }
}

pub(super) fn describe(a: &Alert) -> String {
    match a {
        Alert::Queue { zone, vehicles, mean_speed } => {
            format!("queue in {zone}: {vehicles} vehicles at {:.1} km/h", mean_speed * 3.6)
        }
        Alert::StoppedVehicle { zone, track, still_s } => {
            format!("vehicle {track} stopped {still_s:.0} s in no-stopping zone {zone}")
        }
        Alert::PersonInRestrictedZone { zone, track } => format!("person {track} in restricted zone {zone}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use twin_core::{EntityKind, PropertyValue, Timestamp};

    use super::super::tests::{det, prop, spec};
    use super::Pipeline;

    #[test]
    fn stopped_vehicle_in_a_no_stopping_zone_raises_the_flag() {
        let zone = "stop_dwell_s = 3\n[[zones]]\nid = \"kerb\"\nkind = \"no_stopping\"\npolygon = [[0, 0], [768, 0], [768, 432], [0, 432]]\n";
        let mut p = Pipeline::new(spec(zone));
        let mut flags = Vec::new();
        for k in 0..20 {
            let t = k * 500;
            let out = p.process(&[det(2, 0.9, 300.0, 200.0)], Timestamp(t), t);
            if let Some(c) = out.observations.iter().find(|o| o.kind == EntityKind::Camera) {
                flags.push(prop(c, "alert_stopped_vehicle").as_f64().unwrap());
            }
        }
        assert_eq!(flags.first(), Some(&0.0));
        assert_eq!(flags.last(), Some(&1.0), "{flags:?}");
    }

    #[test]
    fn a_flag_is_raised_once_per_rise_with_its_detail() {
        let zone = "stop_dwell_s = 2\n[[zones]]\nid = \"kerb\"\nkind = \"no_stopping\"\npolygon = [[0, 0], [768, 0], [768, 432], [0, 432]]\n";
        let mut p = Pipeline::new(spec(zone));
        let mut raised = Vec::new();
        // Parked for 8 s, gone for 3 s, then a car parks again for 8 s.
        for k in 0..38i64 {
            let t = k * 500;
            let dets = if (16..22).contains(&k) { vec![] } else { vec![det(2, 0.9, 300.0, 200.0)] };
            let out = p.process(&dets, Timestamp(t), t);
            raised.extend(out.raised.into_iter().map(|r| (t, r)));
        }
        assert_eq!(raised.len(), 2, "{raised:?}");
        for (t, r) in &raised {
            assert_eq!(r.kind, "stopped_vehicle");
            assert!(r.detail.contains("no-stopping zone kerb"), "{}", r.detail);
            assert!(*t >= 2_000, "not before the dwell: {t}");
        }
        assert!(raised[1].0 >= 11_000, "the second rise follows the second stop: {raised:?}");
    }

    #[test]
    fn person_in_a_restricted_zone_raises_the_flag() {
        let zone =
            "[[zones]]\nid = \"rails\"\nkind = \"restricted\"\npolygon = [[0, 0], [400, 0], [400, 432], [0, 432]]\n";
        let mut p = Pipeline::new(spec(zone));
        let mut last = None;
        for k in 0..6 {
            let t = k * 1000;
            let out = p.process(&[det(0, 0.9, 200.0, 200.0)], Timestamp(t), t);
            last = out.observations.into_iter().find(|o| o.kind == EntityKind::Camera).or(last);
        }
        let cam = last.unwrap();
        assert_eq!(prop(&cam, "alert_person_restricted"), &PropertyValue::Int(1));
        assert!(prop(&cam, "alert_detail").as_str().unwrap().contains("restricted zone rails"));
    }
}
