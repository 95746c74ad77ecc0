//! AIS connectors: TCP client (with reconnect), UDP listener and file replay at N× speed.
//!
//! All three hand lines to one [`LineFeed`]: decode with the AIS decoder, merge static data in a
//! [`VesselRegistry`], submit the observations with backpressure, count garbage per reason.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinHandle;
use twin_core::{Observation, Timestamp};

use crate::sink::{now_ms, submit_with_backpressure, ObservationSink, Pacer, SinkError};
use twin_ingest::ais::{parse_sentence, Decoder, VesselRegistry};
use twin_ingest::health::FeedRegistry;

/// Most lines decoded before their observations are submitted together.
const MAX_BATCH_LINES: usize = 256;

/// How a feed's lines are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Receiver time from the tag block when present, else arrival time (live feeds).
    Receiver,
    /// Arrival time always (replays of old captures: shown as if live).
    Arrival,
}

/// Decoding state of one AIS feed.
pub struct LineFeed<S> {
    source: String,
    decoder: Decoder,
    vessels: VesselRegistry,
    sink: S,
    health: Arc<FeedRegistry>,
    pacer: Pacer,
    timing: Timing,
}

impl<S: ObservationSink> LineFeed<S> {
    pub fn new(source: impl Into<String>, protocol: &str, sink: S, health: Arc<FeedRegistry>, timing: Timing) -> Self {
        let source = source.into();
        health.register(&source, protocol, now_ms());
        Self {
            source,
            decoder: Decoder::default(),
            vessels: VesselRegistry::default(),
            sink,
            health,
            pacer: Pacer::default(),
            timing,
        }
    }

    pub fn with_rate_limit(mut self, rate_per_s: Option<f64>) -> Self {
        self.pacer = Pacer::new(rate_per_s);
        self
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Decodes `lines` and submits what they give. Err only when the sink closed.
    pub async fn push_lines<I, L>(&mut self, lines: I) -> Result<(), SinkError>
    where
        I: IntoIterator<Item = L>,
        L: AsRef<str>,
    {
        let mut batch: Vec<Observation> = Vec::new();
        for line in lines {
            let line = line.as_ref();
            if line.trim().is_empty() {
                continue;
            }
            self.pacer.admit(&self.health, &self.source).await;
            let now = now_ms();
            self.health.received(&self.source, now);
            match self.decoder.push(line, Timestamp::from_millis(now)) {
                None => {}
                Some(Err(e)) => self.health.rejected(&self.source, e.error.reason(), 1),
                Some(Ok(d)) => {
                    let t = match (self.timing, d.receiver_time_ms) {
                        (Timing::Receiver, Some(ms)) => ms,
                        _ => now,
                    };
                    match self.vessels.observe(&d.message, Timestamp::from_millis(t)) {
                        Some(mut o) => {
                            o.source.clone_from(&self.source);
                            batch.push(o);
                        }
                        // Base stations, aids to navigation: decoded but not entities.
                        None => self.health.accepted(&self.source, 0),
                    }
                }
            }
            for orphan in self.decoder.take_orphans() {
                self.health.rejected(&self.source, orphan.error.reason(), 1);
            }
        }
        submit_with_backpressure(&self.sink, &self.health, &self.source, batch).await.map(|_| ())
    }
}

/// Reads lines from `reader` in batches of what is already buffered; Ok(false) at end of stream.
async fn read_batch<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    lines: &mut Vec<String>,
) -> std::io::Result<bool> {
    lines.clear();
    loop {
        // Invalid UTF-8 is not an I/O error for us: read bytes, decode lossily, count it as garbage.
        let mut buf = Vec::new();
        let n = reader.read_until(b'\n', &mut buf).await?;
        if n == 0 {
            return Ok(!lines.is_empty());
        }
        lines.push(String::from_utf8_lossy(&buf).into_owned());
        if lines.len() >= MAX_BATCH_LINES || !reader.buffer().contains(&b'\n') {
            return Ok(true);
        }
    }
}

/// TCP client: connects to `addr` (host:port), reads NMEA lines, reconnects with backoff.
pub fn spawn_tcp<S: ObservationSink>(addr: String, mut feed: LineFeed<S>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(250);
        loop {
            match TcpStream::connect(&addr).await {
                Ok(stream) => {
                    feed.health.connection(&feed.source, true, None);
                    tracing::info!(%addr, source = %feed.source, "AIS TCP connected");
                    pause = Duration::from_millis(250);
                    let mut reader = BufReader::new(stream);
                    let mut lines = Vec::new();
                    loop {
                        match read_batch(&mut reader, &mut lines).await {
                            Ok(true) => {
                                if feed.push_lines(lines.drain(..)).await.is_err() {
                                    tracing::error!(source = %feed.source, "ingest closed; AIS connector stops");
                                    return;
                                }
                            }
                            Ok(false) => {
                                feed.health.connection(&feed.source, false, Some("closed by peer".into()));
                                break;
                            }
                            Err(e) => {
                                feed.health.connection(&feed.source, false, Some(e.to_string()));
                                break;
                            }
                        }
                    }
                }
                Err(e) => feed.health.connection(&feed.source, false, Some(e.to_string())),
            }
            tracing::warn!(%addr, pause_ms = pause.as_millis() as u64, "AIS TCP disconnected; reconnecting");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    })
}

/// UDP listener: each datagram holds one or more NMEA lines.
pub async fn spawn_udp<S: ObservationSink>(
    bind: &str,
    mut feed: LineFeed<S>,
) -> std::io::Result<(std::net::SocketAddr, JoinHandle<()>)> {
    let socket = UdpSocket::bind(bind).await?;
    let local = socket.local_addr()?;
    feed.health.connection(&feed.source, true, None);
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((n, _)) => {
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    if feed.push_lines(text.lines()).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "AIS UDP receive failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok((local, task))
}

/// File replay settings.
#[derive(Debug, Clone)]
pub struct Replay {
    pub path: PathBuf,
    /// Speed-up over the capture's own timing.
    pub speed: f64,
    /// Interval between lines when the capture has no tag-block times, before the speed-up.
    pub uniform_interval: Duration,
    /// Start again at the end.
    pub repeat: bool,
}

/// When each line is due, in ms from the start of the replay: from tag-block `c:` times where
/// present (a line without one keeps the previous line's time), else one `uniform` step per line.
pub fn schedule(lines: &[&str], speed: f64, uniform: Duration) -> Vec<u64> {
    let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
    let times: Vec<Option<i64>> = lines.iter().map(|l| parse_sentence(l).ok().and_then(|s| s.tag.time_ms)).collect();
    let first = times.iter().flatten().copied().next();
    let mut out = Vec::with_capacity(lines.len());
    match first {
        Some(t0) => {
            let mut last = 0u64;
            for t in &times {
                // Clocks that go backwards do not reorder the replay.
                let at = t.map(|t| ((t - t0).max(0) as f64 / speed) as u64).unwrap_or(last).max(last);
                out.push(at);
                last = at;
            }
        }
        None => {
            let step = uniform.as_millis() as f64 / speed;
            out.extend((0..lines.len()).map(|i| (i as f64 * step) as u64));
        }
    }
    out
}

/// Replays a capture file into the feed, honouring its timing scaled by `speed`.
pub fn spawn_replay<S: ObservationSink>(replay: Replay, mut feed: LineFeed<S>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let text = match tokio::fs::read(&replay.path).await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                feed.health.connection(&feed.source, false, Some(format!("{}: {e}", replay.path.display())));
                tracing::error!(path = %replay.path.display(), error = %e, "AIS replay file unreadable");
                return;
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        let due = schedule(&lines, replay.speed, replay.uniform_interval);
        feed.health.connection(&feed.source, true, None);
        loop {
            let start = tokio::time::Instant::now();
            let mut i = 0;
            while i < lines.len() {
                let at = start + Duration::from_millis(due[i]);
                tokio::time::sleep_until(at).await;
                // Everything due by now goes in one batch.
                let elapsed = start.elapsed().as_millis() as u64;
                let mut j = i + 1;
                while j < lines.len() && due[j] <= elapsed && j - i < MAX_BATCH_LINES {
                    j += 1;
                }
                if feed.push_lines(&lines[i..j]).await.is_err() {
                    return;
                }
                i = j;
            }
            if !replay.repeat {
                return;
            }
            // A fresh pass: fragments left over from the previous one are not continued.
            feed.decoder = Decoder::default();
        }
    })
}
