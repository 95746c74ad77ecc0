//! Crash safety: `kill -9` in the middle of ingest loses nothing that was acknowledged.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;
use twin_tests::obs::{attr_str, features, ndjson, now_ms, observation, point, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_test_config, Client, Server};

const TOTAL: usize = 10_000;
const ENTITIES: usize = 2_000;
const BATCH: usize = 100;

/// Observation `i`: entity `i % ENTITIES`, moving a little with every round, time strictly rising.
fn planned(i: usize, t0: i64) -> (String, f64, f64, i64) {
    let entity = i % ENTITIES;
    let round = (i / ENTITIES) as f64;
    let lon = 108.10 + (entity % 50) as f64 * 0.004 + round * 0.0001;
    let lat = 15.95 + (entity / 50) as f64 * 0.004 + round * 0.0001;
    (format!("crash-{entity:05}"), lon, lat, t0 + i as i64)
}

#[test]
fn acknowledged_observations_survive_kill_9_with_fsync_always() {
    crash_and_check("always");
}

/// With `interval` an acknowledged batch is in the kernel's page cache: a process crash keeps it.
#[test]
fn acknowledged_observations_survive_kill_9_with_fsync_interval() {
    crash_and_check("interval");
}

fn crash_and_check(fsync: &str) {
    let dir = temp_dir("e2e-crash-");
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let data = dir.path().join("data");
    let mut server = Server::serve(&config, &data, &["--fsync", fsync]);
    let base = server.base_url().to_owned();
    let t0 = now_ms();

    let plan: Vec<(String, f64, f64, i64)> = (0..TOTAL).map(|i| planned(i, t0)).collect();
    let plan = Arc::new(plan);
    // Number of leading observations of `plan` whose batch was acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let (half_tx, half_rx) = mpsc::channel::<()>();

    let poster = {
        let (plan, acked, first_error) = (Arc::clone(&plan), Arc::clone(&acked), Arc::clone(&first_error));
        thread::spawn(move || {
            let client = Client::new(Duration::from_secs(60));
            let url = format!("{base}/ingest/observations");
            let mut signalled = false;
            for start in (0..TOTAL).step_by(BATCH) {
                let batch: Vec<Value> = plan[start..start + BATCH]
                    .iter()
                    .map(|(id, lon, lat, t)| observation("bus", id, *t, *lon, *lat))
                    .collect();
                let body = ndjson(&batch);
                match client.post(&url, "application/x-ndjson", body.as_bytes()) {
                    Ok(reply) if reply.is_success() => {
                        let accepted = reply.json()["accepted"].as_u64();
                        if accepted != Some(BATCH as u64) {
                            *first_error.lock().unwrap() = Some(format!("partial accept: {}", reply.body));
                            return;
                        }
                        acked.store(start + BATCH, Ordering::SeqCst);
                    }
                    Ok(reply) => {
                        *first_error.lock().unwrap() = Some(format!("status {}: {}", reply.status, reply.body));
                        return;
                    }
                    // The process was killed under this request: it is not acknowledged.
                    Err(_) => return,
                }
                if !signalled && acked.load(Ordering::SeqCst) >= TOTAL / 2 {
                    signalled = true;
                    let _ = half_tx.send(());
                }
            }
        })
    };

    // Kill as soon as half is acknowledged, while the poster keeps sending.
    half_rx.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|_| {
        panic!("half of the batches were not acknowledged: {:?}\n{}", first_error.lock().unwrap(), server.stderr_text())
    });
    server.kill9();
    poster.join().unwrap();
    assert_eq!(*first_error.lock().unwrap(), None, "ingest failed before the kill");
    let acked_count = acked.load(Ordering::SeqCst);
    eprintln!("fsync {fsync}: acknowledged before kill -9: {acked_count} of {TOTAL}");

    let server = Server::serve(&config, &data, &["--fsync", fsync]);
    let client = Client::default();
    let url = server.url(&format!("/api/entities?kind=bus&limit={}", ENTITIES * 2));
    let all = client.get_json(&url);
    let found: HashMap<&str, (f64, f64)> =
        features(&all).iter().filter_map(|f| Some((attr_str(f, "external_id")?, point(f)?))).collect();

    // Every acknowledged observation's entity is there, at its latest acknowledged position or at a
    // later position that was sent (a batch may be durable without its answer having arrived).
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for entity in 0..ENTITIES.min(acked_count) {
        let sent: Vec<usize> = (entity..TOTAL).step_by(ENTITIES).collect();
        let last_acked = sent.iter().copied().filter(|i| *i < acked_count).max().unwrap_or(entity);
        let (id, ..) = &plan[last_acked];
        let Some(&(lon, lat)) = found.get(id.as_str()) else {
            missing.push(id.clone());
            continue;
        };
        let matches = sent.iter().filter(|i| **i >= last_acked).any(|i| {
            let (_, plon, plat, _) = &plan[*i];
            (lon - plon).abs() < 1e-7 && (lat - plat).abs() < 1e-7
        });
        if !matches {
            wrong.push(format!(
                "{id} at ({lon}, {lat}), latest acknowledged ({}, {})",
                plan[last_acked].1, plan[last_acked].2
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged entities missing after restart, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        wrong.is_empty(),
        "{} entities at a position older than acknowledged, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}
