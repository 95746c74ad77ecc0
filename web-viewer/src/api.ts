// The one way the viewer talks to the server over HTTP.
//
// Flow:
// - Every request goes through `api()` (or `apiJson()`, `blobUrl()`); when a session is held it
//   carries `Authorization: Bearer <access_token>`. Without a session nothing is added, so a server
//   without authentication (it never answers 401) sees exactly the requests it always did.
// - A 401 answer: the refresh token is tried once (`POST /auth/token`,
//   `grant_type=refresh_token`), then the request is repeated; if that fails the sign-in page is
//   shown (signin.ts) and the request is repeated once signed in. Concurrent 401s share one
//   refresh and one sign-in.
// - Sign-in: `POST /auth/token` (form) with `grant_type=password`; a wall in kiosk mode uses
//   `grant_type=client_credentials` with the `client_id`/`client_secret` of its URL, and uses them
//   again whenever its token nears expiry. Tokens live in sessionStorage (per tab, gone with it).
// - Tokens are renewed shortly before `expires_in` runs out, by refresh token or kiosk credentials.
// - Streams (`/ws`, `/events`) cannot carry headers: `streamUrl()` gets a single-use ticket from
//   `POST /auth/ticket` and appends `?ticket=`; a 404 there means no authentication, so the URL
//   is used as it is. Each (re)connect asks for a new ticket.
// - Images go through `blobUrl()` (object URLs the caller revokes); MapLibre's tile, style and
//   glyph requests get the header from `transformRequest`.

import {
  clearAll, isExpired, kioskFromUrl, loadKiosk, loadSession, mapRequest, refreshDelayMs, saveKiosk, saveSession,
  sessionFromAnswer, stripKiosk, tokenError, tokenForm, withTicket,
  type ClientCreds, type Grant, type KeyValue, type Session, type SignInError, type TokenAnswer,
} from './auth';

export interface ApiDeps {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  storage: KeyValue;
  now: () => number;
  /** Page origin, for the MapLibre transform (read when needed). */
  origin: () => string;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

/** Asks the person to sign in, showing `reason` first if given; resolves once signed in. */
export type Prompt = (reason: SignInError | null) => Promise<void>;

/** Retry delay when a renewal failed for a passing reason (network, server error, rate limit). */
const RETRY_MS = 15_000;

export class ApiClient {
  private prompt: Prompt | null = null;
  private refreshing: Promise<boolean> | null = null;
  private signingIn: Promise<void> | null = null;
  private timer: unknown = null;
  private listeners: (() => void)[] = [];

  constructor(private d: ApiDeps) {
    const s = this.session();
    if (s) this.schedule(s);
  }

  /** Who is signed in and until when, or null. */
  session(): Session | null {
    return loadSession(this.d.storage);
  }

  /** The access token to send, or null when signed out. */
  token(): string | null {
    return this.session()?.access ?? null;
  }

  /** Whether the wall signs itself in with client credentials. */
  kiosk(): boolean {
    return loadKiosk(this.d.storage) !== null;
  }

  /** Called on sign-in, renewal and sign-out (the account control redraws). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  setPrompt(p: Prompt): void {
    this.prompt = p;
  }

  /** `fetch` with the bearer token, renewal on 401 and sign-in when renewal is not possible. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const s = this.session();
    // A token known to be spent is renewed first, sparing a round trip that can only fail.
    if (s && isExpired(s, this.d.now()) && (s.refresh || this.kiosk())) await this.refresh();
    const r = await this.send(path, init);
    if (r.status !== 401) return r;
    if (this.session() && (await this.refresh())) {
      const again = await this.send(path, init);
      if (again.status !== 401) return again;
    }
    if (!(await this.requireSignIn())) return r;
    return this.send(path, init);
  }

  private send(path: string, init: RequestInit): Promise<Response> {
    const token = this.token();
    if (!token) return this.d.fetch(path, init);
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return this.d.fetch(path, { ...init, headers });
  }

  /** Signs in with a username and password; null on success, else what went wrong. */
  signIn(username: string, password: string): Promise<SignInError | null> {
    return this.token_({ grant_type: 'password', username, password }, username);
  }

  /** Signs in with client credentials (kiosk walls). */
  signInClient(c: ClientCreds): Promise<SignInError | null> {
    return this.token_({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }, c.clientId);
  }

  /**
   * Takes kiosk credentials from the page URL (fragment or query), keeps them for this tab and
   * removes them from the address bar and history; then signs in with them. A server without
   * authentication (404) or one that is down is not an error here: requests decide later.
   */
  async startKiosk(loc: { pathname: string; search: string; hash: string }, replace: (url: string) => void): Promise<void> {
    const fromUrl = kioskFromUrl(loc.hash, loc.search);
    if (fromUrl) {
      saveKiosk(this.d.storage, fromUrl);
      replace(stripKiosk(loc.pathname, loc.search, loc.hash));
    }
    const creds = loadKiosk(this.d.storage);
    const s = this.session();
    if (creds && (!s || isExpired(s, this.d.now()))) await this.signInClient(creds);
  }

  /** Renews the access token (one at a time); true when a new one was obtained. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.renew().finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  private async renew(): Promise<boolean> {
    const s = this.session();
    if (s?.refresh) {
      const e = await this.token_({ grant_type: 'refresh_token', refresh_token: s.refresh }, s.user, s.refresh);
      if (!e) return true;
      if (passing(e)) {
        this.retryLater();
        return false;
      }
      // Refused: the refresh token is spent; the access token may still serve until it runs out.
      const cur = this.session();
      if (cur) saveSession(this.d.storage, { ...cur, refresh: undefined });
    }
    const k = loadKiosk(this.d.storage);
    if (!k) return false;
    const e = await this.signInClient(k);
    if (e && passing(e)) this.retryLater();
    return !e;
  }

  /** Kiosk credentials first, else the sign-in page; false when there is no way to sign in. */
  private requireSignIn(): Promise<boolean> {
    const p = this.signingIn ??= (async () => {
      const k = loadKiosk(this.d.storage);
      let reason: SignInError | null = null;
      if (k) {
        reason = await this.signInClient(k);
        if (!reason) return;
      }
      if (!this.prompt) throw new Error('no sign-in page');
      await this.prompt(reason);
    })().finally(() => { this.signingIn = null; });
    return p.then(() => true, () => false);
  }

  /** One call of the token endpoint; stores the session on success. */
  private async token_(g: Grant, user: string, previousRefresh?: string): Promise<SignInError | null> {
    let r: Response;
    try {
      r = await this.d.fetch('/auth/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: tokenForm(g),
      });
    } catch {
      return { key: 'err_unreachable' };
    }
    const body: unknown = await r.json().catch(() => null);
    if (!r.ok) return tokenError(r.status, body, r.headers.get('Retry-After'), this.d.now());
    const a = body as TokenAnswer | null;
    if (!a || typeof a.access_token !== 'string' || !a.access_token) return { key: 'err_server', detail: 'no access_token' };
    const s = sessionFromAnswer(a, user, this.d.now(), previousRefresh);
    saveSession(this.d.storage, s);
    this.schedule(s);
    this.changed();
    return null;
  }

  private schedule(s: Session): void {
    if (this.timer !== null) this.d.clearTimer(this.timer);
    this.timer = null;
    if (!s.refresh && !this.kiosk()) return; // nothing to renew with: the next 401 asks to sign in
    this.timer = this.d.setTimer(() => { this.timer = null; void this.refresh(); }, refreshDelayMs(s, this.d.now()));
  }

  private retryLater(): void {
    if (this.timer !== null) this.d.clearTimer(this.timer);
    this.timer = this.d.setTimer(() => { this.timer = null; void this.refresh(); }, RETRY_MS);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Forgets the session and kiosk credentials (the caller reloads the page). */
  signOut(): void {
    if (this.timer !== null) this.d.clearTimer(this.timer);
    this.timer = null;
    clearAll(this.d.storage);
    this.changed();
  }

  /**
   * The stream URL to open now: with a fresh single-use ticket, or unchanged where the server has
   * no ticket endpoint (no authentication). Throws when the server could not be asked.
   */
  async streamUrl(url: string): Promise<string> {
    // Not signed in: either the server has no authentication, or the first API call's 401 will
    // bring up the sign-in page before any stream is worth opening.
    if (this.token() === null) return url;
    const r = await this.fetch('/auth/ticket', { method: 'POST', headers: { Accept: 'application/json' } });
    if (r.status === 404 || r.status === 405) return url;
    if (!r.ok) throw new Error(`ticket: HTTP ${r.status}`);
    const body = (await r.json()) as { ticket?: unknown };
    if (typeof body.ticket !== 'string' || !body.ticket) throw new Error('ticket: no ticket in the answer');
    return withTicket(url, body.ticket);
  }

  /** MapLibre's `transformRequest`: the bearer header on same-origin tiles, styles and glyphs. */
  readonly transformRequest = (url: string) => mapRequest(url, this.d.origin(), this.token());
}

/** Failures that may pass on their own: try again later rather than give up the session. */
function passing(e: SignInError): boolean {
  return e.key === 'err_unreachable' || e.key === 'err_server' || e.key === 'err_rate';
}

/** Session storage, or a map where there is none (tests, storage disabled). */
function tabStorage(): KeyValue {
  try {
    if (typeof sessionStorage !== 'undefined') return sessionStorage;
  } catch {
    // Access denied by the browser's settings.
  }
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

/** The page's client. */
export const client = new ApiClient({
  fetch: (input, init) => fetch(input, init),
  storage: tabStorage(),
  now: () => Date.now(),
  origin: () => (typeof location === 'undefined' ? '' : location.origin),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
});

export const api = (path: string, init?: RequestInit): Promise<Response> => client.fetch(path, init);

/** GET as JSON; rejects on a non-2xx answer. */
export async function apiJson<T>(path: string): Promise<T> {
  const r = await client.fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/**
 * An image as an object URL (for `<img src>`, which cannot carry a header), or null when the
 * server had none. The caller revokes it (`URL.revokeObjectURL`) once it is replaced.
 */
export async function blobUrl(path: string): Promise<string | null> {
  const r = await client.fetch(path);
  if (!r.ok) return null;
  return URL.createObjectURL(await r.blob());
}
