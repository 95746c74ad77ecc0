// The README screenshots, from a running `citytwin demo`.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/docs-shots.mjs [out dir, default ../docs]
//   SHOTS=viewer,camera,wall  only these (default all: viewer (with viewer-planning), camera, wall);
//   the camera shot needs the demo's cameras on (no --no-cameras).
import { resolve } from 'node:path';
import { launch } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const OUT = resolve(process.argv[2] ?? '../docs');
const SHOTS = (process.env.SHOTS ?? 'viewer,camera,wall').split(',');
const loaded = (page, views) => page.waitForFunction((vs) => {
  const c = window.__citytwin;
  return c && c.store.entities.size > 0 && eval(vs).every((v) => v.map.loaded() && v.map.areTilesLoaded());
}, views, { timeout: 240_000, polling: 500 });

const ctx = await launch({ width: 1600, height: 900 });
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  if (SHOTS.includes('viewer')) {
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
  }

  // A camera close up: its view cone, tracked detections and its card with the latest frame.
  const { cameras } = await fetch(BASE + '/api/cameras').then((r) => r.json());
  if (SHOTS.includes('camera') && cameras.length) {
    const cam = page;
    await cam.goto(BASE + '/?lang=en&view=2d&terrain=0');
    await loaded(cam, '[window.__citytwin.view]');
    await cam.evaluate((pos) => {
      const m = window.__citytwin.view.map;
      m.jumpTo({ center: pos, zoom: 20.5 });
      m.panBy([250, 0], { duration: 0 }); // room for the card on the right
    }, cameras[0].position);
    await loaded(cam, '[window.__citytwin.view]');
    const id = await cam.waitForFunction((ext) => {
      const c = window.__citytwin;
      const e = [...c.store.entities.values()].find((x) => x.kind === 'camera' && x.props.external_id === ext);
      return e && Number(e.props.frames) > 0 && c.view.labels.length > 0 ? { id: e.id } : null; // ids start at 0
    }, cameras[0].id, { timeout: 240_000, polling: 500 }).then((h) => h.jsonValue()).then((v) => v.id);
    await cam.evaluate((i) => window.__citytwin.openDetails(i), id);
    await cam.waitForFunction(() => document.querySelector('#camera-snapshot')?.naturalWidth > 0, null, { timeout: 30_000 });
    // A labelled detection beside the card, not under it, and a vehicle in view for the next frame.
    await cam.waitForFunction((i) => {
      const v = window.__citytwin.view;
      const card = document.querySelector('.camera-popup').getBoundingClientRect();
      const busy = Number(window.__citytwin.store.entities.get(i)?.props.vehicles_in_view) > 0;
      return busy && v.labels.some(({ i }) => {
        const s = v.screenOf(v.drawn[i].id);
        return s && (s[0] < card.left - 12 || s[0] > card.right + 12 || s[1] < card.top - 12 || s[1] > card.bottom + 12);
      });
    }, id, { timeout: 180_000, polling: 250 });
    const shown = await cam.evaluate(() => window.__citytwin.cameraCard.shown);
    await cam.waitForFunction((n) => window.__citytwin.cameraCard.shown > n, shown, { timeout: 30_000 });
    await cam.waitForTimeout(300);
    await cam.screenshot({ path: `${OUT}/viewer-camera.png` });
  }

  if (SHOTS.includes('wall')) {
    const wall = await ctx.newPage();
    await wall.setViewportSize({ width: 1920, height: 1080 });
    await wall.goto(BASE + '/wall?kiosk=1');
    await loaded(wall, 'window.__citytwin.views');
    await wall.waitForTimeout(4000);
    await wall.screenshot({ path: `${OUT}/wall.png` });
  }
} finally {
  await ctx.close();
}
console.log(`screenshots in ${OUT}`);
