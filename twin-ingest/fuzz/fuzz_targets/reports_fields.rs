//! Arbitrary bytes through the citizen-report parsers: the EXIF GPS reader (as a whole JPEG, PNG or
//! WebP file and as a bare TIFF block) and the form-field validators. Any panic is a bug, and a
//! position that comes out must be valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin_ingest::reports::{
    exif, parse_contact, parse_description, parse_location, sniff, Category, Channel, ReportStatus,
};

fuzz_target!(|data: &[u8]| {
    for bytes in [data, data.get(1..).unwrap_or_default()] {
        if let Ok(Some(p)) = exif::gps_position(bytes) {
            assert!(p.is_valid(), "{p:?}");
        }
        if let Ok(Some(p)) = exif::gps_from_tiff(bytes) {
            assert!(p.is_valid(), "{p:?}");
        }
    }
    let _ = sniff(data);
    let _ = parse_description(data);
    let _ = parse_contact(data);
    // First byte splits the rest into lon and lat.
    if let Some((&cut, rest)) = data.split_first() {
        let (lon, lat) = rest.split_at(usize::from(cut).min(rest.len()));
        if let Ok(Some(p)) = parse_location(Some(lon), Some(lat)) {
            assert!(p.is_valid(), "{p:?}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<Channel>();
        let _ = text.parse::<Category>();
        let _ = text.parse::<ReportStatus>();
    }
});
