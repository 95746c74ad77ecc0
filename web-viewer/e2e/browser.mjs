// Headless Debian Chromium for the end-to-end runs: a fresh profile, no background traffic.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launch(viewport = { width: 1600, height: 900 }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'citytwin-e2e-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      // WebGL without a GPU: the software rasteriser.
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  // A screenshot waits for a rendered frame, and one 3D terrain frame in software GL on a busy
  // 2-core machine can take well over playwright's default 30 s. Checks keep their own deadlines.
  ctx.setDefaultTimeout(180_000);
  return ctx;
}

/** Records every request that failed, answered ≥ 400, or left the server's origin. */
export function watchRequests(page, origin) {
  const problems = [];
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    if (new URL(u).origin !== origin) problems.push(`off-origin ${u}`);
  });
  page.on('requestfailed', (r) => problems.push(`failed ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('pageerror', (e) => problems.push(`page error ${e.message}`));
  return problems;
}

/** Share of sampled canvas pixels that differ from the most common colour, and the colour count. */
export async function canvasStats(page, selector) {
  return page.evaluate((sel) => {
    const out = [];
    for (const c of document.querySelectorAll(sel)) {
      const w = 160;
      const h = Math.max(1, Math.round((c.height / Math.max(1, c.width)) * w));
      const tmp = document.createElement('canvas');
      tmp.width = w; tmp.height = h;
      const ctx = tmp.getContext('2d');
      ctx.drawImage(c, 0, 0, w, h);
      const d = ctx.getImageData(0, 0, w, h).data;
      const counts = new Map();
      for (let i = 0; i < d.length; i += 4) {
        const k = `${d[i] >> 3},${d[i + 1] >> 3},${d[i + 2] >> 3}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const top = Math.max(...counts.values());
      out.push({ colours: counts.size, nonBackground: 1 - top / (w * h) });
    }
    return out;
  }, selector);
}

/**
 * Signs every page of `ctx` in as `user` (the demo's admin by default): a password token from
 * the server, put where the viewer keeps its session, so pages open signed in. Returns the
 * token for the script's own API calls.
 */
export async function signIn(ctx, base, user = 'admin', password = 'demo') {
  const r = await fetch(base + '/auth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: user, password }),
  });
  if (!r.ok) throw new Error(`sign-in as ${user}: ${r.status} ${await r.text()}`);
  const a = await r.json();
  // No refresh token: pages would spend the same one in turn (it rotates). A run is shorter
  // than the access token's lifetime.
  const session = JSON.stringify({ access: a.access_token, expiresAt: Date.now() + a.expires_in * 1000, user });
  await ctx.addInitScript((s) => {
    if (!sessionStorage.getItem('citytwin.session')) sessionStorage.setItem('citytwin.session', s);
  }, session);
  return a.access_token;
}

/** `fetch` of a JSON document with the bearer token. */
export function apiWith(base, token) {
  return (p, init = {}) =>
    fetch(base + p, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token}` } }).then((r) => r.json());
}
