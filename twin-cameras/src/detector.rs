//! The detector a camera runs, behind one object-safe trait so workers, the CLI and tests can use
//! the CenterNet model or any other [`twin_vision::Detector`].

use std::path::{Path, PathBuf};

use twin_vision::centernet::{self, CenterNet};
use twin_vision::{Detection, Detector, Frame};

/// Why a detector could not be built or failed on a frame.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// The model's weights could not be loaded; the message names the file.
    #[error("{0}")]
    Load(#[from] centernet::ModelError),
    /// The detector's own error on one frame, boxed so any [`Detector`] fits behind the trait.
    #[error("{0}")]
    Detect(Box<dyn std::error::Error + Send + Sync>),
}

/// A detector a worker thread can own.
pub trait FrameDetector: Send {
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, DetectorError>;
}

impl<D> FrameDetector for D
where
    D: Detector + Send,
{
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, DetectorError> {
        self.detect(frame).map_err(|e| DetectorError::Detect(Box::new(e)))
    }
}

/// Builds a detector for a camera: `(weights path or default, score threshold)`.
pub type DetectorFactory =
    std::sync::Arc<dyn Fn(Option<&Path>, f32) -> Result<Box<dyn FrameDetector>, DetectorError> + Send + Sync>;

/// The weights used when a camera names none: the committed CenterNet weights.
pub fn default_weights() -> PathBuf {
    CenterNet::default_weights_path()
}

/// The default model. Missing or unreadable weights are an error naming the file.
pub fn load_default(model: Option<&Path>, threshold: f32) -> Result<Box<dyn FrameDetector>, DetectorError> {
    let path = model.map(Path::to_path_buf).unwrap_or_else(default_weights);
    let net = CenterNet::load(&path)?;
    Ok(Box::new(net.with_threshold(threshold)))
}

/// The factory that loads the default model.
pub fn default_factory() -> DetectorFactory {
    std::sync::Arc::new(load_default)
}

/// Class names of the default model (COCO).
pub fn class_name(class: u32) -> &'static str {
    centernet::class_name(class)
}

pub fn class_id(name: &str) -> Option<u32> {
    centernet::class_id(name)
}
