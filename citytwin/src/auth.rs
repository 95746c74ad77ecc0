//! Authentication at the edge. Every request gets a principal before a handler runs — from a
//! bearer token, a single-use ticket (`/ws`, `/events`), or none (anonymous) — and anonymous
//! callers reach only the public routes (deny by default). Handlers then decide per object with
//! the one `twin_auth::authorize`, through [`Caller`].
//!
//! Also here: `POST /auth/token` (OAuth 2.0 password, client credentials, refresh), `POST
//! /auth/ticket`, and the security headers every response carries.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use twin_auth::{authorize, parse_basic_auth, Access, Action, Decision, OAuthError, Principal, Resource, TokenRequest};
use twin_core::{ActorId, Entity, KindFilter};
use twin_runtime::clock::now;
use utoipa::ToSchema;

use crate::problem::Problem;

/// The caller of a request, as the authentication layer found it.
#[derive(Clone)]
pub struct Caller(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        // The layer runs before every route; a missing caller means a route outside it: deny.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| denied(Decision::Unauthenticated, ""))
    }
}

impl Caller {
    pub fn principal(&self) -> &Principal {
        &self.0
    }

    /// The actor this caller's writes are recorded under.
    pub fn actor(&self) -> ActorId {
        self.0.actor()
    }

    /// `Ok` when allowed; otherwise the 401/403/404 problem for `what`.
    pub fn check(&self, action: Action, resource: &Resource<'_>, what: &str) -> Result<(), Problem> {
        match authorize(&self.0, action, resource) {
            Decision::Allow => Ok(()),
            d => Err(denied(d, what)),
        }
    }

    /// The requested kinds narrowed to those the caller may read some of; 403 for an account that
    /// reads no entities at all (a device).
    pub fn kinds(&self, requested: KindFilter) -> Result<KindFilter, Problem> {
        if self.0.role() == Some(twin_auth::Role::Device) {
            return Err(denied(Decision::Forbidden, ""));
        }
        let readable = self.0.entity_kinds();
        Ok(requested.kinds().filter(|k| readable.contains(*k)).collect())
    }

    /// May the caller read this entity?
    pub fn can_read(&self, e: &Entity) -> bool {
        self.0.reads_every(e.kind) || twin_auth::can_read_entity(&self.0, e)
    }

    /// May the caller see an alert about an entity of `kind`? Detections carry sensitive classes,
    /// so their alerts need the whole kind.
    pub fn can_read_alert(&self, kind: twin_core::EntityKind) -> bool {
        self.0.sees_every(kind) || (kind != twin_core::EntityKind::Detection && self.0.entity_kinds().contains(kind))
    }

    /// A copy of the entity as the caller may see it (without its track; sensitive properties
    /// removed), or `None` when it is not visible.
    pub fn view(&self, e: &Entity) -> Option<Entity> {
        if !self.can_read(e) {
            return None;
        }
        let mut copy = twin_runtime::live::without_track(e);
        if !self.0.reads_every(e.kind) {
            twin_auth::redact_entity(&self.0, &mut copy);
        }
        Some(copy)
    }
}

impl twin_runtime::live::Clip for Caller {
    fn kinds(&self) -> KindFilter {
        self.0.entity_kinds()
    }
    fn view<'a>(&self, e: &'a Entity) -> Option<std::borrow::Cow<'a, Entity>> {
        if self.0.reads_every(e.kind) {
            return Some(std::borrow::Cow::Borrowed(e));
        }
        if !twin_auth::can_read_entity(&self.0, e) {
            return None;
        }
        // Copy (without the track) only when something present must go.
        let filter = twin_auth::entity_property_filter(&self.0, e);
        if filter.hidden().all(|h| !e.properties.contains_key(h)) {
            return Some(std::borrow::Cow::Borrowed(e));
        }
        let mut copy = twin_runtime::live::without_track(e);
        filter.redact(&mut copy.properties);
        Some(std::borrow::Cow::Owned(copy))
    }
    fn alert(&self, kind: twin_core::EntityKind) -> bool {
        self.can_read_alert(kind)
    }
}

/// A caller's grants as the tile renderer asks for them.
struct TileGrants(Arc<Principal>);

impl twin_tiles::live::EntityFilter for TileGrants {
    fn kinds(&self) -> KindFilter {
        self.0.entity_kinds()
    }
    fn whole_kinds(&self) -> KindFilter {
        KindFilter::ALL.kinds().filter(|k| self.0.sees_every(*k)).collect()
    }
    fn shows(&self, e: &Entity) -> bool {
        twin_auth::can_read_entity(&self.0, e)
    }
}

impl Caller {
    /// What the caller sees of the live tiles; cached per visibility class.
    pub fn tile_view(&self) -> twin_runtime::tile_service::TileView {
        twin_runtime::tile_service::TileView {
            class: Some(self.0.visibility_class().to_string()),
            filter: Arc::new(TileGrants(self.0.clone())),
        }
    }
}

/// The problem for a refused decision. 404 reads exactly like a missing object.
pub fn denied(decision: Decision, what: &str) -> Problem {
    match decision {
        Decision::Unauthenticated => {
            let mut p = Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in: this needs a bearer token");
            p.www_authenticate = Some("Bearer realm=\"citytwin\"".into());
            p
        }
        Decision::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "your account may not do this"),
        Decision::NotVisible | Decision::Allow => Problem::not_found(format!("no {what}")),
    }
}

/// Routes anyone may call: the viewer's files and fonts, health, the API description, sign-in,
/// the OGC landing and conformance pages, the demo's public GTFS-realtime feed (polled by the
/// server itself, as any transit feed is public), and OsmAnd ingest (the handler checks the
/// device's key itself, as trackers cannot send bearer tokens).
pub fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/wall" | "/healthz" | "/openapi.json" | "/ogc" | "/ogc/conformance" | "/ogc/api")
        || ["/assets/", "/fonts/", "/auth/", "/demo/gtfs-rt/"].iter().any(|p| path.starts_with(p))
        || path == "/ingest/osmand"
}

fn ticket_param(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|kv| kv.strip_prefix("ticket="))
}

/// Shared state of the authentication layer.
#[derive(Clone)]
pub struct AuthLayer {
    pub access: Arc<Access>,
    pub anonymous: Arc<Principal>,
}

impl AuthLayer {
    pub fn new(access: Arc<Access>) -> Self {
        let anonymous = Arc::new(access.anonymous());
        Self { access, anonymous }
    }
}

/// The authentication middleware: finds the caller, refuses anonymous callers outside
/// [`is_public`], and hands the caller to the handlers as a request extension.
pub async fn authenticate(State(layer): State<AuthLayer>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let live = path == "/ws" || path == "/events";
    let principal = match req.headers().get(header::AUTHORIZATION) {
        // OsmAnd trackers may use Basic auth; that route checks it itself.
        Some(v) if path == "/ingest/osmand" && v.as_bytes().starts_with(b"Basic ") => layer.anonymous.clone(),
        Some(v) => match v.to_str().map_err(|_| twin_auth::TokenError::Malformed) {
            Ok(v) => match layer.access.authenticate(v, now()) {
                Ok(p) => p,
                Err(e) => return invalid_token(e.rfc6750_code(), &e.to_string()),
            },
            Err(e) => return invalid_token(e.rfc6750_code(), &e.to_string()),
        },
        None => match ticket_param(req.uri().query()).filter(|_| live) {
            Some(t) => match layer.access.redeem(t, now()) {
                Ok(p) => Arc::new(p),
                Err(e) => return invalid_token("invalid_token", &e.to_string()),
            },
            None => layer.anonymous.clone(),
        },
    };
    if principal.is_anonymous() && !is_public(path) {
        return denied(Decision::Unauthenticated, "").into_response();
    }
    req.extensions_mut().insert(Caller(principal));
    next.run(req).await
}

/// 401 for a token that is present but not valid (RFC 6750 §3.1).
fn invalid_token(code: &str, description: &str) -> Response {
    let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", description.to_owned());
    p.www_authenticate = Some(format!("Bearer realm=\"citytwin\", error=\"{code}\""));
    p.into_response()
}

/// Content-Security-Policy of every response: our own scripts only; MapLibre's workers come from
/// blob URLs; no framing by other sites.
const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; \
                   img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
                   connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// Security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// The client's address: the socket peer (no proxy headers are trusted).
fn client_addr(parts: &Parts) -> IpAddr {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(a)| a.ip())
}

fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Json(e.body())).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let OAuthError::RateLimited { retry_after_s } = e {
        if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    if matches!(e, OAuthError::InvalidClient) {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"citytwin\""));
    }
    res
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v.starts_with("Basic ") => parse_basic_auth(v).map(Some),
        _ => Ok(None),
    }
}

/// The token endpoint's success body (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// OAuth 2.0 token endpoint (RFC 6749): `grant_type=password` (people), `client_credentials`
/// (devices, feed clients; form fields or Basic auth) and `refresh_token` (rotating).
#[utoipa::path(post, path = "/auth/token", tag = "auth", security(()),
    request_body(content_type = "application/x-www-form-urlencoded", content = String,
        description = "grant_type=password&username=…&password=… | grant_type=client_credentials&client_id=…&client_secret=… | grant_type=refresh_token&refresh_token=…"),
    responses((status = 200, body = TokenBody),
        (status = 400, description = "RFC 6749 error: {\"error\": \"invalid_grant\" | \"invalid_request\" | \"unsupported_grant_type\"}"),
        (status = 401, description = "{\"error\": \"invalid_client\"}"),
        (status = 429, description = "too many attempts for this account or address; Retry-After")))]
pub async fn token(State(layer): State<AuthLayer>, parts: Parts, body: Bytes) -> Response {
    let addr = client_addr(&parts);
    let basic = match basic_credentials(&parts.headers) {
        Ok(b) => b,
        Err(e) => return oauth_error(&e),
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().take(64).collect();
    let req = match TokenRequest::from_form(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
    ) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    // Password hashing is CPU work: off the async workers.
    let access = layer.access.clone();
    let answer = tokio::task::spawn_blocking(move || access.token(&req, addr, now())).await;
    match answer {
        Ok(Ok(t)) => {
            let body = TokenBody {
                access_token: t.access_token,
                token_type: t.token_type.to_owned(),
                expires_in: t.expires_in,
                refresh_token: t.refresh_token,
            };
            ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Ok(Err(e)) => {
            tracing::info!(error = %e, %addr, "token request refused");
            oauth_error(&e)
        }
        Err(_) => oauth_error(&OAuthError::Server),
    }
}

/// A single-use ticket for `/ws?ticket=…` or `/events?ticket=…` (browsers cannot set headers
/// on a WebSocket).
#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    pub ticket: String,
    /// Seconds the ticket may wait before it is used.
    pub expires_in: u32,
}

/// Exchange a bearer token for a single-use WebSocket/SSE ticket.
#[utoipa::path(post, path = "/auth/ticket", tag = "auth",
    responses((status = 200, body = TicketBody),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn ticket(State(layer): State<AuthLayer>, caller: Caller) -> Result<Response, Problem> {
    let t = layer.access.ticket(&caller.0, now()).map_err(|_| denied(Decision::Unauthenticated, ""))?;
    let body = TicketBody { ticket: t.into_string(), expires_in: layer.access.settings().ticket_ttl_s };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Who am I: the signed-in account, its role and agency (the viewer shows it and hides what
/// the role cannot use).
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

/// The signed-in account.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(caller: Caller) -> Result<Json<Me>, Problem> {
    let p = caller.principal();
    let role = p.role().ok_or_else(|| denied(Decision::Unauthenticated, ""))?;
    Ok(Json(Me {
        name: p.name().to_owned(),
        role: role.as_str().to_owned(),
        agency: p.agency().map(|a| a.as_str().to_owned()),
    }))
}
