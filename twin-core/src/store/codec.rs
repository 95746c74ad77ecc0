//! Hand-written binary primitives: little-endian integers and floats, length-prefixed UTF-8
//! strings, option tags and counted sequences. Decoding checks every length against the bytes that
//! are actually there, so garbage yields an error and never a panic or a huge allocation.

use thiserror::Error;

/// Why bytes could not be decoded. Offsets are relative to the start of the decoded buffer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("unexpected end of data at byte {at} (needed {needed} more)")]
    Eof { at: usize, needed: usize },
    #[error("invalid {what} tag {tag} at byte {at}")]
    Tag { what: &'static str, tag: u8, at: usize },
    #[error("invalid UTF-8 in string at byte {at}")]
    Utf8 { at: usize },
    #[error("{what} count {count} at byte {at} exceeds the remaining data")]
    Count { what: &'static str, count: u64, at: usize },
    #[error("invalid {what} at byte {at}")]
    Invalid { what: &'static str, at: usize },
    #[error("{count} trailing bytes after the value")]
    Trailing { count: usize },
}

/// Appends encoded values to a byte buffer. Encoding cannot fail.
pub(crate) struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Stored as raw bits, so every value (NaN payloads included) round-trips exactly.
    pub(crate) fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// Sequence lengths are u32. Nothing we encode comes near 4 G elements: log records are capped
    /// far below that before they are written.
    pub(crate) fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Length-prefixed raw bytes.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn opt<T>(&mut self, v: Option<T>, put: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                put(self, v);
            }
        }
    }
}

/// Reads encoded values from a byte slice, front to back.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes, raw.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.remaining() < n {
            return Err(CodecError::Eof { at: self.pos, needed: n - self.remaining() });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn bool(&mut self) -> Result<bool, CodecError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(CodecError::Tag { what: "bool", tag, at }),
        }
    }

    pub(crate) fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, CodecError> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// A sequence length whose elements take at least `min_elem_bytes` each; a count that cannot
    /// fit in the remaining bytes is refused before anything is allocated.
    pub(crate) fn count(&mut self, what: &'static str, min_elem_bytes: usize) -> Result<usize, CodecError> {
        let at = self.pos;
        let n = self.u32()? as usize;
        if n.saturating_mul(min_elem_bytes.max(1)) > self.remaining() {
            return Err(CodecError::Count { what, count: n as u64, at });
        }
        Ok(n)
    }

    pub(crate) fn str(&mut self) -> Result<String, CodecError> {
        let n = self.count("string byte", 1)?;
        let at = self.pos;
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(CodecError::Utf8 { at }),
        }
    }

    /// Length-prefixed raw bytes; the length is checked against the data before allocating.
    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>, CodecError> {
        let n = self.count("byte", 1)?;
        Ok(self.take(n)?.to_vec())
    }

    pub(crate) fn opt<T>(
        &mut self,
        get: impl FnOnce(&mut Self) -> Result<T, CodecError>,
    ) -> Result<Option<T>, CodecError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            tag => Err(CodecError::Tag { what: "option", tag, at }),
        }
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), CodecError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(CodecError::Trailing { count }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip() {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        w.u8(7);
        w.bool(true);
        w.u32(0xdead_beef);
        w.u16(0xbeef);
        w.bytes(&[1, 2, 3]);
        w.u64(u64::MAX - 1);
        w.i64(-42);
        w.f64(-0.0);
        w.str("Đà Nẵng");
        w.opt(Some(3.5), Writer::f64);
        w.opt(None::<f64>, Writer::f64);
        let mut r = Reader::new(&buf);
        assert_eq!(r.u8().unwrap(), 7);
        assert!(r.bool().unwrap());
        assert_eq!(r.u32().unwrap(), 0xdead_beef);
        assert_eq!(r.u16().unwrap(), 0xbeef);
        assert_eq!(r.bytes().unwrap(), vec![1, 2, 3]);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.i64().unwrap(), -42);
        assert_eq!(r.f64().unwrap().to_bits(), (-0.0f64).to_bits());
        assert_eq!(r.str().unwrap(), "Đà Nẵng");
        assert_eq!(r.opt(Reader::f64).unwrap(), Some(3.5));
        assert_eq!(r.opt(Reader::f64).unwrap(), None);
        r.finish().unwrap();
    }

    #[test]
    fn huge_count_is_refused_without_allocating() {
        let buf = u32::MAX.to_le_bytes();
        let err = Reader::new(&buf).str().unwrap_err();
        assert!(matches!(err, CodecError::Count { .. }), "{err}");
        let err = Reader::new(&buf).bytes().unwrap_err();
        assert!(matches!(err, CodecError::Count { .. }), "{err}");
    }

    #[test]
    fn bad_tags_and_utf8_are_errors() {
        assert!(matches!(Reader::new(&[2]).bool(), Err(CodecError::Tag { .. })));
        assert!(matches!(Reader::new(&[9]).opt(Reader::u8), Err(CodecError::Tag { .. })));
        let mut buf = Vec::new();
        Writer::new(&mut buf).u32(2);
        buf.extend_from_slice(&[0xff, 0xfe]);
        assert!(matches!(Reader::new(&buf).str(), Err(CodecError::Utf8 { at: 4 })));
        assert!(matches!(Reader::new(&[1, 2]).u32(), Err(CodecError::Eof { at: 0, needed: 2 })));
    }
}
