//! Decompression bombs and decode floods: photos whose header claims a huge image are refused from
//! the header, before any pixel buffer exists, and decodes beyond the concurrency cap are refused
//! as busy. Bombs are built here from tiny real images with their size fields rewritten.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use twin_ingest::reports::{
    decode_slots, photo_dimensions, process_photo, process_photo_in, DecodeSlots, PhotoFormat, ReportError,
    MAX_CONCURRENT_DECODES, MAX_PHOTO_EDGE, MAX_PHOTO_PIXELS,
};

fn photo(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/reports").join(name);
    std::fs::read(p).unwrap()
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A real 2 × 2 PNG whose IHDR (with a valid CRC) claims `width` × `height`.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(&[200; 12], 2, 2, ExtendedColorType::Rgb8).unwrap();
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A real 2 × 2 baseline JPEG whose frame header claims `width` × `height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    JpegEncoder::new(&mut jpeg).write_image(&[90; 12], 2, 2, ExtendedColorType::Rgb8).unwrap();
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // FF C0, length (2), precision (1), then height and width.
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

fn assert_bomb(bytes: &[u8], format: PhotoFormat, width: u32, height: u32) {
    assert!(bytes.len() < 1024, "the bomb is a tiny file ({} bytes)", bytes.len());
    assert_eq!(photo_dimensions(bytes, format).unwrap(), (width, height));
    let err = process_photo(bytes).unwrap_err();
    assert_eq!(err, ReportError::PhotoTooManyPixels { width, height });
    assert_eq!(err.field(), "photo");
    assert_eq!(err.reason(), "photo-too-many-pixels");
    assert!(err.to_string().contains(&format!("{width} x {height}")), "{err}");
}

#[test]
fn png_and_jpeg_bombs_are_refused_from_their_header() {
    // 3.6 gigapixels: far over both caps.
    assert_bomb(&png_claiming(60_000, 60_000), PhotoFormat::Png, 60_000, 60_000);
    assert_bomb(&jpeg_claiming(60_000, 60_000), PhotoFormat::Jpeg, 60_000, 60_000);
    // Within the edge cap, over the pixel cap.
    assert!(u64::from(MAX_PHOTO_EDGE).pow(2) > MAX_PHOTO_PIXELS);
    assert_bomb(&png_claiming(MAX_PHOTO_EDGE, MAX_PHOTO_EDGE), PhotoFormat::Png, MAX_PHOTO_EDGE, MAX_PHOTO_EDGE);
    let edge = u16::try_from(MAX_PHOTO_EDGE).unwrap();
    assert_bomb(&jpeg_claiming(edge, edge), PhotoFormat::Jpeg, MAX_PHOTO_EDGE, MAX_PHOTO_EDGE);
    // One pixel over the edge cap, a thin strip well under the pixel cap.
    assert_bomb(&png_claiming(MAX_PHOTO_EDGE + 1, 1), PhotoFormat::Png, MAX_PHOTO_EDGE + 1, 1);
    assert_bomb(&png_claiming(1_000_000, 1_000_000), PhotoFormat::Png, 1_000_000, 1_000_000);
    // The largest PNG header the format allows: its buffer would not fit the address space, and the
    // PNG reader itself refuses it before the size check.
    let err = process_photo(&png_claiming(i32::MAX as u32, i32::MAX as u32)).unwrap_err();
    assert!(matches!(&err, ReportError::Undecodable { reason, .. } if reason.contains("limit")), "{err:?}");
}

#[test]
fn a_header_under_the_caps_that_lies_about_its_data_is_undecodable() {
    // 4000 x 3000 claimed over 2 x 2 pixels of data: passes the header check, fails the decode
    // (the decoder's own allocation limit bounds what it reserves meanwhile).
    let err = process_photo(&png_claiming(4000, 3000)).unwrap_err();
    assert!(matches!(err, ReportError::Undecodable { .. }), "{err:?}");
    // The JPEG decoder pads missing scan data; whatever it makes of it, it is a result, not a crash.
    if let Ok(p) = process_photo(&jpeg_claiming(4000, 3000)) {
        assert_eq!((p.width, p.height), (4000, 3000));
    }
}

#[test]
fn decodes_over_the_concurrency_cap_are_refused_as_busy() {
    assert_eq!(decode_slots().max(), MAX_CONCURRENT_DECODES);
    let slots = DecodeSlots::new(MAX_CONCURRENT_DECODES);
    let good = photo("street.jpg");
    let held: Vec<_> = (0..MAX_CONCURRENT_DECODES).map(|_| slots.try_acquire().unwrap()).collect();
    let err = process_photo_in(&good, &slots).unwrap_err();
    assert_eq!(err, ReportError::DecoderBusy { max: MAX_CONCURRENT_DECODES });
    assert_eq!(err.field(), "photo");
    assert_eq!(err.reason(), "photo-decoder-busy");
    // A bomb is still refused for what it is, before it would wait for a slot.
    let err = process_photo_in(&png_claiming(60_000, 60_000), &slots).unwrap_err();
    assert!(matches!(err, ReportError::PhotoTooManyPixels { .. }), "{err:?}");

    // A freed slot lets the next decode through, and its slot is returned afterwards.
    drop(held);
    let p = process_photo_in(&good, &slots).unwrap();
    assert!(p.width > 0 && !p.thumbnail.is_empty());
    assert_eq!(slots.in_use(), 0);
    // Failures return their slot too.
    assert!(process_photo_in(&png_claiming(4000, 3000), &slots).is_err());
    assert_eq!(slots.in_use(), 0);
}
