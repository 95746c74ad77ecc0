//! One report photo: its type by magic bytes (never the client's content type or file name), a full
//! decode as proof that it is an image, a JPEG thumbnail, its SHA-256 and its EXIF GPS position.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use twin_core::Position;

use super::{
    exif, ReportError, MAX_CONCURRENT_DECODES, MAX_DECODE_ALLOC, MAX_PHOTO_BYTES, MAX_PHOTO_EDGE, MAX_PHOTO_PIXELS,
    THUMBNAIL_EDGE,
};

const THUMBNAIL_QUALITY: u8 = 80;

/// Decodes in progress, with a ceiling. Over it a caller is refused at once rather than queued:
/// a burst of uploads must not stack up decode buffers.
#[derive(Debug)]
pub struct DecodeSlots {
    in_use: AtomicUsize,
    max: usize,
}

/// One decode in progress; dropping it frees the slot (also on a panic in the decoder).
#[derive(Debug)]
pub struct DecodeSlot<'a>(&'a DecodeSlots);

impl DecodeSlots {
    pub const fn new(max: usize) -> Self {
        Self { in_use: AtomicUsize::new(0), max }
    }

    /// A slot, or [`ReportError::DecoderBusy`] when all are taken.
    pub fn try_acquire(&self) -> Result<DecodeSlot<'_>, ReportError> {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max).then_some(n + 1))
            .map(|_| DecodeSlot(self))
            .map_err(|_| ReportError::DecoderBusy { max: self.max })
    }

    /// Decodes running now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

impl Drop for DecodeSlot<'_> {
    fn drop(&mut self) {
        self.0.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The process-wide decode slots that [`process_photo`] takes from.
static DECODES: DecodeSlots = DecodeSlots::new(MAX_CONCURRENT_DECODES);

/// The slots [`process_photo`] uses (for metrics).
pub fn decode_slots() -> &'static DecodeSlots {
    &DECODES
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
    WebP,
}

impl PhotoFormat {
    /// File extension of stored photos.
    pub const fn extension(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "jpg",
            PhotoFormat::Png => "png",
            PhotoFormat::WebP => "webp",
        }
    }
    pub const fn mime(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Png => "image/png",
            PhotoFormat::WebP => "image/webp",
        }
    }
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "jpg" => Some(PhotoFormat::Jpeg),
            "png" => Some(PhotoFormat::Png),
            "webp" => Some(PhotoFormat::WebP),
            _ => None,
        }
    }
    fn image_format(self) -> ImageFormat {
        match self {
            PhotoFormat::Jpeg => ImageFormat::Jpeg,
            PhotoFormat::Png => ImageFormat::Png,
            PhotoFormat::WebP => ImageFormat::WebP,
        }
    }
}

/// The format from the first bytes, or `None` for anything but JPEG, PNG and WebP.
pub fn sniff(bytes: &[u8]) -> Option<PhotoFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PhotoFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(PhotoFormat::WebP)
    } else {
        None
    }
}

/// A photo that decoded, ready to store.
#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub format: PhotoFormat,
    /// Lower-case hex SHA-256 of the original bytes: the content address.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// JPEG, longest edge at most [`THUMBNAIL_EDGE`].
    pub thumbnail: Vec<u8>,
    /// From EXIF; `None` when absent or unreadable (a bad EXIF block does not spoil the photo).
    pub gps: Option<Position>,
}

/// A start-of-scan marker followed, somewhere later, by an end-of-image marker. Entropy-coded data
/// stuffs every 0xFF with 0x00, so a real `FF D9` is the only way to get one; bytes after it (motion
/// photos, maker trailers) are allowed.
fn jpeg_has_scan_and_end(bytes: &[u8]) -> bool {
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]);
    let eoi = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((sos, eoi), (Some(s), Some(e)) if s < e)
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Width and height as the photo's header states them, read without decoding the pixels.
pub fn photo_dimensions(bytes: &[u8], format: PhotoFormat) -> Result<(u32, u32), ReportError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    reader.into_dimensions().map_err(|e| ReportError::Undecodable { format: format.mime(), reason: e.to_string() })
}

/// Checks size and type, decodes the whole image, makes the thumbnail and reads EXIF GPS.
/// Takes one of the process-wide decode slots ([`MAX_CONCURRENT_DECODES`]).
pub fn process_photo(bytes: &[u8]) -> Result<ProcessedPhoto, ReportError> {
    process_photo_in(bytes, &DECODES)
}

/// [`process_photo`] with the decode taking a slot of `slots`.
pub fn process_photo_in(bytes: &[u8], slots: &DecodeSlots) -> Result<ProcessedPhoto, ReportError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(ReportError::PhotoTooLarge { max: MAX_PHOTO_BYTES });
    }
    let format = sniff(bytes).ok_or(ReportError::UnsupportedType)?;
    let undecodable = |e: image::ImageError| ReportError::Undecodable { format: format.mime(), reason: e.to_string() };
    if format == PhotoFormat::Jpeg && !jpeg_has_scan_and_end(bytes) {
        // The JPEG decoder pads a cut-off file with grey; an upload cut short must not pass.
        return Err(ReportError::Undecodable {
            format: format.mime(),
            reason: "truncated: no scan or no end marker".into(),
        });
    }
    // The header's claim first: a bomb is refused before a pixel buffer exists.
    let (width, height) = photo_dimensions(bytes, format)?;
    if width > MAX_PHOTO_EDGE || height > MAX_PHOTO_EDGE || u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(ReportError::PhotoTooManyPixels { width, height });
    }
    let _slot = slots.try_acquire()?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PHOTO_EDGE);
    limits.max_image_height = Some(MAX_PHOTO_EDGE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(undecodable)?;
    let thumb = img.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE).to_rgb8();
    let mut thumbnail = Vec::new();
    JpegEncoder::new_with_quality(&mut thumbnail, THUMBNAIL_QUALITY)
        .encode_image(&thumb)
        .map_err(|e| ReportError::Thumbnail(e.to_string()))?;
    Ok(ProcessedPhoto {
        format,
        sha256: sha256_hex(bytes),
        width: img.width(),
        height: img.height(),
        thumbnail,
        gps: exif::gps_position(bytes).ok().flatten(),
    })
}
