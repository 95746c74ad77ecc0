//! Caps on everything that comes from outside. Each has a test.

/// Longest bearer/access token accepted, in bytes (before any decoding).
pub const MAX_TOKEN_LEN: usize = 4096;
/// Longest decoded JWT header, in bytes.
pub const MAX_JWT_HEADER_LEN: usize = 256;
/// Longest decoded JWT claims, in bytes.
pub const MAX_JWT_CLAIMS_LEN: usize = 2048;
/// Longest account name, in bytes.
pub const MAX_USERNAME_LEN: usize = 64;
/// Longest password, in bytes (argon2 would take more, but nobody types this much).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Shortest password accepted when one is set.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest ticket, refresh token, client secret or device key presented, in bytes.
pub const MAX_SECRET_LEN: usize = 128;
/// Ingest sources bound to one device account.
pub const MAX_DEVICE_SOURCES: usize = 64;
/// Accounts in one user store.
pub const MAX_ACCOUNTS: usize = 100_000;
/// Largest user store file, in bytes.
pub const MAX_USER_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest access-control configuration text, in bytes.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;
/// Agencies in a configuration.
pub const MAX_AGENCIES: usize = 256;
/// Grants in a configuration.
pub const MAX_GRANTS: usize = 1024;
/// Items in one list of a grant.
pub const MAX_GRANT_ITEMS: usize = 1024;
/// Communes or polygon vertices of one jurisdiction.
pub const MAX_JURISDICTION_ITEMS: usize = 10_000;
/// Longest id (agency, layer, source) in a configuration.
pub const MAX_ID_LEN: usize = 128;
/// Fields in one token request form.
pub const MAX_FORM_FIELDS: usize = 16;
/// Longest form field value (other than the password), in bytes.
pub const MAX_FORM_VALUE_LEN: usize = 4096;
/// Longest OIDC token accepted, in bytes (identity providers put groups and names in them).
pub const MAX_OIDC_TOKEN_LEN: usize = 12 * 1024;
/// Longest decoded OIDC claims, in bytes.
pub const MAX_OIDC_CLAIMS_LEN: usize = 8 * 1024;
/// Largest JWKS document, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Keys in one JWKS document.
pub const MAX_JWKS_KEYS: usize = 64;
