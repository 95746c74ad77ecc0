//! The embedded broker with real MQTT clients: anonymous and wrong logins are refused, a device
//! account gets in and its reading reaches the server's own subscriber, which logs in with the
//! broker's internal credential.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet};
use twin_core::{EntityKind, Observation};
use twin_feeds::broker::{self, BrokerAuth, Embedded, INTERNAL_USERNAME};
use twin_feeds::feeds::{FeedError, MqttSection};
use twin_feeds::mqtt::{self, Credentials, MqttConfig, Publisher};
use twin_feeds::sink::{ObservationSink, SinkError, SinkOutcome};
use twin_ingest::health::FeedRegistry;

/// Stored like device accounts: the SHA-256 of the secret would be checked here; a plain map is
/// enough to show the broker asks the server.
const DEVICE: (&str, &str) = ("flood-sensor-7", "ctk_right-secret");

fn device_auth() -> Arc<dyn BrokerAuth> {
    Arc::new(|user: &str, secret: &str| (user, secret) == DEVICE)
}

fn start() -> Embedded {
    broker::start(0, device_auth()).unwrap()
}

fn url(b: &Embedded) -> String {
    format!("mqtt://{}", b.addr)
}

fn login(user: &str, password: &str) -> Credentials {
    Credentials { username: user.into(), password: password.into() }
}

/// Connects one client and returns what the broker answered: its ConnAck, or the error of a
/// dropped connection (rumqttd closes the socket on a refused login).
async fn connect(b: &Embedded, client_id: &str, login: Option<(&str, &str)>) -> Result<(), ConnectionError> {
    let mut opts = MqttOptions::new(client_id, "127.0.0.1", b.addr.port());
    if let Some((u, p)) = login {
        opts.set_credentials(u, p);
    }
    let (_client, mut eventloop) = AsyncClient::new(opts, 10);
    // A guard against a hang, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn anonymous_clients_are_refused() {
    let b = start();
    assert!(connect(&b, "anon", None).await.is_err());
}

#[tokio::test]
async fn wrong_logins_are_refused() {
    let b = start();
    assert!(connect(&b, "wrong-pass", Some((DEVICE.0, "ctk_wrong"))).await.is_err());
    assert!(connect(&b, "wrong-user", Some(("someone-else", DEVICE.1))).await.is_err());
    // The internal name with a device's secret, or a guessed one.
    assert!(connect(&b, "internal-guess", Some((INTERNAL_USERNAME, DEVICE.1))).await.is_err());
    assert!(connect(&b, "internal-empty", Some((INTERNAL_USERNAME, ""))).await.is_err());
}

#[tokio::test]
async fn device_and_internal_logins_are_accepted() {
    let b = start();
    connect(&b, "device", Some(DEVICE)).await.unwrap();
    connect(&b, "server", Some((&b.internal.username, &b.internal.password))).await.unwrap();
}

#[tokio::test]
async fn every_start_makes_a_fresh_internal_credential() {
    let (a, b) = (start(), start());
    assert_eq!(a.internal.username, INTERNAL_USERNAME);
    assert_ne!(a.internal.password, b.internal.password);
    assert_eq!(a.internal.password.len(), 64, "256 random bits, hex");
    // One broker's credential does not open another.
    assert!(connect(&b, "crossed", Some((&a.internal.username, &a.internal.password))).await.is_err());
    // Debug output (logs) does not show it.
    assert!(!format!("{a:?}").contains(&a.internal.password));
}

/// Collects what the connector submits.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Observation>>>);

impl ObservationSink for Recorder {
    async fn submit(&self, _source: &str, batch: Vec<Observation>) -> Result<SinkOutcome, SinkError> {
        let accepted = batch.len();
        self.0.lock().extend(batch);
        Ok(SinkOutcome { accepted, rejected: Vec::new() })
    }
}

/// Starts the subscriber logged in as `login`, waits for its connection, then publishes one flood
/// reading as the device until it arrives (the subscription follows the ConnAck).
async fn reading_arrives(b: &Embedded, subscriber_login: Credentials, client_id: &str) -> Observation {
    let sink = Recorder::default();
    let health = Arc::new(FeedRegistry::default());
    let mut cfg = MqttConfig::new(url(b));
    cfg.client_id = client_id.into();
    cfg.login = Some(subscriber_login);
    let _task = mqtt::spawn(cfg, sink.clone(), health.clone()).unwrap();
    let device = login(DEVICE.0, DEVICE.1);
    let (publisher, _pub_task) = Publisher::connect_as(&url(b), "fs-7-device", Some(&device)).unwrap();
    let payload = br#"{"value": 0.42, "unit": "m", "lat": 16.06, "lon": 108.22}"#;
    for _ in 0..300 {
        if health.snapshot(0).iter().any(|f| f.connected == Some(true)) {
            publisher.publish("city/flood/fs-7", payload.to_vec()).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(o) = sink.0.lock().first() {
            return o.clone();
        }
    }
    panic!("no reading arrived over the embedded broker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_reading_reaches_the_internal_subscriber() {
    let b = start();
    let o = reading_arrives(&b, b.internal.clone(), "citytwin-ingest-test").await;
    assert_eq!((o.kind, o.external_id.as_str()), (EntityKind::FloodSensor, "fs-7"));
    let depth = o.properties.get("water_depth_m").and_then(twin_core::PropertyValue::as_f64).unwrap();
    assert!((depth - 0.42).abs() < 1e-12, "{depth}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_logs_in_with_configured_credentials() {
    // The embedded broker stands in for an external one that knows the server as a device.
    let b = start();
    let section = MqttSection {
        url: Some(url(&b)),
        username: Some(DEVICE.0.into()),
        password: Some(DEVICE.1.into()),
        ..Default::default()
    };
    let o = reading_arrives(&b, section.login().unwrap().unwrap(), "citytwin-configured-test").await;
    assert_eq!(o.external_id, "fs-7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscriber_reports_itself_disconnected() {
    let b = start();
    let health = Arc::new(FeedRegistry::default());
    let mut cfg = MqttConfig::new(url(&b));
    cfg.login = Some(login(DEVICE.0, "ctk_wrong"));
    let _task = mqtt::spawn(cfg, Recorder::default(), health.clone()).unwrap();
    for _ in 0..300 {
        let snap = health.snapshot(0);
        let feed = snap.iter().find(|f| f.source == "mqtt").unwrap();
        assert_ne!(feed.connected, Some(true), "a refused login must not count as connected");
        if feed.connected == Some(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the refused subscriber never reported a connection error");
}

#[test]
fn configured_login_comes_from_the_password_or_its_variable() {
    let base = MqttSection { url: Some("mqtt://broker.city:1883".into()), ..Default::default() };
    assert_eq!(base.login().unwrap(), None, "no username: anonymous");
    let plain = MqttSection { username: Some("citytwin".into()), password: Some("pw".into()), ..base.clone() };
    assert_eq!(plain.login().unwrap(), Some(login("citytwin", "pw")));
    assert!(!format!("{plain:?}").contains("\"pw\""), "Debug hides the password");

    // A variable every test environment has (setting one would race with other tests' threads).
    let path = std::env::var("PATH").unwrap();
    let env = MqttSection { username: Some("citytwin".into()), password_env: Some("PATH".into()), ..base.clone() };
    assert_eq!(env.login().unwrap(), Some(login("citytwin", &path)));
    let user_only = MqttSection { username: Some("citytwin".into()), ..base.clone() };
    assert_eq!(user_only.login().unwrap(), Some(login("citytwin", "")));
}

#[test]
fn bad_login_config_names_the_field() {
    let base = MqttSection { url: Some("mqtt://broker.city:1883".into()), ..Default::default() };
    let cases = [
        (MqttSection { password: Some("pw".into()), ..base.clone() }, "mqtt.password"),
        (
            MqttSection {
                username: Some("u".into()),
                password: Some("p".into()),
                password_env: Some("V".into()),
                ..base.clone()
            },
            "mqtt.password, mqtt.password_env",
        ),
        (
            MqttSection {
                username: Some("u".into()),
                password_env: Some("CITYTWIN_TEST_UNSET_VARIABLE".into()),
                ..base.clone()
            },
            "mqtt.password_env",
        ),
        (MqttSection { username: Some(String::new()), ..base.clone() }, "mqtt.username"),
        // The embedded broker makes its own login.
        (MqttSection { username: Some("u".into()), password: Some("p".into()), ..Default::default() }, "mqtt.username"),
    ];
    for (section, field) in cases {
        let err = section.login().unwrap_err();
        assert!(matches!(err, FeedError::Login(_) | FeedError::PasswordEnv { .. }), "{err:?}");
        assert!(err.to_string().starts_with(field), "{field}: {err}");
    }
}

#[test]
fn credentials_debug_hides_the_password() {
    let c = login("u", "hunter2");
    assert!(!format!("{c:?}").contains("hunter2"));
}
