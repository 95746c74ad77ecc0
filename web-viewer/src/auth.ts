// The pure parts of signing in: what is kept in session storage, when to refresh, the token
// endpoint's forms and answers, kiosk credentials from the URL, ticketed stream URLs and the
// MapLibre request transform. No network and no DOM here (see api.ts for the client).

/** What the token endpoint answers on success (RFC 6749 §5.1). */
export interface TokenAnswer {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
}

/** A signed-in session as kept in storage. */
export interface Session {
  access: string;
  /** Epoch ms when the access token runs out. */
  expiresAt: number;
  refresh?: string;
  /** Who signed in (the username, or the wall's client id). */
  user: string;
}

/** Kiosk credentials for the `client_credentials` grant. */
export interface ClientCreds {
  clientId: string;
  clientSecret: string;
}

/** The part of `Storage` used here, so tests can pass a plain map. */
export type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const SESSION_KEY = 'citytwin.session';
const KIOSK_KEY = 'citytwin.kiosk';

/** Used when the server leaves out `expires_in`: short, so a refresh happens soon. */
const DEFAULT_TTL_S = 300;

export function sessionFromAnswer(a: TokenAnswer, user: string, now: number, previousRefresh?: string): Session {
  const ttl = typeof a.expires_in === 'number' && a.expires_in > 0 ? a.expires_in : DEFAULT_TTL_S;
  // A refresh answer without a new refresh token leaves the old one valid (RFC 6749 §6).
  const refresh = a.refresh_token ?? previousRefresh;
  return { access: a.access_token, expiresAt: now + ttl * 1000, user, ...(refresh ? { refresh } : {}) };
}

export function loadSession(s: KeyValue): Session | null {
  try {
    const v = JSON.parse(s.getItem(SESSION_KEY) ?? 'null');
    if (v && typeof v.access === 'string' && typeof v.expiresAt === 'number' && typeof v.user === 'string') return v;
  } catch {
    // A damaged entry counts as signed out.
  }
  return null;
}

export function saveSession(s: KeyValue, session: Session | null): void {
  if (session) s.setItem(SESSION_KEY, JSON.stringify(session));
  else s.removeItem(SESSION_KEY);
}

export function loadKiosk(s: KeyValue): ClientCreds | null {
  try {
    const v = JSON.parse(s.getItem(KIOSK_KEY) ?? 'null');
    if (v && typeof v.clientId === 'string' && typeof v.clientSecret === 'string') return v;
  } catch {
    // ignored: no kiosk credentials
  }
  return null;
}

export function saveKiosk(s: KeyValue, c: ClientCreds | null): void {
  if (c) s.setItem(KIOSK_KEY, JSON.stringify(c));
  else s.removeItem(KIOSK_KEY);
}

/** Everything sign-out forgets. */
export function clearAll(s: KeyValue): void {
  s.removeItem(SESSION_KEY);
  s.removeItem(KIOSK_KEY);
}

/**
 * Milliseconds until the token should be renewed: a fifth of its life early, between 5 s and 60 s,
 * so a slow network or a sleeping tab still renews in time; never less than 1 s.
 */
export function refreshDelayMs(session: Pick<Session, 'expiresAt'>, now: number, lifeMs?: number): number {
  const left = session.expiresAt - now;
  const life = lifeMs ?? left;
  const lead = Math.min(60_000, Math.max(5_000, life * 0.2));
  return Math.max(1_000, left - lead);
}

/** Whether the access token is spent or about to be (within 5 s). */
export function isExpired(session: Pick<Session, 'expiresAt'>, now: number): boolean {
  return session.expiresAt - now < 5_000;
}

export type Grant =
  | { grant_type: 'password'; username: string; password: string }
  | { grant_type: 'refresh_token'; refresh_token: string }
  | { grant_type: 'client_credentials'; client_id: string; client_secret: string };

/** The `application/x-www-form-urlencoded` body of a token request. */
export function tokenForm(g: Grant): string {
  return new URLSearchParams(g as unknown as Record<string, string>).toString();
}

/** The i18n key of a sign-in failure, and the wait when rate limited. */
export interface SignInError {
  key: 'err_credentials' | 'err_client' | 'err_missing' | 'err_rate' | 'err_unreachable' | 'err_server' | 'err_refused';
  retryAfterS?: number;
  /** The server's own words, shown under the translated message when it gave any. */
  detail?: string;
}

/** Seconds from a `Retry-After` header (delta seconds or an HTTP date); `fallback` when absent. */
export function retryAfterSeconds(header: string | null, now: number, fallback = 30): number {
  if (!header) return fallback;
  const n = Number(header.trim());
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(1, Math.ceil((at - now) / 1000)) : fallback;
}

/** Maps a token endpoint failure (status, JSON body, Retry-After) to what the sign-in form says. */
export function tokenError(status: number, body: unknown, retryAfter: string | null, now: number): SignInError {
  const b = (body && typeof body === 'object' ? body : {}) as { error?: unknown; error_description?: unknown };
  const code = typeof b.error === 'string' ? b.error : '';
  const detail = typeof b.error_description === 'string' && b.error_description ? b.error_description : undefined;
  if (status === 429 || code === 'slow_down') return { key: 'err_rate', retryAfterS: retryAfterSeconds(retryAfter, now) };
  if (code === 'invalid_grant') return { key: 'err_credentials' };
  if (code === 'invalid_client') return { key: 'err_client' };
  if (code === 'invalid_request') return { key: 'err_missing', detail };
  if (status >= 500 || status === 0) return { key: 'err_server', detail };
  return { key: 'err_refused', detail: detail ?? (code || `HTTP ${status}`) };
}

/**
 * Kiosk credentials from the page URL: the fragment first (it never reaches the server), then the
 * query. Both `client_id` and `client_secret` are needed.
 */
export function kioskFromUrl(hash: string, search: string): ClientCreds | null {
  for (const part of [hash.replace(/^#/, ''), search.replace(/^\?/, '')]) {
    const q = new URLSearchParams(part);
    const clientId = q.get('client_id');
    const clientSecret = q.get('client_secret');
    if (clientId && clientSecret) return { clientId, clientSecret };
  }
  return null;
}

/** The URL with the kiosk credentials taken out of its query and fragment (to replace history with). */
export function stripKiosk(pathname: string, search: string, hash: string): string {
  const clean = (s: string) => {
    const q = new URLSearchParams(s);
    q.delete('client_id');
    q.delete('client_secret');
    return q.toString();
  };
  const qs = clean(search.replace(/^\?/, ''));
  const fr = clean(hash.replace(/^#/, ''));
  return `${pathname}${qs ? `?${qs}` : ''}${fr ? `#${fr}` : ''}`;
}

/** A stream URL (`ws://host/ws`, `/events`, …) with its single-use ticket, or as it is without one. */
export function withTicket(url: string, ticket: string | null): string {
  if (!ticket) return url;
  return `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`;
}

/** Paths MapLibre loads that need the bearer token. */
const MAP_PATHS = ['/tiles/', '/styles/', '/fonts/'];

/**
 * The MapLibre `transformRequest` answer for `url`: the bearer header on same-origin tile, style
 * and glyph requests; `undefined` (unchanged) for everything else, so no token leaves the origin.
 */
export function mapRequest(url: string, origin: string, token: string | null): { url: string; headers: Record<string, string> } | undefined {
  if (!token || !url.startsWith(`${origin}/`)) return undefined;
  const path = url.slice(origin.length);
  if (!MAP_PATHS.some((p) => path.startsWith(p))) return undefined;
  return { url, headers: { Authorization: `Bearer ${token}` } };
}
