//! OpenID Connect tokens from the city's identity provider: RS256 JWTs checked against the
//! provider's JWKS document (given as bytes; fetching and refreshing it is the server's job).
//! Mapping the verified claims (groups, username) to a role and agency is configuration, done by
//! the caller.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde::Deserialize;
use twin_core::Timestamp;

use crate::jwt::{unix_seconds, IAT_LEEWAY_S};
use crate::limits::{MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_JWT_HEADER_LEN, MAX_OIDC_CLAIMS_LEN, MAX_OIDC_TOKEN_LEN};

/// Why a JWKS document or an OIDC token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("JWKS document: {0}")]
    Jwks(&'static str),
    #[error("token longer than {MAX_OIDC_TOKEN_LEN} bytes")]
    TooLong,
    #[error("not a compact JWS")]
    Malformed,
    #[error("JWS header too large or not the expected JSON")]
    BadHeader,
    #[error("algorithm not accepted (only RS256)")]
    UnsupportedAlgorithm,
    #[error("no key for this token")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("claims too large or not the expected JSON")]
    BadClaims,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token from another issuer")]
    WrongIssuer,
    #[error("token for another audience")]
    WrongAudience,
}

#[derive(Debug, Clone)]
struct RsaKey {
    kid: Option<String>,
    n: Vec<u8>,
    e: Vec<u8>,
}

/// The RSA signing keys of a JWKS document. Keys of other types or for other uses are skipped.
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: Vec<RsaKey>,
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct JwkRsa {
    kty: String,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    n: String,
    e: String,
}

impl Jwks {
    pub fn from_json(bytes: &[u8]) -> Result<Self, OidcError> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(OidcError::Jwks("too large"));
        }
        let doc: JwksDoc = serde_json::from_slice(bytes).map_err(|_| OidcError::Jwks("not a JWKS document"))?;
        if doc.keys.len() > MAX_JWKS_KEYS {
            return Err(OidcError::Jwks("too many keys"));
        }
        let mut keys = Vec::new();
        for v in doc.keys {
            let Ok(k) = serde_json::from_value::<JwkRsa>(v) else { continue };
            let usable = k.kty == "RSA"
                && k.use_.as_deref().is_none_or(|u| u == "sig")
                && k.alg.as_deref().is_none_or(|a| a == "RS256");
            if !usable {
                continue;
            }
            let n = URL_SAFE_NO_PAD.decode(&k.n).map_err(|_| OidcError::Jwks("modulus is not base64url"))?;
            let e = URL_SAFE_NO_PAD.decode(&k.e).map_err(|_| OidcError::Jwks("exponent is not base64url"))?;
            keys.push(RsaKey { kid: k.kid, n, e });
        }
        if keys.is_empty() {
            return Err(OidcError::Jwks("no RS256 signing key"));
        }
        Ok(Self { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// `aud`: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(v) => v.iter().any(|a| a == aud),
        }
    }
}

/// The verified claims of an OIDC token.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OidcClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Every claim, for the caller's role/agency mapping (`groups`, `preferred_username`, …).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Header<'a> {
    alg: &'a str,
    #[serde(default)]
    kid: Option<&'a str>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

fn decode_capped(part: &str, cap: usize, err: OidcError) -> Result<Vec<u8>, OidcError> {
    if part.len() > cap.div_ceil(3) * 4 {
        return Err(err);
    }
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| err.clone())?;
    if bytes.len() > cap {
        return Err(err);
    }
    Ok(bytes)
}

/// Checks tokens of one provider for one audience.
#[derive(Debug, Clone)]
pub struct OidcVerifier {
    pub jwks: Jwks,
    pub issuer: String,
    pub audience: String,
}

impl OidcVerifier {
    /// Verify an RS256 token: header, key by `kid` (or the only key), signature, issuer, audience,
    /// `exp` (valid while `now < exp`), `nbf` and `iat` (with the same leeway as our own tokens).
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<OidcClaims, OidcError> {
        if token.len() > MAX_OIDC_TOKEN_LEN {
            return Err(OidcError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(OidcError::Malformed);
        };
        let header_bytes = decode_capped(h, MAX_JWT_HEADER_LEN, OidcError::BadHeader)?;
        let header: Header<'_> = serde_json::from_slice(&header_bytes).map_err(|_| OidcError::BadHeader)?;
        if header.alg != "RS256" {
            return Err(OidcError::UnsupportedAlgorithm);
        }
        if header.crit.is_some() {
            return Err(OidcError::BadHeader);
        }
        let key = match header.kid {
            Some(kid) => self.jwks.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.jwks.keys.len() == 1 => self.jwks.keys.first(),
            None => None,
        }
        .ok_or(OidcError::UnknownKey)?;
        // 8192-bit keys give 1024-byte signatures.
        let sig = decode_capped(s, 1024, OidcError::BadSignature)?;
        let public = RsaPublicKeyComponents { n: &key.n, e: &key.e };
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, &token.as_bytes()[..h.len() + 1 + c.len()], &sig)
            .map_err(|_| OidcError::BadSignature)?;
        let claims_bytes = decode_capped(c, MAX_OIDC_CLAIMS_LEN, OidcError::BadClaims)?;
        let claims: OidcClaims = serde_json::from_slice(&claims_bytes).map_err(|_| OidcError::BadClaims)?;
        if claims.iss != self.issuer {
            return Err(OidcError::WrongIssuer);
        }
        if !claims.aud.contains(&self.audience) {
            return Err(OidcError::WrongAudience);
        }
        let now_s = unix_seconds(now);
        if now_s >= claims.exp {
            return Err(OidcError::Expired);
        }
        let early = |t: Option<i64>| t.is_some_and(|t| t > now_s.saturating_add(IAT_LEEWAY_S));
        if early(claims.nbf) || early(claims.iat) {
            return Err(OidcError::NotYetValid);
        }
        Ok(claims)
    }
}
