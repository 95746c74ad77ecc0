//! Single-use, short-lived tickets for browser WebSocket and SSE connections, which cannot send an
//! `Authorization` header: the page gets a ticket with its bearer token, then opens
//! `/ws?ticket=…` within the ticket's lifetime. In memory, bounded: when full, the oldest ticket
//! is dropped.

use std::collections::{HashMap, VecDeque};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use twin_core::Timestamp;

use crate::policy::Principal;

/// Prefix of every ticket.
pub const TICKET_PREFIX: &str = "ctt_";
/// Length of a ticket: the prefix and 256 random bits in base64url.
pub const TICKET_LEN: usize = TICKET_PREFIX.len() + 43;

/// A ticket as handed to the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket(String);

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket(..)")
    }
}

impl Ticket {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("not a ticket")]
    Malformed,
    /// Unknown, already used, evicted or expired: one answer for all.
    #[error("ticket unknown, used or expired")]
    Invalid,
    #[error("tickets are for signed-in accounts")]
    Anonymous,
}

/// Check a presented ticket's shape (prefix, length, alphabet) before any lookup. Never panics.
pub fn parse_ticket(s: &str) -> Result<&str, TicketError> {
    let body = s.strip_prefix(TICKET_PREFIX).ok_or(TicketError::Malformed)?;
    if s.len() != TICKET_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(TicketError::Malformed);
    }
    // Canonical base64url of exactly 32 bytes (last character carries 4 zero bits).
    match URL_SAFE_NO_PAD.decode(body) {
        Ok(bytes) if bytes.len() == 32 => Ok(s),
        _ => Err(TicketError::Malformed),
    }
}

type Key = [u8; 32];

fn key_of(ticket: &str) -> Key {
    Sha256::digest(ticket.as_bytes()).into()
}

/// Outstanding tickets.
#[derive(Debug)]
pub struct TicketStore {
    ttl_ms: i64,
    max: usize,
    live: HashMap<Key, (Principal, i64)>,
    /// Issue order, for eviction; may hold keys already redeemed (compacted when it grows).
    order: VecDeque<Key>,
}

impl TicketStore {
    /// Tickets live `ttl_s` seconds; at most `max` are outstanding.
    pub fn new(ttl_s: u32, max: usize) -> Self {
        Self { ttl_ms: i64::from(ttl_s) * 1000, max: max.max(1), live: HashMap::new(), order: VecDeque::new() }
    }

    /// A new ticket for `principal`, valid until `now + ttl`.
    pub fn issue<R: RngCore + CryptoRng>(
        &mut self,
        principal: &Principal,
        now: Timestamp,
        rng: &mut R,
    ) -> Result<Ticket, TicketError> {
        if principal.is_anonymous() {
            return Err(TicketError::Anonymous);
        }
        let now = now.as_millis();
        if self.live.len() >= self.max {
            self.live.retain(|_, (_, exp)| *exp > now);
        }
        while self.live.len() >= self.max {
            match self.order.pop_front() {
                Some(k) => {
                    self.live.remove(&k);
                }
                None => break,
            }
        }
        if self.order.len() > 2 * self.max {
            let live = &self.live;
            self.order.retain(|k| live.contains_key(k));
        }
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let ticket = format!("{TICKET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let key = key_of(&ticket);
        self.live.insert(key, (principal.clone(), now.saturating_add(self.ttl_ms)));
        self.order.push_back(key);
        Ok(Ticket(ticket))
    }

    /// Exchange a ticket for its principal, once. Valid while `now < issued + ttl`.
    pub fn redeem(&mut self, ticket: &str, now: Timestamp) -> Result<Principal, TicketError> {
        let ticket = parse_ticket(ticket)?;
        match self.live.remove(&key_of(ticket)) {
            Some((p, exp)) if now.as_millis() < exp => Ok(p),
            _ => Err(TicketError::Invalid),
        }
    }

    /// Outstanding tickets (some may have expired since the last issue).
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}
