//! The embedded MQTT broker (rumqttd), started when the config has `[mqtt]` without a `url`, so
//! `citytwin demo` works on a laptop without Mosquitto. Loopback only: it is not a city broker.
//!
//! Anonymous clients are refused: a client logs in with a device account's name and secret (checked
//! by the [`BrokerAuth`] the server passes in) or with the internal credential made at start-up for
//! the server's own clients (its subscriber, the demo's sensors).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;

use rand::RngCore;
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::mqtt::Credentials;

/// Decides whether a client may log in to the embedded broker. Called once per CONNECT, on the
/// broker's own runtime: keep it quick (a hash and a map lookup, no I/O).
pub trait BrokerAuth: Send + Sync + 'static {
    fn check(&self, username: &str, password: &str) -> bool;
}

/// Any `Fn(username, password) -> bool` is a [`BrokerAuth`].
impl<F> BrokerAuth for F
where
    F: Fn(&str, &str) -> bool + Send + Sync + 'static,
{
    fn check(&self, username: &str, password: &str) -> bool {
        self(username, password)
    }
}

/// Admits no device: only the server's own clients (internal credential) get in.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDevices;

impl BrokerAuth for NoDevices {
    fn check(&self, _username: &str, _password: &str) -> bool {
        false
    }
}

/// User name of the internal credential. `$` cannot start an account name, so no device account
/// can shadow it.
pub const INTERNAL_USERNAME: &str = "$citytwin-internal";
/// Characters of a refused user name that go into the log.
const LOGGED_NAME_CHARS: usize = 64;
/// Random bytes in the internal password (hex-encoded).
const INTERNAL_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("no free port for the embedded broker: {0}")]
    NoPort(std::io::Error),
    #[error("cannot start the broker's thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot make the broker's internal credential: {0}")]
    Random(rand::Error),
}

/// A running embedded broker.
#[derive(Debug, Clone)]
pub struct Embedded {
    pub addr: SocketAddr,
    /// The server's own login (fresh on every start, never stored).
    pub internal: Credentials,
}

fn internal_credential() -> Result<Credentials, BrokerError> {
    let mut bytes = [0u8; INTERNAL_SECRET_BYTES];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).map_err(BrokerError::Random)?;
    let password = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Credentials { username: INTERNAL_USERNAME.to_owned(), password })
}

/// Byte comparison whose time does not depend on where the first difference is.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A client's user name as it goes into the log.
fn logged_name(username: &str) -> String {
    username.chars().take(LOGGED_NAME_CHARS).collect()
}

/// The login decision: the internal credential, else (any other name) the device accounts.
fn admits(internal: &Credentials, auth: &dyn BrokerAuth, username: &str, password: &str) -> bool {
    let ok = if username == internal.username {
        same_secret(&internal.password, password)
    } else {
        auth.check(username, password)
    };
    if !ok {
        // rumqttd drops the connection without a reason; say who was turned away (the name is
        // the client's, so only its start).
        tracing::info!(username = %logged_name(username), "embedded MQTT broker refused a login");
    }
    ok
}

/// Starts the broker on 127.0.0.1:`port`, or on a free port when that one is taken (logged).
/// Clients must log in: with the returned internal credential or as `auth` allows.
pub fn start(port: u16, auth: Arc<dyn BrokerAuth>) -> Result<Embedded, BrokerError> {
    let internal = internal_credential()?;
    let addr = pick_addr(port)?;
    let mut config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1024,
            max_outgoing_packet_count: 1000,
            max_segment_size: 16 << 20,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        ..Config::default()
    };
    let mut server = ServerSettings {
        name: "citytwin-embedded-v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 256 << 10,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let check = internal.clone();
    // Anonymous CONNECTs are refused by rumqttd once a handler is set.
    server.set_auth_handler(move |_client_id, username: String, password: String| {
        let ok = admits(&check, auth.as_ref(), &username, &password);
        std::future::ready(ok)
    });
    config.v4 = Some(HashMap::from([("1".to_owned(), server)]));
    let mut broker = Broker::new(config);
    std::thread::Builder::new()
        .name("citytwin-mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
            }
        })
        .map_err(BrokerError::Thread)?;
    wait_listening(addr);
    tracing::info!(%addr, "embedded MQTT broker listening (login required)");
    Ok(Embedded { addr, internal })
}

fn pick_addr(port: u16) -> Result<SocketAddr, BrokerError> {
    let wanted = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    // Port 0: any free port.
    if port != 0 && TcpListener::bind(wanted).is_ok() {
        return Ok(wanted);
    }
    let free = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).map_err(BrokerError::NoPort)?;
    if port != 0 {
        tracing::warn!(%wanted, %free, "port for the embedded MQTT broker is taken; using a free one");
    }
    Ok(free)
}

/// The broker binds on its own thread: wait (briefly) until it accepts, so clients connect first
/// time. (Probing by binding instead could steal the port from the broker; the probe connection
/// shows up once in the broker's log as an aborted client.)
fn wait_listening(addr: SocketAddr) {
    for _ in 0..100 {
        if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(50)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    tracing::warn!(%addr, "embedded MQTT broker not accepting yet");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_names_are_cut_at_the_limit() {
        let long = "é".repeat(LOGGED_NAME_CHARS + 10);
        assert_eq!(logged_name(&long).chars().count(), LOGGED_NAME_CHARS);
        assert_eq!(logged_name("fs-7"), "fs-7");
    }

    #[test]
    fn the_internal_name_is_reserved() {
        let internal = Credentials { username: INTERNAL_USERNAME.into(), password: "p".repeat(64) };
        let lenient = |_: &str, _: &str| true;
        // A device account cannot answer for the internal name, even if the store would say yes.
        assert!(!admits(&internal, &lenient, INTERNAL_USERNAME, "guess"));
        assert!(admits(&internal, &NoDevices, INTERNAL_USERNAME, &internal.password));
        assert!(!admits(&internal, &NoDevices, "fs-7", "secret"));
        assert!(admits(&internal, &lenient, "fs-7", "secret"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "ab") && !same_secret("abc", "abd") && !same_secret("", "a"));
    }
}
