// Dev helper: load a page, print failures and console errors, save a screenshot.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [,, url, out, wait = '6000', w = '1600', h = '900'] = process.argv;
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ct-')), {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: Number(w), height: Number(h) },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('console', m.type(), m.text()); });
page.on('pageerror', (e) => console.log('pageerror', e.message));
page.on('requestfailed', (r) => console.log('failed', r.url(), r.failure()?.errorText));
page.on('response', (r) => { if (r.status() >= 400) console.log('status', r.status(), r.url()); });
await page.goto(url);
await page.waitForTimeout(Number(wait));
await page.screenshot({ path: out });
console.log('count', await page.textContent('#entity-count').catch(() => 'n/a'));
await ctx.close();
