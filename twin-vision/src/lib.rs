//! Video analytics: an object detector in burn, frame pre-processing, CenterNet decoding and
//! NMS, multi-object tracking, camera georeferencing and footprints, traffic counting, privacy
//! blurring and MJPEG stream parsing.
//!
//! The default detector is [`centernet::CenterNet`] (MobileNetV3 + CenterNet, 80 COCO classes),
//! running on burn's Flex CPU backend (SIMD kernels, rayon threads); the cargo features `wgpu`
//! and `cuda` add GPU backends. Its network code is generated (`twin-vision/model/convert.sh`) and its weights
//! are the committed `data/models/centernet.bpk`; any other detector plugs in behind [`Detector`].
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod centernet;
pub mod counting;
pub mod decode;
pub mod detector;
pub mod footprint;
pub mod homography;
pub mod hungarian;
pub mod kalman;
pub mod mjpeg;
pub mod preprocess;
pub mod privacy;
pub mod tracker;
pub mod video;

pub use detector::{BBox, Detection, Detector, Frame};
pub use homography::{Calibration, ControlPoint, GeoError, Homography};
pub use tracker::{Track, Tracker, TrackerConfig};
