//! Frame sources, each on its own thread feeding a bounded channel: a video file through ffmpeg
//! (replayed in a loop at real speed), an MJPEG stream over HTTP, or a polled JPEG snapshot.
//!
//! Live sources drop frames when the analysis is busy (the newest frames matter); a replayed file
//! instead waits, so a slow machine replays slower but never skips frames it could have tracked.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use twin_vision::mjpeg::{boundary_from_content_type, MjpegParser};
use twin_vision::preprocess::resize_bilinear;
use twin_vision::video::VideoFile;
use twin_vision::Frame;

use super::config::{CameraSpec, SourceSpec};
use super::registry::CameraEntry;

/// A sampled frame and when it was taken.
#[derive(Debug)]
pub struct SampledFrame {
    pub frame: Frame,
    /// The frame's own clock in ms (video time mapped onto the replay's start for files).
    pub media_ms: i64,
}

/// Largest JPEG accepted from a camera.
const MAX_JPEG: usize = 16 << 20;
/// Wait before reconnecting or reopening after a failure.
const RETRY: Duration = Duration::from_secs(5);
/// HTTP connect/read timeout.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

fn now_ms() -> i64 {
    twin_runtime::clock::now().as_millis()
}

/// Why a camera image could not be turned into a frame.
#[derive(Debug, thiserror::Error)]
pub enum DecodeImageError {
    #[error("cannot decode image: {0}")]
    Decode(#[from] image::ImageError),
    #[error("image is empty")]
    Empty,
}

/// Decodes a JPEG (or PNG) and scales it to the camera's image size.
pub fn decode_image(bytes: &[u8], width: usize, height: usize) -> Result<Frame, DecodeImageError> {
    let img = image::load_from_memory(bytes)?.to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let frame = Frame { width: w, height: h, rgb: img.into_raw() };
    if w == 0 || h == 0 {
        return Err(DecodeImageError::Empty);
    }
    Ok(if (w, h) == (width, height) { frame } else { resize_bilinear(&frame, width, height) })
}

/// Why a source stopped: the feed's rejection reason and a message naming the file or URL.
#[derive(Debug)]
struct Failure {
    /// `video`, `connect`, `http_<status>`, `read`, `stream` or `decode`.
    reason: String,
    message: String,
}

fn failure(reason: impl Into<String>, message: String) -> Failure {
    Failure { reason: reason.into(), message }
}

/// Runs the camera's source until `stop` is set or the receiver is gone.
pub fn run(entry: Arc<CameraEntry>, tx: SyncSender<SampledFrame>, stop: Arc<AtomicBool>) {
    let spec = &entry.spec;
    while !stop.load(Ordering::Relaxed) {
        let result = match &spec.source {
            SourceSpec::Video(path) => replay_video(&entry, path, &tx, &stop),
            SourceSpec::Mjpeg(url) => read_mjpeg(&entry, url, &tx, &stop),
            SourceSpec::Snapshot { url, interval_s } => poll_snapshots(&entry, url, *interval_s, &tx, &stop),
        };
        match result {
            Ok(Flow::Stop) => return,
            Ok(Flow::Again) => {}
            Err(f) => {
                tracing::warn!(camera = %spec.id, error = %f.message, reason = %f.reason, "camera source failed; retrying");
                entry.source_error(&f.reason, &f.message);
                sleep_unless_stopped(RETRY, &stop);
            }
        }
    }
}

/// What the caller should do after a source returned without error.
enum Flow {
    /// Stopped, or the analysis is gone.
    Stop,
    /// Reached the end (a replay loops): open again.
    Again,
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
}

fn replay_video(
    entry: &CameraEntry,
    path: &Path,
    tx: &SyncSender<SampledFrame>,
    stop: &AtomicBool,
) -> Result<Flow, Failure> {
    let spec: &CameraSpec = &entry.spec;
    if !path.is_file() {
        return Err(failure("video", format!("video file {} not found", path.display())));
    }
    let mut video = VideoFile::open(path, spec.width, spec.height, spec.sample_fps)
        .map_err(|e| failure("video", format!("{}: {e}", path.display())))?;
    entry.source_connected();
    let start = Instant::now();
    let media0 = now_ms();
    let period = 1.0 / spec.sample_fps;
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let next = video.frames.next_frame().map_err(|e| failure("decode", format!("{}: {e}", path.display())))?;
        let Some(frame) = next else {
            return if k == 0 {
                Err(failure("decode", format!("{}: no frames decoded", path.display())))
            } else {
                Ok(Flow::Again)
            };
        };
        entry.frame_received();
        let offset = Duration::from_secs_f64(k as f64 * period);
        // Real speed: never ahead of the recording's clock.
        if let Some(wait) = offset.checked_sub(start.elapsed()) {
            sleep_unless_stopped(wait, stop);
        }
        let media_ms = media0 + offset.as_millis() as i64;
        if tx.send(SampledFrame { frame, media_ms }).is_err() {
            return Ok(Flow::Stop);
        }
        k += 1;
    }
    Ok(Flow::Stop)
}

/// Hands a live frame to the analysis, dropping it when the analysis is still busy.
fn offer(entry: &CameraEntry, tx: &SyncSender<SampledFrame>, frame: SampledFrame) -> bool {
    match tx.try_send(frame) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            entry.dropped();
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}

/// GET `url`: a connection failure is `connect`, any status but 200 is `http_<status>`.
fn get_ok(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, Failure> {
    let resp = agent.get(url).call().map_err(|e| failure("connect", format!("{url}: {e}")))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(failure(format!("http_{status}"), format!("{url}: HTTP {status}")));
    }
    Ok(resp)
}

fn http_agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(HTTP_TIMEOUT))
        .timeout_recv_response(Some(HTTP_TIMEOUT))
        .timeout_recv_body(None)
        .build();
    ureq::Agent::new_with_config(config)
}

fn read_mjpeg(
    entry: &CameraEntry,
    url: &str,
    tx: &SyncSender<SampledFrame>,
    stop: &AtomicBool,
) -> Result<Flow, Failure> {
    let spec = &entry.spec;
    let resp = get_ok(&http_agent(), url)?;
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let boundary = boundary_from_content_type(&ct).map_err(|e| failure("stream", format!("{url}: {e}")))?;
    entry.source_connected();
    let mut parser = MjpegParser::new(&boundary, MAX_JPEG);
    let mut body = resp.into_body().into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let period_ms = (1000.0 / spec.sample_fps) as i64;
    let mut next_ms = i64::MIN;
    while !stop.load(Ordering::Relaxed) {
        let n = body.read(&mut buf).map_err(|e| failure("read", format!("{url}: {e}")))?;
        if n == 0 {
            return Err(failure("stream", format!("{url}: stream ended")));
        }
        for jpeg in parser.push(&buf[..n]).map_err(|e| failure("stream", format!("{url}: {e}")))? {
            let t = now_ms();
            // Sample: decode only the frames the analysis asked for.
            if t < next_ms {
                continue;
            }
            next_ms = t + period_ms;
            entry.frame_received();
            match decode_image(&jpeg, spec.width, spec.height) {
                Ok(frame) => {
                    if !offer(entry, tx, SampledFrame { frame, media_ms: t }) {
                        return Ok(Flow::Stop);
                    }
                }
                Err(e) => entry.frame_error("decode", &format!("{url}: {e}")),
            }
        }
    }
    Ok(Flow::Stop)
}

fn poll_snapshots(
    entry: &CameraEntry,
    url: &str,
    interval_s: f64,
    tx: &SyncSender<SampledFrame>,
    stop: &AtomicBool,
) -> Result<Flow, Failure> {
    let spec = &entry.spec;
    let agent = http_agent();
    let every = Duration::from_secs_f64(interval_s.max(1.0 / spec.sample_fps));
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let mut resp = get_ok(&agent, url)?;
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_JPEG as u64)
            .read_to_vec()
            .map_err(|e| failure("read", format!("{url}: {e}")))?;
        entry.source_connected();
        entry.frame_received();
        let frame =
            decode_image(&bytes, spec.width, spec.height).map_err(|e| failure("decode", format!("{url}: {e}")))?;
        if !offer(entry, tx, SampledFrame { frame, media_ms: now_ms() }) {
            return Ok(Flow::Stop);
        }
        sleep_unless_stopped(every.saturating_sub(started.elapsed()), stop);
    }
    Ok(Flow::Stop)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use std::io::Write;
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::sync::mpsc::{sync_channel, Receiver};

    use super::*;
    use crate::config::{validate, CameraSection};

    fn shipped_video() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/video/car-detection.mp4")
    }

    fn entry(source: &str) -> Arc<CameraEntry> {
        let text = format!(
            "id = \"t\"\nposition = [108.2, 16.0]\n{source}\nsample_fps = 4\nimage_size = [64, 36]\n\
             control_points = [{{ px = 0, py = 0, lon = 108.2, lat = 16.0001 }}, {{ px = 64, py = 0, lon = 108.2001, lat = 16.0001 }},\
             {{ px = 64, py = 36, lon = 108.2001, lat = 16.0 }}, {{ px = 0, py = 36, lon = 108.2, lat = 16.0 }}]"
        );
        let s: CameraSection = toml::from_str(&text).unwrap();
        Arc::new(CameraEntry::new(validate(&s, Path::new("/")).unwrap()))
    }

    fn start(e: &Arc<CameraEntry>) -> (Receiver<SampledFrame>, Arc<AtomicBool>) {
        let (tx, rx) = sync_channel(2);
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (e.clone(), stop.clone());
        std::thread::spawn(move || run(e, tx, s));
        (rx, stop)
    }

    fn jpeg(w: u32, h: u32, shade: u8) -> Vec<u8> {
        let mut rgb = vec![shade; (w * h * 3) as usize];
        // A bright square so frames are not flat.
        for y in 4..12 {
            for x in 4..12 {
                let i = ((y * w + x) * 3) as usize;
                rgb[i..i + 3].copy_from_slice(&[250, 250, 250]);
            }
        }
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn the_shipped_video_decodes_through_ffmpeg_at_the_sample_rate() {
        let e = entry(&format!("video = {:?}", shipped_video().display().to_string()));
        let (rx, stop) = start(&e);
        let frames: Vec<SampledFrame> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(60)).unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        for f in &frames {
            assert_eq!((f.frame.width, f.frame.height), (64, 36));
            assert!(f.frame.is_consistent());
            let (lo, hi) = f.frame.rgb.iter().fold((255u8, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            assert!(hi - lo > 30, "a real picture has contrast: {lo}..{hi}");
        }
        // 4 frames per second of video time.
        assert_eq!(frames[1].media_ms - frames[0].media_ms, 250);
        assert_eq!(frames[2].media_ms - frames[1].media_ms, 250);
    }

    #[test]
    fn a_missing_video_is_a_status_error_not_a_crash() {
        let e = entry("video = \"/nonexistent/clip.mp4\"");
        let (_rx, stop) = start(&e);
        let deadline = Instant::now() + Duration::from_secs(10);
        while e.status().last_error.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        let err = e.status().last_error.unwrap();
        assert!(err.contains("/nonexistent/clip.mp4") && err.contains("not found"), "{err}");
    }

    #[test]
    fn mjpeg_over_http_gives_decoded_scaled_frames() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 1024];
            let _ = std::io::Read::read(&mut s, &mut req);
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n").unwrap();
            for i in 0..40u8 {
                let j = jpeg(128, 72, 40 + i);
                let head = format!("--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", j.len());
                if s.write_all(head.as_bytes())
                    .and_then(|()| s.write_all(&j))
                    .and_then(|()| s.write_all(b"\r\n"))
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let e = entry(&format!("mjpeg = \"http://{addr}/video.mjpg\""));
        let (rx, stop) = start(&e);
        let a = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        let b = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert_eq!((a.frame.width, a.frame.height), (64, 36), "scaled to the configured size");
        // The bright square (4..12 of 128) lands at 2..6 after scaling by one half.
        let px = |f: &Frame, x: usize, y: usize| f.rgb[(y * f.width + x) * 3];
        assert!(
            px(&a.frame, 4, 4) > 200 && px(&a.frame, 30, 20) < 150,
            "{} {}",
            px(&a.frame, 4, 4),
            px(&a.frame, 30, 20)
        );
        // Sampled at 4 fps from a 20 fps stream: frames at least ~250 ms apart.
        assert!(b.media_ms - a.media_ms >= 200, "{} ms apart", b.media_ms - a.media_ms);
    }

    #[test]
    fn snapshots_are_polled_and_bad_images_reported() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut s) = stream else { return };
                let mut req = [0u8; 1024];
                let _ = std::io::Read::read(&mut s, &mut req);
                let path_ok = req.starts_with(b"GET /snap.jpg");
                let body = if path_ok && n > 0 { jpeg(64, 36, 90) } else { b"not a jpeg".to_vec() };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&body));
            }
        });
        let e = entry(&format!("snapshot = \"http://{addr}/snap.jpg\"\nsnapshot_interval_s = 0.1"));
        let (rx, stop) = start(&e);
        // The first answer is not an image: an error, then the retry gets a frame.
        let f = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert_eq!((f.frame.width, f.frame.height), (64, 36));
        let err = e.status().last_error.unwrap();
        assert!(err.contains("/snap.jpg") && err.contains("cannot decode image"), "{err}");
    }
}
