//! Login rate limiting: one token bucket per account name and one per client address, time passed
//! in. Memory is bounded: each table holds at most `max_keys` buckets. When a table is full, a
//! bucket that has refilled completely is dropped first (forgetting it changes nothing); failing
//! that, the fullest one, so a flood of new names or addresses evicts the least restricted key and
//! never the one under attack.

use std::collections::HashMap;
use std::net::IpAddr;

use twin_core::Timestamp;

/// One bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketConfig {
    /// Attempts allowed in a burst.
    pub burst: u32,
    /// Milliseconds to earn one attempt back.
    pub refill_ms: u32,
}

/// Limits for [`LoginLimiter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterConfig {
    pub per_account: BucketConfig,
    pub per_address: BucketConfig,
    /// Buckets per table.
    pub max_keys: usize,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            // 5 tries, then one every 20 s per account; 30, then one every 2 s per address.
            per_account: BucketConfig { burst: 5, refill_ms: 20_000 },
            per_address: BucketConfig { burst: 30, refill_ms: 2_000 },
            max_keys: 10_000,
        }
    }
}

/// One attempt, in bucket units.
const UNIT: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens in millionths of an attempt, so partial refills are kept.
    micro: u64,
    at: i64,
}

impl Bucket {
    fn level(&self, cfg: BucketConfig, now: i64) -> u64 {
        let full = u64::from(cfg.burst) * UNIT;
        let elapsed = u64::try_from(now.saturating_sub(self.at)).unwrap_or(0);
        let earned = elapsed.saturating_mul(UNIT) / u64::from(cfg.refill_ms.max(1));
        self.micro.saturating_add(earned).min(full)
    }
}

#[derive(Debug, Clone)]
struct Table {
    cfg: BucketConfig,
    max_keys: usize,
    buckets: HashMap<String, Bucket>,
}

impl Table {
    fn new(cfg: BucketConfig, max_keys: usize) -> Self {
        Self { cfg, max_keys: max_keys.max(1), buckets: HashMap::new() }
    }

    /// Milliseconds until one attempt is available (0: available now).
    fn wait_ms(&self, key: &str, now: i64) -> u64 {
        let Some(b) = self.buckets.get(key) else { return 0 };
        let level = b.level(self.cfg, now);
        if level >= UNIT {
            0
        } else {
            ((UNIT - level) * u64::from(self.cfg.refill_ms.max(1))).div_ceil(UNIT)
        }
    }

    fn take(&mut self, key: &str, now: i64) {
        let cfg = self.cfg;
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_keys {
            self.evict(now);
        }
        let b = self.buckets.entry(key.to_owned()).or_insert(Bucket { micro: u64::from(cfg.burst) * UNIT, at: now });
        let level = b.level(cfg, now);
        *b = Bucket { micro: level.saturating_sub(UNIT), at: now.max(b.at) };
    }

    fn evict(&mut self, now: i64) {
        let full = u64::from(self.cfg.burst) * UNIT;
        let cfg = self.cfg;
        self.buckets.retain(|_, b| b.level(cfg, now) < full);
        if self.buckets.len() >= self.max_keys {
            let fullest = self.buckets.iter().max_by_key(|(_, b)| b.level(cfg, now)).map(|(k, _)| k.clone());
            if let Some(k) = fullest {
                self.buckets.remove(&k);
            }
        }
    }
}

/// Refused: try again after this many milliseconds (for `Retry-After`, rounded up to seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many login attempts; retry in {retry_after_ms} ms")]
pub struct RateLimited {
    pub retry_after_ms: u64,
}

/// Per-account and per-address login limiter.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    accounts: Table,
    addresses: Table,
}

/// Long names are cut: the key only has to tell accounts apart, and this bounds memory.
fn account_key(account: &str) -> String {
    account.chars().take(crate::limits::MAX_USERNAME_LEN).collect()
}

/// The key of an address: IPv4 as is, IPv6 by its /64 (one host usually owns a whole /64).
fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl LoginLimiter {
    pub fn new(cfg: LimiterConfig) -> Self {
        Self {
            accounts: Table::new(cfg.per_account, cfg.max_keys),
            addresses: Table::new(cfg.per_address, cfg.max_keys),
        }
    }

    /// Count one login attempt for `account` from `addr` at `now`; refused when either bucket is
    /// empty (a refused attempt costs nothing). Call before checking the password.
    pub fn attempt(&mut self, account: &str, addr: IpAddr, now: Timestamp) -> Result<(), RateLimited> {
        let now = now.as_millis();
        let account = account_key(account);
        let addr = address_key(addr);
        let wait = self.accounts.wait_ms(&account, now).max(self.addresses.wait_ms(&addr, now));
        if wait > 0 {
            return Err(RateLimited { retry_after_ms: wait });
        }
        self.accounts.take(&account, now);
        self.addresses.take(&addr, now);
        Ok(())
    }

    /// Forget an account's failures after a successful login.
    pub fn succeeded(&mut self, account: &str) {
        self.accounts.buckets.remove(&account_key(account));
    }

    /// Buckets held (accounts, addresses).
    pub fn len(&self) -> (usize, usize) {
        (self.accounts.buckets.len(), self.addresses.buckets.len())
    }
}
