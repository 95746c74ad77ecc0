//! Citizen-report fields, photos and EXIF GPS. The GPS positions in the test photos were written by
//! exiftool (an independent EXIF writer); the photos themselves were drawn by ImageMagick.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::PathBuf;

use twin_ingest::reports::{
    gps_position, parse_contact, parse_description, parse_location, process_photo, sniff, Category, Channel,
    PhotoFormat, ReportError, ReportStatus, MAX_PHOTO_BYTES, THUMBNAIL_EDGE,
};

fn photo(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/reports").join(name);
    std::fs::read(p).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn exif_gps_from_jpeg_matches_exiftool() {
    // exiftool -GPSLatitude=16.061111 N -GPSLongitude=108.227222 E (big-endian TIFF)
    let p = gps_position(&photo("flood.jpg")).unwrap().unwrap();
    assert!(close(p.lat, 16.061111) && close(p.lon, 108.227222), "{p:?}");
}

#[test]
fn exif_gps_from_webp_and_png_honours_refs() {
    let p = gps_position(&photo("street.webp")).unwrap().unwrap();
    assert!(close(p.lat, -33.8688) && close(p.lon, -151.2093), "{p:?}");
    let p = gps_position(&photo("street.png")).unwrap().unwrap();
    assert!(close(p.lat, 16.0) && close(p.lon, 108.25), "{p:?}");
}

#[test]
fn photo_without_exif_has_no_position() {
    assert_eq!(gps_position(&photo("street.jpg")).unwrap(), None);
    assert_eq!(gps_position(b"not an image").unwrap(), None);
}

#[test]
fn truncated_exif_is_an_error_not_a_panic() {
    let jpeg = photo("flood.jpg");
    for cut in (0..jpeg.len().min(600)).step_by(7) {
        let _ = gps_position(&jpeg[..cut]);
    }
    // An APP1 segment whose TIFF header is garbage.
    let mut forged = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0E];
    forged.extend_from_slice(b"Exif\0\0XXXXXX");
    assert!(gps_position(&forged).is_err());
}

#[test]
fn sniffs_by_magic_bytes_not_name() {
    assert_eq!(sniff(&photo("street.jpg")), Some(PhotoFormat::Jpeg));
    assert_eq!(sniff(&photo("street.png")), Some(PhotoFormat::Png));
    assert_eq!(sniff(&photo("street.webp")), Some(PhotoFormat::WebP));
    // A GIF saved with a .jpg name.
    assert_eq!(sniff(&photo("gif_named.jpg")), None);
    assert_eq!(process_photo(&photo("gif_named.jpg")).unwrap_err(), ReportError::UnsupportedType);
}

#[test]
fn every_format_decodes_with_a_small_thumbnail() {
    for (name, w, h) in [("street.jpg", 640, 480), ("street.png", 300, 200), ("street.webp", 300, 200)] {
        let p = process_photo(&photo(name)).unwrap();
        assert_eq!((p.width, p.height), (w, h), "{name}");
        let thumb = image::load_from_memory_with_format(&p.thumbnail, image::ImageFormat::Jpeg).unwrap();
        assert!(thumb.width() <= THUMBNAIL_EDGE && thumb.height() <= THUMBNAIL_EDGE, "{name}");
        // Aspect ratio kept (to a pixel).
        let expected_h = f64::from(thumb.width()) * f64::from(h) / f64::from(w);
        assert!((f64::from(thumb.height()) - expected_h).abs() <= 1.0, "{name}");
    }
}

#[test]
fn content_hash_is_sha256_of_the_file() {
    let bytes = photo("street.jpg");
    let p = process_photo(&bytes).unwrap();
    // From coreutils: `sha256sum twin-ingest/tests/data/reports/street.jpg`.
    assert_eq!(p.sha256, "02d0c4335dcba6bb24fe7b53b9e118fbb10862329aa6edcc3e9e2ffb341ecee7");
    let other = process_photo(&photo("flood.jpg")).unwrap();
    assert_ne!(p.sha256, other.sha256);
    assert!(other.gps.is_some());
}

#[test]
fn corrupt_and_oversize_photos_are_refused() {
    let err = process_photo(&photo("corrupt.jpg")).unwrap_err();
    assert!(matches!(err, ReportError::Undecodable { .. }), "{err:?}");
    let mut huge = photo("street.jpg");
    huge.resize(MAX_PHOTO_BYTES + 1, 0);
    assert!(matches!(process_photo(&huge).unwrap_err(), ReportError::PhotoTooLarge { .. }));
    // Magic bytes alone are not an image.
    let err = process_photo(b"\xFF\xD8\xFF\xE0 nothing else").unwrap_err();
    assert!(matches!(err, ReportError::Undecodable { .. }), "{err:?}");
}

#[test]
fn vocabularies_parse_and_refuse_unknown_words() {
    for c in Channel::ALL {
        assert_eq!(c.as_str().parse::<Channel>().unwrap(), *c);
    }
    for c in Category::ALL {
        assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
    }
    for s in ReportStatus::ALL {
        assert_eq!(s.as_str().parse::<ReportStatus>().unwrap(), *s);
    }
    assert_eq!("tiktok".parse::<Channel>().unwrap_err().field(), "channel");
    assert_eq!("earthquake".parse::<Category>().unwrap_err().field(), "category");
    assert_eq!("closed".parse::<ReportStatus>().unwrap_err().field(), "status");
}

#[test]
fn vietnamese_description_round_trips_and_limits_count_characters() {
    let text = "Ngập sâu 40 cm trên đường Nguyễn Văn Linh, xe máy chết máy.\nCần hỗ trợ gấp!";
    assert_eq!(parse_description(text.as_bytes()).unwrap(), text);
    // 2000 Vietnamese letters are more than 2000 bytes but within the limit.
    let long = "ư".repeat(2000);
    assert!(long.len() > 2000);
    assert_eq!(parse_description(long.as_bytes()).unwrap(), long);
    let err = parse_description("ư".repeat(2001).as_bytes()).unwrap_err();
    assert!(matches!(err, ReportError::TooLong { field: "description", len: 2001, .. }));
    assert_eq!(parse_description(b"ng\xE1\xBB p").unwrap_err(), ReportError::NotUtf8("description"));
    assert_eq!(parse_description(b"   ").unwrap_err(), ReportError::Missing("description"));
    assert_eq!(parse_description(b"a\x07b").unwrap_err(), ReportError::ControlCharacters("description"));
    assert_eq!(parse_contact(b"  ").unwrap(), None);
    assert_eq!(parse_contact("0905 123 456".as_bytes()).unwrap().as_deref(), Some("0905 123 456"));
}

#[test]
fn location_needs_both_valid_coordinates() {
    let p = parse_location(Some(b"108.2208"), Some(b" 16.0678 ")).unwrap().unwrap();
    assert!(close(p.lon, 108.2208) && close(p.lat, 16.0678));
    assert_eq!(parse_location(None, None).unwrap(), None);
    assert_eq!(parse_location(Some(b""), Some(b"")).unwrap(), None);
    assert_eq!(parse_location(Some(b"108.2"), None).unwrap_err(), ReportError::HalfLocation);
    assert_eq!(parse_location(Some(b"108.2"), Some(b"95")).unwrap_err().field(), "lat");
    assert_eq!(parse_location(Some(b"east"), Some(b"16")).unwrap_err().field(), "lon");
    assert_eq!(parse_location(Some(b"NaN"), Some(b"16")).unwrap_err().field(), "lon");
}
