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

/// Builds the viewer from the current sources (so the server serves what is being tested), starts
/// `citytwin demo` with `demo_args`, runs the playwright-core script `script` against it and checks
/// that it passed and wrote `shots` into target/viewer-e2e.
fn browser_check(script: &str, demo_args: &[&str], shots: &[&str]) {
    let _browser = browser_lock();
    let dir = viewer_dir();
    require_node_modules(&dir);
    let chromium = chromium();
    run(Command::new("node").arg("node_modules/vite/bin/vite.js").arg("build").current_dir(&dir), "vite build");
    let data = temp_dir("e2e-viewer-");
    let mut args: Vec<String> = std::iter::once("demo").chain(demo_args.iter().copied()).map(str::to_owned).collect();
    args.extend(["--data-dir".to_owned(), data.path().join("d").display().to_string()]);
    let server = Server::start(&args);
    let out_dir = workspace_root().join("target/viewer-e2e");
    let out = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("CITYTWIN_URL", server.base_url())
        .env("E2E_OUT", &out_dir)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap_or_else(|e| panic!("node {script} could not start: {e}"));
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(
        out.status.success(),
        "browser checks {script} failed:\n{text}\n--- server stderr tail ---\n{}",
        server.stderr_tail()
    );
    for shot in shots {
        assert!(out_dir.join(shot).is_file(), "screenshot {shot} was not written");
    }
}

#[test]
fn viewer_and_wall_work_in_a_browser_against_the_demo() {
    // Cameras off: the detector would take a core from the software-GL browser on a 2-core machine.
    browser_check("e2e/run.mjs", &["--no-cameras"], &["viewer.png", "viewer-details.png", "wall.png"]);
}

#[test]
fn camera_cones_detections_and_card_in_a_browser_against_the_demo() {
    // With the demo's camera: the replayed clip at Hàm Nghi × Nguyễn Văn Linh (data/danang.toml).
    browser_check("e2e/camera.mjs", &[], &["camera.png"]);
}
