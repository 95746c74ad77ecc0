// Sign-in checks against a stand-in server (no Rust build needed): serves dist/ and answers the
// auth endpoints the way the server does. `node e2e/auth.mjs` after `npm run build`.
//   with auth:    401 until signed in, password grant, tickets on /ws, sign-out, rate limiting
//   without auth: no sign-in page, no ticket, requests unchanged
//   kiosk wall:   client credentials from the fragment, removed from the address bar
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { launch } from './browser.mjs';

const DIST = join(import.meta.dirname, '..', 'dist');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.mjs': 'text/javascript', '.svg': 'image/svg+xml' };
const STYLE = { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#0b1020' } }] };

function stand(withAuth) {
  const tokens = new Set();
  const seen = [];
  let n = 0;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const auth = req.headers.authorization ?? null;
    seen.push({ path: url.pathname, auth });
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (url.pathname.startsWith('/auth/')) {
      if (!withAuth) return send(404, { error: 'not found' });
      if (url.pathname === '/auth/token') {
        let body = '';
        for await (const c of req) body += c;
        const f = new URLSearchParams(body);
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return send(400, { error: 'invalid_request' });
        const ok = (refresh) => { const t = `a${++n}`; tokens.add(t); return send(200, { access_token: t, token_type: 'Bearer', expires_in: 600, ...(refresh ? { refresh_token: `r${n}` } : {}) }); };
        if (f.get('grant_type') === 'password') {
          if (f.get('username') === 'slow') return send(429, { error: 'slow_down' }, { 'Retry-After': '5' });
          return f.get('username') === 'lan' && f.get('password') === 'right' ? ok(true) : send(400, { error: 'invalid_grant' });
        }
        if (f.get('grant_type') === 'client_credentials') return f.get('client_secret') === 's3cret' ? ok(false) : send(401, { error: 'invalid_client' });
        return send(400, { error: 'invalid_grant' });
      }
      if (url.pathname === '/auth/ticket') {
        if (req.method !== 'POST' || !tokens.has(auth?.slice(7))) return send(401, { error: 'invalid_token' });
        return send(200, { ticket: `tk${n}`, expires_in: 30 });
      }
    }
    const file = url.pathname === '/' ? 'index.html' : url.pathname === '/wall' ? 'wall.html' : url.pathname.slice(1);
    if (!url.pathname.startsWith('/api/') && !url.pathname.startsWith('/styles/') && existsSync(join(DIST, file))) {
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      return res.end(readFileSync(join(DIST, file)));
    }
    if (withAuth && !tokens.has(auth?.slice(7))) return send(401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer' });
    if (url.pathname.startsWith('/styles/')) return send(200, STYLE);
    if (url.pathname === '/api/alerts') return send(200, { alerts: [] });
    if (url.pathname === '/api/cameras') return send(200, { cameras: [] });
    return send(200, {});
  });
  // No live stream here: the upgrade is refused, the URL it asked for is what is checked.
  server.on('upgrade', (req, socket) => { seen.push({ path: req.url, auth: null }); socket.destroy(); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, base: `http://127.0.0.1:${server.address().port}` })));
}

const failures = [];
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
const until = async (fn, ms = 30_000) => { const end = Date.now() + ms; while (Date.now() < end) { if (await fn()) return true; await new Promise((r) => setTimeout(r, 200)); } return false; };

const ctx = await launch({ width: 1280, height: 800 });
try {
  {
    const { server, seen, base } = await stand(true);
    const page = await ctx.newPage();
    await page.goto(`${base}/?view=2d&lang=en`);
    check(await until(() => page.locator('#signin').isVisible()), 'auth: the sign-in page shows on a 401');
    check(await page.evaluate(() => document.activeElement?.id) === 'signin-user', 'auth: the username field has focus');
    if (process.env.SHOTS) await page.screenshot({ path: `${process.env.SHOTS}/signin-en.png` });
    await page.fill('#signin-user', 'lan');
    await page.fill('#signin-pass', 'wrong');
    await page.press('#signin-pass', 'Enter');
    check(await until(async () => (await page.textContent('#signin-error')) === 'Wrong username or password.'), 'auth: wrong password is said so');
    check(await page.evaluate(() => document.activeElement?.id) === 'signin-pass', 'auth: focus back on the password');
    await page.fill('#signin-pass', 'right');
    await page.press('#signin-pass', 'Enter');
    check(await until(async () => !(await page.locator('#signin').count())), 'auth: the sign-in page goes once signed in');
    check(await until(async () => (await page.textContent('#account'))?.includes('Signed in as lan')), 'auth: "signed in as" shows');
    check(await until(() => seen.some((s) => s.path.startsWith('/ws?ticket=tk'))), 'auth: /ws opened with a ticket');
    check(seen.some((s) => s.path === '/api/viewer' && s.auth?.startsWith('Bearer a')), 'auth: API calls carry the bearer token');
    check(seen.some((s) => s.path.startsWith('/styles/') && s.auth?.startsWith('Bearer a')), 'auth: the style request carries the bearer token');
    const stored = await page.evaluate(() => [sessionStorage.getItem('citytwin.session'), localStorage.length]);
    check(stored[0]?.includes('"user":"lan"') && stored[1] === 0, 'auth: tokens in sessionStorage, nothing in localStorage');
    if (process.env.SHOTS) await page.screenshot({ path: `${process.env.SHOTS}/signed-in.png` });
    await page.click('#btn-signout');
    check(await until(() => page.locator('#signin').isVisible()), 'auth: sign-out reloads to the sign-in page');
    check(await page.evaluate(() => sessionStorage.getItem('citytwin.session')) === null, 'auth: sign-out clears the session');
    await page.fill('#signin-user', 'slow');
    await page.fill('#signin-pass', 'x');
    await page.press('#signin-pass', 'Enter');
    check(await until(async () => /Try again in [45] s/.test(await page.textContent('#signin-error') ?? '')), 'auth: rate limiting counts down');
    check(await page.locator('#signin-submit').isDisabled(), 'auth: submit disabled while rate limited');
    await page.goto(`${base}/?view=2d&lang=vi`);
    check(await until(async () => (await page.textContent('#signin-submit')) === 'Đăng nhập'), 'auth: Vietnamese sign-in page with ?lang=vi');
    if (process.env.SHOTS) await page.screenshot({ path: `${process.env.SHOTS}/signin-vi.png` });
    await page.close();
    server.close();
  }
  {
    const { server, seen, base } = await stand(false);
    const page = await ctx.newPage();
    await page.goto(`${base}/?view=2d&lang=en`);
    check(await until(() => seen.some((s) => s.path === '/ws')), 'no auth: /ws opened without a ticket');
    check(!(await page.locator('#signin').count()) && await page.locator('#account').isHidden(), 'no auth: no sign-in page, no account control');
    check(seen.filter((s) => !s.path.startsWith('/auth/')).every((s) => s.auth === null), 'no auth: no Authorization header sent');
    await page.close();
    server.close();
  }
  {
    const { server, seen, base } = await stand(true);
    const page = await ctx.newPage();
    await page.goto(`${base}/wall?layout=x#client_id=wall-1&client_secret=s3cret`);
    check(await until(() => seen.some((s) => s.path.startsWith('/ws?ticket=tk'))), 'kiosk: the wall signs itself in and opens /ws with a ticket');
    check(!(await page.locator('#signin').count()), 'kiosk: no sign-in page');
    check(!(await page.evaluate(() => location.href)).includes('s3cret'), 'kiosk: the secret is gone from the address bar');
    await page.close();
    server.close();
  }
} finally {
  await ctx.close();
}
if (failures.length) {
  console.error(`${failures.length} failed`);
  process.exit(1);
}
