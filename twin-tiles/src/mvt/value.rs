//! Attribute values: owned ([`MvtValue`]) and borrowed ([`Val`]) forms, their `Value` message, and
//! the small hasher of the layer's dedup tables.

use super::wire::{self, put_bytes_field, put_key, put_varint_field, FIXED64};

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum MvtValue {
    String(String),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl From<&str> for MvtValue {
    fn from(s: &str) -> Self {
        MvtValue::String(s.to_owned())
    }
}
impl From<String> for MvtValue {
    fn from(s: String) -> Self {
        MvtValue::String(s)
    }
}
impl From<f64> for MvtValue {
    fn from(v: f64) -> Self {
        MvtValue::Double(v)
    }
}
impl From<i64> for MvtValue {
    fn from(v: i64) -> Self {
        MvtValue::Int(v)
    }
}
impl From<u64> for MvtValue {
    fn from(v: u64) -> Self {
        MvtValue::Uint(v)
    }
}
impl From<bool> for MvtValue {
    fn from(v: bool) -> Self {
        MvtValue::Bool(v)
    }
}

/// A borrowed attribute value: what `LayerBuilder` takes on its fast path (no allocation unless the
/// value is new to the layer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    Str(&'a str),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl MvtValue {
    pub fn as_val(&self) -> Val<'_> {
        match self {
            MvtValue::String(s) => Val::Str(s),
            MvtValue::Double(d) => Val::Double(*d),
            MvtValue::Int(i) => Val::Int(*i),
            MvtValue::Uint(u) => Val::Uint(*u),
            MvtValue::Bool(b) => Val::Bool(*b),
        }
    }
}

impl Val<'_> {
    /// Identity of a non-string value in the dedup table: (type tag, bits).
    pub(crate) fn num_key(&self) -> (u8, u64) {
        match self {
            Val::Str(_) => (0, 0),
            Val::Double(d) => (1, d.to_bits()),
            // A non-negative int is written as uint_value: the same Value as the equal Uint.
            Val::Int(i) if *i >= 0 => (3, *i as u64),
            Val::Int(i) => (2, *i as u64),
            Val::Uint(u) => (3, *u),
            Val::Bool(b) => (4, u64::from(*b)),
        }
    }

    /// The `Value` message.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Val::Str(s) => put_bytes_field(out, 1, s.as_bytes()),
            Val::Double(d) => {
                put_key(out, 3, FIXED64);
                out.extend_from_slice(&d.to_le_bytes());
            }
            // Negative integers go in sint_value (zigzag) so they stay short; others in uint_value.
            Val::Int(i) if *i < 0 => put_varint_field(out, 6, wire::zigzag(*i)),
            Val::Int(i) => put_varint_field(out, 5, *i as u64),
            Val::Uint(u) => put_varint_field(out, 5, *u),
            Val::Bool(b) => put_varint_field(out, 7, u64::from(*b)),
        }
    }
}

/// A small multiplicative hasher for the dedup tables (keys are short and not adversarial: they
/// come from our own model and layers).
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;
