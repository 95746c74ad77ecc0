//! A small EXIF reader for the GPS position of a photo: finds the TIFF block (JPEG APP1 `Exif`,
//! PNG `eXIf`, WebP `EXIF` chunk), follows IFD0's GPS pointer (tag 0x8825) and reads
//! GPSLatitudeRef/GPSLatitude/GPSLongitudeRef/GPSLongitude (degrees, minutes, seconds rationals).
//! Every offset is bounds-checked: the input is untrusted.

use twin_core::Position;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExifError {
    #[error("EXIF block is truncated")]
    Truncated,
    #[error("not a TIFF header")]
    BadHeader,
    #[error("GPS rational has a zero denominator")]
    ZeroDenominator,
    #[error("GPS reference `{0}` is not N/S/E/W")]
    BadRef(char),
    #[error("GPS position out of range")]
    OutOfRange,
}

const GPS_IFD_POINTER: u16 = 0x8825;
const TYPE_ASCII: u16 = 2;
const TYPE_RATIONAL: u16 = 5;
/// IFDs larger than this are not photos' metadata; stops loops over forged counts.
const MAX_ENTRIES: usize = 1024;

/// The GPS position stored in the photo's EXIF, if any. `Ok(None)`: no EXIF or no GPS tags.
pub fn gps_position(image: &[u8]) -> Result<Option<Position>, ExifError> {
    match find_tiff(image) {
        Some(tiff) => gps_from_tiff(tiff),
        None => Ok(None),
    }
}

/// The TIFF block of the EXIF metadata of a JPEG, PNG or WebP file.
pub fn find_tiff(image: &[u8]) -> Option<&[u8]> {
    if image.starts_with(&[0xFF, 0xD8]) {
        jpeg_tiff(image)
    } else if image.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_tiff(image)
    } else if image.len() >= 12 && &image[..4] == b"RIFF" && &image[8..12] == b"WEBP" {
        webp_tiff(image)
    } else {
        None
    }
}

fn jpeg_tiff(b: &[u8]) -> Option<&[u8]> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        // Start of scan or end of image: metadata segments come before.
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let seg = b.get(i + 4..i + 2 + len.max(2))?;
        if marker == 0xE1 && seg.starts_with(b"Exif\0\0") {
            return Some(&seg[6..]);
        }
        i += 2 + len.max(2);
    }
    None
}

fn png_tiff(b: &[u8]) -> Option<&[u8]> {
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let data = b.get(i + 8..(i + 8).checked_add(len)?)?;
        match &b[i + 4..i + 8] {
            b"eXIf" => return Some(data),
            b"IDAT" | b"IEND" => return None,
            _ => {}
        }
        i = i.checked_add(12 + len)?;
    }
    None
}

fn webp_tiff(b: &[u8]) -> Option<&[u8]> {
    let mut i = 12;
    while i + 8 <= b.len() {
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let data = b.get(i + 8..(i + 8).checked_add(len)?)?;
        if &b[i..i + 4] == b"EXIF" {
            // Some writers keep the JPEG-style `Exif\0\0` prefix.
            return Some(data.strip_prefix(b"Exif\0\0").unwrap_or(data));
        }
        // Chunks are padded to an even length.
        i = i.checked_add(8 + len + (len & 1))?;
    }
    None
}

/// Byte-order aware reads from a TIFF block.
struct Tiff<'a> {
    b: &'a [u8],
    le: bool,
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Result<u16, ExifError> {
        let s = self.b.get(at..at + 2).ok_or(ExifError::Truncated)?;
        Ok(if self.le { u16::from_le_bytes([s[0], s[1]]) } else { u16::from_be_bytes([s[0], s[1]]) })
    }
    fn u32(&self, at: usize) -> Result<u32, ExifError> {
        let s = self.b.get(at..at + 4).ok_or(ExifError::Truncated)?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if self.le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }
    /// (tag, type, count, offset of the 4-byte value field) of every entry of the IFD at `at`.
    fn entries(&self, at: usize) -> Result<Vec<(u16, u16, u32, usize)>, ExifError> {
        let n = usize::from(self.u16(at)?).min(MAX_ENTRIES);
        (0..n)
            .map(|k| {
                let e = at + 2 + 12 * k;
                Ok((self.u16(e)?, self.u16(e + 2)?, self.u32(e + 4)?, e + 8))
            })
            .collect()
    }
    /// Degrees from three unsigned rationals (degrees, minutes, seconds) at the offset in `value`.
    fn dms(&self, value: usize) -> Result<f64, ExifError> {
        let at = self.u32(value)? as usize;
        let mut parts = [0.0; 3];
        for (k, p) in parts.iter_mut().enumerate() {
            let num = self.u32(at + 8 * k)?;
            let den = self.u32(at + 8 * k + 4)?;
            if den == 0 {
                return Err(ExifError::ZeroDenominator);
            }
            *p = f64::from(num) / f64::from(den);
        }
        Ok(parts[0] + parts[1] / 60.0 + parts[2] / 3600.0)
    }
}

/// The GPS position of a TIFF block (the body of an EXIF segment).
pub fn gps_from_tiff(b: &[u8]) -> Result<Option<Position>, ExifError> {
    let le = match b.get(..4) {
        Some([b'I', b'I', 42, 0]) => true,
        Some([b'M', b'M', 0, 42]) => false,
        Some(_) => return Err(ExifError::BadHeader),
        None => return Err(ExifError::Truncated),
    };
    let t = Tiff { b, le };
    let ifd0 = t.u32(4)? as usize;
    let Some(gps_at) = t.entries(ifd0)?.into_iter().find(|e| e.0 == GPS_IFD_POINTER) else {
        return Ok(None);
    };
    let gps = t.u32(gps_at.3)? as usize;
    let (mut lat, mut lon, mut lat_ref, mut lon_ref) = (None, None, None, None);
    for (tag, ty, count, value) in t.entries(gps)? {
        match (tag, ty) {
            // Refs are two ASCII bytes ("N\0"), stored inline in the value field.
            (1, TYPE_ASCII) if count >= 1 => lat_ref = b.get(value).map(|&c| char::from(c)),
            (3, TYPE_ASCII) if count >= 1 => lon_ref = b.get(value).map(|&c| char::from(c)),
            (2, TYPE_RATIONAL) if count >= 3 => lat = Some(t.dms(value)?),
            (4, TYPE_RATIONAL) if count >= 3 => lon = Some(t.dms(value)?),
            _ => {}
        }
    }
    let (Some(mut lat), Some(mut lon)) = (lat, lon) else {
        return Ok(None);
    };
    match lat_ref.unwrap_or('N') {
        'N' => {}
        'S' => lat = -lat,
        c => return Err(ExifError::BadRef(c)),
    }
    match lon_ref.unwrap_or('E') {
        'E' => {}
        'W' => lon = -lon,
        c => return Err(ExifError::BadRef(c)),
    }
    let p = Position::new(lon, lat);
    if !p.is_valid() {
        return Err(ExifError::OutOfRange);
    }
    Ok(Some(p))
}
