//! The detector a camera runs, behind one object-safe trait so workers, the CLI and tests can use
//! the CenterNet model or any other [`twin_vision::Detector`].

use std::path::{Path, PathBuf};

use twin_vision::{Detection, Detector, Frame};

/// A detector a worker thread can own.
pub trait FrameDetector: Send {
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, String>;
}

impl<D> FrameDetector for D
where
    D: Detector + Send,
{
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, String> {
        self.detect(frame).map_err(|e| e.to_string())
    }
}

/// Builds a detector for a camera: `(weights path or default, score threshold)`.
pub type DetectorFactory =
    std::sync::Arc<dyn Fn(Option<&Path>, f32) -> Result<Box<dyn FrameDetector>, String> + Send + Sync>;

/// The weights used when a camera names none.
pub fn default_weights() -> PathBuf {
    PathBuf::from("data/models/centernet.bpk")
}

/// The default model. Missing or unreadable weights are an error naming the file.
pub fn load_default(model: Option<&Path>, threshold: f32) -> Result<Box<dyn FrameDetector>, String> {
    let path = model.map(Path::to_path_buf).unwrap_or_else(default_weights);
    Err(format!("no detector is built in yet (weights {} not loaded, threshold {threshold})", path.display()))
}

/// The factory that loads the default model.
pub fn default_factory() -> DetectorFactory {
    std::sync::Arc::new(load_default)
}

/// COCO class names of the default model.
const COCO: [&str; 80] = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
];

pub fn class_name(class: u32) -> &'static str {
    COCO.get(class as usize).copied().unwrap_or("unknown")
}

pub fn class_id(name: &str) -> Option<u32> {
    COCO.iter().position(|c| *c == name).map(|i| i as u32)
}
