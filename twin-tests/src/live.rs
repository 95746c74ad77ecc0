//! Live clients: a blocking WebSocket subscriber for `/ws` and a line reader for `/events` (SSE).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// A WebSocket subscribed to a bbox and kinds.
pub struct WsSubscriber {
    socket: WebSocket<TcpStream>,
}

impl WsSubscriber {
    /// Connects to `ws://addr/ws` and sends `{"type":"subscribe","bbox":…,"kinds":…}`.
    pub fn connect(ws_url: &str, bbox: [f64; 4], kinds: &[&str]) -> Self {
        let ws_url = &crate::auth::with_ticket(ws_url);
        let host = ws_url.trim_start_matches("ws://").split('/').next().unwrap_or_default();
        let stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
        let _ = stream.set_nodelay(true);
        // Snapshots of large areas are big messages.
        let config = WebSocketConfig::default().max_message_size(Some(1 << 30)).max_frame_size(Some(1 << 30));
        let (mut socket, _) = tungstenite::client::client_with_config(ws_url, stream, Some(config))
            .unwrap_or_else(|e| panic!("WebSocket handshake with {ws_url}: {e}"));
        let sub = json!({"type": "subscribe", "bbox": bbox, "kinds": kinds});
        socket.send(Message::text(sub.to_string())).unwrap_or_else(|e| panic!("send subscription: {e}"));
        Self { socket }
    }

    /// Sends a raw text message; whether the server then closed the session (within 10 s).
    pub fn send_raw(&mut self, text: &str) -> bool {
        if self.socket.send(Message::text(text.to_owned())).is_err() {
            return true;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let _ = self.socket.get_mut().set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.socket.read() {
                Ok(Message::Close(_)) => return true,
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
        false
    }

    /// The next JSON text message, or `None` once `deadline` passes. Pings are answered by the
    /// library; non-JSON and binary frames are skipped.
    pub fn next_json(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            // A zero read timeout means "block forever", so never pass zero.
            let _ = self.socket.get_mut().set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.socket.read() {
                Ok(Message::Text(t)) => {
                    if let Ok(v) = serde_json::from_str::<Value>(t.as_str()) {
                        return Some(v);
                    }
                }
                Ok(Message::Close(frame)) => panic!("server closed the WebSocket: {frame:?}"),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(e) => panic!("WebSocket read: {e}"),
            }
        }
    }

    /// Reads messages until one satisfies `found`; returns it with every message read before it.
    /// Panics at the deadline with what was seen.
    pub fn wait_for(&mut self, timeout: Duration, mut found: impl FnMut(&Value) -> bool) -> (Value, Vec<Value>) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(msg) = self.next_json(deadline) {
            if found(&msg) {
                return (msg, seen);
            }
            seen.push(msg);
        }
        let last: Vec<String> =
            seen.iter().rev().take(5).map(|m| crate::server::tail(&m.to_string(), 600).to_owned()).collect();
        panic!("no matching WebSocket message within {timeout:?}; {} seen, last ones: {last:#?}", seen.len());
    }
}

/// The external ids upserted by a `delta` message.
pub fn delta_upsert_external_ids(msg: &Value) -> Vec<String> {
    msg["upserts"]
        .as_array()
        .map(|fs| fs.iter().filter_map(|f| crate::obs::attr_str(f, "external_id").map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// An open `/events` stream; a background thread hands over its lines.
pub struct SseStream {
    lines: Receiver<String>,
}

impl SseStream {
    /// Opens `url` (e.g. `http://addr/events`) and waits for the response head.
    pub fn open(url: &str) -> Self {
        let url = &crate::auth::with_ticket(url);
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let resp =
            agent.get(url).header("accept", "text/event-stream").call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(resp.status().as_u16(), 200, "GET {url}");
        let reader = BufReader::new(resp.into_body().into_reader());
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { lines: rx }
    }

    /// Reads `data:` payloads until one contains `needle`; returns it. Panics at the deadline.
    pub fn wait_for_data_containing(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut seen = 0usize;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(data) = line.strip_prefix("data:") {
                        seen += 1;
                        if data.contains(needle) {
                            return data.trim().to_owned();
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no SSE data containing {needle:?} within {timeout:?} ({seen} data lines seen)")
                }
                Err(RecvTimeoutError::Disconnected) => panic!("SSE stream ended before {needle:?} arrived"),
            }
        }
    }
}
