//! Identity and access for CityTwin: agencies, roles and grants from the city TOML, accounts in
//! `users.json`, OAuth 2.0 tokens, WebSocket/SSE tickets, a login rate limiter, and the one
//! [`authorize`] every channel calls. No HTTP, no async runtime, no clock: time is a parameter.
//!
//! How a server uses it:
//!
//! 1. At start: [`AuthConfig::from_city_toml`] → [`Policy::new`]; [`UserStore::load`] the data
//!    dir's `users.json`; a [`SigningKey`] from the data dir (or [`SigningKey::generate`] and
//!    store it); [`TokenService::new`], [`TicketStore::new`], [`LoginLimiter::new`].
//! 2. `POST /oauth/token`: [`TokenRequest::from_form`] (with [`parse_basic_auth`] for clients) →
//!    [`TokenService::grant`] → the [`TokenResponse`] as JSON, or [`OAuthError::body`] with
//!    [`OAuthError::http_status`].
//! 3. Every request: [`TokenService::authenticate`] on the `Authorization` header (or
//!    [`TicketStore::redeem`] for `?ticket=` on WebSocket/SSE; [`Policy::anonymous`] without
//!    credentials) → [`authorize`] with the resource → [`Decision::http_status`]; redact with
//!    [`property_filter`]; key caches by [`Principal::visibility_class`].
//!
//! With feature `oidc`: [`oidc::OidcVerifier`] checks RS256 tokens of the city's identity provider
//! against its JWKS document.
//!
//! Fuzzing (a separate cargo-fuzz project in `twin-auth/fuzz`):
//!
//! ```sh
//! cd twin-auth
//! cargo +nightly fuzz run token_verify -- -max_total_time=60
//! cargo +nightly fuzz run ticket_parse -- -max_total_time=60
//! cargo +nightly fuzz run oidc_verify -- -max_total_time=60
//! ```

pub mod config;
pub mod jwt;
pub mod limits;
pub mod oauth;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod policy;
pub mod ratelimit;
pub mod service;
pub mod ticket;
pub mod users;

pub use config::{
    danang_demo, Agency, AuthConfig, AuthSettings, Grant, Jurisdiction, Place, Role, Scope, DANANG_DEMO_TOML,
};
pub use jwt::{parse_bearer, Claims, SigningKey, TokenError};
pub use oauth::{parse_basic_auth, OAuthError, TokenRequest, TokenResponse, TokenService};
pub use policy::{
    authorize, can_read_entity, entity_property_filter, property_filter, redact_entity, with_entity_resource, Action,
    Decision, Owner, Permissions, Policy, Principal, PropertyFilter, Resource, VisibilityClass, AGENCY_PROPERTY,
};
pub use ratelimit::{LimiterConfig, LoginLimiter, RateLimited};
pub use service::{Access, AccessError};
pub use ticket::{parse_ticket, Ticket, TicketError, TicketStore};
pub use users::{Account, UserError, UserStore};

/// A configuration the policy cannot be built from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("TOML: {0}")]
    Toml(String),
    #[error("configuration larger than {} bytes", limits::MAX_CONFIG_BYTES)]
    TooLarge,
    #[error("more than {1} {0}")]
    TooMany(&'static str, usize),
    #[error("{what} id {id:?} must be 1..={} bytes", limits::MAX_ID_LEN)]
    BadId { what: &'static str, id: String },
    #[error("agency {0:?} listed twice")]
    DuplicateAgency(String),
    #[error("agency {0:?}: a jurisdiction polygon needs 3 or more valid [lon, lat] vertices")]
    BadPolygon(String),
    #[error("unknown agency {0:?}")]
    UnknownAgency(String),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("unknown entity kind in {0:?}")]
    UnknownKind(String),
    #[error("property {0:?} must be kind.property")]
    BadProperty(String),
    #[error("grant #{0} names no agency, no role and is not for every signed-in account")]
    GrantWithoutSubject(usize),
    #[error("token and ticket lifetimes must be positive")]
    ZeroTtl,
}

/// An account that cannot become a principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("an operator needs an agency")]
    OperatorWithoutAgency,
    #[error("agency {0:?} is not configured")]
    UnknownAgency(String),
    #[error("more than {} ingest sources", limits::MAX_DEVICE_SOURCES)]
    TooManySources,
}
