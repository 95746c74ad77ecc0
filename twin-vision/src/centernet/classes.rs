//! The 80 COCO object classes, in the order of the default model's heatmap channels.

/// Class names indexed by the model's class id.
pub const COCO_CLASSES: [&str; 80] = [
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

/// Name of a COCO class id; `"unknown"` outside 0..80.
pub fn class_name(class: u32) -> &'static str {
    COCO_CLASSES.get(class as usize).copied().unwrap_or("unknown")
}

/// Class id of a COCO name (exact match), e.g. for per-camera class filters in config.
pub fn class_id(name: &str) -> Option<u32> {
    COCO_CLASSES.iter().position(|c| *c == name).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn road_user_classes_have_their_coco_ids() {
        assert_eq!(class_name(0), "person");
        assert_eq!(class_name(2), "car");
        assert_eq!(class_name(3), "motorcycle");
        assert_eq!(class_name(5), "bus");
        assert_eq!(class_name(7), "truck");
        assert_eq!(class_name(79), "toothbrush");
        assert_eq!(class_name(80), "unknown");
        assert_eq!(class_id("bicycle"), Some(1));
        assert_eq!(class_id("spaceship"), None);
    }
}
