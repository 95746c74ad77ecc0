//! AIS 6-bit de-armouring and a bit reader over the result.
//!
//! Each payload character carries six bits, most significant first. The decoded bits live in a
//! fixed stack buffer so the hot path never allocates.

use super::AisError;

/// Most bits one message may carry: five slots of 168 bits is 840 data bits on air; real feeds
/// (and gpsd) accept up to 1008 after stuffing, so 1024 leaves headroom.
pub const MAX_BITS: usize = 1024;

const BUF_BYTES: usize = MAX_BITS / 8 + 1;

/// Value of one armoured character, or `None` when it is outside the alphabet.
#[inline]
pub fn sixbit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'W' => Some(c - b'0'),
        b'`'..=b'w' => Some(c - b'0' - 8),
        _ => None,
    }
}

/// A decoded bit string (MSB first). Bits past `len` always read as zero.
#[derive(Clone)]
pub struct Bits {
    buf: [u8; BUF_BYTES],
    len: usize,
}

impl Default for Bits {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bits").field("len", &self.len).finish_non_exhaustive()
    }
}

impl Bits {
    pub const fn new() -> Self {
        Self { buf: [0; BUF_BYTES], len: 0 }
    }

    /// De-armours one complete payload and drops its fill bits.
    pub fn from_armored(payload: &[u8], fill_bits: u8) -> Result<Self, AisError> {
        let mut bits = Self::new();
        bits.push_armored(payload)?;
        bits.drop_fill(fill_bits)?;
        Ok(bits)
    }

    pub const fn len(&self) -> usize {
        self.len
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the bits of armoured characters.
    pub fn push_armored(&mut self, payload: &[u8]) -> Result<(), AisError> {
        if self.len + payload.len() * 6 > MAX_BITS {
            return Err(AisError::PayloadTooLong { max: MAX_BITS });
        }
        for &c in payload {
            let v = sixbit_value(c).ok_or(AisError::BadArmor(c as char))?;
            let byte = self.len / 8;
            let off = self.len % 8;
            // Six bits placed at `off` span at most two bytes; 10 - off keeps them MSB-aligned.
            let x = u16::from(v) << (10 - off);
            self.buf[byte] |= (x >> 8) as u8;
            self.buf[byte + 1] |= x as u8;
            self.len += 6;
        }
        Ok(())
    }

    /// Removes `fill` padding bits from the end (the last field of an AIVDM sentence).
    pub fn drop_fill(&mut self, fill: u8) -> Result<(), AisError> {
        if fill > 5 || usize::from(fill) > self.len {
            return Err(AisError::BadFillBits(fill));
        }
        self.truncate(self.len - usize::from(fill));
        Ok(())
    }

    /// Shortens to `len` bits and clears what was cut so reads past the end stay zero.
    fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let first = len / 8;
        let keep = (len % 8) as u32;
        // Keep the top `keep` bits of the boundary byte.
        self.buf[first] &= 0xFFu8.checked_shl(8 - keep).unwrap_or(0);
        let end = (self.len / 8 + 1).min(BUF_BYTES);
        for b in &mut self.buf[first + 1..end] {
            *b = 0;
        }
        self.len = len;
    }

    /// Unsigned field of `width` ≤ 32 bits starting at bit `start`.
    #[inline]
    pub fn u(&self, start: usize, width: usize) -> u32 {
        debug_assert!(width <= 32);
        if width == 0 || start >= MAX_BITS {
            return 0;
        }
        let first = start / 8;
        let mut acc: u64 = 0;
        for i in 0..5 {
            acc = (acc << 8) | u64::from(*self.buf.get(first + i).unwrap_or(&0));
        }
        // acc holds 40 bits starting at byte `first`; the field begins `start % 8` bits in.
        let shift = 40 - (start % 8) - width;
        ((acc >> shift) & ((1u64 << width) - 1)) as u32
    }

    /// Two's-complement signed field of `width` ≤ 32 bits.
    #[inline]
    pub fn i(&self, start: usize, width: usize) -> i32 {
        let raw = self.u(start, width);
        if width == 0 || width >= 32 {
            return raw as i32;
        }
        let sign = 1u32 << (width - 1);
        if raw & sign != 0 {
            (raw as i64 - (1i64 << width)) as i32
        } else {
            raw as i32
        }
    }

    /// A single flag bit.
    #[inline]
    pub fn flag(&self, start: usize) -> bool {
        self.u(start, 1) != 0
    }

    /// Six-bit ASCII text of up to `chars` characters, read like gpsd: it ends at the first `@`
    /// (the padding character) or at the end of the bits, and trailing spaces are dropped.
    pub fn text(&self, start: usize, chars: usize) -> String {
        let mut s = String::with_capacity(chars);
        for k in 0..chars {
            let pos = start + 6 * k;
            if pos + 6 > self.len {
                break;
            }
            let v = self.u(pos, 6) as u8;
            if v == 0 {
                break;
            }
            s.push(char::from(if v < 32 { v + 64 } else { v }));
        }
        s.truncate(s.trim_end_matches(' ').len());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_edges() {
        assert_eq!(sixbit_value(b'0'), Some(0));
        assert_eq!(sixbit_value(b'W'), Some(39));
        assert_eq!(sixbit_value(b'`'), Some(40));
        assert_eq!(sixbit_value(b'w'), Some(63));
        assert_eq!(sixbit_value(b'X'), None);
        assert_eq!(sixbit_value(b'x'), None);
    }

    #[test]
    fn reads_fields_across_bytes() {
        // "w" = 111111, "0" = 000000, "1" = 000001
        let b = Bits::from_armored(b"w01", 0).expect("test input is valid");
        assert_eq!(b.len(), 18);
        assert_eq!(b.u(0, 6), 63);
        assert_eq!(b.u(4, 4), 0b1100);
        assert_eq!(b.u(12, 6), 1);
        assert_eq!(b.i(0, 6), -1);
        assert_eq!(b.i(12, 6), 1);
        // Past the end reads zero.
        assert_eq!(b.u(18, 32), 0);
    }

    #[test]
    fn fill_bits_are_cleared() {
        let b = Bits::from_armored(b"w", 4).expect("test input is valid");
        assert_eq!(b.len(), 2);
        assert_eq!(b.u(0, 6), 0b110000);
        assert!(matches!(Bits::from_armored(b"w", 6), Err(AisError::BadFillBits(6))));
        assert!(matches!(Bits::from_armored(b"", 1), Err(AisError::BadFillBits(1))));
    }

    #[test]
    fn text_stops_at_padding() {
        // "H" -> 24 ('X'), "0" -> 0 ('@'); "1" -> 1 ('A')
        let b = Bits::from_armored(b"H01", 0).expect("test input is valid");
        assert_eq!(b.text(0, 3), "X");
    }
}
