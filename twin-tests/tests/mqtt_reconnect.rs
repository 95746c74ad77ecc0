//! MQTT reconnect: a private Mosquitto on a free port is stopped and started again; every reading
//! published before the stop and after the restart reaches the model, none lost.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use twin_tests::obs::{attr, attr_str, features, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_config, Client, Server};

/// A Mosquitto process killed on drop.
struct Broker {
    child: Child,
}

impl Broker {
    /// Persistence on: the server's persistent session (subscription and queued QoS 1 messages)
    /// survives the restart, as on a production broker.
    fn start(dir: &Path, port: u16) -> Broker {
        let conf = dir.join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).unwrap();
        // `user root`: started as root, Mosquitto would switch to its own user and could not write
        // its database into our temp dir (no effect when not started as root).
        writeln!(f, "listener {port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence true").unwrap();
        writeln!(f, "persistence_location {}/\nlog_dest stderr", dir.display()).unwrap();
        let log = std::fs::File::create(dir.join(format!("mosquitto-{}.log", now_ns()))).unwrap();
        let child = Command::new(mosquitto_bin())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("mosquitto is installed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start on {port}");
            thread::sleep(Duration::from_millis(50));
        }
        Broker { child }
    }

    /// SIGTERM (mosquitto writes its persistence file on the way out) and wait.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The broker binary lives in sbin, which a plain user's PATH may lack.
fn mosquitto_bin() -> &'static str {
    if Path::new("/usr/sbin/mosquitto").is_file() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

fn now_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Publishes readings `ids` (sensor `r-{i}`, value `i` cm), one QoS 1 message each.
fn publish_range(port: u16, ids: std::ops::Range<u32>) {
    for i in ids {
        let payload = format!(r#"{{"value": {i}, "unit": "cm", "lat": 16.06, "lon": 108.22, "seq": {i}}}"#);
        let out = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-q",
                "1",
                "-t",
                &format!("city/flood/r-{i}"),
                "-m",
                &payload,
            ])
            .output()
            .expect("mosquitto_pub is installed");
        assert!(out.status.success(), "mosquitto_pub: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Every sensor `r-{i}` for i in 0..n present with depth i cm.
fn all_arrived(v: &Value, n: u32) -> bool {
    let mut seen = vec![false; n as usize];
    for f in features(v) {
        let Some(id) = attr_str(f, "external_id").and_then(|s| s.strip_prefix("r-")) else { continue };
        let Ok(i) = id.parse::<u32>() else { continue };
        let depth = attr(f, "water_depth_m").and_then(Value::as_f64);
        if i < n && depth.is_some_and(|d| (d - f64::from(i) / 100.0).abs() < 1e-9) {
            seen[i as usize] = true;
        }
    }
    seen.iter().all(|s| *s)
}

fn mqtt_connected(v: &Value, yes: bool) -> bool {
    v["feeds"].as_array().is_some_and(|a| a.iter().any(|f| f["source"] == "mqtt" && f["connected"] == yes))
}

#[test]
fn no_reading_is_lost_across_a_broker_restart() {
    let dir = temp_dir("e2e-mqtt-restart-");
    let port = free_port();
    let broker = Broker::start(dir.path(), port);
    let extra = format!("[mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\nclient_id = \"citytwin-restart-test\"\n");
    let config = write_config(dir.path(), "E2E MQTT restart", DA_NANG_BBOX, &extra);
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();
    let feeds = server.url("/api/feeds");
    client.poll_json(&feeds, Duration::from_secs(60), |v| mqtt_connected(v, true)).unwrap();

    publish_range(port, 0..40);
    let entities = server.url("/api/entities?kind=flood_sensor&limit=1000");
    client.poll_json(&entities, Duration::from_secs(60), |v| all_arrived(v, 40)).unwrap();

    broker.stop();
    client.poll_json(&feeds, Duration::from_secs(60), |v| mqtt_connected(v, false)).unwrap();
    let broker = Broker::start(dir.path(), port);
    // Published right after the restart, whether or not the server has reconnected yet.
    publish_range(port, 40..80);
    let v = client.poll_json(&entities, Duration::from_secs(90), |v| all_arrived(v, 80));
    assert!(v.is_ok(), "readings lost across the restart: {v:?}\nserver log:\n{}", server.stderr_text());
    let f = client.get_json(&feeds);
    let mqtt = f["feeds"].as_array().unwrap().iter().find(|f| f["source"] == "mqtt").unwrap().clone();
    assert_eq!(mqtt["connected"], true, "{mqtt}");
    assert!(mqtt["accepted"].as_u64().unwrap() >= 80, "{mqtt}");
    drop(broker);
}
