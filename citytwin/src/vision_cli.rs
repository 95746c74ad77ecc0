//! `citytwin detect` (run the detector on images) and `citytwin vision run` (the configured cameras
//! outside the server, observations as NDJSON on stdout or posted to a server).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use twin_vision::Frame;

use crate::config::LoadedConfig;
use twin_cameras::detector::{self, class_name, DetectorFactory};
use twin_cameras::worker::{self, HttpSink, NdjsonSink, Sink};
use twin_cameras::{config, CameraEntry};

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Images to run the detector on (JPEG or PNG).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Detector weights; default the committed CenterNet weights.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Minimum score of a printed detection.
    #[arg(long, default_value_t = 0.3)]
    pub threshold: f32,
}

#[derive(Debug, Subcommand)]
pub enum VisionCommand {
    /// Process the cameras of a city config outside the server: observations (detections with track
    /// ids, camera counts and level of service) as NDJSON on stdout, or posted to `--server`.
    Run {
        #[arg(long)]
        config: PathBuf,
        /// Post to this server's `/ingest/observations` (e.g. http://127.0.0.1:8080) instead of printing.
        #[arg(long)]
        server: Option<String>,
        /// Only these cameras (ids; repeat or comma-separate).
        #[arg(long, value_delimiter = ',')]
        camera: Vec<String>,
        /// Stop once every camera analysed this many frames (default: run until interrupted).
        #[arg(long)]
        frames: Option<u64>,
    },
    /// Measure the camera pipeline end to end on one thread, as fast as it goes: ffmpeg decode →
    /// detector → tracker → georeference → observations. Prints one JSON object.
    Bench {
        /// Video file; default the shipped `data/video/car-detection.mp4`.
        #[arg(long)]
        video: Option<PathBuf>,
        /// Frames to process (default: the whole video at its own rate).
        #[arg(long)]
        frames: Option<u64>,
        /// Sampling rate for the decoder, frames per second of video.
        #[arg(long, default_value_t = 12.5)]
        fps: f64,
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

/// Reads an image file into an RGB frame at its own size.
pub fn read_frame(path: &Path) -> anyhow::Result<Frame> {
    let img = image::open(path).with_context(|| format!("{}", path.display()))?.to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Ok(Frame { width: w, height: h, rgb: img.into_raw() })
}

pub fn detect(args: DetectArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        anyhow::bail!("--threshold {} is not in [0, 1]", args.threshold);
    }
    let mut det = detector::load_default(args.model.as_deref(), args.threshold).map_err(anyhow::Error::msg)?;
    let mut failed = Vec::new();
    for path in &args.images {
        let frame = match read_frame(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: cannot read image {e:#}");
                failed.push(path.display().to_string());
                continue;
            }
        };
        let dets = match det.detect_frame(&frame) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {}: detector: {e}", path.display());
                failed.push(path.display().to_string());
                continue;
            }
        };
        let mut out = String::new();
        for d in dets.iter().filter(|d| d.score >= args.threshold) {
            let bbox: Vec<f64> = d.bbox.iter().map(|v| (f64::from(*v) * 10.0).round() / 10.0).collect();
            let line = json!({
                "image": path.display().to_string(),
                "class": class_name(d.class),
                "class_id": d.class,
                "score": (f64::from(d.score) * 1e4).round() / 1e4,
                "bbox": bbox,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        print!("{out}");
    }
    if !failed.is_empty() {
        anyhow::bail!("{} of {} images could not be processed: {}", failed.len(), args.images.len(), failed.join(", "));
    }
    Ok(())
}

pub async fn run(command: VisionCommand) -> anyhow::Result<()> {
    match command {
        VisionCommand::Run { config: path, server, camera, frames } => {
            run_with(&path, server, &camera, frames, detector::default_factory()).await
        }
        VisionCommand::Bench { video, frames, fps, model } => {
            let video = video.unwrap_or_else(|| PathBuf::from("data/video/car-detection.mp4"));
            let report = tokio::task::spawn_blocking(move || bench(&video, frames, fps, model.as_deref())).await??;
            println!("{report}");
            Ok(())
        }
    }
}

/// CPU seconds of this process and its waited-for children (`/proc/self/stat`, USER_HZ = 100).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is index 0, utime (field 14) index 11,
    // then stime, cutime, cstime.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    let ticks = field(11)? + field(12)? + field(13)? + field(14)?;
    Some(ticks / 100.0)
}

fn bench(video: &Path, frames: Option<u64>, fps: f64, model: Option<&Path>) -> anyhow::Result<serde_json::Value> {
    use std::time::Instant;
    // The demo camera's calibration: 768×432 over the Hàm Nghi × Nguyễn Văn Linh intersection.
    let section: config::CameraSection = toml::from_str(&format!(
        "id = \"bench\"\nposition = [108.211125, 16.0599787]\nvideo = {:?}\nimage_size = [768, 432]\n\
         control_points = [{{ px = 0, py = 0, lon = 108.2110552, lat = 16.0600049 }}, \
         {{ px = 768, py = 0, lon = 108.2111846, lat = 16.0600224 }}, {{ px = 768, py = 432, lon = 108.2111948, lat = 16.0599525 }}, \
         {{ px = 0, py = 432, lon = 108.2110654, lat = 16.0599350 }}]\nrelabel = {{ \"cell phone\" = \"car\" }}",
        video.display().to_string()
    ))?;
    let spec = config::validate(&section, Path::new("."))?;
    let load_start = Instant::now();
    let mut det = detector::load_default(model, twin_cameras::pipeline::LOW_SCORE).map_err(anyhow::Error::msg)?;
    let load_ms = load_start.elapsed().as_secs_f64() * 1000.0;
    let mut pipeline = twin_cameras::pipeline::Pipeline::new(spec);
    let cpu0 = cpu_seconds();
    let wall = Instant::now();
    let (mut t_decode, mut t_detect, mut t_rest) = (0.0f64, 0.0f64, 0.0f64);
    let (mut n, mut observations, mut max_tracks) = (0u64, 0usize, 0usize);
    {
        let mut file = twin_vision::video::VideoFile::open(video, 768, 432, fps)?;
        loop {
            if frames.is_some_and(|max| n >= max) {
                break;
            }
            let t = Instant::now();
            let Some(frame) = file.frames.next_frame()? else { break };
            t_decode += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let dets = det.detect_frame(&frame).map_err(anyhow::Error::msg)?;
            t_detect += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let media_ms = (n as f64 * 1000.0 / fps) as i64;
            let out = pipeline.process(&dets, twin_core::Timestamp::from_millis(media_ms), media_ms);
            let lines: usize = out.observations.iter().map(|o| worker::observation_json(o).to_string().len()).sum();
            std::hint::black_box(lines);
            t_rest += t.elapsed().as_secs_f64();
            observations += out.observations.len();
            max_tracks = max_tracks.max(out.tracks.len());
            n += 1;
        }
        // Dropping the decoder waits for ffmpeg, so its CPU time is counted below.
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    if n == 0 {
        anyhow::bail!("{}: no frames decoded", video.display());
    }
    let per = |t: f64| (t * 1000.0 / n as f64 * 100.0).round() / 100.0;
    Ok(json!({
        "video": video.display().to_string(),
        "frames": n,
        "model_load_ms": load_ms.round(),
        "ms_per_frame": { "decode": per(t_decode), "detect": per(t_detect), "track_georef_publish": per(t_rest), "total": per(wall_s) },
        "fps_wall": (n as f64 / wall_s * 100.0).round() / 100.0,
        "cpu_seconds": cpu_s,
        "fps_per_core": cpu_s.filter(|c| *c > 0.0).map(|c| (n as f64 / c * 100.0).round() / 100.0),
        "observations": observations,
        "max_tracks_in_frame": max_tracks,
    }))
}

/// `vision run` with a chosen detector.
pub async fn run_with(
    path: &Path,
    server: Option<String>,
    only: &[String],
    frames: Option<u64>,
    factory: DetectorFactory,
) -> anyhow::Result<()> {
    let loaded = LoadedConfig::load(path)?;
    let sections: Vec<_> =
        loaded.raw.cameras.iter().filter(|c| only.is_empty() || only.contains(&c.id)).cloned().collect();
    if let Some(missing) = only.iter().find(|id| !sections.iter().any(|c| &c.id == *id)) {
        anyhow::bail!("no camera `{missing}` in {}", path.display());
    }
    if sections.is_empty() {
        anyhow::bail!("{} configures no [[cameras]]", path.display());
    }
    let specs = config::validate_all(&sections, &loaded.base_dir)?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut entries = Vec::new();
    for spec in specs {
        let entry = Arc::new(CameraEntry::new(spec));
        let sink: Box<dyn Sink> = match &server {
            Some(url) => Box::new(HttpSink::new(url)),
            None => Box::new(NdjsonSink),
        };
        worker::spawn(entry.clone(), factory.clone(), sink, stop.clone()).context("cannot start a camera thread")?;
        entries.push(entry);
    }
    let result = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(()),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        let statuses: Vec<_> = entries.iter().map(|e| (e.spec.id.clone(), e.status())).collect();
        // A camera whose detector failed never recovers.
        if let Some((id, s)) = statuses.iter().find(|(_, s)| {
            s.state == "error" && s.frames == 0 && s.last_error.as_deref().is_some_and(|e| e.starts_with("detector"))
        }) {
            break Err(anyhow::anyhow!("camera `{id}`: {}", s.last_error.clone().unwrap_or_default()));
        }
        if frames.is_some_and(|n| statuses.iter().all(|(_, s)| s.frames >= n)) {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    for e in &entries {
        let s = e.status();
        eprintln!("camera {}: {} frames, {:.2} fps, {} dropped", e.spec.id, s.frames, s.fps, s.dropped);
    }
    result
}
