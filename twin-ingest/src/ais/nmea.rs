//! NMEA 0183 `!xxVDM` / `!xxVDO` sentence parsing: checksum, fields and NMEA 4.10 tag blocks.
//!
//! Parsing borrows from the input line; nothing is allocated.

use super::AisError;

/// Receiver metadata from an NMEA 4.10 tag block (`\s:station,c:1700000000*hh\`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagBlock<'a> {
    /// `s:` source / station identifier.
    pub source: Option<&'a str>,
    /// `c:` receiver time in milliseconds since the Unix epoch (seconds are converted).
    pub time_ms: Option<i64>,
}

/// One parsed AIVDM/AIVDO sentence (possibly one fragment of a longer message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// Talker id, e.g. `AI`, `BS`, `SA`.
    pub talker: [u8; 2],
    /// `VDO`: the receiver's own ship rather than another vessel.
    pub own_ship: bool,
    /// Number of fragments in the message (1..=9).
    pub total: u8,
    /// This fragment's number (1..=total).
    pub number: u8,
    /// Sequential message id tying fragments together (empty for single-sentence messages).
    pub seq_id: Option<u8>,
    /// Radio channel (`A`, `B`, `1`, `2`), if given.
    pub channel: Option<u8>,
    /// Armoured payload characters.
    pub payload: &'a [u8],
    pub fill_bits: u8,
    pub tag: TagBlock<'a>,
}

/// Receiver times at or above this are taken as milliseconds (1e11 s would be the year 5138).
const MS_THRESHOLD: i64 = 100_000_000_000;

/// Parses one line. Leading/trailing whitespace (CR/LF) is ignored.
pub fn parse_sentence(line: &str) -> Result<Sentence<'_>, AisError> {
    let mut rest = line.trim();
    let mut tag = TagBlock::default();
    if let Some(after) = rest.strip_prefix('\\') {
        let end = after.find('\\').ok_or(AisError::BadTagBlock("unterminated"))?;
        tag = parse_tag_block(&after[..end])?;
        rest = &after[end + 1..];
    }
    parse_body(rest.as_bytes(), tag)
}

fn parse_body<'a>(s: &'a [u8], tag: TagBlock<'a>) -> Result<Sentence<'a>, AisError> {
    // "!AIVDM," is the shortest possible prefix.
    if s.len() < 7 || s[0] != b'!' || &s[3..5] != b"VD" || !(s[5] == b'M' || s[5] == b'O') {
        return Err(AisError::NotAis);
    }
    if !s[1].is_ascii_alphabetic() || !s[2].is_ascii_alphabetic() {
        return Err(AisError::NotAis);
    }
    // '*' is not in the armouring alphabet, so the first one starts the checksum.
    let star = s.iter().position(|&c| c == b'*').ok_or(AisError::MissingChecksum)?;
    let given = parse_hex2(&s[star + 1..]).ok_or(AisError::MissingChecksum)?;
    let computed = s[1..star].iter().fold(0u8, |acc, &c| acc ^ c);
    if given != computed {
        return Err(AisError::BadChecksum { given, computed });
    }
    let body = &s[..star];
    let mut fields: [&[u8]; 7] = [&[]; 7];
    let mut count = 0;
    for f in body.split(|&c| c == b',') {
        if count < 7 {
            fields[count] = f;
        }
        count += 1;
    }
    if count != 7 {
        return Err(AisError::BadFieldCount(count));
    }
    let total = single_digit(fields[1]).filter(|t| (1..=9).contains(t)).ok_or(AisError::BadField("fragment count"))?;
    let number =
        single_digit(fields[2]).filter(|n| (1..=total).contains(n)).ok_or(AisError::BadField("fragment number"))?;
    let seq_id = match fields[3] {
        [] => None,
        f => Some(single_digit(f).ok_or(AisError::BadField("sequence id"))?),
    };
    let channel = match fields[4] {
        [] => None,
        [c] if c.is_ascii_alphanumeric() => Some(*c),
        _ => return Err(AisError::BadField("channel")),
    };
    let fill_bits = match fields[6] {
        [d] if d.is_ascii_digit() => d - b'0',
        _ => return Err(AisError::BadField("fill bits")),
    };
    if fill_bits > 5 {
        return Err(AisError::BadFillBits(fill_bits));
    }
    Ok(Sentence {
        talker: [s[1], s[2]],
        own_ship: s[5] == b'O',
        total,
        number,
        seq_id,
        channel,
        payload: fields[5],
        fill_bits,
        tag,
    })
}

/// Parses the inside of `\...\`: comma-separated `k:v` pairs, then `*hh`.
fn parse_tag_block(inner: &str) -> Result<TagBlock<'_>, AisError> {
    let (body, cs) = inner.rsplit_once('*').ok_or(AisError::BadTagBlock("no checksum"))?;
    let given = u8::from_str_radix(cs, 16).map_err(|_| AisError::BadTagBlock("malformed checksum"))?;
    if cs.len() > 2 || body.bytes().fold(0u8, |a, c| a ^ c) != given {
        return Err(AisError::BadTagBlock("checksum mismatch"));
    }
    let mut tag = TagBlock::default();
    for kv in body.split(',') {
        let (k, v) = kv.split_once(':').ok_or(AisError::BadTagBlock("field without ':'"))?;
        match k {
            "s" => tag.source = Some(v),
            "c" => {
                let t: i64 = v.parse().map_err(|_| AisError::BadTagBlock("receiver time is not a number"))?;
                tag.time_ms = Some(if t >= MS_THRESHOLD { t } else { t.saturating_mul(1000) });
            }
            // Grouping (g), line count (n), destination (d), text (t) etc. are not needed here.
            _ => {}
        }
    }
    Ok(tag)
}

fn single_digit(f: &[u8]) -> Option<u8> {
    match f {
        [d] if d.is_ascii_digit() => Some(d - b'0'),
        _ => None,
    }
}

/// Two hex digits. Whatever follows is ignored, like gpsd does: networks append receiver
/// metadata after the checksum (`*5B,s36310,d-081,T59.01`), and the checksum still covers
/// the whole sentence body.
fn parse_hex2(s: &[u8]) -> Option<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    match s {
        [a, b, ..] => Some(hex(*a)? << 4 | hex(*b)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields() {
        let s = parse_sentence("!AIVDM,2,1,3,B,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\r\n");
        // Checksum of this variant is not 1C (sequence id changed), so it must be rejected.
        assert!(matches!(s, Err(AisError::BadChecksum { given: 0x1C, .. })));
        let s = parse_sentence("!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C")
            .expect("test input is valid");
        assert_eq!((s.total, s.number, s.seq_id, s.channel), (2, 1, Some(1), Some(b'A')));
        assert_eq!(s.fill_bits, 0);
        assert!(!s.own_ship);
        assert_eq!(&s.talker, b"AI");
    }

    #[test]
    fn tag_block_time_and_source() {
        let line = r"\g:1-2-27300,n:636994,s:b003669710,c:1428621738*5F\!SAVDM,2,1,2,B,55Mw@A7J1adAL@?;7WPl58F0U<h4pB222222220t1PN5553fN4g?`4iSp5Rc,0*26";
        let s = parse_sentence(line).expect("test input is valid");
        assert_eq!(s.tag.source, Some("b003669710"));
        assert_eq!(s.tag.time_ms, Some(1_428_621_738_000));
        assert_eq!(&s.talker, b"SA");
    }

    #[test]
    fn tag_block_millisecond_time() {
        let inner = "s:rx1,c:1700000000123";
        let cs = inner.bytes().fold(0u8, |a, c| a ^ c);
        let line = format!("\\{inner}*{cs:02X}\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A");
        let s = parse_sentence(&line).expect("test input is valid");
        assert_eq!(s.tag.time_ms, Some(1_700_000_000_123));
        assert_eq!(s.tag.source, Some("rx1"));
    }
}
