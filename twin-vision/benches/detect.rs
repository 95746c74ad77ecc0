//! Detector speed on the CPU: milliseconds per 512×512 model input, and one frame end to end
//! (JPEG decode → resize → CenterNet → peak decoding/NMS → tracking → georeferencing).
//!
//! Backend: burn's Flex CPU backend (SIMD + rayon) by default; `--features wgpu` or `cuda` add a
//! GPU, and `BURN_DEVICE=...` picks among the compiled ones. onnxruntime on the same graph
//! and frames: `twin-vision/model/bench_ort.py`.

use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use twin_vision::centernet::{CenterNet, INPUT_SIZE};
use twin_vision::preprocess::{prepare, Resize};
use twin_vision::{Calibration, ControlPoint, Detector, Frame, Tracker, TrackerConfig};

fn frames_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/video/frames")
}

fn jpegs() -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(frames_dir())
        .expect("frames folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).expect("frame")).collect()
}

fn decode_jpeg(bytes: &[u8]) -> Frame {
    let img = image::load_from_memory(bytes).expect("jpeg").to_rgb8();
    Frame { width: img.width() as usize, height: img.height() as usize, rgb: img.into_raw() }
}

fn bench(c: &mut Criterion) {
    let jpegs = jpegs();
    let frames: Vec<Frame> = jpegs.iter().map(|b| decode_jpeg(b)).collect();
    let mut net = CenterNet::load(&CenterNet::default_weights_path()).expect("weights");
    eprintln!("device: {:?}", net.device());
    let inputs: Vec<Frame> = frames.iter().map(|f| prepare(f, INPUT_SIZE, Resize::Stretch).expect("frame").0).collect();
    // Corners of the 768×432 frames on a ~40 m patch of ground: a plausible overhead camera.
    let cps = [
        (0.0, 432.0, 108.22080, 16.06780),
        (768.0, 432.0, 108.22110, 16.06780),
        (768.0, 0.0, 108.22110, 16.06800),
        (0.0, 0.0, 108.22080, 16.06800),
    ]
    .map(|(px, py, lon, lat)| ControlPoint { px, py, lon, lat });
    let cal = Calibration::from_control_points(108.22095, 16.0679, &cps).expect("calibration");
    let sign = cal.ground_sign(768.0, 432.0);

    let mut g = c.benchmark_group("centernet");
    g.sample_size(10);
    g.bench_function("forward 512x512", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(net.forward(&inputs[i % inputs.len()]).expect("forward"))
        })
    });
    g.bench_function("end to end frame (jpeg decode, detect, track, georeference)", |b| {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let mut i = 0;
        b.iter(|| {
            i += 1;
            let frame = decode_jpeg(&jpegs[i % jpegs.len()]);
            let dets = net.detect(&frame).expect("detect");
            let tracks = tracker.update(&dets);
            for t in &tracks {
                black_box(cal.box_to_lonlat(&t.bbox, sign).ok());
            }
        })
    });
    g.finish();
    c.bench_function("preprocess 768x432 -> 512x512", |b| {
        b.iter(|| black_box(prepare(&frames[0], INPUT_SIZE, Resize::Stretch)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
