//! Protocol buffers wire format, the few pieces MVT needs: varints, zigzag, length-delimited fields.

/// Wire type of a varint field.
pub const VARINT: u8 = 0;
/// Wire type of an 8-byte field (double).
pub const FIXED64: u8 = 1;
/// Wire type of a length-delimited field (string, message, packed repeated).
pub const LEN: u8 = 2;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

pub fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, VARINT);
    put_varint(out, v);
}

pub fn put_bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub fn put_packed_field(out: &mut Vec<u8>, field: u32, values: &[u32], scratch: &mut Vec<u8>) {
    scratch.clear();
    for &v in values {
        put_varint(scratch, u64::from(v));
    }
    put_bytes_field(out, field, scratch);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_match_the_protobuf_examples() {
        // Examples from the protobuf encoding guide.
        let mut out = Vec::new();
        put_varint(&mut out, 150);
        assert_eq!(out, [0x96, 0x01]);
        out.clear();
        put_varint(&mut out, 1);
        assert_eq!(out, [0x01]);
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2), zigzag(2147483647)], [0, 1, 2, 3, 4294967294]);
        assert_eq!(zigzag(-2147483648), 4294967295);
    }
}
