//! The embedded MQTT broker (rumqttd), started when the config has `[mqtt]` without a `url`, so
//! `citytwin demo` works on a laptop without Mosquitto. Loopback only: it is not a city broker.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("no free port for the embedded broker: {0}")]
    NoPort(std::io::Error),
    #[error("cannot start the broker's thread: {0}")]
    Thread(std::io::Error),
}

/// Starts the broker on 127.0.0.1:`port`, or on a free port when that one is taken (logged).
/// Returns the address it listens on.
pub fn start(port: u16) -> Result<SocketAddr, BrokerError> {
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
    let server = ServerSettings {
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
    tracing::info!(%addr, "embedded MQTT broker listening");
    Ok(addr)
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
