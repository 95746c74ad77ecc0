//! Load generation over loopback: concurrent NDJSON ingest (throughput) and paced ingest with a
//! WebSocket subscriber (freshness). Bounded in count; used by the `load` binary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::live::{delta_upsert_external_ids, WsSubscriber};
use crate::obs::{ndjson, now_ms, observation, DA_NANG_BBOX};
use crate::Client;

/// Side of the square grid the synthetic entities sit on (covers Da Nang's bbox).
const GRID: usize = 1000;

/// External id of synthetic entity `n`.
pub fn entity_name(n: usize) -> String {
    format!("load-{n:07}")
}

/// Position of synthetic entity `n` in pass `pass`: a grid cell, nudged on every pass so each
/// observation is a real move.
pub fn entity_position(n: usize, pass: usize) -> (f64, f64) {
    let [x0, y0, x1, y1] = DA_NANG_BBOX;
    // Rows scattered by a multiplicative hash so any number of entities covers the whole box.
    let (col, row) = (n % GRID, (n.wrapping_mul(2_654_435_761) >> 7) % GRID);
    let nudge = (pass % 7) as f64 * 1e-5;
    (
        x0 + (x1 - x0) * (col as f64 + 0.5) / GRID as f64 + nudge,
        y0 + (y1 - y0) * (row as f64 + 0.5) / GRID as f64 + nudge,
    )
}

/// Observation number `i` of a run over `entities` entities (round robin).
pub fn synthetic(i: usize, entities: usize, t0: i64) -> Value {
    let n = i % entities;
    let (lon, lat) = entity_position(n, i / entities);
    observation("bus", &entity_name(n), t0 + i as i64, lon, lat)
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub count: usize,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        Self { p50: at(0.5), p99: at(0.99), max: at(1.0), count: samples.len() }
    }
}

/// What a throughput run measured.
#[derive(Debug, Clone)]
pub struct IngestResult {
    pub observations: usize,
    pub seconds: f64,
    pub batch_latency: Percentiles,
    pub failures: usize,
}

impl IngestResult {
    pub fn per_second(&self) -> f64 {
        self.observations as f64 / self.seconds.max(1e-9)
    }
}

/// Posts `total` observations over `entities` entities in NDJSON batches from `clients` threads,
/// as fast as the server acknowledges them.
pub fn ingest_throughput(base_url: &str, entities: usize, total: usize, batch: usize, clients: usize) -> IngestResult {
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = now_ms();
    let start = Instant::now();
    let workers: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (next, url) = (Arc::clone(&next), format!("{base_url}/ingest/observations"));
            thread::spawn(move || {
                let client = Client::new(Duration::from_secs(300));
                let (mut latencies, mut done, mut failures) = (Vec::new(), 0usize, 0usize);
                loop {
                    let from = next.fetch_add(batch, Ordering::Relaxed);
                    if from >= total {
                        break;
                    }
                    let lines: Vec<Value> =
                        (from..(from + batch).min(total)).map(|i| synthetic(i, entities, t0)).collect();
                    let body = ndjson(&lines);
                    let sent = Instant::now();
                    match client.post(&url, "application/x-ndjson", body.as_bytes()) {
                        Ok(r) if r.is_success() => {
                            latencies.push(sent.elapsed());
                            done += r.json()["accepted"].as_u64().unwrap_or(0) as usize;
                        }
                        _ => failures += 1,
                    }
                }
                (latencies, done, failures)
            })
        })
        .collect();
    let (mut latencies, mut observations, mut failures) = (Vec::new(), 0, 0);
    for w in workers {
        if let Ok((l, d, f)) = w.join() {
            latencies.extend(l);
            observations += d;
            failures += f;
        }
    }
    IngestResult {
        observations,
        seconds: start.elapsed().as_secs_f64(),
        batch_latency: Percentiles::of(latencies),
        failures,
    }
}

/// What a freshness run measured.
#[derive(Debug, Clone)]
pub struct FreshnessResult {
    pub target_rate: f64,
    pub achieved_rate: f64,
    /// POST acknowledged → delta received (0 when the delta beat the acknowledgement).
    pub from_ack: Percentiles,
    /// POST sent → delta received.
    pub from_send: Percentiles,
    /// Observations inside the subscription whose delta never arrived before the grace period ended.
    pub missing: usize,
}

/// Posts `count` observations (entities `0..count`, each once) at `rate` per second in batches of
/// `batch` from `clients` threads, while a WebSocket subscribed to `viewport` records when each
/// entity's delta arrives.
pub fn freshness(
    ws_url: &str,
    base_url: &str,
    viewport: [f64; 4],
    count: usize,
    rate: f64,
    batch: usize,
    clients: usize,
) -> FreshnessResult {
    let inside = |n: usize| {
        let (lon, lat) = entity_position(n, 1);
        lon >= viewport[0] && lon <= viewport[2] && lat >= viewport[1] && lat <= viewport[3]
    };
    let mut ws = WsSubscriber::connect(ws_url, viewport, &["bus"]);
    ws.wait_for(Duration::from_secs(120), |m| m["type"] == "snapshot");

    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let stop = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
        thread::spawn(move || {
            while stop.load(Ordering::Relaxed) == 0 {
                let Some(msg) = ws.next_json(Instant::now() + Duration::from_millis(200)) else { continue };
                let at = Instant::now();
                if msg["type"] == "delta" {
                    let mut map = received.lock().unwrap_or_else(|e| e.into_inner());
                    for id in delta_upsert_external_ids(&msg) {
                        map.entry(id).or_insert(at);
                    }
                }
            }
        })
    };

    // Batch k is due at start + k·batch/rate; each worker takes the next batch and waits for its turn.
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = now_ms();
    let start = Instant::now();
    let workers: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (next, url) = (Arc::clone(&next), format!("{base_url}/ingest/observations"));
            thread::spawn(move || {
                let client = Client::new(Duration::from_secs(120));
                let mut stamps = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let from = k * batch;
                    if from >= count {
                        break;
                    }
                    let due = start + Duration::from_secs_f64(from as f64 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    let ids: Vec<usize> = (from..(from + batch).min(count)).collect();
                    // Pass 1: every entity moves from where the preload put it.
                    let lines: Vec<Value> = ids
                        .iter()
                        .map(|n| {
                            let (lon, lat) = entity_position(*n, 1);
                            observation("bus", &entity_name(*n), t0 + *n as i64, lon, lat)
                        })
                        .collect();
                    let sent = Instant::now();
                    if matches!(client.post(&url, "application/x-ndjson", ndjson(&lines).as_bytes()), Ok(r) if r.is_success()) {
                        stamps.push((ids, sent, Instant::now()));
                    }
                }
                stamps
            })
        })
        .collect();
    let stamps: Vec<(Vec<usize>, Instant, Instant)> =
        workers.into_iter().filter_map(|w| w.join().ok()).flatten().collect();
    let achieved_rate = stamps.iter().map(|(ids, ..)| ids.len()).sum::<usize>() as f64 / start.elapsed().as_secs_f64();

    // Let the last deltas arrive (a few batching periods), then stop the reader.
    let grace = Instant::now() + Duration::from_secs(5);
    let wanted: Vec<(String, Instant, Instant)> = stamps
        .iter()
        .flat_map(|(ids, sent, acked)| {
            ids.iter().filter(|n| inside(**n)).map(move |n| (entity_name(*n), *sent, *acked))
        })
        .collect();
    while Instant::now() < grace {
        let got = received.lock().unwrap_or_else(|e| e.into_inner());
        if wanted.iter().all(|(id, ..)| got.contains_key(id)) {
            break;
        }
        drop(got);
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(1, Ordering::Relaxed);
    let _ = reader.join();

    let got = received.lock().unwrap_or_else(|e| e.into_inner());
    let (mut from_ack, mut from_send, mut missing) = (Vec::new(), Vec::new(), 0);
    for (id, sent, acked) in &wanted {
        match got.get(id) {
            Some(at) => {
                from_ack.push(at.saturating_duration_since(*acked));
                from_send.push(at.saturating_duration_since(*sent));
            }
            None => missing += 1,
        }
    }
    FreshnessResult {
        target_rate: rate,
        achieved_rate,
        from_ack: Percentiles::of(from_ack),
        from_send: Percentiles::of(from_send),
        missing,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_series() {
        let p = Percentiles::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!((p.p50.round(), p.p99, p.max, p.count), (51.0, 99.0, 100.0, 100));
    }

    #[test]
    fn synthetic_entities_stay_in_da_nang() {
        for n in [0, 999, 1000, 99_999, 999_999] {
            let (lon, lat) = entity_position(n, 6);
            assert!(lon > DA_NANG_BBOX[0] && lon < DA_NANG_BBOX[2] && lat > DA_NANG_BBOX[1] && lat < DA_NANG_BBOX[3]);
        }
    }
}
