// The README screenshots, from a running `citytwin demo`.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/docs-shots.mjs [out dir, default ../docs]
import { resolve } from 'node:path';
import { launch } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const OUT = resolve(process.argv[2] ?? '../docs');
const loaded = (page, views) => page.waitForFunction((vs) => {
  const c = window.__citytwin;
  return c && c.store.entities.size > 0 && eval(vs).every((v) => v.map.loaded() && v.map.areTilesLoaded());
}, views, { timeout: 240_000, polling: 500 });

const ctx = await launch({ width: 1600, height: 900 });
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(BASE + '/?lang=en');
  await loaded(page, '[window.__citytwin.view]');
  // 3D over the Hàn river towards the Sơn Trà peninsula: terrain, buildings, port and fleets.
  await page.evaluate(() => window.__citytwin.view.map.jumpTo({ center: [108.228, 16.075], zoom: 13.2, pitch: 64, bearing: 28 }));
  await page.waitForTimeout(1000);
  await loaded(page, '[window.__citytwin.view]');
  await page.waitForTimeout(4000);
  await page.screenshot({ path: `${OUT}/viewer.png` });

  await page.click('#btn-3d');
  await page.click('#btn-theme');
  await page.waitForTimeout(1500);
  await loaded(page, '[window.__citytwin.view]');
  await page.evaluate(() => window.__citytwin.view.map.jumpTo({ center: [108.2165, 16.0600], zoom: 14.6, pitch: 0, bearing: 0 }));
  await page.waitForTimeout(1000);
  await loaded(page, '[window.__citytwin.view]');
  await page.waitForTimeout(3000);
  await page.screenshot({ path: `${OUT}/viewer-planning.png` });

  const wall = await ctx.newPage();
  await wall.setViewportSize({ width: 1920, height: 1080 });
  await wall.goto(BASE + '/wall?kiosk=1');
  await loaded(wall, 'window.__citytwin.views');
  await wall.waitForTimeout(4000);
  await wall.screenshot({ path: `${OUT}/wall.png` });
} finally {
  await ctx.close();
}
console.log(`screenshots in ${OUT}`);
