//! The web viewer: its Vitest unit tests, and the browser end-to-end checks (Debian Chromium driven by
//! playwright-core) against a real `citytwin demo`. Both fail, not skip, when node_modules or
//! Chromium are missing: the viewer is part of the product.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use twin_tests::server::workspace_root;
use twin_tests::{temp_dir, Server};

fn viewer_dir() -> PathBuf {
    workspace_root().join("web-viewer")
}

fn require_node_modules(dir: &Path) {
    assert!(
        dir.join("node_modules/.bin/vitest").exists() && dir.join("node_modules/playwright-core").exists(),
        "web-viewer/node_modules is missing: run `npm ci --prefix web-viewer` first"
    );
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(path.is_file(), "{} not found: `apt-get install -y chromium` (or set CHROMIUM)", path.display());
    path
}

/// One browser test at a time: each rebuilds `web-viewer/dist` (which the other's server serves) and
/// software GL takes a core. Across processes (nextest) the `browser` test group does the same.
static BROWSER: Mutex<()> = Mutex::new(());

fn browser_lock() -> MutexGuard<'static, ()> {
    BROWSER.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: could not start ({e}); is node installed?"));
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    println!("{text}");
    out
}

#[test]
fn viewer_unit_tests_pass() {
    let dir = viewer_dir();
    require_node_modules(&dir);
    run(Command::new("node").arg("node_modules/vitest/vitest.mjs").arg("run").current_dir(&dir), "vitest run");
}

#[test]
fn viewer_and_wall_work_in_a_browser_against_the_demo() {
    let _browser = browser_lock();
    let dir = viewer_dir();
    require_node_modules(&dir);
    let chromium = chromium();
    // Build the viewer from the current sources so the server serves what is being tested.
    run(Command::new("node").arg("node_modules/vite/bin/vite.js").arg("build").current_dir(&dir), "vite build");
    let data = temp_dir("e2e-viewer-");
    // Cameras off: the detector would take a core from the software-GL browser on a 2-core machine.
    let server = Server::start(&[
        "demo".to_owned(),
        "--no-cameras".to_owned(),
        "--data-dir".to_owned(),
        data.path().join("d").display().to_string(),
    ]);
    let shots = workspace_root().join("target/viewer-e2e");
    let out = Command::new("node")
        .arg("e2e/run.mjs")
        .current_dir(&dir)
        .env("CITYTWIN_URL", server.base_url())
        .env("E2E_OUT", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node e2e/run.mjs could not start");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(
        out.status.success(),
        "browser end-to-end checks failed:\n{text}\n--- server stderr tail ---\n{}",
        server.stderr_tail()
    );
    for shot in ["viewer.png", "viewer-details.png", "wall.png"] {
        assert!(shots.join(shot).is_file(), "screenshot {shot} was not written");
    }
}

#[test]
fn camera_cones_detections_and_card_in_a_browser_against_the_demo() {
    let _browser = browser_lock();
    let dir = viewer_dir();
    require_node_modules(&dir);
    let chromium = chromium();
    run(Command::new("node").arg("node_modules/vite/bin/vite.js").arg("build").current_dir(&dir), "vite build");
    let data = temp_dir("e2e-camera-");
    // With the demo's camera: the replayed clip at Hàm Nghi × Nguyễn Văn Linh (data/danang.toml).
    let server =
        Server::start(&["demo".to_owned(), "--data-dir".to_owned(), data.path().join("d").display().to_string()]);
    let shots = workspace_root().join("target/viewer-e2e");
    let out = Command::new("node")
        .arg("e2e/camera.mjs")
        .current_dir(&dir)
        .env("CITYTWIN_URL", server.base_url())
        .env("E2E_OUT", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node e2e/camera.mjs could not start");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(
        out.status.success(),
        "camera browser checks failed:\n{text}\n--- server stderr tail ---\n{}",
        server.stderr_tail()
    );
    assert!(shots.join("camera.png").is_file(), "screenshot camera.png was not written");
}
