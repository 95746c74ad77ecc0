//! A line-oriented streaming decoder with line numbers and per-reason counters.

use std::collections::BTreeMap;

use twin_core::Timestamp;

use super::assembler::{Assembler, DEFAULT_TIMEOUT_MS};
use super::decode::decode_bits;
use super::messages::AisMessage;
use super::nmea::parse_sentence;
use super::AisError;

/// A decoded message and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// 1-based number of the line that completed the message.
    pub line: u64,
    pub message: AisMessage,
    /// Receiver time from the tag block (`c:`), in ms since the epoch.
    pub receiver_time_ms: Option<i64>,
    /// Receiver / station from the tag block (`s:`).
    pub station: Option<String>,
    /// `!xxVDO`: the receiving ship's own report.
    pub own_ship: bool,
}

/// A line (or, for orphans, the group that started on `line`) that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct DecodeError {
    pub line: u64,
    pub error: AisError,
}

/// Counters for feed health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Lines seen, including blank and comment lines.
    pub lines: u64,
    /// Messages decoded (supported and unsupported types).
    pub messages: u64,
    /// Of `messages`, those of a type not decoded field by field.
    pub unsupported: u64,
    /// Rejections by [`AisError::reason`], orphaned fragment groups included.
    pub rejected: BTreeMap<&'static str, u64>,
}

impl DecoderStats {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Feeds lines in, gets messages out. Blank lines and `#` comments are skipped silently.
#[derive(Debug)]
pub struct Decoder {
    assembler: Assembler,
    line: u64,
    stats: DecoderStats,
    orphans: Vec<DecodeError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_TIMEOUT_MS)
    }
}

impl Decoder {
    /// `fragment_timeout_ms`: how long a multi-sentence message may take to complete.
    pub fn new(fragment_timeout_ms: i64) -> Self {
        Self {
            assembler: Assembler::new(fragment_timeout_ms),
            line: 0,
            stats: DecoderStats::default(),
            orphans: Vec::new(),
        }
    }

    pub fn stats(&self) -> &DecoderStats {
        &self.stats
    }

    /// Decodes one line received at `now`. `None` for skipped lines and for fragments that do
    /// not complete a message yet. Orphaned groups found meanwhile are queued for
    /// [`Decoder::take_orphans`].
    pub fn push(&mut self, line: &str, now: Timestamp) -> Option<Result<Decoded, DecodeError>> {
        self.line += 1;
        self.stats.lines += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        let result = self.decode_line(trimmed, now);
        self.collect_orphans();
        match result {
            Ok(None) => None,
            Ok(Some(d)) => {
                self.stats.messages += 1;
                if matches!(d.message, AisMessage::Unsupported(_)) {
                    self.stats.unsupported += 1;
                }
                Some(Ok(d))
            }
            Err(error) => {
                *self.stats.rejected.entry(error.reason()).or_default() += 1;
                Some(Err(DecodeError { line: self.line, error }))
            }
        }
    }

    fn decode_line(&mut self, line: &str, now: Timestamp) -> Result<Option<Decoded>, AisError> {
        let sentence = parse_sentence(line)?;
        let Some((bits, meta)) = self.assembler.push(&sentence, now.as_millis())? else {
            return Ok(None);
        };
        let message = decode_bits(&bits)?;
        Ok(Some(Decoded {
            line: self.line,
            message,
            receiver_time_ms: meta.time_ms,
            station: meta.source,
            own_ship: sentence.own_ship,
        }))
    }

    fn collect_orphans(&mut self) {
        for error in self.assembler.take_orphans() {
            *self.stats.rejected.entry(error.reason()).or_default() += 1;
            self.orphans.push(DecodeError { line: self.line, error });
        }
    }

    /// Drops groups that timed out by `now` (call it when the feed is idle).
    pub fn expire(&mut self, now: Timestamp) {
        self.assembler.expire(now.as_millis());
        self.collect_orphans();
    }

    /// End of input: every incomplete group becomes an orphan.
    pub fn finish(&mut self) -> Vec<DecodeError> {
        self.assembler.flush();
        self.collect_orphans();
        self.take_orphans()
    }

    /// Orphaned groups reported since the last call (the line is where they were found).
    pub fn take_orphans(&mut self) -> Vec<DecodeError> {
        std::mem::take(&mut self.orphans)
    }
}

/// Decodes a whole text (a capture file): every line, then orphans at the end. Lines carry no
/// arrival time here, so each is taken to arrive at its tag-block time when it has one, else at
/// the time of the previous line.
pub fn decode_text(text: &str) -> Vec<Result<Decoded, DecodeError>> {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    let mut now = Timestamp::from_millis(0);
    for line in text.lines() {
        if let Some(t) = line_time(line) {
            now = t;
        }
        if let Some(r) = decoder.push(line, now) {
            out.push(r);
        }
        out.extend(decoder.take_orphans().into_iter().map(Err));
    }
    out.extend(decoder.finish().into_iter().map(Err));
    out
}

/// Receiver time of a tagged line, cheaply and without validating the sentence.
fn line_time(line: &str) -> Option<Timestamp> {
    let s = parse_sentence(line).ok()?;
    s.tag.time_ms.map(Timestamp::from_millis)
}
