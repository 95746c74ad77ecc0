//! Access tokens: compact JWS (RFC 7515/7519) signed with HMAC-SHA256 under one server key.
//!
//! Only `HS256` is accepted; the header is checked before anything else and the signature before
//! the claims are parsed. Every length is capped before decoding, and nothing here panics on
//! input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use twin_core::{AgencyId, Timestamp};

use crate::config::Role;
use crate::limits::{MAX_JWT_CLAIMS_LEN, MAX_JWT_HEADER_LEN, MAX_TOKEN_LEN};

type HmacSha256 = Hmac<Sha256>;

/// Seconds a token's `iat` may lie in the future (clock skew between server replicas).
pub const IAT_LEEWAY_S: i64 = 60;

/// The server's HS256 key. Store it in the data dir with owner-only permissions.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; SigningKey::LEN]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Key length in bytes (the HMAC-SHA256 output size, as RFC 7518 §3.2 asks at least).
    pub const LEN: usize = 32;

    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut k = [0u8; Self::LEN];
        rng.fill_bytes(&mut k);
        Self(k)
    }

    /// A key stored by [`SigningKey::as_bytes`]: exactly [`SigningKey::LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenError> {
        let k: [u8; Self::LEN] = bytes.try_into().map_err(|_| TokenError::BadKey)?;
        Ok(Self(k))
    }

    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC zero-pads a key shorter than the hash block (RFC 2104 §2); padding it here gives the
        // fixed-size constructor, which has no error path.
        let mut block = hmac::digest::generic_array::GenericArray::default();
        block[..Self::LEN].copy_from_slice(&self.0);
        <HmacSha256 as hmac::digest::KeyInit>::new(&block)
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// Account name.
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyId>,
    /// Ingest sources (device accounts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub src: Vec<String>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch; the token is valid while `now < exp`.
    pub exp: i64,
    /// Token id (for audit lines).
    pub jti: String,
}

/// Why a token was refused. All map to RFC 6750 `invalid_token` except where noted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token longer than {MAX_TOKEN_LEN} bytes")]
    TooLong,
    #[error("not a compact JWS")]
    Malformed,
    #[error("JWS header too large or not the expected JSON")]
    BadHeader,
    #[error("algorithm not accepted (only HS256)")]
    UnsupportedAlgorithm,
    #[error("signature does not verify")]
    BadSignature,
    #[error("claims too large or not the expected JSON")]
    BadClaims,
    #[error("token expired")]
    Expired,
    #[error("token issued in the future")]
    NotYetValid,
    #[error("token from another issuer")]
    WrongIssuer,
    #[error("signing key must be {} bytes", SigningKey::LEN)]
    BadKey,
    #[error("the token's account is disabled or gone")]
    AccountGone,
    #[error("no bearer token in the Authorization header")]
    NoBearer,
}

impl TokenError {
    /// The RFC 6750 §3.1 error code for a `WWW-Authenticate` header.
    pub const fn rfc6750_code(&self) -> &'static str {
        match self {
            TokenError::NoBearer => "invalid_request",
            _ => "invalid_token",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    alg: &'a str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    /// Critical extensions we do not understand must make the token invalid (RFC 7515 §4.1.11).
    #[serde(default, skip_serializing)]
    crit: Option<serde::de::IgnoredAny>,
}

/// `{"alg":"HS256","typ":"JWT"}`, base64url.
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Seconds since the epoch of a timestamp (rounded down).
pub fn unix_seconds(t: Timestamp) -> i64 {
    t.as_millis().div_euclid(1000)
}

/// Sign `claims` into a compact token.
pub fn sign(key: &SigningKey, claims: &Claims) -> Result<String, TokenError> {
    let json = serde_json::to_vec(claims).map_err(|_| TokenError::BadClaims)?;
    if json.len() > MAX_JWT_CLAIMS_LEN {
        return Err(TokenError::BadClaims);
    }
    let mut token = String::with_capacity(HEADER_B64.len() + json.len() * 4 / 3 + 48);
    token.push_str(HEADER_B64);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&json, &mut token);
    let mut mac = key.mac();
    mac.update(token.as_bytes());
    let sig = mac.finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut token);
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    Ok(token)
}

fn decode_capped(part: &str, cap: usize, err: TokenError) -> Result<Vec<u8>, TokenError> {
    // 4 base64 characters carry 3 bytes.
    if part.len() > cap.div_ceil(3) * 4 {
        return Err(err);
    }
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| err.clone())?;
    if bytes.len() > cap {
        return Err(err);
    }
    Ok(bytes)
}

/// Verify a compact token: header (HS256 only), signature (constant time), issuer and time.
pub fn verify(key: &SigningKey, token: &str, issuer: &str, now: Timestamp) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header_bytes = decode_capped(h, MAX_JWT_HEADER_LEN, TokenError::BadHeader)?;
    let header: Header<'_> = serde_json::from_slice(&header_bytes).map_err(|_| TokenError::BadHeader)?;
    if header.alg != "HS256" {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    if header.crit.is_some() || header.typ.is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(TokenError::BadHeader);
    }
    let sig = decode_capped(s, 32, TokenError::BadSignature)?;
    let mut mac = key.mac();
    mac.update(&token.as_bytes()[..h.len() + 1 + c.len()]);
    mac.verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
    let claims_bytes = decode_capped(c, MAX_JWT_CLAIMS_LEN, TokenError::BadClaims)?;
    let claims: Claims = serde_json::from_slice(&claims_bytes).map_err(|_| TokenError::BadClaims)?;
    if claims.iss != issuer {
        return Err(TokenError::WrongIssuer);
    }
    let now_s = unix_seconds(now);
    if now_s >= claims.exp {
        return Err(TokenError::Expired);
    }
    if claims.iat > now_s.saturating_add(IAT_LEEWAY_S) {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

/// The token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1; the scheme is
/// case-insensitive). Never panics; caps the length.
pub fn parse_bearer(header_value: &str) -> Result<&str, TokenError> {
    if header_value.len() > MAX_TOKEN_LEN + 16 {
        return Err(TokenError::TooLong);
    }
    let (scheme, rest) = header_value.trim().split_once(' ').ok_or(TokenError::NoBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::NoBearer);
    }
    let token = rest.trim_start_matches(' ');
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'));
    if !ok {
        return Err(TokenError::Malformed);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    Ok(token)
}
