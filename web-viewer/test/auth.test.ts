import { describe, expect, it } from 'vitest';
import {
  clearAll, isExpired, kioskFromUrl, loadKiosk, loadSession, mapRequest, refreshDelayMs, retryAfterSeconds, saveKiosk,
  saveSession, sessionFromAnswer, stripKiosk, tokenError, tokenForm, withTicket, type KeyValue,
} from '../src/auth';
import { stringKeys, t, tf } from '../src/i18n';

function memory(): KeyValue & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return { m, getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

describe('session storage', () => {
  it('keeps a session from a token answer and reads it back', () => {
    const s = memory();
    const session = sessionFromAnswer({ access_token: 'a1', token_type: 'Bearer', expires_in: 900, refresh_token: 'ctr_r1' }, 'lan', 1_000);
    expect(session).toEqual({ access: 'a1', expiresAt: 901_000, refresh: 'ctr_r1', user: 'lan' });
    saveSession(s, session);
    expect(loadSession(s)).toEqual(session);
    saveSession(s, null);
    expect(loadSession(s)).toBeNull();
  });
  it('keeps the previous refresh token when the answer has none, and defaults a missing lifetime', () => {
    const a = sessionFromAnswer({ access_token: 'a2' }, 'lan', 0, 'ctr_old');
    expect(a.refresh).toBe('ctr_old');
    expect(a.expiresAt).toBe(300_000);
    expect('refresh' in sessionFromAnswer({ access_token: 'a3', expires_in: 60 }, 'wall-1', 0)).toBe(false);
  });
  it('treats damaged entries as signed out', () => {
    const s = memory();
    s.setItem('citytwin.session', '{not json');
    expect(loadSession(s)).toBeNull();
    s.setItem('citytwin.session', JSON.stringify({ access: 1 }));
    expect(loadSession(s)).toBeNull();
  });
  it('sign-out forgets the session and the kiosk credentials', () => {
    const s = memory();
    saveSession(s, { access: 'a', expiresAt: 1, user: 'u' });
    saveKiosk(s, { clientId: 'wall-1', clientSecret: 'x' });
    expect(loadKiosk(s)).toEqual({ clientId: 'wall-1', clientSecret: 'x' });
    clearAll(s);
    expect(s.m.size).toBe(0);
  });
});

describe('expiry', () => {
  it('renews a fifth of the life early, between 5 s and 60 s', () => {
    expect(refreshDelayMs({ expiresAt: 900_000 }, 0)).toBe(840_000);
    expect(refreshDelayMs({ expiresAt: 100_000 }, 0)).toBe(80_000);
    expect(refreshDelayMs({ expiresAt: 10_000 }, 0)).toBe(5_000);
    expect(refreshDelayMs({ expiresAt: 3_000 }, 0)).toBe(1_000);
    expect(refreshDelayMs({ expiresAt: 0 }, 50_000)).toBe(1_000);
  });
  it('counts a token within 5 s of its end as spent', () => {
    expect(isExpired({ expiresAt: 10_000 }, 4_000)).toBe(false);
    expect(isExpired({ expiresAt: 10_000 }, 6_000)).toBe(true);
  });
});

describe('token endpoint', () => {
  it('builds form bodies', () => {
    expect(tokenForm({ grant_type: 'password', username: 'nguyễn an', password: 'p&q=1' }))
      .toBe('grant_type=password&username=nguy%E1%BB%85n+an&password=p%26q%3D1');
    expect(tokenForm({ grant_type: 'refresh_token', refresh_token: 'ctr_x' })).toBe('grant_type=refresh_token&refresh_token=ctr_x');
    expect(tokenForm({ grant_type: 'client_credentials', client_id: 'wall-1', client_secret: 's/1' }))
      .toBe('grant_type=client_credentials&client_id=wall-1&client_secret=s%2F1');
  });
  it('maps RFC 6749 errors and rate limiting to messages', () => {
    expect(tokenError(400, { error: 'invalid_grant' }, null, 0)).toEqual({ key: 'err_credentials' });
    expect(tokenError(401, { error: 'invalid_client' }, null, 0)).toEqual({ key: 'err_client' });
    expect(tokenError(400, { error: 'invalid_request', error_description: 'username missing' }, null, 0))
      .toEqual({ key: 'err_missing', detail: 'username missing' });
    expect(tokenError(429, { error: 'slow_down' }, '17', 0)).toEqual({ key: 'err_rate', retryAfterS: 17 });
    expect(tokenError(429, null, null, 0)).toEqual({ key: 'err_rate', retryAfterS: 30 });
    expect(tokenError(503, 'x', null, 0).key).toBe('err_server');
    expect(tokenError(400, { error: 'unsupported_grant_type' }, null, 0)).toEqual({ key: 'err_refused', detail: 'unsupported_grant_type' });
  });
  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterSeconds('2.2', 0)).toBe(3);
    expect(retryAfterSeconds(new Date(60_000).toUTCString(), 0)).toBe(60);
    expect(retryAfterSeconds('soon', 0, 9)).toBe(9);
  });
});

describe('kiosk credentials', () => {
  it('prefers the fragment, then the query', () => {
    expect(kioskFromUrl('#client_id=wall-1&client_secret=s1', '?client_id=q&client_secret=q'))
      .toEqual({ clientId: 'wall-1', clientSecret: 's1' });
    expect(kioskFromUrl('', '?layout=ioc&client_id=wall-2&client_secret=s%2B2')).toEqual({ clientId: 'wall-2', clientSecret: 's+2' });
    expect(kioskFromUrl('#client_id=wall-1', '')).toBeNull();
  });
  it('takes them out of the address, keeping the rest', () => {
    expect(stripKiosk('/wall', '?layout=ioc&client_id=w&client_secret=s', '#x=1&client_secret=s')).toBe('/wall?layout=ioc#x=1');
    expect(stripKiosk('/wall', '', '#client_id=w&client_secret=s')).toBe('/wall');
  });
});

describe('URLs', () => {
  it('adds the ticket to stream URLs', () => {
    expect(withTicket('wss://ioc.example/ws', 'tk 1')).toBe('wss://ioc.example/ws?ticket=tk%201');
    expect(withTicket('/events?kind=bus', 'tk')).toBe('/events?kind=bus&ticket=tk');
    expect(withTicket('ws://h/ws', null)).toBe('ws://h/ws');
  });
  it('gives the bearer header to same-origin tiles, styles and fonts only', () => {
    const o = 'https://ioc.example';
    expect(mapRequest(`${o}/tiles/base/1/2/3.pbf`, o, 'tok')).toEqual({ url: `${o}/tiles/base/1/2/3.pbf`, headers: { Authorization: 'Bearer tok' } });
    expect(mapRequest(`${o}/fonts/Noto/0-255.pbf`, o, 'tok')?.headers.Authorization).toBe('Bearer tok');
    expect(mapRequest(`${o}/styles/operations.json`, o, 'tok')).toBeDefined();
    expect(mapRequest(`${o}/api/h3`, o, 'tok')).toBeUndefined();
    expect(mapRequest('https://elsewhere.example/tiles/1/2/3.pbf', o, 'tok')).toBeUndefined();
    expect(mapRequest(`${o}.evil.example/tiles/1.pbf`, o, 'tok')).toBeUndefined();
    expect(mapRequest(`${o}/tiles/1/2/3.pbf`, o, null)).toBeUndefined();
  });
});

describe('sign-in strings', () => {
  const keys = ['signin_title', 'signin_intro', 'session_expired', 'username', 'password', 'signin', 'signing_in', 'signed_in_as',
    'sign_out', 'err_credentials', 'err_client', 'err_missing', 'err_rate', 'err_unreachable', 'err_server', 'err_refused'];
  it('exist in both languages and differ', () => {
    for (const k of keys) {
      expect(stringKeys('vi')).toContain(k);
      expect(stringKeys('en')).toContain(k);
    }
    expect(t('err_credentials', 'vi')).not.toBe(t('err_credentials', 'en'));
  });
  it('fill placeholders', () => {
    expect(tf('err_rate', { n: 12 }, 'en')).toBe('Too many attempts. Try again in 12 s.');
    expect(tf('err_rate', { n: 12 }, 'vi')).toContain('12 giây');
    expect(tf('signed_in_as', { user: 'lan.nguyen' }, 'en')).toBe('Signed in as lan.nguyen');
  });
});
