//! The OAuth 2.0 token endpoint (RFC 6749) without HTTP: `password`, `client_credentials` and
//! `refresh_token` grants in, a [`TokenResponse`] or an [`OAuthError`] (with its RFC 6749 §5.2
//! code and HTTP status) out.
//!
//! Access tokens are HS256 JWTs (see [`crate::jwt`]). Refresh tokens are opaque 256-bit random
//! strings, kept only as SHA-256 hashes, single use (each use returns a new one) and expiring;
//! they are issued to people (`password` grant) only, as RFC 6749 §4.4.3 advises for clients.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use twin_core::Timestamp;

use crate::config::AuthSettings;
use crate::jwt::{self, unix_seconds, Claims, SigningKey, TokenError};
use crate::limits::{MAX_FORM_FIELDS, MAX_FORM_VALUE_LEN, MAX_PASSWORD_LEN, MAX_SECRET_LEN, MAX_USERNAME_LEN};
use crate::policy::{Policy, Principal};
use crate::ratelimit::LoginLimiter;
use crate::users::{Account, UserError, UserStore};

/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "ctr_";

/// A parsed token request.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenRequest {
    Password { username: String, password: String },
    ClientCredentials { client_id: String, client_secret: String },
    RefreshToken { refresh_token: String },
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRequest::Password { username, .. } => write!(f, "Password {{ username: {username:?}, .. }}"),
            TokenRequest::ClientCredentials { client_id, .. } => {
                write!(f, "ClientCredentials {{ client_id: {client_id:?}, .. }}")
            }
            TokenRequest::RefreshToken { .. } => f.write_str("RefreshToken { .. }"),
        }
    }
}

/// RFC 6749 §5.2 errors, plus rate limiting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant")]
    InvalidGrant,
    #[error("unauthorized_client")]
    UnauthorizedClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// Too many attempts: HTTP 429 with `Retry-After`.
    #[error("slow_down: retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// The account is valid but cannot be turned into a principal (configuration changed).
    #[error("server_error")]
    Server,
}

/// The JSON body of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<&'static str>,
}

impl OAuthError {
    /// The RFC 6749 `error` code.
    pub const fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            // Not in RFC 6749; RFC 8628 defines slow_down for a client polling too fast.
            OAuthError::RateLimited { .. } => "slow_down",
            OAuthError::Server => "server_error",
        }
    }

    /// 400, except 401 for a client that failed to authenticate and 429 for rate limiting.
    pub const fn http_status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient => 401,
            OAuthError::RateLimited { .. } => 429,
            OAuthError::Server => 500,
            _ => 400,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let description = match self {
            OAuthError::InvalidRequest(d) => Some(*d),
            _ => None,
        };
        ErrorBody { error: self.code(), error_description: description }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn capped(value: &str, max: usize) -> Result<String, OAuthError> {
    if value.is_empty() {
        return Err(OAuthError::InvalidRequest("empty parameter"));
    }
    if value.len() > max {
        return Err(OAuthError::InvalidRequest("parameter too long"));
    }
    Ok(value.to_owned())
}

/// `Authorization: Basic …` client credentials (RFC 6749 §2.3.1). Never panics.
pub fn parse_basic_auth(header_value: &str) -> Result<(String, String), OAuthError> {
    if header_value.len() > 2 * (MAX_USERNAME_LEN + MAX_SECRET_LEN) + 16 {
        return Err(OAuthError::InvalidClient);
    }
    let (scheme, b64) = header_value.trim().split_once(' ').ok_or(OAuthError::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient);
    }
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| OAuthError::InvalidClient)?;
    let text = String::from_utf8(bytes).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = text.split_once(':').ok_or(OAuthError::InvalidClient)?;
    // Ids and secrets are form-urlencoded first; ours never need escaping, so an escape is refused
    // rather than decoded.
    if id.contains(['%', '+']) || secret.contains(['%', '+']) || id.is_empty() {
        return Err(OAuthError::InvalidClient);
    }
    if id.len() > MAX_USERNAME_LEN || secret.len() > MAX_SECRET_LEN {
        return Err(OAuthError::InvalidClient);
    }
    Ok((id.to_owned(), secret.to_owned()))
}

impl TokenRequest {
    /// From the decoded form fields of a token request and, for clients, credentials taken from
    /// an `Authorization: Basic` header. Repeated parameters are refused (RFC 6749 §3.2).
    pub fn from_form<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
        basic: Option<(&str, &str)>,
    ) -> Result<Self, OAuthError> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (k, v) in fields {
            if seen.len() >= MAX_FORM_FIELDS {
                return Err(OAuthError::InvalidRequest("too many parameters"));
            }
            if seen.iter().any(|(sk, _)| *sk == k) {
                return Err(OAuthError::InvalidRequest("repeated parameter"));
            }
            if v.len() > MAX_FORM_VALUE_LEN {
                return Err(OAuthError::InvalidRequest("parameter too long"));
            }
            seen.push((k, v));
        }
        let get = |name: &str| seen.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let grant = get("grant_type").ok_or(OAuthError::InvalidRequest("missing grant_type"))?;
        match grant {
            "password" => {
                let username = get("username").ok_or(OAuthError::InvalidRequest("missing username"))?;
                let password = get("password").ok_or(OAuthError::InvalidRequest("missing password"))?;
                Ok(TokenRequest::Password {
                    username: capped(username, MAX_USERNAME_LEN)?,
                    password: capped(password, MAX_PASSWORD_LEN)?,
                })
            }
            "client_credentials" => {
                let (id, secret) = match (basic, get("client_id"), get("client_secret")) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        return Err(OAuthError::InvalidRequest("client authenticated twice"))
                    }
                    (Some((id, secret)), None, None) => (id, secret),
                    (None, Some(id), Some(secret)) => (id, secret),
                    _ => return Err(OAuthError::InvalidClient),
                };
                if id.len() > MAX_USERNAME_LEN || secret.len() > MAX_SECRET_LEN || id.is_empty() {
                    return Err(OAuthError::InvalidClient);
                }
                Ok(TokenRequest::ClientCredentials { client_id: id.to_owned(), client_secret: secret.to_owned() })
            }
            "refresh_token" => {
                let token = get("refresh_token").ok_or(OAuthError::InvalidRequest("missing refresh_token"))?;
                Ok(TokenRequest::RefreshToken { refresh_token: capped(token, MAX_SECRET_LEN)? })
            }
            _ => Err(OAuthError::UnsupportedGrantType),
        }
    }
}

#[derive(Debug, Clone)]
struct RefreshEntry {
    account: String,
    expires_ms: i64,
}

/// Outstanding refresh tokens, by hash; bounded (oldest dropped first).
#[derive(Debug)]
struct RefreshStore {
    max: usize,
    live: HashMap<[u8; 32], RefreshEntry>,
    order: VecDeque<[u8; 32]>,
}

impl RefreshStore {
    fn insert(&mut self, key: [u8; 32], entry: RefreshEntry, now: i64) {
        if self.live.len() >= self.max {
            self.live.retain(|_, e| e.expires_ms > now);
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
        self.live.insert(key, entry);
        self.order.push_back(key);
    }
}

fn refresh_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Issues and checks tokens with one signing key.
#[derive(Debug)]
pub struct TokenService {
    key: SigningKey,
    issuer: String,
    access_ttl_s: u32,
    refresh_ttl_s: u32,
    refresh: RefreshStore,
}

impl TokenService {
    /// `max_refresh`: refresh tokens kept at once (the oldest is dropped beyond that).
    pub fn new(key: SigningKey, settings: &AuthSettings, max_refresh: usize) -> Self {
        Self {
            key,
            issuer: settings.issuer.clone(),
            access_ttl_s: settings.access_token_ttl_s.max(1),
            refresh_ttl_s: settings.refresh_token_ttl_s.max(1),
            refresh: RefreshStore { max: max_refresh.max(1), live: HashMap::new(), order: VecDeque::new() },
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Answer a token request. `addr` is the client's address, for the login limiter.
    #[allow(clippy::too_many_arguments)]
    pub fn grant<R: RngCore + CryptoRng>(
        &mut self,
        req: &TokenRequest,
        users: &UserStore,
        policy: &Policy,
        limiter: &mut LoginLimiter,
        addr: IpAddr,
        now: Timestamp,
        rng: &mut R,
    ) -> Result<TokenResponse, OAuthError> {
        let limited = |e: crate::ratelimit::RateLimited| OAuthError::RateLimited {
            retry_after_s: e.retry_after_ms.div_ceil(1000).max(1),
        };
        match req {
            TokenRequest::Password { username, password } => {
                limiter.attempt(username, addr, now).map_err(limited)?;
                let account = users.verify_password(username, password).map_err(|_| OAuthError::InvalidGrant)?;
                limiter.succeeded(username);
                let access = self.access_token(account, policy, now, rng)?;
                let refresh = self.new_refresh(&account.name, now, rng);
                Ok(TokenResponse {
                    access_token: access,
                    token_type: "Bearer",
                    expires_in: self.access_ttl_s,
                    refresh_token: Some(refresh),
                })
            }
            TokenRequest::ClientCredentials { client_id, client_secret } => {
                limiter.attempt(client_id, addr, now).map_err(limited)?;
                let account = users.verify_secret(client_id, client_secret).map_err(|e| match e {
                    UserError::Disabled => OAuthError::UnauthorizedClient,
                    _ => OAuthError::InvalidClient,
                })?;
                limiter.succeeded(client_id);
                let access = self.access_token(account, policy, now, rng)?;
                Ok(TokenResponse {
                    access_token: access,
                    token_type: "Bearer",
                    expires_in: self.access_ttl_s,
                    refresh_token: None,
                })
            }
            TokenRequest::RefreshToken { refresh_token } => {
                // Rotation: the presented token is spent whatever happens next.
                let entry = self.refresh.live.remove(&refresh_key(refresh_token)).ok_or(OAuthError::InvalidGrant)?;
                if now.as_millis() >= entry.expires_ms {
                    return Err(OAuthError::InvalidGrant);
                }
                // Role, agency and disabled flag are read again: changes apply at the next refresh.
                let account = users.get(&entry.account).filter(|a| !a.disabled).ok_or(OAuthError::InvalidGrant)?;
                let access = self.access_token(account, policy, now, rng)?;
                let refresh = self.new_refresh(&account.name, now, rng);
                Ok(TokenResponse {
                    access_token: access,
                    token_type: "Bearer",
                    expires_in: self.access_ttl_s,
                    refresh_token: Some(refresh),
                })
            }
        }
    }

    fn access_token<R: RngCore + CryptoRng>(
        &self,
        account: &Account,
        policy: &Policy,
        now: Timestamp,
        rng: &mut R,
    ) -> Result<String, OAuthError> {
        // The account must still make a principal under the current configuration.
        policy
            .principal(&account.name, account.role, account.agency.as_ref(), &account.sources)
            .map_err(|_| OAuthError::Server)?;
        let mut jti = [0u8; 16];
        rng.fill_bytes(&mut jti);
        let iat = unix_seconds(now);
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: account.name.clone(),
            role: account.role,
            agency: account.agency.clone(),
            src: account.sources.clone(),
            iat,
            exp: iat.saturating_add(i64::from(self.access_ttl_s)),
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        jwt::sign(&self.key, &claims).map_err(|_| OAuthError::Server)
    }

    fn new_refresh<R: RngCore + CryptoRng>(&mut self, account: &str, now: Timestamp, rng: &mut R) -> String {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let token = format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let now = now.as_millis();
        let expires_ms = now.saturating_add(i64::from(self.refresh_ttl_s) * 1000);
        self.refresh.insert(refresh_key(&token), RefreshEntry { account: account.to_owned(), expires_ms }, now);
        token
    }

    /// Drop every refresh token of an account (after `users disable` or a password change).
    pub fn revoke_account(&mut self, account: &str) {
        self.refresh.live.retain(|_, e| e.account != account);
    }

    /// Refresh tokens held.
    pub fn refresh_tokens(&self) -> usize {
        self.refresh.live.len()
    }

    /// Verify an access token.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, TokenError> {
        jwt::verify(&self.key, token, &self.issuer, now)
    }

    /// The principal of an `Authorization` header value, as its token says: bearer parsing,
    /// verification, and the principal under the current policy. A disabled account keeps access
    /// until the token expires; [`TokenService::authenticate_current`] closes that gap.
    pub fn authenticate(&self, header_value: &str, policy: &Policy, now: Timestamp) -> Result<Principal, TokenError> {
        let token = jwt::parse_bearer(header_value)?;
        let c = self.verify(token, now)?;
        policy.principal(&c.sub, c.role, c.agency.as_ref(), &c.src).map_err(|_| TokenError::BadClaims)
    }

    /// Like [`TokenService::authenticate`], but the account must still exist and be enabled, and
    /// its current role, agency and sources are used: a disable or role change applies at once.
    pub fn authenticate_current(
        &self,
        header_value: &str,
        policy: &Policy,
        users: &UserStore,
        now: Timestamp,
    ) -> Result<Principal, TokenError> {
        let token = jwt::parse_bearer(header_value)?;
        let c = self.verify(token, now)?;
        let a = users.get(&c.sub).filter(|a| !a.disabled).ok_or(TokenError::AccountGone)?;
        policy.principal(&a.name, a.role, a.agency.as_ref(), &a.sources).map_err(|_| TokenError::BadClaims)
    }
}
