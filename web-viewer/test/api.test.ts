import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api';
import { loadKiosk, loadSession, type KeyValue } from '../src/auth';

interface Call { path: string; method: string; auth: string | null; body: string }

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

/** A client against a scripted server; timers are collected, not run. */
function setup(server: (c: Call) => Response | Promise<Response>) {
  const m = new Map<string, string>();
  const storage: KeyValue = { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
  const calls: Call[] = [];
  const timers: { fn: () => void; ms: number; live: boolean }[] = [];
  let now = 1_000_000;
  const client = new ApiClient({
    fetch: async (path, init = {}) => {
      const c = { path, method: init.method ?? 'GET', auth: new Headers(init.headers).get('Authorization'), body: String(init.body ?? '') };
      calls.push(c);
      return server(c);
    },
    storage,
    now: () => now,
    origin: () => 'https://ioc.example',
    setTimer: (fn, ms) => { const t = { fn, ms, live: true }; timers.push(t); return t; },
    clearTimer: (h) => { (h as { live: boolean }).live = false; },
  });
  return { client, calls, timers, storage, advance: (ms: number) => { now += ms; } };
}

/** A server with authentication: tokens `a<n>`, refresh tokens `r<n>`, rotated on each use. */
function authServer(opts: { refreshOk?: boolean } = {}) {
  let n = 0;
  const valid = new Set<string>();
  const refresh = new Set<string>();
  const issue = (withRefresh: boolean) => {
    n++;
    valid.add(`a${n}`);
    if (withRefresh) refresh.add(`r${n}`);
    return json(200, { access_token: `a${n}`, token_type: 'Bearer', expires_in: 600, ...(withRefresh ? { refresh_token: `r${n}` } : {}) });
  };
  const server = (c: Call): Response => {
    if (c.path === '/auth/token') {
      const f = new URLSearchParams(c.body);
      const g = f.get('grant_type');
      if (g === 'password') return f.get('password') === 'right' ? issue(true) : json(400, { error: 'invalid_grant' });
      if (g === 'client_credentials') return f.get('client_secret') === 'wall-secret' ? issue(false) : json(401, { error: 'invalid_client' });
      if (g === 'refresh_token') {
        const r = f.get('refresh_token')!;
        if (opts.refreshOk === false || !refresh.delete(r)) return json(400, { error: 'invalid_grant' });
        return issue(true);
      }
      return json(400, { error: 'unsupported_grant_type' });
    }
    const tok = c.auth?.replace(/^Bearer /, '') ?? '';
    if (!valid.has(tok)) return json(401, { error: 'invalid_token' });
    if (c.path === '/auth/ticket') return json(200, { ticket: `tk-${tok}`, expires_in: 30 });
    return json(200, { ok: true, tok });
  };
  return { server, expireAll: () => valid.clear() };
}

describe('without authentication on the server', () => {
  it('sends requests as they were, never asks to sign in, and streams without a ticket', async () => {
    const { client, calls } = setup((c) => (c.path === '/auth/ticket' ? new Response('', { status: 404 }) : json(200, { ok: 1 })));
    let prompted = 0;
    client.setPrompt(async () => { prompted++; });
    expect((await client.fetch('/api/alerts')).status).toBe(200);
    expect(await client.streamUrl('ws://h/ws')).toBe('ws://h/ws');
    expect(calls.every((c) => c.auth === null)).toBe(true);
    expect(prompted).toBe(0);
    expect(client.session()).toBeNull();
  });
});

describe('with authentication', () => {
  it('asks to sign in on a 401, then repeats the request with the bearer token', async () => {
    const { server } = authServer();
    const { client, calls, storage } = setup(server);
    client.setPrompt(async (reason) => {
      expect(reason).toBeNull();
      expect(await client.signIn('lan', 'wrong')).toEqual({ key: 'err_credentials' });
      expect(await client.signIn('lan', 'right')).toBeNull();
    });
    const r = await client.fetch('/api/viewer');
    expect(await r.json()).toEqual({ ok: true, tok: 'a1' });
    expect(calls.at(-1)).toMatchObject({ path: '/api/viewer', auth: 'Bearer a1' });
    const tokenCall = calls.find((c) => c.path === '/auth/token')!;
    expect(tokenCall.method).toBe('POST');
    expect(loadSession(storage)).toMatchObject({ access: 'a1', refresh: 'r1', user: 'lan' });
  });

  it('renews with the refresh token once on a 401, shared by concurrent requests', async () => {
    const { server, expireAll } = authServer();
    const { client, calls } = setup(server);
    await client.signIn('lan', 'right');
    expireAll();
    const [a, b] = await Promise.all([client.fetch('/api/a'), client.fetch('/api/b')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const refreshes = calls.filter((c) => c.body.startsWith('grant_type=refresh_token'));
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0].body).toBe('grant_type=refresh_token&refresh_token=r1');
    expect(client.session()?.refresh).toBe('r2');
  });

  it('shows the sign-in page when the refresh token is refused', async () => {
    const { server, expireAll } = authServer({ refreshOk: false });
    const { client } = setup(server);
    await client.signIn('lan', 'right');
    expireAll();
    let prompted = 0;
    client.setPrompt(async () => { prompted++; await client.signIn('lan', 'right'); });
    expect((await client.fetch('/api/x')).status).toBe(200);
    expect(prompted).toBe(1);
  });

  it('renews shortly before expiry on a timer', async () => {
    const { server } = authServer();
    const { client, timers } = setup(server);
    await client.signIn('lan', 'right');
    const t = timers.filter((x) => x.live);
    expect(t).toHaveLength(1);
    expect(t[0].ms).toBe(540_000);
    t[0].fn();
    await new Promise((r) => setTimeout(r, 0));
    expect(client.session()?.access).toBe('a2');
  });

  it('gets a ticket for each stream connection', async () => {
    const { server } = authServer();
    const { client, calls } = setup(server);
    await client.signIn('lan', 'right');
    expect(await client.streamUrl('wss://ioc.example/ws')).toBe('wss://ioc.example/ws?ticket=tk-a1');
    expect(await client.streamUrl('/events')).toBe('/events?ticket=tk-a1');
    expect(calls.filter((c) => c.path === '/auth/ticket' && c.method === 'POST' && c.auth === 'Bearer a1')).toHaveLength(2);
  });

  it('reports rate limiting and an unreachable server', async () => {
    const limited = setup(() => json(429, { error: 'slow_down' }, { 'Retry-After': '42' }));
    expect(await limited.client.signIn('lan', 'x')).toEqual({ key: 'err_rate', retryAfterS: 42 });
    const down = setup(() => { throw new TypeError('Failed to fetch'); });
    expect(await down.client.signIn('lan', 'x')).toEqual({ key: 'err_unreachable' });
  });

  it('gives MapLibre the header for same-origin tiles once signed in', async () => {
    const { server } = authServer();
    const { client } = setup(server);
    expect(client.transformRequest('https://ioc.example/tiles/base/0/0/0.pbf')).toBeUndefined();
    await client.signIn('lan', 'right');
    expect(client.transformRequest('https://ioc.example/tiles/base/0/0/0.pbf')?.headers.Authorization).toBe('Bearer a1');
  });

  it('signs out', async () => {
    const { server } = authServer();
    const { client } = setup(server);
    let changes = 0;
    client.onChange(() => changes++);
    await client.signIn('lan', 'right');
    client.signOut();
    expect(client.session()).toBeNull();
    expect(changes).toBe(2);
  });
});

describe('kiosk wall', () => {
  it('signs in with the client credentials of the fragment, hides them and renews with them', async () => {
    const { server, expireAll } = authServer();
    const { client, calls, storage, timers } = setup(server);
    let replaced = '';
    await client.startKiosk({ pathname: '/wall', search: '?layout=ioc', hash: '#client_id=wall-1&client_secret=wall-secret' }, (u) => { replaced = u; });
    expect(replaced).toBe('/wall?layout=ioc');
    expect(loadKiosk(storage)).toEqual({ clientId: 'wall-1', clientSecret: 'wall-secret' });
    expect(calls[0].body).toBe('grant_type=client_credentials&client_id=wall-1&client_secret=wall-secret');
    expect(client.session()).toMatchObject({ access: 'a1', user: 'wall-1' });
    expect(client.kiosk()).toBe(true);
    // No refresh token: the timer uses the client credentials again.
    timers.filter((x) => x.live)[0].fn();
    await new Promise((r) => setTimeout(r, 0));
    expect(client.session()?.access).toBe('a2');
    // And a 401 is answered the same way, with no person asked.
    expireAll();
    client.setPrompt(async () => { throw new Error('no prompt on a kiosk'); });
    expect((await client.fetch('/api/alerts')).status).toBe(200);
  });

  it('shows the sign-in page with the reason when the credentials are refused', async () => {
    const { server } = authServer();
    const { client } = setup(server);
    await client.startKiosk({ pathname: '/wall', search: '', hash: '#client_id=wall-1&client_secret=bad' }, () => undefined);
    let reason: unknown = null;
    client.setPrompt(async (r) => { reason = r; await client.signIn('lan', 'right'); });
    expect((await client.fetch('/api/alerts')).status).toBe(200);
    expect(reason).toEqual({ key: 'err_client' });
  });

  it('starts quietly on a server without authentication', async () => {
    const { client } = setup((c) => (c.path === '/auth/token' ? new Response('', { status: 404 }) : json(200, {})));
    await client.startKiosk({ pathname: '/wall', search: '', hash: '#client_id=w&client_secret=s' }, () => undefined);
    expect(client.session()).toBeNull();
    expect((await client.fetch('/api/viewer')).status).toBe(200);
  });
});
