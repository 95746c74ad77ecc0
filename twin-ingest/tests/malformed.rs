//! Malformed input: every rejection reason, garbage, truncation, fill bits, orphaned and
//! out-of-order fragments. Bad lines are reported and never stop the good ones.

use twin_core::Timestamp;
use twin_ingest::ais::{decode_text, AisError, AisMessage, Decoder};

mod common;
use common::with_checksum;

const GOOD: &str = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
// Real two-sentence type 5 (gpsd sample.aivdm).
const T5_1: &str = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C";
const T5_2: &str = "!AIVDM,2,2,1,A,88888888880,2*25";

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn one(line: &str) -> Result<AisMessage, AisError> {
    let mut d = Decoder::default();
    match d.push(line, t(0)) {
        Some(Ok(m)) => Ok(m.message),
        Some(Err(e)) => Err(e.error),
        None => panic!("no result for {line}"),
    }
}

#[test]
fn not_ais() {
    for line in
        ["$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D", "foobar", "!AI", "!12VDM,1"]
    {
        assert_eq!(one(line), Err(AisError::NotAis), "{line}");
    }
}

#[test]
fn checksum_missing_malformed_or_wrong() {
    assert_eq!(one("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0"), Err(AisError::MissingChecksum));
    assert_eq!(one("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4"), Err(AisError::MissingChecksum));
    assert_eq!(one("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*ZZ"), Err(AisError::MissingChecksum));
    // One payload character changed.
    let err = one("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CR,0*4A");
    assert!(matches!(err, Err(AisError::BadChecksum { given: 0x4A, computed }) if computed != 0x4A), "{err:?}");
}

#[test]
fn field_count() {
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ")), Err(AisError::BadFieldCount(6)));
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0,0")), Err(AisError::BadFieldCount(8)));
}

#[test]
fn bad_fields() {
    let cases = [
        ("AIVDM,0,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0", "fragment count"),
        ("AIVDM,1,2,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0", "fragment number"),
        ("AIVDM,2,1,12,A,15RTgt0PAso;90TKcjM8h6g208CQ,0", "sequence id"),
        ("AIVDM,1,1,,AB,15RTgt0PAso;90TKcjM8h6g208CQ,0", "channel"),
        ("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,x", "fill bits"),
    ];
    for (body, field) in cases {
        assert_eq!(one(&with_checksum(body)), Err(AisError::BadField(field)), "{body}");
    }
}

#[test]
fn bad_armour_character() {
    // 'x' lies past the end of the alphabet, 'X' in the gap between its two ranges.
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208Cx,0")), Err(AisError::BadArmor('x')));
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CX,0")), Err(AisError::BadArmor('X')));
}

#[test]
fn wrong_fill_bits() {
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,6")), Err(AisError::BadFillBits(6)));
    // More fill than payload.
    assert_eq!(one(&with_checksum("AIVDM,1,1,,A,,2")), Err(AisError::BadFillBits(2)));
    // Fill bits on a fragment that is not the last one.
    let mut d = Decoder::default();
    let line = with_checksum("AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,2");
    assert_eq!(d.push(&line, t(0)).and_then(Result::err).map(|e| e.error), Some(AisError::BadFillBits(2)));
}

#[test]
fn truncated_payloads() {
    assert_eq!(
        one(&with_checksum("AIVDM,1,1,,B,,0")),
        Err(AisError::TruncatedPayload { msg_type: 0, bits: 0, needed: 38 })
    );
    // The first 20 characters (120 bits) of a real type 1.
    assert_eq!(
        one(&with_checksum("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8,0")),
        Err(AisError::TruncatedPayload { msg_type: 1, bits: 120, needed: 149 })
    );
    // First fragment of a type 5 alone, sent as a complete message.
    let body = &T5_1[1..T5_1.len() - 3].replacen("2,1,1,A", "1,1,,A", 1);
    assert!(matches!(
        one(&with_checksum(body)),
        Err(AisError::TruncatedPayload { msg_type: 5, bits: 360, needed: 420 })
    ));
}

#[test]
fn payload_too_long() {
    let payload = "1".repeat(200);
    assert_eq!(one(&with_checksum(&format!("AIVDM,1,1,,A,{payload},0"))), Err(AisError::PayloadTooLong { max: 1024 }));
}

#[test]
fn bad_tag_blocks() {
    assert_eq!(one(&format!("\\s:rx1,c:1700000000*00{GOOD}")), Err(AisError::BadTagBlock("unterminated")));
    assert_eq!(one(&format!("\\s:rx1,c:1700000000*00\\{GOOD}")), Err(AisError::BadTagBlock("checksum mismatch")));
    assert_eq!(one(&format!("\\s:rx1\\{GOOD}")), Err(AisError::BadTagBlock("no checksum")));
    let inner = "s:rx1,c:soon";
    let cs = inner.bytes().fold(0u8, |a, c| a ^ c);
    assert_eq!(
        one(&format!("\\{inner}*{cs:02X}\\{GOOD}")),
        Err(AisError::BadTagBlock("receiver time is not a number"))
    );
}

#[test]
fn orphan_fragment_times_out() {
    let mut d = Decoder::new(5_000);
    assert!(d.push(T5_1, t(0)).is_none());
    // Still waiting at the timeout...
    d.expire(t(5_000));
    assert!(d.take_orphans().is_empty());
    // ...given up after it.
    assert!(d.push(GOOD, t(5_001)).is_some_and(|r| r.is_ok()));
    let orphans = d.take_orphans();
    assert_eq!(orphans.len(), 1);
    assert_eq!(orphans[0].error, AisError::OrphanFragments { seq: Some(1), channel: Some('A'), have: 1, total: 2 });
    // The late second fragment cannot complete anything; at the end of input it is an orphan too.
    assert!(d.push(T5_2, t(5_002)).is_none());
    assert_eq!(d.finish().len(), 1);
    assert_eq!(d.stats().rejected.get("orphan_fragments"), Some(&2));
    assert_eq!(d.stats().messages, 1);
}

#[test]
fn new_group_on_same_key_orphans_the_old_one() {
    let mut d = Decoder::default();
    assert!(d.push(T5_1, t(0)).is_none());
    assert!(d.push(T5_1, t(1)).is_none());
    assert_eq!(d.take_orphans().len(), 1);
    let done = d.push(T5_2, t(2)).and_then(Result::ok).expect("second group completes");
    assert_eq!(done.message.mmsi(), 351759000);
}

#[test]
fn out_of_order_fragments_reassemble() {
    let in_order = decode_text(&format!("{T5_1}\n{T5_2}\n"));
    let reversed = decode_text(&format!("{T5_2}\n{T5_1}\n"));
    assert_eq!(in_order.len(), 1);
    assert_eq!(reversed.len(), 1);
    let (a, b) = (in_order[0].as_ref().expect("decodes"), reversed[0].as_ref().expect("decodes"));
    assert_eq!(a.message, b.message);
    let AisMessage::StaticVoyage(m) = &a.message else { panic!("type 5 expected") };
    assert_eq!(m.shipname, "EVER DIADEM");
    assert_eq!(m.destination, "NEW YORK");
}

#[test]
fn interleaved_channels_do_not_mix() {
    // gpsd's channel multiplexing test: two groups with different sequence ids and channels.
    let text = "!AIVDM,2,1,6,B,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht50000000000,0*3B
!AIVDM,2,1,2,A,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht500000000000000,0*3C
!AIVDM,2,2,2,A,0000002,2*24
!AIVDM,2,2,6,B,00000000000,2*21";
    let out = decode_text(text);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.iter().all(|r| r.as_ref().is_ok_and(|d| d.message.msg_type() == 5)));
    assert_eq!(out[0].as_ref().map(|d| d.line).ok(), Some(3));
    assert_eq!(out[1].as_ref().map(|d| d.line).ok(), Some(4));
}

#[test]
fn garbage_between_good_lines_is_counted_not_fatal() {
    let text = format!("{GOOD}\n\u{0}\u{7f}garbage\n!AIVDM,1,1\n{GOOD}\n\n# comment\n{GOOD}\n");
    let mut d = Decoder::default();
    let mut ok = 0;
    let mut errors = Vec::new();
    for line in text.lines() {
        match d.push(line, t(0)) {
            Some(Ok(_)) => ok += 1,
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(d.stats().lines, 7);
    assert_eq!(d.stats().rejected_total(), 2);
}

#[test]
fn receiver_metadata_after_checksum_is_accepted() {
    // USCG-style suffix, from gpsd's sample.aivdm.
    let m = one("!AIVDM,1,1,,B,:6TMCD1GOS60,0*5B,s36310,d-081,T59.01777335").expect("decodes");
    assert_eq!(m.msg_type(), 10);
    assert!(matches!(m, AisMessage::Unsupported(_)));
}

#[test]
fn errors_render_as_cli_json() {
    let out = decode_text(&format!("{GOOD}\nfoobar\n"));
    let Some(Err(e)) = out.get(1) else { panic!("second line must fail") };
    let v = twin_ingest::ais::error_to_json(e);
    assert_eq!(v["line"], 2);
    assert_eq!(v["reason"], "not_ais");
    assert!(v["error"].as_str().is_some_and(|s| s.contains("not an AIS sentence")));
}
