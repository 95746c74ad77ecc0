//! End-to-end test support: a guard that runs the real `citytwin` binary, blocking HTTP, WebSocket
//! and SSE clients, observation builders and a reader for the durable log's segment files.

pub mod auth;
pub mod http;
pub mod live;
pub mod loadgen;
pub mod logfile;
pub mod obs;
pub mod server;

use std::path::{Path, PathBuf};

pub use http::{Client, Reply};
pub use server::{Launch, Server};

/// A minimal city config for `citytwin serve` in `dir`: a name and a bbox, nothing else.
pub fn write_test_config(dir: &Path, name: &str, bbox: [f64; 4]) -> PathBuf {
    write_config(dir, name, bbox, "")
}

/// A city config with `extra` TOML appended (e.g. a `[store]` table).
pub fn write_config(dir: &Path, name: &str, bbox: [f64; 4], extra: &str) -> PathBuf {
    let path = dir.join("city.toml");
    let text =
        format!("[city]\nname = \"{name}\"\nbbox = [{}, {}, {}, {}]\n\n{extra}\n", bbox[0], bbox[1], bbox[2], bbox[3]);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// A fresh temp dir for one test's data and config.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}
