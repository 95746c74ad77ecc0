//! Feed health: per-source counters, arrival rate, staleness, and a token bucket for rate limits.
//!
//! Pure bookkeeping: the caller passes the time (milliseconds since the epoch), so it can be
//! tested without clocks and shared by HTTP handlers and connectors alike.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Weight of the newest inter-arrival interval in the moving average.
const EWMA_ALPHA: f64 = 0.2;
/// Messages closer together than this belong to one burst (an MQTT broker flushing a queue, an
/// AIS aggregator's batch): the gap to the next burst, not inside it, is the feed's interval.
const BURST_GAP_MS: f64 = 250.0;
/// Intervals a feed must show before its silence can be judged: until then its usual interval
/// is unknown, and a fixed guess would raise "stale" seconds after start.
pub const LEARN_INTERVALS: u32 = 5;
/// A feed that never sent anything is stale after this long.
const NEVER_SEEN_GRACE_MS: i64 = 120_000;

#[derive(Debug, Default, Clone)]
struct Counters {
    /// Intervals (gaps between bursts) seen so far, up to [`LEARN_INTERVALS`].
    intervals: u32,
    protocol: String,
    registered_ms: i64,
    received: u64,
    accepted: u64,
    rejected: BTreeMap<String, u64>,
    throttled: u64,
    last_message_ms: Option<i64>,
    /// Moving average of the interval between messages, ms.
    interval_ms: Option<f64>,
    connected: Option<bool>,
    last_error: Option<String>,
    /// Whether the stale state was already reported (alerts fire once per silence).
    stale_reported: bool,
}

/// One feed as `GET /api/feeds` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedStatus {
    pub source: String,
    pub protocol: String,
    pub received: u64,
    pub accepted: u64,
    pub rejected_total: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Messages held back by the rate limit.
    pub throttled: u64,
    pub last_message_ms: Option<i64>,
    /// Messages per second (moving average of the arrival intervals, decaying while silent).
    pub rate_per_s: f64,
    /// The usual interval between messages, seconds.
    pub usual_interval_s: Option<f64>,
    pub stale: bool,
    pub connected: Option<bool>,
    pub last_error: Option<String>,
}

/// All feeds of a server, keyed by source name. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct FeedRegistry {
    feeds: Mutex<BTreeMap<String, Counters>>,
    /// Silent longer than `stale_factor` × the usual interval → stale (f64 bits).
    stale_factor: AtomicU64,
    /// Floor of the usual interval for the stale test, ms (bursty feeds are not stale at once).
    min_interval_ms: f64,
}

impl Default for FeedRegistry {
    fn default() -> Self {
        Self::new(5.0, 1000.0)
    }
}

impl FeedRegistry {
    pub fn new(stale_factor: f64, min_interval_ms: f64) -> Self {
        Self {
            feeds: Mutex::new(BTreeMap::new()),
            stale_factor: AtomicU64::new(stale_factor.to_bits()),
            min_interval_ms,
        }
    }

    /// Changes the stale factor (at least 1).
    pub fn set_stale_factor(&self, factor: f64) {
        let f = if factor.is_finite() { factor.max(1.0) } else { 5.0 };
        self.stale_factor.store(f.to_bits(), Ordering::Relaxed);
    }

    fn factor(&self) -> f64 {
        f64::from_bits(self.stale_factor.load(Ordering::Relaxed))
    }

    fn with<R>(&self, source: &str, f: impl FnOnce(&mut Counters) -> R) -> R {
        // A panic elsewhere while holding the lock leaves plain counters: still usable.
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if !feeds.contains_key(source) {
            feeds.insert(source.to_owned(), Counters::default());
        }
        let c = feeds.get_mut(source).map(f);
        c.unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Declares a feed so it is listed (and can go stale) before its first message.
    pub fn register(&self, source: &str, protocol: &str, now_ms: i64) {
        self.with(source, |c| {
            c.protocol = protocol.to_owned();
            if c.registered_ms == 0 {
                c.registered_ms = now_ms;
            }
        });
    }

    /// A message arrived (decoded or not).
    pub fn received(&self, source: &str, now_ms: i64) {
        self.with(source, |c| {
            c.received += 1;
            if let Some(last) = c.last_message_ms {
                let dt = (now_ms - last).max(0) as f64;
                if dt >= BURST_GAP_MS {
                    c.interval_ms = Some(match c.interval_ms {
                        Some(avg) => avg + EWMA_ALPHA * (dt - avg),
                        None => dt,
                    });
                    c.intervals = (c.intervals + 1).min(LEARN_INTERVALS);
                }
            }
            c.last_message_ms = Some(now_ms);
            c.stale_reported = false;
        });
    }

    pub fn accepted(&self, source: &str, n: u64) {
        self.with(source, |c| c.accepted += n);
    }

    pub fn rejected(&self, source: &str, reason: &str, n: u64) {
        self.with(source, |c| *c.rejected.entry(reason.to_owned()).or_default() += n);
    }

    pub fn throttled(&self, source: &str) {
        self.with(source, |c| c.throttled += 1);
    }

    /// Connection state of a network connector, with the last error if it dropped.
    pub fn connection(&self, source: &str, connected: bool, error: Option<String>) {
        self.with(source, |c| {
            c.connected = Some(connected);
            if error.is_some() {
                c.last_error = error;
            }
        });
    }

    fn is_stale(&self, c: &Counters, now_ms: i64) -> bool {
        match c.last_message_ms {
            None => c.registered_ms > 0 && now_ms - c.registered_ms > NEVER_SEEN_GRACE_MS,
            Some(_) if c.intervals < LEARN_INTERVALS => false,
            Some(last) => {
                let usual = c.interval_ms.unwrap_or(self.min_interval_ms).max(self.min_interval_ms);
                (now_ms - last) as f64 > self.factor() * usual
            }
        }
    }

    pub fn snapshot(&self, now_ms: i64) -> Vec<FeedStatus> {
        let feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds
            .iter()
            .map(|(source, c)| {
                let silence = c.last_message_ms.map(|l| (now_ms - l).max(0) as f64);
                // Decays while silent: the current gap counts once it exceeds the average.
                let rate_per_s = match (c.interval_ms, silence) {
                    (Some(avg), Some(gap)) => 1000.0 / avg.max(gap).max(1.0),
                    _ => 0.0,
                };
                FeedStatus {
                    source: source.clone(),
                    protocol: c.protocol.clone(),
                    received: c.received,
                    accepted: c.accepted,
                    rejected_total: c.rejected.values().sum(),
                    rejected: c.rejected.clone(),
                    throttled: c.throttled,
                    last_message_ms: c.last_message_ms,
                    rate_per_s,
                    usual_interval_s: c.interval_ms.filter(|_| c.intervals >= LEARN_INTERVALS).map(|ms| ms / 1000.0),
                    stale: self.is_stale(c, now_ms),
                    connected: c.connected,
                    last_error: c.last_error.clone(),
                }
            })
            .collect()
    }

    /// Feeds that went stale since the last call (each silence is reported once).
    pub fn newly_stale(&self, now_ms: i64) -> Vec<String> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (source, c) in feeds.iter_mut() {
            if !c.stale_reported && c.last_message_ms.is_some() && c.intervals >= LEARN_INTERVALS && {
                let usual = c.interval_ms.unwrap_or(self.min_interval_ms).max(self.min_interval_ms);
                c.last_message_ms.is_some_and(|l| (now_ms - l) as f64 > self.factor() * usual)
            } {
                c.stale_reported = true;
                out.push(source.clone());
            }
        }
        out
    }
}

/// A token bucket: `rate` tokens per second, up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last_ms: Option<i64>,
}

impl TokenBucket {
    pub fn new(rate_per_s: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        Self { rate: rate_per_s.max(0.0), burst, tokens: burst, last_ms: None }
    }

    fn refill(&mut self, now_ms: i64) {
        if let Some(last) = self.last_ms {
            let dt = (now_ms - last).max(0) as f64 / 1000.0;
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        }
        self.last_ms = Some(self.last_ms.map_or(now_ms, |l| l.max(now_ms)));
    }

    /// Takes one token, or says how many milliseconds until one is available.
    pub fn try_take(&mut self, now_ms: i64) -> Result<(), u64> {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if self.rate <= 0.0 {
            Err(u64::MAX)
        } else {
            Err(((1.0 - self.tokens) / self.rate * 1000.0).ceil() as u64)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn counts_rate_and_staleness_follow_the_arrivals() {
        let r = FeedRegistry::new(5.0, 1000.0);
        r.register("s", "mqtt", 0);
        for i in 0..10 {
            r.received("s", i * 2000);
        }
        r.accepted("s", 8);
        r.rejected("s", "bad_json", 2);
        let f = &r.snapshot(18_000)[0];
        assert_eq!((f.received, f.accepted, f.rejected_total), (10, 8, 2));
        assert_eq!(f.usual_interval_s, Some(2.0));
        assert!((f.rate_per_s - 0.5).abs() < 1e-9);
        assert!(!f.stale);
        // 5 × 2 s of silence and more: stale, reported once, rate decaying.
        let f = &r.snapshot(18_000 + 10_001)[0];
        assert!(f.stale && f.rate_per_s < 0.5);
        assert_eq!(r.newly_stale(28_001), vec!["s".to_owned()]);
        assert!(r.newly_stale(40_000).is_empty());
        r.received("s", 41_000);
        assert!(!r.snapshot(41_000)[0].stale);
    }

    #[test]
    fn silence_is_judged_only_once_the_interval_is_learned() {
        let r = FeedRegistry::new(5.0, 1000.0);
        // A burst at start: fifty messages within a few milliseconds, then silence.
        for i in 0..50 {
            r.received("mqtt", 1_000 + i);
        }
        let f = &r.snapshot(60_000)[0];
        assert!(!f.stale, "no interval learned yet: not stale");
        assert_eq!(f.usual_interval_s, None, "no made-up interval such as 0.0 s");
        assert!(r.newly_stale(60_000).is_empty());
        // Bursts every 5 s: the interval is the gap between bursts, not inside them (enough bursts
        // for the average to forget the first, long gap).
        for burst in 1..=25 {
            for i in 0..20 {
                r.received("mqtt", 60_000 + burst * 5_000 + i);
            }
        }
        let last = 60_000 + 25 * 5_000 + 19;
        let f = &r.snapshot(last + 1)[0];
        let usual = f.usual_interval_s.unwrap();
        assert!((4.0..6.0).contains(&usual), "{usual}");
        assert!(!r.snapshot(last + 20_000)[0].stale, "four bursts' silence is not stale");
        assert_eq!(r.newly_stale(last + 30_000), vec!["mqtt".to_owned()]);
    }

    #[test]
    fn a_registered_feed_that_never_speaks_goes_stale_after_the_grace() {
        let r = FeedRegistry::default();
        r.register("quiet", "ais-tcp", 1_000);
        assert!(!r.snapshot(1_000 + NEVER_SEEN_GRACE_MS)[0].stale);
        assert!(r.snapshot(2_000 + NEVER_SEEN_GRACE_MS)[0].stale);
    }

    #[test]
    fn token_bucket_allows_the_burst_then_the_rate() {
        let mut b = TokenBucket::new(2.0, 2.0);
        assert!(b.try_take(0).is_ok() && b.try_take(0).is_ok());
        assert_eq!(b.try_take(0), Err(500));
        assert!(b.try_take(500).is_ok());
        assert!(b.try_take(500).is_err());
        // Time going backwards gives nothing back.
        assert!(b.try_take(100).is_err());
    }
}
