//! Signing in for the tests. Every server the harness starts gets an admin account and the
//! harness signs in as it once the server listens; the HTTP, WebSocket and SSE clients then send
//! that token (or a ticket from it) to that server's address. Tests about access use
//! [`sign_in`] and [`Client::with_token`](crate::Client::with_token) for other accounts, and
//! [`Client::anonymous`](crate::Client::anonymous) for none.
//!
//! Outside the harness (the load generator against a running server) `CITYTWIN_TOKEN` gives the
//! token for every address.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use serde_json::Value;

/// The harness's own admin account in every `serve` data dir.
pub const HARNESS_USER: &str = "harness-admin";
pub const HARNESS_PASSWORD: &str = "harness-password";
/// The demo's accounts (`citytwin demo` creates them).
pub const DEMO_ADMIN: &str = "admin";
pub const DEMO_PASSWORD: &str = "demo";

fn tokens() -> &'static Mutex<HashMap<String, String>> {
    static TOKENS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    TOKENS.get_or_init(Mutex::default)
}

/// `host:port` of an http:// or ws:// URL.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// The token the harness holds for the server at `url`.
pub fn token_for(url: &str) -> Option<String> {
    let held = tokens().lock().unwrap_or_else(PoisonError::into_inner).get(authority(url)).cloned();
    held.or_else(|| std::env::var("CITYTWIN_TOKEN").ok().filter(|t| !t.is_empty()))
}

pub(crate) fn register(addr: SocketAddr, token: String) {
    tokens().lock().unwrap_or_else(PoisonError::into_inner).insert(addr.to_string(), token);
}

/// Adds the harness admin to `data_dir` with `citytwin users add` (once).
pub(crate) fn ensure_harness_admin(binary: &Path, data_dir: &Path) {
    let users = std::fs::read_to_string(data_dir.join("users.json")).unwrap_or_default();
    if users.contains(&format!("\"{HARNESS_USER}\"")) {
        return;
    }
    add_user(binary, data_dir, HARNESS_USER, &["--role", "admin"], HARNESS_PASSWORD);
}

/// `citytwin users --data-dir DIR add NAME <args…>` with `password` on stdin.
pub fn add_user(binary: &Path, data_dir: &Path, name: &str, args: &[&str], password: &str) {
    let mut child = Command::new(binary)
        .args(["users", "--data-dir"])
        .arg(data_dir)
        .args(["add", name])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("citytwin users add: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{password}");
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("citytwin users add: {e}"));
    assert!(out.status.success(), "citytwin users add failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// `POST /auth/token` with a password; the access token.
pub fn sign_in(base_url: &str, user: &str, password: &str) -> Result<String, String> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let form = format!("grant_type=password&username={user}&password={password}");
    let mut resp = agent
        .post(&format!("{base_url}/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .map_err(|e| format!("POST /auth/token: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("sign-in as {user}: {status} {body}"));
    }
    let v: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    v["access_token"].as_str().map(str::to_owned).ok_or_else(|| format!("no access_token in {body}"))
}

/// A single-use ticket for `/ws` or `/events` of the server at `url`, from `token`.
pub fn ticket(url: &str, token: &str) -> String {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let http = format!("http://{}/auth/ticket", authority(url));
    let mut resp = agent
        .post(&http)
        .header("authorization", &format!("Bearer {token}"))
        .send(&b""[..])
        .unwrap_or_else(|e| panic!("POST {http}: {e}"));
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(resp.status().as_u16(), 200, "POST {http}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    v["ticket"].as_str().unwrap_or_else(|| panic!("no ticket in {body}")).to_owned()
}

/// `url` with a fresh ticket appended when the harness holds a token for its server.
pub fn with_ticket(url: &str) -> String {
    if url.contains("ticket=") {
        return url.to_owned();
    }
    match token_for(url) {
        Some(t) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}ticket={}", ticket(url, &t))
        }
        None => url.to_owned(),
    }
}
