//! A guard around one running `citytwin` process: start on a free port, find the port from the
//! `listening on http://ADDR` line, capture stdout and stderr to files, kill on drop.

use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a start may take on a slow, loaded machine (replay of a big log included).
pub const START_TIMEOUT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(25);
const LISTEN_MARK: &str = "listening on http://";

static LAUNCHES: AtomicUsize = AtomicUsize::new(0);

/// The workspace root: the binary runs there so relative paths such as `data/danang.toml` resolve.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The `citytwin` binary: `$CITYTWIN_BIN`, else the first `citytwin` found beside the running
/// executable or in one of its ancestors (`target/debug/deps/x` → `target/debug/citytwin`).
pub fn binary_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CITYTWIN_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let name = format!("citytwin{}", std::env::consts::EXE_SUFFIX);
    for dir in exe.ancestors().skip(1) {
        let candidate = dir.join(&name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "citytwin binary not found near {}: build it first (`cargo build -p citytwin`; \
         `cargo test --workspace` does it) or set CITYTWIN_BIN",
        exe.display()
    );
}

/// What one launch came to.
pub enum Launch {
    Listening(Server),
    /// The process exited before it printed the listening line.
    Exited {
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
}

/// One `citytwin` process. Dropping it kills the process (SIGKILL).
pub struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    base_url: String,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl Server {
    /// Starts `citytwin <args…> --listen 127.0.0.1:0` and waits for it to listen; panics with the
    /// tail of its stderr if it does not.
    pub fn start<S: AsRef<str>>(args: &[S]) -> Server {
        match Self::launch(args, START_TIMEOUT) {
            Launch::Listening(server) => server,
            Launch::Exited { status, stdout, stderr } => panic!(
                "citytwin {:?} exited with {status} before listening\n--- stdout tail ---\n{}\n--- stderr tail ---\n{}",
                args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
                tail(&stdout, 4000),
                tail(&stderr, 4000)
            ),
        }
    }

    /// Starts `citytwin serve --config <config> --data-dir <data_dir> <extra…>`.
    pub fn serve(config: &Path, data_dir: &Path, extra: &[&str]) -> Server {
        Self::start(&serve_args(config, data_dir, extra))
    }

    /// Starts the process and reports whether it came up or exited; a process that does neither
    /// within `timeout` is killed and the call panics.
    pub fn launch<S: AsRef<str>>(args: &[S], timeout: Duration) -> Launch {
        let logs = tempfile::Builder::new()
            .prefix("citytwin-out-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for logs: {e}"));
        let n = LAUNCHES.fetch_add(1, Ordering::Relaxed);
        let stdout_path = logs.path().join(format!("stdout-{n}.txt"));
        let stderr_path = logs.path().join(format!("stderr-{n}.txt"));
        let out = File::create(&stdout_path).unwrap_or_else(|e| panic!("create {stdout_path:?}: {e}"));
        let err = File::create(&stderr_path).unwrap_or_else(|e| panic!("create {stderr_path:?}: {e}"));

        let args_str: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        if args_str.first() == Some(&"serve") {
            if let Some(dir) = args_str.iter().position(|a| *a == "--data-dir").and_then(|i| args_str.get(i + 1)) {
                let _ = fs::create_dir_all(dir);
                crate::auth::ensure_harness_admin(&binary_path(), Path::new(dir));
            }
        }
        let mut cmd = Command::new(binary_path());
        cmd.args(args.iter().map(AsRef::as_ref))
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // Plain text logs: no colour codes between the words the tests look for.
        cmd.env("NO_COLOR", "1");
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", binary_path().display()));

        let deadline = Instant::now() + timeout;
        loop {
            let stdout = read_lossy(&stdout_path);
            if let Some(addr) = parse_listen_addr(&stdout) {
                sign_in_harness(addr, &args_str);
                return Launch::Listening(Server {
                    child: Some(child),
                    base_url: format!("http://{addr}"),
                    addr,
                    stdout_path,
                    stderr_path,
                    _logs: logs,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Launch::Exited { status, stdout: read_lossy(&stdout_path), stderr: read_lossy(&stderr_path) };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "citytwin did not print `{LISTEN_MARK}…` within {timeout:?}\n--- stdout tail ---\n{}\n--- stderr tail ---\n{}",
                    tail(&read_lossy(&stdout_path), 4000),
                    tail(&read_lossy(&stderr_path), 4000)
                );
            }
            thread::sleep(POLL);
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base_url, path_and_query)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, then reap: no shutdown code runs, as in a crash or power cut of the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; SIGKILL if it has not exited within `grace`.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            thread::sleep(POLL);
        }
    }

    /// Exit status if the process has exited by now.
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn stderr_text(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    pub fn stdout_text(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// The last lines of stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        format!("--- citytwin stderr (tail) ---\n{}", tail(&self.stderr_text(), 4000))
    }

    /// stdout and stderr together: log lines may go to either.
    pub fn output_text(&self) -> String {
        format!("{}\n{}", self.stdout_text(), self.stderr_text())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        // A failing test shows what the server said; the harness captures this with the test output.
        if thread::panicking() {
            eprintln!("{}", self.stderr_tail());
        }
    }
}

/// Signs the harness in to a server that just started: its admin (serve) or the demo's admin.
fn sign_in_harness(addr: SocketAddr, args: &[&str]) {
    let (user, password) = match args.first() {
        Some(&"demo") => {
            let password = args
                .iter()
                .position(|a| *a == "--demo-password")
                .and_then(|i| args.get(i + 1))
                .copied()
                .unwrap_or(crate::auth::DEMO_PASSWORD);
            (crate::auth::DEMO_ADMIN, password)
        }
        _ => (crate::auth::HARNESS_USER, crate::auth::HARNESS_PASSWORD),
    };
    // A data dir without the account (a test's own) simply leaves the harness anonymous.
    if let Ok(token) = crate::auth::sign_in(&format!("http://{addr}"), user, password) {
        crate::auth::register(addr, token);
    }
}

/// `serve --config <config> --data-dir <data_dir> <extra…>`.
pub fn serve_args(config: &Path, data_dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "serve".to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// The address after `listening on http://`, up to the first character that cannot be part of it.
pub fn parse_listen_addr(text: &str) -> Option<SocketAddr> {
    let start = text.find(LISTEN_MARK)? + LISTEN_MARK.len();
    let addr: String =
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')).collect();
    addr.parse().ok()
}

/// The last `max` bytes of `text` (on a char boundary).
pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn read_lossy(path: &Path) -> String {
    fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address_in_a_log_line() {
        let text = "2026-11-24T03:00:00Z INFO citytwin: listening on http://127.0.0.1:43125\nnext";
        assert_eq!(parse_listen_addr(text), Some("127.0.0.1:43125".parse().unwrap()));
        assert_eq!(parse_listen_addr("listening on http://127.0.0.1:8080/"), Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(parse_listen_addr("starting"), None);
    }

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail("ĐàNẵng", 3), "ng");
        assert_eq!(tail("abc", 10), "abc");
    }
}
