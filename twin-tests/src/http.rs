//! A small blocking HTTP client over `ureq`: every status comes back as a value, never an error,
//! so tests can assert on 4xx/5xx answers too.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Bodies of big entity lists exceed ureq's default 10 MB read limit.
const BODY_LIMIT: u64 = 512 << 20;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!("status {} body is not JSON ({e}): {}", self.status, crate::server::tail(&self.body, 2000))
        })
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A client with generous timeouts (a loaded CI machine) that never turns statuses into errors.
/// Which token a request carries.
#[derive(Clone)]
enum Credentials {
    /// The harness's token for the URL's server (see [`crate::auth`]).
    Harness,
    Token(String),
    None,
}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    credentials: Credentials,
}

impl Default for Client {
    fn default() -> Self {
        Self::new(Duration::from_secs(120))
    }
}

impl Client {
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_idle_connections_per_host(64)
            .build()
            .new_agent();
        Self { agent, credentials: Credentials::Harness }
    }

    /// The same client without any token.
    pub fn anonymous(&self) -> Self {
        Self { agent: self.agent.clone(), credentials: Credentials::None }
    }

    /// The same client with another account's token.
    pub fn with_token(&self, token: &str) -> Self {
        Self { agent: self.agent.clone(), credentials: Credentials::Token(token.to_owned()) }
    }

    fn bearer(&self, url: &str) -> Option<String> {
        match &self.credentials {
            Credentials::Harness => crate::auth::token_for(url),
            Credentials::Token(t) => Some(t.clone()),
            Credentials::None => None,
        }
        .map(|t| format!("Bearer {t}"))
    }

    pub fn get(&self, url: &str) -> Result<Reply, ureq::Error> {
        let mut req = self.agent.get(url);
        if let Some(b) = self.bearer(url) {
            req = req.header("authorization", &b);
        }
        into_reply(req.call()?)
    }

    /// GET of a binary body (tiles, images): status, content type and bytes.
    pub fn get_bytes(&self, url: &str) -> Result<(u16, String, Vec<u8>), ureq::Error> {
        let mut req = self.agent.get(url);
        if let Some(b) = self.bearer(url) {
            req = req.header("authorization", &b);
        }
        let mut resp = req.call()?;
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = resp.body_mut().with_config().limit(BODY_LIMIT).read_to_vec()?;
        Ok((status, ct, body))
    }

    /// GET with extra headers.
    pub fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, ureq::Error> {
        let mut req = self.agent.get(url);
        if let Some(b) = self.bearer(url) {
            req = req.header("authorization", &b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        into_reply(req.call()?)
    }

    /// POST a body with a content type.
    pub fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Reply, ureq::Error> {
        let mut req = self.agent.post(url).header("content-type", content_type);
        if let Some(b) = self.bearer(url) {
            req = req.header("authorization", &b);
        }
        into_reply(req.send(body)?)
    }

    /// GET that must succeed with JSON; panics otherwise (test helper).
    pub fn get_json(&self, url: &str) -> Value {
        let reply = self.get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(reply.is_success(), "GET {url} → {}: {}", reply.status, crate::server::tail(&reply.body, 2000));
        reply.json()
    }

    /// POST NDJSON to `/ingest/observations`; panics on transport errors (test helper).
    pub fn ingest_ndjson(&self, base_url: &str, lines: &[Value]) -> Reply {
        let url = format!("{base_url}/ingest/observations");
        let body = crate::obs::ndjson(lines);
        self.post(&url, "application/x-ndjson", body.as_bytes()).unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// POST a JSON array to `/ingest/observations`; panics on transport errors (test helper).
    pub fn ingest_json(&self, base_url: &str, items: &[Value]) -> Reply {
        let url = format!("{base_url}/ingest/observations");
        let body = Value::Array(items.to_vec()).to_string();
        self.post(&url, "application/json", body.as_bytes()).unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// Ingest that must be fully accepted; returns the `accepted` count.
    pub fn ingest_all(&self, base_url: &str, lines: &[Value]) -> u64 {
        let reply = self.ingest_ndjson(base_url, lines);
        assert!(reply.is_success(), "ingest → {}: {}", reply.status, crate::server::tail(&reply.body, 2000));
        let v = reply.json();
        let accepted = v["accepted"].as_u64().unwrap_or_else(|| panic!("no `accepted` count in {v}"));
        let rejected = v["rejected"].as_array().map_or(0, Vec::len);
        assert_eq!((accepted, rejected), (lines.len() as u64, 0), "every observation should be accepted: {v}");
        accepted
    }

    /// Polls `url` until `done` holds for its JSON; at the deadline, an error with the last answer.
    pub fn poll_json(
        &self,
        url: &str,
        timeout: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.get(url) {
                Ok(r) if r.is_success() => {
                    let v = r.json();
                    if done(&v) {
                        return Ok(v);
                    }
                    crate::server::tail(&v.to_string(), 1500).to_owned()
                }
                Ok(r) => format!("status {}: {}", r.status, crate::server::tail(&r.body, 1500)),
                Err(e) => format!("error: {e}"),
            };
            if Instant::now() > deadline {
                return Err(format!("GET {url}: condition not met within {timeout:?}; last answer: {last}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn into_reply(mut resp: ureq::http::Response<ureq::Body>) -> Result<Reply, ureq::Error> {
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = resp.body_mut().with_config().limit(BODY_LIMIT).read_to_string()?;
    Ok(Reply { status, content_type, body })
}
