//! The demo's ambulances and fire trucks as GPS trackers: each unit reports with an OsmAnd HTTP
//! request (`POST /ingest/osmand?id=…&lat=…`, as Traccar Client sends it) to the server's own
//! route, where the `[[devices]]` registry of the city config gives its kind, agency and call sign.
//! What the protocol has no field for (mission status, task, base, the simulated label) goes as
//! extra parameters, which the server keeps as attributes.

use std::collections::HashSet;
use std::time::Duration;

use twin_core::{Observation, PropertyValue, Timestamp};
use twin_ingest::osmand::KNOTS_TO_MPS;

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The OsmAnd query string for one unit's observation; None without a position.
pub fn query(o: &Observation) -> Option<String> {
    let p = o.position?;
    let mut q =
        format!("id={}&lat={:.7}&lon={:.7}&timestamp={}", encode(&o.external_id), p.lat, p.lon, o.time.as_millis());
    if let Some(s) = o.speed {
        // OsmAnd speeds are knots.
        q.push_str(&format!("&speed={:.3}", s / KNOTS_TO_MPS));
    }
    if let Some(h) = o.heading {
        q.push_str(&format!("&bearing={h:.1}"));
    }
    if let Some(s) = &o.status {
        q.push_str(&format!("&status={}", encode(s)));
    }
    for key in ["task", "base", "base_assumed", "simulated"] {
        let value = match o.properties.get(key) {
            Some(PropertyValue::Text(t)) => encode(t),
            Some(PropertyValue::Bool(b)) => b.to_string(),
            _ => continue,
        };
        q.push_str(&format!("&{key}={value}"));
    }
    Some(q)
}

/// Runs the emergency fleet as trackers posting to `{base_url}/ingest/osmand` every `period`.
pub fn spawn_units<F>(period: Duration, base_url: String, login: Option<twin_feeds::mqtt::Credentials>, mut step: F)
where
    F: FnMut(Timestamp) -> Vec<Observation> + Send + 'static,
{
    tokio::spawn(async move {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let url = format!("{base_url}/ingest/osmand");
        let authorization = login.map(|c| {
            use base64::Engine as _;
            let pair = format!("{}:{}", c.username, c.password);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        tracing::info!(%url, "demo emergency units report as OsmAnd trackers");
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut refused: HashSet<String> = HashSet::new();
        loop {
            tick.tick().await;
            let reports: Vec<(String, String)> =
                step(super::now()).iter().filter_map(|o| Some((o.external_id.clone(), query(o)?))).collect();
            let (agent, url, authorization) = (agent.clone(), url.clone(), authorization.clone());
            // One blocking worker per tick sends the units' requests in turn over a kept-alive connection.
            let answers = tokio::task::spawn_blocking(move || {
                reports
                    .into_iter()
                    .map(|(id, q)| {
                        let mut req = agent.post(&format!("{url}?{q}"));
                        if let Some(a) = &authorization {
                            req = req.header("authorization", a);
                        }
                        let status = req.send_empty().map(|r| r.status().as_u16());
                        (id, status.map_err(|e| e.to_string()))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
            let Ok(answers) = answers else { continue };
            for (id, answer) in answers {
                match answer {
                    Ok(200) => {}
                    Ok(401 | 403) => {
                        if refused.insert(id.clone()) {
                            tracing::warn!(device = %id, "demo unit's reports are refused: its tracker account may not report");
                        }
                    }
                    Ok(404) => {
                        if refused.insert(id.clone()) {
                            tracing::warn!(device = %id, "demo unit is not in [[devices]] of the city config: its reports are refused");
                        }
                    }
                    // 503 (queue full) and the rest: the next tick carries a fresher position.
                    Ok(code) => tracing::debug!(device = %id, code, "demo tracker report not accepted"),
                    Err(e) => tracing::debug!(device = %id, error = %e, "demo tracker report failed"),
                }
            }
        }
    });
}
