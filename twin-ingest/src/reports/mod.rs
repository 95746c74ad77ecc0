//! Citizen reports (1022 hotline, app, Zalo, Facebook, web): validation of the form fields, photo
//! sniffing, decoding and thumbnails, EXIF GPS. Pure functions over bytes; storage and HTTP live
//! in the server.

pub mod exif;
mod fields;
pub mod photo;

pub use exif::{gps_position, ExifError};
pub use fields::{parse_contact, parse_coordinate, parse_description, parse_location, Category, Channel, ReportStatus};
pub use photo::{
    decode_slots, photo_dimensions, process_photo, process_photo_in, sniff, DecodeSlot, DecodeSlots, PhotoFormat,
    ProcessedPhoto,
};

/// Most photos one report may carry.
pub const MAX_PHOTOS: usize = 5;
/// Largest photo file, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 << 20;
/// Longest description, in characters (not bytes: Vietnamese letters take 2–3 bytes).
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest reporter contact, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;
/// Longest edge of a thumbnail, in pixels.
pub const THUMBNAIL_EDGE: u32 = 256;
/// Longest edge of a photo, in pixels, read from its header before it is decoded.
pub const MAX_PHOTO_EDGE: u32 = 16_384;
/// Most pixels of a photo (50 MP, what the best phone cameras take), read from its header: a small
/// file that claims a huge image (a decompression bomb) is refused before anything is allocated.
pub const MAX_PHOTO_PIXELS: u64 = 50_000_000;
/// Largest buffer one decode may allocate: a photo at the pixel cap in 8-bit RGBA fits.
pub const MAX_DECODE_ALLOC: u64 = 256 << 20;
/// Photos decoded at once in this process; with [`MAX_DECODE_ALLOC`] this bounds decoding memory.
pub const MAX_CONCURRENT_DECODES: usize = 2;

/// Why a report or one of its fields was refused. `field()` names the offending form field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("unknown channel `{0}` (expected hotline_1022, app, zalo, facebook or web)")]
    UnknownChannel(String),
    #[error(
        "unknown category `{0}` (expected traffic_jam, flooding, environment, fire, accident, infrastructure or other)"
    )]
    UnknownCategory(String),
    #[error("unknown status `{0}` (expected new, acknowledged, dispatched or resolved)")]
    UnknownStatus(String),
    #[error("field `{0}` is not valid UTF-8")]
    NotUtf8(&'static str),
    #[error("field `{field}` is too long ({len} characters, at most {max})")]
    TooLong { field: &'static str, len: usize, max: usize },
    #[error("field `{0}` contains control characters")]
    ControlCharacters(&'static str),
    #[error("field `{field}`: {reason}")]
    BadCoordinate { field: &'static str, reason: String },
    #[error("give both `lon` and `lat`, or neither")]
    HalfLocation,
    #[error("photo is not a JPEG, PNG or WebP file")]
    UnsupportedType,
    #[error("photo is larger than {max} bytes")]
    PhotoTooLarge { max: usize },
    #[error("at most {max} photos per report")]
    TooManyPhotos { max: usize },
    #[error(
        "photo is {width} x {height} pixels; at most {edge} per edge and {pixels} in all",
        edge = MAX_PHOTO_EDGE,
        pixels = MAX_PHOTO_PIXELS
    )]
    PhotoTooManyPixels { width: u32, height: u32 },
    #[error("{max} photos are being decoded already; retry shortly")]
    DecoderBusy { max: usize },
    #[error("photo does not decode as {format}: {reason}")]
    Undecodable { format: &'static str, reason: String },
    #[error("no location: give `lon` and `lat`, or attach a photo with EXIF GPS")]
    NoLocation,
    #[error("thumbnail could not be encoded: {0}")]
    Thumbnail(String),
}

impl ReportError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::Missing(f)
            | ReportError::NotUtf8(f)
            | ReportError::ControlCharacters(f)
            | ReportError::TooLong { field: f, .. }
            | ReportError::BadCoordinate { field: f, .. } => f,
            ReportError::UnknownChannel(_) => "channel",
            ReportError::UnknownCategory(_) => "category",
            ReportError::UnknownStatus(_) => "status",
            ReportError::HalfLocation | ReportError::NoLocation => "lon/lat",
            ReportError::UnsupportedType
            | ReportError::PhotoTooLarge { .. }
            | ReportError::TooManyPhotos { .. }
            | ReportError::PhotoTooManyPixels { .. }
            | ReportError::DecoderBusy { .. }
            | ReportError::Undecodable { .. }
            | ReportError::Thumbnail(_) => "photo",
        }
    }

    /// Short machine-readable reason, for counters and problem types.
    pub fn reason(&self) -> &'static str {
        match self {
            ReportError::Missing(_) => "missing-field",
            ReportError::UnknownChannel(_) => "unknown-channel",
            ReportError::UnknownCategory(_) => "unknown-category",
            ReportError::UnknownStatus(_) => "unknown-status",
            ReportError::NotUtf8(_) => "not-utf8",
            ReportError::TooLong { .. } => "too-long",
            ReportError::ControlCharacters(_) => "control-characters",
            ReportError::BadCoordinate { .. } => "invalid-coordinate",
            ReportError::HalfLocation => "half-location",
            ReportError::UnsupportedType => "unsupported-media-type",
            ReportError::PhotoTooLarge { .. } => "photo-too-large",
            ReportError::TooManyPhotos { .. } => "too-many-photos",
            ReportError::PhotoTooManyPixels { .. } => "photo-too-many-pixels",
            ReportError::DecoderBusy { .. } => "photo-decoder-busy",
            ReportError::Undecodable { .. } => "undecodable-photo",
            ReportError::NoLocation => "no-location",
            ReportError::Thumbnail(_) => "thumbnail-failed",
        }
    }
}
