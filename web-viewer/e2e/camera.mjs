// End-to-end check of the camera layers against a running `citytwin demo` with its cameras on: the view
// cone, tracked detections with their labels, and the camera card with its latest frame.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/camera.mjs
//   E2E_OUT     screenshots (default ../target/viewer-e2e)
//   CAMERA_ID   the camera to look at (default: the first of /api/cameras)
//   DEADLINE_S  how long to wait for the first detection (default 240: the detector is slow in debug)
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiWith, launch, signIn, watchRequests } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const OUT = resolve(process.env.E2E_OUT ?? '../target/viewer-e2e');
const DEADLINE_MS = Number(process.env.DEADLINE_S ?? 240) * 1000;
mkdirSync(OUT, { recursive: true });
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const ctx = await launch();
const api = apiWith(BASE, await signIn(ctx, BASE));
const { cameras } = await api('/api/cameras');
const camera = cameras.find((c) => c.id === (process.env.CAMERA_ID ?? cameras[0]?.id));
if (!camera) {
  console.log(`FAIL the server lists no camera (${JSON.stringify(cameras)}); run the demo without --no-cameras`);
  process.exit(1);
}
check(camera.footprint?.type === 'Polygon', `/api/cameras lists ${camera.id} with a footprint polygon`);

try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const problems = watchRequests(page, new URL(BASE).origin);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console ${m.text()}`); });
  // Flat and top-down: software GL draws it in a fraction of the time terrain takes.
  await page.goto(BASE + '/?lang=en&view=2d&terrain=0');
  await page.waitForFunction(() => {
    const c = window.__citytwin;
    return c && c.store.entities.size > 0 && c.view.map.loaded();
  }, null, { timeout: 300_000, polling: 500 });
  check(await page.evaluate(() => !window.__citytwin.view.is3D() && !window.__citytwin.view.hasTerrain()), '?view=2d&terrain=0 opens flat');

  // Close enough that the cone (a junction box of about 14 m × 8 m, 150 px wide) and the labels show.
  // The camera left of the middle: its card opens to the right, clear of the alert panel.
  await page.evaluate((pos) => {
    const m = window.__citytwin.view.map;
    m.jumpTo({ center: pos, zoom: 20.5, pitch: 0, bearing: 0 });
    m.panBy([250, 0], { duration: 0 });
  }, camera.position);
  await page.waitForFunction(() => window.__citytwin.view.map.loaded() && window.__citytwin.view.map.areTilesLoaded(), null,
    { timeout: 120_000, polling: 500 });

  // The cone is drawn, and a detection of this camera is drawn with its label.
  const seen = await page.waitForFunction((id) => {
    const v = window.__citytwin.view;
    const cones = v.map.queryRenderedFeatures({ layers: ['camera-cones-fill'] }).filter((f) => f.properties.camera === id);
    const store = window.__citytwin.store;
    const dets = v.drawn.filter((d) => d.kind === 'detection' && store.entities.get(d.id)?.props.camera === id);
    const onScreen = dets.filter((d) => v.screenOf(d.id) !== null);
    const labels = v.labels.map((l) => l.text);
    const cam = [...store.entities.values()].find((e) => e.kind === 'camera' && e.props.external_id === id);
    return cones.length > 0 && onScreen.length > 0 && labels.length > 0 && cam && Number(cam.props.frames) > 0
      ? { cones: cones.map((f) => f.properties), detections: onScreen.length, labels, camera: cam.id, los: cam.props.los ?? null }
      : null;
  }, camera.id, { timeout: DEADLINE_MS, polling: 500 }).then((h) => h.jsonValue()).catch(() => null);
  check(seen !== null, `cone, detections and labels of ${camera.id} drawn (${elapsed()}): ${JSON.stringify(seen)}`);
  if (seen) {
    check(seen.labels.every((l) => /^[a-z ]+ #\d+$/.test(l)), `detection labels read "class #track" (${seen.labels.join(', ')})`);
    // The level of service changes as often as every second and the cone follows within about two:
    // wait for a moment where both agree.
    const agree = await page.waitForFunction((id) => {
      const v = window.__citytwin.view;
      const cam = [...window.__citytwin.store.entities.values()].find((e) => e.kind === 'camera' && e.props.external_id === id);
      const cone = v.map.queryRenderedFeatures({ layers: ['camera-cones-fill'] }).find((f) => f.properties.camera === id);
      return cam && cone && /^[A-F]$/.test(cam.props.los) && cone.properties.los === cam.props.los ? cone.properties : null;
    }, camera.id, { timeout: 20_000, polling: 100 }).then((h) => h.jsonValue()).catch(() => null);
    check(agree !== null, `the cone is coloured by the camera's level of service (${JSON.stringify(agree)})`);

    // Click the camera icon; a detection passing over it may take the click, so try again.
    let card = null;
    for (let i = 0; i < 15 && !card; i++) {
      const at = await page.evaluate((id) => window.__citytwin.view.screenOf(id), seen.camera);
      if (at) await page.mouse.click(at[0], at[1]);
      card = await page.waitForFunction((id) => (window.__citytwin.cameraCard.entity === id
        ? document.querySelector('.camera-popup h3[data-camera]')?.getAttribute('data-camera') : null), seen.camera,
      { timeout: 1500 }).then((h) => h.jsonValue()).catch(() => null);
      if (!card) await page.mouse.click(5, 890); // on the map, away from everything: closes what the click opened
    }
    check(card === camera.id, `clicking the camera opens its card (${card})`);
    const shot = await page.waitForFunction(() => {
      const img = document.querySelector('.camera-popup img#camera-snapshot');
      return img && img.complete && img.naturalWidth > 0 ? { w: img.naturalWidth, h: img.naturalHeight } : null;
    }, null, { timeout: 30_000, polling: 250 }).then((h) => h.jsonValue()).catch(() => null);
    check(shot !== null && shot.w > 0, `the card shows the latest frame (${JSON.stringify(shot)})`);
    const content = await page.evaluate(() => {
      const root = document.querySelector('.camera-popup');
      const text = (sel) => root?.querySelector(sel)?.textContent?.trim() ?? null;
      const replay = root?.querySelector('.cam-replay');
      return {
        los: root?.querySelector('.cam-los')?.getAttribute('data-los'), vehicles: text('[data-k="vehicles_in_view"]'),
        speed: text('[data-k="mean_speed_kmh"]'), counts: text('[data-k="counts"]'), alerts: text('[data-k="alerts"]'),
        replay: replay && !replay.classList.contains('hidden') ? replay.textContent : null,
      };
    });
    check(/^[A-F]$/.test(content.los ?? '') && /^\d+$/.test(content.vehicles ?? '') && content.counts !== null && content.alerts !== null,
      `the card shows level of service, vehicles in view, counts and alerts ${JSON.stringify(content)}`);
    check(camera.replay !== true || content.replay === 'Replay', `a replayed camera is labelled (${content.replay})`);
    // The frame is refetched while the card is open.
    const more = await page.waitForFunction(() => window.__citytwin.cameraCard.shown >= 2, null, { timeout: 20_000 })
      .then(() => true).catch(() => false);
    check(more, 'the frame refreshes while the card is open');
    // The screenshot shows the card beside the cone with a detection in it, not hidden by the card.
    const visible = await page.waitForFunction((id) => {
      const v = window.__citytwin.view;
      const card = document.querySelector('.camera-popup')?.getBoundingClientRect();
      const store = window.__citytwin.store;
      return v.labels.some(({ i }) => {
        const d = v.drawn[i];
        const s = d && store.entities.get(d.id)?.props.camera === id ? v.screenOf(d.id) : null;
        return s && card && (s[0] < card.left - 12 || s[0] > card.right + 12 || s[1] < card.top - 12 || s[1] > card.bottom + 12);
      });
    }, camera.id, { timeout: 120_000, polling: 250 }).then(() => true).catch(() => false);
    check(visible, 'a labelled detection is in view beside the card');
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${OUT}/camera.png` });
  }

  // The layer toggle hides the cones.
  await page.$eval('#cones', (el) => el.click());
  const hidden = await page.evaluate(() => window.__citytwin.view.map.getLayoutProperty('camera-cones-fill', 'visibility'));
  check(hidden === 'none', `the camera-views toggle hides the cones (${hidden})`);
  check(problems.length === 0, `no failed or off-origin requests ${JSON.stringify(problems.slice(0, 10))}`);
} finally {
  await ctx.close();
}

console.log(failures.length ? `\n${failures.length} check(s) failed` : '\nall checks passed');
process.exit(failures.length ? 1 : 0);
