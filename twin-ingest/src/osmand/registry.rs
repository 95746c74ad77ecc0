//! Which tracker is which vehicle: device id → entity kind, agency and call sign.

use std::collections::HashMap;

use serde::Deserialize;
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp};

use super::{Fix, OsmandError};

/// One `[[devices]]` entry of the city config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub id: String,
    pub kind: EntityKind,
    pub agency: Option<String>,
    pub call_sign: Option<String>,
}

/// What to do with a device id the registry does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownDevices {
    /// Refuse the report (the route answers 404). The default: a stray tracker must not appear
    /// on the operations map as an emergency vehicle.
    #[default]
    Reject,
    /// Accept it as an entity of this kind.
    AcceptAs(EntityKind),
}

#[derive(Debug, Clone, Default)]
pub struct DeviceRegistry {
    devices: HashMap<String, Device>,
    pub unknown: UnknownDevices,
}

impl DeviceRegistry {
    pub fn new(devices: impl IntoIterator<Item = Device>, unknown: UnknownDevices) -> Self {
        Self { devices: devices.into_iter().map(|d| (d.id.clone(), d)).collect(), unknown }
    }

    pub fn get(&self, id: &str) -> Option<&Device> {
        self.devices.get(id)
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The observation for a fix: kind and properties from the registry, the receive time `now`
    /// when the fix has none. The device id is the external id.
    pub fn to_observation(&self, fix: &Fix, now: Timestamp, source: &str) -> Result<Observation, OsmandError> {
        let device = self.devices.get(&fix.device_id);
        let kind = match (device, self.unknown) {
            (Some(d), _) => d.kind,
            (None, UnknownDevices::AcceptAs(kind)) => kind,
            (None, UnknownDevices::Reject) => return Err(OsmandError::UnknownDevice(fix.device_id.clone())),
        };
        let mut obs = Observation::new(kind, fix.device_id.clone(), fix.time.unwrap_or(now));
        obs.source = source.to_owned();
        obs.position = fix.position;
        obs.heading = fix.heading;
        obs.speed = fix.speed_mps;
        // Extra parameters first, so the protocol's own fields and the registry win over them.
        for (k, v) in &fix.attributes {
            match (k.as_str(), v) {
                ("status", PropertyValue::Text(s)) => obs.status = Some(s.clone()),
                _ => {
                    obs.properties.insert(k.clone(), v.clone());
                }
            }
        }
        let p = &mut obs.properties;
        let mut num = |k: &str, v: Option<f64>| {
            if let Some(v) = v {
                p.insert(k.to_owned(), PropertyValue::Float(v));
            }
        };
        num("altitude_m", fix.altitude_m);
        num("accuracy_m", fix.accuracy_m);
        num("battery_percent", fix.battery_percent);
        num("odometer_m", fix.odometer_m);
        if let Some(c) = fix.charging {
            p.insert("charging".into(), PropertyValue::Bool(c));
        }
        if let Some(m) = fix.moving {
            p.insert("moving".into(), PropertyValue::Bool(m));
        }
        if let Some(d) = device {
            if let Some(a) = &d.agency {
                p.insert("agency".into(), PropertyValue::Text(a.clone()));
            }
            if let Some(c) = &d.call_sign {
                p.insert("call_sign".into(), PropertyValue::Text(c.clone()));
            }
        }
        Ok(obs)
    }
}
