//! Reassembly of multi-sentence messages, keyed by (sequence id, channel).
//!
//! Pure: the caller passes the current time in. Fragments may arrive out of order; a group that
//! is not complete within the timeout, or that is displaced by a new group on the same key, is
//! reported as an orphan.

use super::armor::{sixbit_value, Bits};
use super::nmea::Sentence;
use super::AisError;

/// How long a partial group may wait for its remaining fragments.
pub const DEFAULT_TIMEOUT_MS: i64 = 10_000;
/// Bound on concurrently pending groups (sequence ids are 0..=9 per channel, so real feeds need
/// far fewer); the oldest is dropped beyond it.
pub const MAX_PENDING: usize = 64;

/// Receiver metadata carried from a fragment's tag block to the finished message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub time_ms: Option<i64>,
    pub source: Option<String>,
}

#[derive(Debug)]
struct Pending {
    seq: Option<u8>,
    channel: Option<u8>,
    total: u8,
    /// Bit i set when fragment i+1 has arrived.
    received: u16,
    first_seen_ms: i64,
    parts: Vec<Vec<u8>>,
    fill_bits: u8,
    meta: Meta,
}

impl Pending {
    fn orphan_error(&self) -> AisError {
        AisError::OrphanFragments {
            seq: self.seq,
            channel: self.channel.map(char::from),
            have: self.received.count_ones() as u8,
            total: self.total,
        }
    }
}

/// Collects fragments until a message is complete.
#[derive(Debug)]
pub struct Assembler {
    pending: Vec<Pending>,
    timeout_ms: i64,
    orphans: Vec<AisError>,
}

impl Default for Assembler {
    fn default() -> Self {
        Self::new(DEFAULT_TIMEOUT_MS)
    }
}

impl Assembler {
    pub fn new(timeout_ms: i64) -> Self {
        Self { pending: Vec::new(), timeout_ms, orphans: Vec::new() }
    }

    /// Number of incomplete groups waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds a sentence. Returns the message bits when this sentence completes one, `None` while
    /// fragments are still missing. Single-sentence messages never touch the state.
    pub fn push(&mut self, s: &Sentence<'_>, now_ms: i64) -> Result<Option<(Bits, Meta)>, AisError> {
        if !self.pending.is_empty() {
            self.expire(now_ms);
        }
        if s.total == 1 {
            let bits = Bits::from_armored(s.payload, s.fill_bits)?;
            let meta = Meta { time_ms: s.tag.time_ms, source: s.tag.source.map(str::to_owned) };
            return Ok(Some((bits, meta)));
        }
        // Check a fragment on arrival so a bad one is reported on its own line.
        if let Some(&c) = s.payload.iter().find(|&&c| sixbit_value(c).is_none()) {
            return Err(AisError::BadArmor(c as char));
        }
        if s.number < s.total && s.fill_bits != 0 {
            return Err(AisError::BadFillBits(s.fill_bits));
        }
        let bit = 1u16 << (s.number - 1);
        let idx = self.pending.iter().position(|p| p.seq == s.seq_id && p.channel == s.channel);
        let idx = match idx {
            Some(i) if self.pending[i].total == s.total && self.pending[i].received & bit == 0 => i,
            other => {
                if let Some(i) = other {
                    // A fragment we already have, or a different count: the old group is dead.
                    let dead = self.pending.remove(i);
                    self.orphans.push(dead.orphan_error());
                }
                if self.pending.len() >= MAX_PENDING {
                    let dead = self.pending.remove(0);
                    self.orphans.push(dead.orphan_error());
                }
                self.pending.push(Pending {
                    seq: s.seq_id,
                    channel: s.channel,
                    total: s.total,
                    received: 0,
                    first_seen_ms: now_ms,
                    parts: vec![Vec::new(); usize::from(s.total)],
                    fill_bits: 0,
                    meta: Meta::default(),
                });
                self.pending.len() - 1
            }
        };
        let p = &mut self.pending[idx];
        p.received |= bit;
        p.parts[usize::from(s.number - 1)] = s.payload.to_vec();
        if s.number == s.total {
            p.fill_bits = s.fill_bits;
        }
        if p.meta.time_ms.is_none() {
            p.meta.time_ms = s.tag.time_ms;
        }
        if p.meta.source.is_none() {
            p.meta.source = s.tag.source.map(str::to_owned);
        }
        if p.received.count_ones() < u32::from(p.total) {
            return Ok(None);
        }
        let done = self.pending.remove(idx);
        let mut bits = Bits::new();
        for part in &done.parts {
            bits.push_armored(part)?;
        }
        bits.drop_fill(done.fill_bits)?;
        Ok(Some((bits, done.meta)))
    }

    /// Drops groups older than the timeout; they become orphans.
    pub fn expire(&mut self, now_ms: i64) {
        let timeout = self.timeout_ms;
        let orphans = &mut self.orphans;
        self.pending.retain(|p| {
            let alive = now_ms.saturating_sub(p.first_seen_ms) <= timeout;
            if !alive {
                orphans.push(p.orphan_error());
            }
            alive
        });
    }

    /// Gives up on every pending group (end of input).
    pub fn flush(&mut self) {
        for p in self.pending.drain(..) {
            self.orphans.push(p.orphan_error());
        }
    }

    /// Orphans found since the last call.
    pub fn take_orphans(&mut self) -> Vec<AisError> {
        std::mem::take(&mut self.orphans)
    }
}
