//! Prometheus metrics, hand-written (text exposition format 0.0.4): a few counters, gauges and one
//! histogram do not justify a metrics framework.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use twin_core::KindCounts;

/// Upper bounds (seconds) of the append-latency histogram.
const APPEND_BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Default)]
pub struct Metrics {
    /// source → (accepted, rejected)
    ingest: Mutex<BTreeMap<String, (u64, u64)>>,
    /// Request counters. Counting is on every request's path, so a known (method, route, status)
    /// costs a shared read lock and an atomic add, never an allocation or an exclusive lock.
    http: HttpCounters,
    append_buckets: [AtomicU64; APPEND_BUCKETS.len()],
    append_count: AtomicU64,
    append_sum_ns: AtomicU64,
    pub ws_clients: AtomicI64,
    pub sse_clients: AtomicI64,
}

/// Decrements a client gauge when the session ends.
pub struct ClientGuard<'a>(&'a AtomicI64);

impl<'a> ClientGuard<'a> {
    pub fn new(gauge: &'a AtomicI64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn count_ingest(&self, source: &str, accepted: u64, rejected: u64) {
        let mut m = self.ingest.lock();
        let e = m.entry(source.to_owned()).or_default();
        e.0 += accepted;
        e.1 += rejected;
    }

    pub fn observe_append(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = APPEND_BUCKETS.iter().position(|b| secs <= *b) {
            self.append_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.append_count.fetch_add(1, Ordering::Relaxed);
        self.append_sum_ns.fetch_add(d.as_nanos().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    /// Counts a request. Methods outside the standard set are counted as `OTHER`, so a client
    /// cannot grow the label set (routes are matched templates, never raw paths).
    pub fn count_http(&self, method: &str, route: &str, status: u16) {
        const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
        let method = KNOWN.iter().find(|m| **m == method).copied().unwrap_or("OTHER");
        self.http.count(method, route, status);
    }

    /// The exposition text; `counts`, `queue_depth`, `log_seq` and `uptime` are read by the caller.
    pub fn render(&self, counts: &KindCounts, queue_depth: usize, log_seq: u64, uptime: Duration) -> String {
        let mut s = String::with_capacity(4096);
        let _ = self.write_all(&mut s, counts, queue_depth, log_seq, uptime);
        s
    }

    fn write_all(
        &self,
        s: &mut String,
        counts: &KindCounts,
        queue_depth: usize,
        log_seq: u64,
        uptime: Duration,
    ) -> std::fmt::Result {
        let ingest = self.ingest.lock().clone();
        writeln!(s, "# HELP citytwin_ingest_accepted_total Observations accepted (durable and applied), by source.")?;
        writeln!(s, "# TYPE citytwin_ingest_accepted_total counter")?;
        for (src, (a, _)) in &ingest {
            writeln!(s, "citytwin_ingest_accepted_total{{source=\"{}\"}} {a}", escape_label(src))?;
        }
        writeln!(s, "# HELP citytwin_ingest_rejected_total Observations refused, by source.")?;
        writeln!(s, "# TYPE citytwin_ingest_rejected_total counter")?;
        for (src, (_, r)) in &ingest {
            writeln!(s, "citytwin_ingest_rejected_total{{source=\"{}\"}} {r}", escape_label(src))?;
        }
        writeln!(s, "# HELP citytwin_ingest_queue_depth Batches waiting for the writer.")?;
        writeln!(s, "# TYPE citytwin_ingest_queue_depth gauge")?;
        writeln!(s, "citytwin_ingest_queue_depth {queue_depth}")?;
        writeln!(s, "# HELP citytwin_log_seq Sequence number of the last durable log record.")?;
        writeln!(s, "# TYPE citytwin_log_seq gauge")?;
        writeln!(s, "citytwin_log_seq {log_seq}")?;
        writeln!(s, "# HELP citytwin_log_append_seconds Latency of one group commit to the durable log.")?;
        writeln!(s, "# TYPE citytwin_log_append_seconds histogram")?;
        let mut cumulative = 0;
        for (b, c) in APPEND_BUCKETS.iter().zip(&self.append_buckets) {
            cumulative += c.load(Ordering::Relaxed);
            writeln!(s, "citytwin_log_append_seconds_bucket{{le=\"{b}\"}} {cumulative}")?;
        }
        let count = self.append_count.load(Ordering::Relaxed);
        writeln!(s, "citytwin_log_append_seconds_bucket{{le=\"+Inf\"}} {count}")?;
        writeln!(s, "citytwin_log_append_seconds_sum {}", self.append_sum_ns.load(Ordering::Relaxed) as f64 / 1e9)?;
        writeln!(s, "citytwin_log_append_seconds_count {count}")?;
        writeln!(s, "# HELP citytwin_entities Live entities, by kind.")?;
        writeln!(s, "# TYPE citytwin_entities gauge")?;
        for k in twin_core::EntityKind::ALL {
            writeln!(s, "citytwin_entities{{kind=\"{k}\"}} {}", counts.get(*k))?;
        }
        writeln!(s, "# HELP citytwin_live_clients Connected live clients, by transport.")?;
        writeln!(s, "# TYPE citytwin_live_clients gauge")?;
        writeln!(s, "citytwin_live_clients{{transport=\"ws\"}} {}", self.ws_clients.load(Ordering::Relaxed))?;
        writeln!(s, "citytwin_live_clients{{transport=\"sse\"}} {}", self.sse_clients.load(Ordering::Relaxed))?;
        writeln!(s, "# HELP citytwin_http_requests_total HTTP requests, by method, route and status.")?;
        writeln!(s, "# TYPE citytwin_http_requests_total counter")?;
        for ((m, r, st), c) in self.http.sorted() {
            writeln!(
                s,
                "citytwin_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{st}\"}} {c}",
                escape_label(&r)
            )?;
        }
        writeln!(s, "# HELP citytwin_uptime_seconds Seconds since start.")?;
        writeln!(s, "# TYPE citytwin_uptime_seconds gauge")?;
        writeln!(s, "citytwin_uptime_seconds {}", uptime.as_secs_f64())?;
        Ok(())
    }
}

/// HTTP request counters keyed by a hash of (method, route, status); each bucket keeps its keys so
/// a hash collision only means a short list, never a wrong count.
#[derive(Default)]
struct HttpCounters {
    hasher: std::collections::hash_map::RandomState,
    buckets: RwLock<HashMap<u64, Vec<HttpCounter>>>,
}

struct HttpCounter {
    method: Box<str>,
    route: Box<str>,
    status: u16,
    count: AtomicU64,
}

impl HttpCounter {
    fn is(&self, method: &str, route: &str, status: u16) -> bool {
        self.status == status && &*self.method == method && &*self.route == route
    }
}

impl HttpCounters {
    fn key(&self, method: &str, route: &str, status: u16) -> u64 {
        self.hasher.hash_one((method, route, status))
    }

    fn count(&self, method: &str, route: &str, status: u16) {
        let key = self.key(method, route, status);
        if let Some(c) = self.buckets.read().get(&key).and_then(|b| b.iter().find(|c| c.is(method, route, status))) {
            c.count.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // First request of this kind: the route set is bounded (matched routes), so this is rare.
        let mut buckets = self.buckets.write();
        let bucket = buckets.entry(key).or_default();
        match bucket.iter().find(|c| c.is(method, route, status)) {
            Some(c) => {
                c.count.fetch_add(1, Ordering::Relaxed);
            }
            None => bucket.push(HttpCounter {
                method: method.into(),
                route: route.into(),
                status,
                count: AtomicU64::new(1),
            }),
        }
    }

    /// (method, route, status) → count, in a stable order for the exposition.
    fn sorted(&self) -> BTreeMap<(String, String, u16), u64> {
        self.buckets
            .read()
            .values()
            .flatten()
            .map(|c| ((c.method.to_string(), c.route.to_string(), c.status), c.count.load(Ordering::Relaxed)))
            .collect()
    }
}

/// Escapes a Prometheus label value (the one escaping every `/metrics` section uses).
pub fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..50 {
            m.count_http(&format!("X{i}"), "/api/entities", 405);
        }
        m.count_http("GET", "/api/entities", 200);
        let text = m.render(&KindCounts::default(), 0, 0, Duration::ZERO);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("/api/entities")).collect();
        assert!(lines.iter().any(|l| l.contains("method=\"OTHER\"") && l.contains("} 50")), "{lines:?}");
        assert!(!text.contains("X1"), "{text}");
    }

    #[test]
    fn http_counts_are_exact_per_method_route_and_status_across_threads() {
        let m = std::sync::Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        m.count_http("GET", "/tiles/{layer}/{z}/{x}/{y}", if i % 10 == 0 { 304 } else { 200 });
                        m.count_http(if t % 2 == 0 { "GET" } else { "POST" }, "/api/reports", 201);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render(&KindCounts::default(), 0, 0, Duration::ZERO);
        let line = |l: &str| text.lines().find(|x| x.starts_with(l)).map(|x| x.rsplit(' ').next().unwrap().to_owned());
        let tiles = "citytwin_http_requests_total{method=\"GET\",route=\"/tiles/{layer}/{z}/{x}/{y}\"";
        assert_eq!(line(&format!("{tiles},status=\"200\"}}")).as_deref(), Some("3600"));
        assert_eq!(line(&format!("{tiles},status=\"304\"}}")).as_deref(), Some("400"));
        let reports = |method: &str| {
            format!("citytwin_http_requests_total{{method=\"{method}\",route=\"/api/reports\",status=\"201\"}}")
        };
        assert_eq!(line(&reports("GET")).as_deref(), Some("2000"));
        assert_eq!(line(&reports("POST")).as_deref(), Some("2000"));
        assert_eq!(text.matches("citytwin_http_requests_total{").count(), 4, "{text}");
    }
}
