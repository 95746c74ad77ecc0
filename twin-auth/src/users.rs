//! Accounts and the user store file (`users.json` in the data dir).
//!
//! People sign in with a password, kept as an argon2id PHC string. Devices (OsmAnd `key=`, MQTT
//! logins) and OAuth clients (`client_credentials`) present a secret the server generated: 256
//! random bits, so a SHA-256 of it is as strong as a slow hash and cheap enough to check on every
//! tracker report. Checks take the same path for unknown and known accounts.
//!
//! The file is replaced atomically (temp file in the same folder, fsync, rename, fsync of the
//! folder): a reader or a crash sees the old or the new file, never a mix. Two writers at once do
//! not corrupt it; the later rename wins.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use twin_core::AgencyId;

use crate::config::Role;
use crate::limits::{
    MAX_ACCOUNTS, MAX_DEVICE_SOURCES, MAX_ID_LEN, MAX_PASSWORD_LEN, MAX_SECRET_LEN, MAX_USERNAME_LEN,
    MAX_USER_FILE_BYTES, MIN_PASSWORD_LEN,
};

/// Highest argon2 cost a stored hash may ask for (a hand-edited file must not stall logins).
const MAX_ARGON2_M_KIB: u32 = 256 * 1024;
const MAX_ARGON2_T: u32 = 16;
const MAX_ARGON2_P: u32 = 8;

/// Prefix of generated secrets, so they are recognisable in logs and secret scanners.
pub const SECRET_PREFIX: &str = "ctk_";

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyId>,
    #[serde(default)]
    pub disabled: bool,
    /// argon2id PHC string (people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Hex SHA-256 of the generated secret (devices, OAuth clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// Ingest sources a device may write to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    version: u32,
    accounts: Vec<Account>,
}

/// Errors of the user store and of credential checks.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("account name must be 1..={MAX_USERNAME_LEN} bytes of letters, digits, '.', '_', '-', '@', starting with a letter or digit")]
    BadName,
    #[error("password must be {MIN_PASSWORD_LEN}..={MAX_PASSWORD_LEN} bytes")]
    BadPassword,
    #[error("account {0:?} exists")]
    Exists(String),
    #[error("no account {0:?}")]
    NoSuchAccount(String),
    #[error("an operator needs an agency")]
    OperatorWithoutAgency,
    #[error("only device accounts have ingest sources, at most {MAX_DEVICE_SOURCES}, each 1..={MAX_ID_LEN} bytes")]
    BadSources,
    #[error("more than {MAX_ACCOUNTS} accounts")]
    TooManyAccounts,
    /// Wrong name, wrong password or secret, no such account: one error, so callers cannot tell.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account disabled")]
    Disabled,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("user store {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("user store larger than {MAX_USER_FILE_BYTES} bytes")]
    FileTooLarge,
    #[error("user store is not valid: {0}")]
    Format(String),
}

/// Names: letters, digits, `.`, `_`, `-`, `@`; first a letter or digit.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_USERNAME_LEN
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::BadName)
    }
}

fn check_new_password(password: &str) -> Result<(), UserError> {
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.len()) {
        Ok(())
    } else {
        Err(UserError::BadPassword)
    }
}

fn check_sources(role: Role, sources: &[String]) -> Result<(), UserError> {
    let ok = (role == Role::Device || sources.is_empty())
        && sources.len() <= MAX_DEVICE_SOURCES
        && sources.iter().all(|s| !s.is_empty() && s.len() <= MAX_ID_LEN);
    if ok {
        Ok(())
    } else {
        Err(UserError::BadSources)
    }
}

/// An argon2id PHC string for `password`, with a fresh salt from `rng`.
pub fn hash_password<R: RngCore + CryptoRng>(password: &str, rng: &mut R) -> Result<String, UserError> {
    check_new_password(password)?;
    hash_any_length(password, rng)
}

fn hash_any_length<R: RngCore + CryptoRng>(password: &str, rng: &mut R) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

fn parse_bounded_hash(phc: &str) -> Option<PasswordHash<'_>> {
    let hash = PasswordHash::new(phc).ok()?;
    if hash.algorithm.as_str() != "argon2id" {
        return None;
    }
    let params = Params::try_from(&hash).ok()?;
    let bounded =
        params.m_cost() <= MAX_ARGON2_M_KIB && params.t_cost() <= MAX_ARGON2_T && params.p_cost() <= MAX_ARGON2_P;
    bounded.then_some(hash)
}

/// Verify `password` against a PHC string in constant time (argon2's own comparison). False for
/// a malformed or over-costly hash.
pub fn verify_password_hash(phc: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    parse_bounded_hash(phc).is_some_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to check against when the account does not exist, so that path costs the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"citytwin-dummy-salt").ok();
        salt.and_then(|s| Argon2::default().hash_password(b"not a password", &s).ok().map(|h| h.to_string()))
            .unwrap_or_default()
    })
}

/// A fresh device or client secret: `ctk_` + 256 random bits, base64url.
pub fn generate_secret<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn secret_matches(stored_hex: &str, secret: &str) -> bool {
    let presented = hash_secret(secret);
    stored_hex.len() == presented.len() && bool::from(stored_hex.as_bytes().ct_eq(presented.as_bytes()))
}

/// Replace `path` with `bytes` atomically: temp file beside it (owner read/write only on Unix),
/// fsync, rename, fsync of the folder. For the user store and the signing key file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    // Unique per process and call, so concurrent writers never share a temp file.
    let tmp = dir.join(format!(".{base}.{}.{}.tmp", std::process::id(), TMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The accounts of one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserStore {
    accounts: BTreeMap<String, Account>,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl UserStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a store file; a missing file is an empty store.
    pub fn load(path: &Path) -> Result<Self, UserError> {
        let io = |source| UserError::Io { path: path.display().to_string(), source };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::new()),
            Err(e) => return Err(io(e)),
        };
        let mut text = Vec::new();
        file.take(MAX_USER_FILE_BYTES + 1).read_to_end(&mut text).map_err(io)?;
        if text.len() as u64 > MAX_USER_FILE_BYTES {
            return Err(UserError::FileTooLarge);
        }
        Self::from_json(&text)
    }

    /// Parse and validate the JSON of a store file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, UserError> {
        if bytes.len() as u64 > MAX_USER_FILE_BYTES {
            return Err(UserError::FileTooLarge);
        }
        let file: StoreFile = serde_json::from_slice(bytes).map_err(|e| UserError::Format(e.to_string()))?;
        if file.version != 1 {
            return Err(UserError::Format(format!("version {} (expected 1)", file.version)));
        }
        if file.accounts.len() > MAX_ACCOUNTS {
            return Err(UserError::TooManyAccounts);
        }
        let mut store = Self::new();
        for a in file.accounts {
            check_name(&a.name)?;
            if a.role == Role::Operator && a.agency.is_none() {
                return Err(UserError::OperatorWithoutAgency);
            }
            check_sources(a.role, &a.sources)?;
            if let Some(h) = &a.password_hash {
                if parse_bounded_hash(h).is_none() {
                    return Err(UserError::Format(format!("password hash of {:?}", a.name)));
                }
            }
            if a.secret_hash.as_ref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(UserError::Format(format!("secret hash of {:?}", a.name)));
            }
            if store.accounts.contains_key(&a.name) {
                return Err(UserError::Exists(a.name));
            }
            store.accounts.insert(a.name.clone(), a);
        }
        Ok(store)
    }

    pub fn to_json(&self) -> Result<Vec<u8>, UserError> {
        let file = StoreFile { version: 1, accounts: self.accounts.values().cloned().collect() };
        serde_json::to_vec_pretty(&file).map_err(|e| UserError::Format(e.to_string()))
    }

    /// Replace the file atomically (see [`write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), UserError> {
        let json = self.to_json()?;
        write_atomic(path, &json).map_err(|source| UserError::Io { path: path.display().to_string(), source })
    }

    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    /// Accounts by name (`users list`).
    pub fn list(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    fn insert_new(&mut self, account: Account) -> Result<(), UserError> {
        check_name(&account.name)?;
        if account.role == Role::Operator && account.agency.is_none() {
            return Err(UserError::OperatorWithoutAgency);
        }
        check_sources(account.role, &account.sources)?;
        if self.accounts.contains_key(&account.name) {
            return Err(UserError::Exists(account.name));
        }
        if self.accounts.len() >= MAX_ACCOUNTS {
            return Err(UserError::TooManyAccounts);
        }
        self.accounts.insert(account.name.clone(), account);
        Ok(())
    }

    /// `users add NAME --role R [--agency A]` for a person with a password.
    pub fn add_user<R: RngCore + CryptoRng>(
        &mut self,
        name: &str,
        role: Role,
        agency: Option<AgencyId>,
        password: &str,
        rng: &mut R,
    ) -> Result<(), UserError> {
        check_name(name)?;
        let hash = hash_password(password, rng)?;
        self.insert_person(name, role, agency, hash)
    }

    /// A person whose password is below the minimum length: only for the demo's well-known
    /// password (`citytwin demo`, loopback only); `citytwin users` never uses it.
    pub fn add_demo_user<R: RngCore + CryptoRng>(
        &mut self,
        name: &str,
        role: Role,
        agency: Option<AgencyId>,
        password: &str,
        rng: &mut R,
    ) -> Result<(), UserError> {
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return Err(UserError::BadPassword);
        }
        check_name(name)?;
        let hash = hash_any_length(password, rng)?;
        self.insert_person(name, role, agency, hash)
    }

    fn insert_person(
        &mut self,
        name: &str,
        role: Role,
        agency: Option<AgencyId>,
        hash: String,
    ) -> Result<(), UserError> {
        self.insert_new(Account {
            name: name.into(),
            role,
            agency,
            disabled: false,
            password_hash: Some(hash),
            secret_hash: None,
            sources: Vec::new(),
        })
    }

    /// `users add NAME --role device --source S …` or an OAuth client: returns the generated
    /// secret, shown once (only its hash is stored).
    pub fn add_client<R: RngCore + CryptoRng>(
        &mut self,
        name: &str,
        role: Role,
        agency: Option<AgencyId>,
        sources: Vec<String>,
        rng: &mut R,
    ) -> Result<String, UserError> {
        let secret = generate_secret(rng);
        self.insert_new(Account {
            name: name.into(),
            role,
            agency,
            disabled: false,
            password_hash: None,
            secret_hash: Some(hash_secret(&secret)),
            sources,
        })?;
        Ok(secret)
    }

    /// `users disable NAME` (and enable again).
    pub fn set_disabled(&mut self, name: &str, disabled: bool) -> Result<(), UserError> {
        let a = self.accounts.get_mut(name).ok_or_else(|| UserError::NoSuchAccount(name.into()))?;
        a.disabled = disabled;
        Ok(())
    }

    /// `users passwd NAME`.
    pub fn set_password<R: RngCore + CryptoRng>(
        &mut self,
        name: &str,
        password: &str,
        rng: &mut R,
    ) -> Result<(), UserError> {
        let hash = hash_password(password, rng)?;
        let a = self.accounts.get_mut(name).ok_or_else(|| UserError::NoSuchAccount(name.into()))?;
        a.password_hash = Some(hash);
        Ok(())
    }

    /// A new secret for a device or client; the old one stops working.
    pub fn rotate_secret<R: RngCore + CryptoRng>(&mut self, name: &str, rng: &mut R) -> Result<String, UserError> {
        let a = self.accounts.get_mut(name).ok_or_else(|| UserError::NoSuchAccount(name.into()))?;
        let secret = generate_secret(rng);
        a.secret_hash = Some(hash_secret(&secret));
        Ok(secret)
    }

    pub fn remove(&mut self, name: &str) -> Result<Account, UserError> {
        self.accounts.remove(name).ok_or_else(|| UserError::NoSuchAccount(name.into()))
    }

    /// Check a person's password. Unknown names run the same argon2 work against a dummy hash.
    /// A disabled account is reported only after a correct password.
    pub fn verify_password(&self, name: &str, password: &str) -> Result<&Account, UserError> {
        if name.len() > MAX_USERNAME_LEN || password.len() > MAX_PASSWORD_LEN {
            return Err(UserError::InvalidCredentials);
        }
        let account = self.accounts.get(name);
        let phc = account.and_then(|a| a.password_hash.as_deref()).unwrap_or_else(|| dummy_hash());
        let ok = verify_password_hash(phc, password);
        match account {
            Some(a) if ok && a.password_hash.is_some() => {
                if a.disabled {
                    Err(UserError::Disabled)
                } else {
                    Ok(a)
                }
            }
            _ => Err(UserError::InvalidCredentials),
        }
    }

    /// Check a device's or client's secret (OsmAnd `key=`, MQTT password, `client_secret`).
    pub fn verify_secret(&self, name: &str, secret: &str) -> Result<&Account, UserError> {
        if name.len() > MAX_USERNAME_LEN || secret.len() > MAX_SECRET_LEN {
            return Err(UserError::InvalidCredentials);
        }
        let account = self.accounts.get(name);
        // Hash even when there is nothing to compare with, so both paths cost the same.
        const NONE: &str = "0000000000000000000000000000000000000000000000000000000000000000";
        let stored = account.and_then(|a| a.secret_hash.as_deref()).unwrap_or(NONE);
        let ok = secret_matches(stored, secret);
        match account {
            Some(a) if ok && a.secret_hash.is_some() => {
                if a.disabled {
                    Err(UserError::Disabled)
                } else {
                    Ok(a)
                }
            }
            _ => Err(UserError::InvalidCredentials),
        }
    }
}
