//! [`Access`]: the pieces of this crate assembled behind one shared handle for a server — the
//! policy, the account store (reloaded when its file changes), the token service, tickets, the
//! login limiter and a cache of verified access tokens.
//!
//! Still no clock and no async runtime: every call takes `now`. Locks are held briefly; password
//! hashing (argon2, tens of milliseconds) runs under the token service's lock only, so logins are
//! serialised but requests carrying a token never wait for one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use rand::rngs::OsRng;
use rand::RngCore;
use twin_core::Timestamp;

use crate::jwt::{self, parse_bearer, SigningKey, TokenError};
use crate::oauth::{OAuthError, TokenRequest, TokenResponse, TokenService};
use crate::policy::{Policy, Principal};
use crate::ratelimit::{LimiterConfig, LoginLimiter};
use crate::ticket::{Ticket, TicketError, TicketStore};
use crate::users::{UserError, UserStore};
use crate::AuthSettings;

/// File names in the data directory.
pub const USERS_FILE: &str = "users.json";
pub const KEY_FILE: &str = "auth.key";

/// Verified tokens kept; the cache is emptied when it is full (tokens live minutes, so a miss only
/// costs one signature check).
pub const MAX_CACHED_TOKENS: usize = 16_384;
/// Refresh tokens and tickets outstanding at once.
pub const MAX_REFRESH_TOKENS: usize = 100_000;
pub const MAX_TICKETS: usize = 10_000;

/// Errors of [`Access::open`] and of reloading the account store.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Users(#[from] UserError),
    #[error("signing key {path}: {source}")]
    Key { path: String, source: std::io::Error },
    #[error("signing key {path} is not {} bytes", SigningKey::LEN)]
    BadKey { path: String },
}

struct Cached {
    principal: Arc<Principal>,
    expires_s: i64,
}

struct Users {
    store: UserStore,
    modified: Option<SystemTime>,
}

/// Shared identity and access state of one server.
pub struct Access {
    policy: Policy,
    settings: AuthSettings,
    /// Verification needs only the key; the token service (refresh tokens) has its own lock.
    key: SigningKey,
    users_path: Option<PathBuf>,
    users: RwLock<Users>,
    tokens: Mutex<TokenService>,
    tickets: Mutex<TicketStore>,
    limiter: Mutex<LoginLimiter>,
    cache: RwLock<HashMap<Box<str>, Cached>>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").field("users_path", &self.users_path).finish_non_exhaustive()
    }
}

/// The server's signing key from `<data_dir>/auth.key`, created (owner-only) on first start.
pub fn load_or_create_key(data_dir: &Path) -> Result<SigningKey, AccessError> {
    let path = data_dir.join(KEY_FILE);
    let err = |source| AccessError::Key { path: path.display().to_string(), source };
    match std::fs::read(&path) {
        Ok(bytes) => {
            SigningKey::from_bytes(&bytes).map_err(|_| AccessError::BadKey { path: path.display().to_string() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut OsRng);
            crate::users::write_atomic(&path, key.as_bytes()).map_err(err)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
            }
            Ok(key)
        }
        Err(e) => Err(err(e)),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Access {
    /// Over the accounts in `<data_dir>/users.json` and the key in `<data_dir>/auth.key`.
    pub fn open(data_dir: &Path, policy: Policy, settings: AuthSettings) -> Result<Self, AccessError> {
        let key = load_or_create_key(data_dir)?;
        let path = data_dir.join(USERS_FILE);
        let store = UserStore::load(&path)?;
        let mut access = Self::new(policy, settings, key, store);
        access.users_path = Some(path.clone());
        access.users.get_mut().unwrap_or_else(PoisonError::into_inner).modified = modified(&path);
        Ok(access)
    }

    /// Over an in-memory account store (tests, tools).
    pub fn new(policy: Policy, settings: AuthSettings, key: SigningKey, store: UserStore) -> Self {
        Self {
            tokens: Mutex::new(TokenService::new(key.clone(), &settings, MAX_REFRESH_TOKENS)),
            tickets: Mutex::new(TicketStore::new(settings.ticket_ttl_s, MAX_TICKETS)),
            limiter: Mutex::new(LoginLimiter::new(LimiterConfig::default())),
            cache: RwLock::new(HashMap::new()),
            users: RwLock::new(Users { store, modified: None }),
            users_path: None,
            policy,
            settings,
            key,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The caller without credentials.
    pub fn anonymous(&self) -> Principal {
        self.policy.anonymous()
    }

    /// Accounts that are enabled admins.
    pub fn admins(&self) -> usize {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        users.store.list().filter(|a| a.role == crate::Role::Admin && !a.disabled).count()
    }

    /// Re-read the account store if its file changed (`citytwin users …` on a running server).
    /// Cached tokens are dropped, and refresh tokens of disabled or removed accounts revoked, so a
    /// disable applies to the next request. Returns whether anything was reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, AccessError> {
        let Some(path) = &self.users_path else { return Ok(false) };
        let now_modified = modified(path);
        if now_modified == self.users.read().unwrap_or_else(PoisonError::into_inner).modified {
            return Ok(false);
        }
        let store = UserStore::load(path)?;
        {
            let mut tokens = lock(&self.tokens);
            for a in self.users.read().unwrap_or_else(PoisonError::into_inner).store.list() {
                if store.get(&a.name).is_none_or(|n| n.disabled) {
                    tokens.revoke_account(&a.name);
                }
            }
        }
        *self.users.write().unwrap_or_else(PoisonError::into_inner) = Users { store, modified: now_modified };
        self.cache.write().unwrap_or_else(PoisonError::into_inner).clear();
        Ok(true)
    }

    /// `POST /auth/token`: a parsed token request from `addr`.
    pub fn token(&self, req: &TokenRequest, addr: IpAddr, now: Timestamp) -> Result<TokenResponse, OAuthError> {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        let mut limiter = lock(&self.limiter);
        // The limiter's lock is released by grant's end; argon2 runs inside, serialising logins.
        lock(&self.tokens).grant(req, &users.store, &self.policy, &mut limiter, addr, now, &mut OsRng)
    }

    /// The principal of an `Authorization` header: the token verified, its account still enabled,
    /// with the account's current role and agency. Cached per token until it expires.
    pub fn authenticate(&self, header_value: &str, now: Timestamp) -> Result<Arc<Principal>, TokenError> {
        let token = parse_bearer(header_value)?;
        let now_s = jwt::unix_seconds(now);
        if let Some(c) = self.cache.read().unwrap_or_else(PoisonError::into_inner).get(token) {
            if now_s < c.expires_s {
                return Ok(c.principal.clone());
            }
        }
        let claims = jwt::verify(&self.key, token, &self.settings.issuer, now)?;
        let principal = {
            let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
            let a = users.store.get(&claims.sub).filter(|a| !a.disabled).ok_or(TokenError::AccountGone)?;
            self.policy.principal(&a.name, a.role, a.agency.as_ref(), &a.sources).map_err(|_| TokenError::BadClaims)?
        };
        let principal = Arc::new(principal);
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_TOKENS {
            cache.clear();
        }
        cache.insert(token.into(), Cached { principal: principal.clone(), expires_s: claims.exp });
        Ok(principal)
    }

    /// Seconds until the access token in `header_value` expires (a live session ends then).
    pub fn expires_in(&self, header_value: &str, now: Timestamp) -> Option<i64> {
        let token = parse_bearer(header_value).ok()?;
        let claims = jwt::verify(&self.key, token, &self.settings.issuer, now).ok()?;
        Some(claims.exp - jwt::unix_seconds(now))
    }

    /// The agency of the account behind an actor (`user:NAME`, `device:NAME`), as configured now.
    pub fn agency_of_actor(&self, actor: &str) -> Option<twin_core::AgencyId> {
        let name = actor.split_once(':').map_or(actor, |(_, n)| n);
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        users.store.get(name).and_then(|a| a.agency.clone())
    }

    /// A device or client by its secret (OsmAnd `key=`, Basic auth, MQTT login).
    pub fn device(&self, name: &str, secret: &str) -> Result<Principal, UserError> {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        let a = users.store.verify_secret(name, secret)?;
        self.policy.principal(&a.name, a.role, a.agency.as_ref(), &a.sources).map_err(|_| UserError::InvalidCredentials)
    }

    /// `POST /auth/ticket`: a single-use ticket for a WebSocket or SSE connection.
    pub fn ticket(&self, principal: &Principal, now: Timestamp) -> Result<Ticket, TicketError> {
        lock(&self.tickets).issue(principal, now, &mut OsRng)
    }

    /// Redeem a ticket once.
    pub fn redeem(&self, ticket: &str, now: Timestamp) -> Result<Principal, TicketError> {
        lock(&self.tickets).redeem(ticket, now)
    }

    /// A fresh random string (e.g. an internal broker password).
    pub fn random_secret() -> String {
        let mut bytes = [0u8; 24];
        OsRng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{danang_demo, Role};
    use std::net::Ipv4Addr;

    fn access() -> Access {
        let policy = Policy::new(&danang_demo().unwrap()).unwrap();
        let mut store = UserStore::new();
        store.add_user("leader", Role::Leader, None, "correct horse", &mut OsRng).unwrap();
        Access::new(policy, AuthSettings::default(), SigningKey::generate(&mut OsRng), store)
    }

    const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);
    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn password_token_authenticates_until_it_expires() {
        let a = access();
        let req = TokenRequest::Password { username: "leader".into(), password: "correct horse".into() };
        let t = a.token(&req, LOCAL, NOW).unwrap();
        let header = format!("Bearer {}", t.access_token);
        let p = a.authenticate(&header, NOW).unwrap();
        assert_eq!(p.role(), Some(Role::Leader));
        // Cached: the same principal again.
        assert!(Arc::ptr_eq(&p, &a.authenticate(&header, NOW).unwrap()));
        let later = Timestamp::from_millis(NOW.as_millis() + i64::from(t.expires_in) * 1000 + 1000);
        assert!(matches!(a.authenticate(&header, later), Err(TokenError::Expired)));
        let wrong = TokenRequest::Password { username: "leader".into(), password: "wrong horse".into() };
        assert_eq!(a.token(&wrong, LOCAL, NOW), Err(OAuthError::InvalidGrant));
    }

    #[test]
    fn reload_applies_a_disable_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Policy::new(&danang_demo().unwrap()).unwrap();
        let mut store = UserStore::new();
        store.add_user("leader", Role::Leader, None, "correct horse", &mut OsRng).unwrap();
        store.save(&dir.path().join(USERS_FILE)).unwrap();
        let a = Access::open(dir.path(), policy, AuthSettings::default()).unwrap();
        assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap().len(), SigningKey::LEN);
        let req = TokenRequest::Password { username: "leader".into(), password: "correct horse".into() };
        let header = format!("Bearer {}", a.token(&req, LOCAL, NOW).unwrap().access_token);
        assert!(a.authenticate(&header, NOW).is_ok());
        assert!(!a.reload_if_changed().unwrap());
        store.set_disabled("leader", true).unwrap();
        // Make sure the modification time moves even on coarse file systems.
        std::thread::sleep(std::time::Duration::from_millis(20));
        store.save(&dir.path().join(USERS_FILE)).unwrap();
        let f = std::fs::File::options().append(true).open(dir.path().join(USERS_FILE)).unwrap();
        f.set_modified(SystemTime::now() + std::time::Duration::from_secs(1)).unwrap();
        assert!(a.reload_if_changed().unwrap());
        assert!(matches!(a.authenticate(&header, NOW), Err(TokenError::AccountGone)));
    }

    #[test]
    fn tickets_are_single_use() {
        let a = access();
        let p = a.policy().principal("leader", Role::Leader, None, &[]).unwrap();
        let t = a.ticket(&p, NOW).unwrap();
        assert_eq!(a.redeem(t.as_str(), NOW).unwrap().name(), "leader");
        assert!(a.redeem(t.as_str(), NOW).is_err());
        assert!(a.ticket(&a.anonymous(), NOW).is_err());
    }
}
