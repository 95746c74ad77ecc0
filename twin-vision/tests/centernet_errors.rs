//! Loading and input errors of the detector.
#![allow(clippy::unwrap_used)]

use twin_vision::centernet::{class_name, CenterNet, ModelError};
use twin_vision::{Detector, Frame};

#[test]
fn committed_weights_are_found() {
    let p = CenterNet::default_weights_path();
    assert!(p.is_file(), "{}", p.display());
}

#[test]
fn missing_weights_file_is_an_io_error_naming_the_path() {
    let err = CenterNet::load(std::path::Path::new("/nonexistent/centernet.bpk")).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/centernet.bpk"));
}

#[test]
fn garbage_and_truncated_weights_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bpk");
    std::fs::write(&junk, b"this is not a burnpack file at all").unwrap();
    let err = CenterNet::load(&junk).unwrap_err();
    assert!(matches!(err, ModelError::Weights { .. }), "{err:?}");

    let good = std::fs::read(CenterNet::default_weights_path()).unwrap();
    let cut = dir.path().join("cut.bpk");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    let err = CenterNet::load(&cut).unwrap_err();
    assert!(matches!(err, ModelError::Weights { .. }), "{err:?}");
}

#[test]
fn inconsistent_frame_is_an_error_not_a_panic() {
    let mut net = CenterNet::load(&CenterNet::default_weights_path()).unwrap();
    let bad = Frame { width: 640, height: 480, rgb: vec![0; 10] };
    assert!(matches!(net.detect(&bad), Err(ModelError::BadFrame { .. })));
    let empty = Frame { width: 0, height: 0, rgb: vec![] };
    assert!(matches!(net.detect(&empty), Err(ModelError::BadFrame { .. })));
}

#[test]
fn blank_frame_gives_no_confident_detection() {
    let mut net = CenterNet::load(&CenterNet::default_weights_path()).unwrap();
    let dets = net.detect(&Frame::filled(320, 240, [128, 128, 128])).unwrap();
    assert!(dets.iter().all(|d| d.score < 0.5), "{:?}", dets.iter().map(|d| class_name(d.class)).collect::<Vec<_>>());
}

#[test]
fn a_folder_holding_centernet_bpk_is_accepted() {
    let dir = CenterNet::default_weights_path().parent().unwrap().to_path_buf();
    assert!(CenterNet::load(&dir).is_ok());
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(CenterNet::load(empty.path()), Err(ModelError::Io { .. })));
}
