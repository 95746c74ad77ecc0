// End-to-end checks of the viewer and the wall against a running `citytwin demo`.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/run.mjs  (screenshots into E2E_OUT, default ../target/viewer-e2e)
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiWith, canvasStats, launch, signIn, watchRequests } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const OUT = resolve(process.env.E2E_OUT ?? '../target/viewer-e2e');
mkdirSync(OUT, { recursive: true });
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
let api;
let token;

async function waitFor(page, fn, arg, timeout = 30_000) {
  return page.waitForFunction(fn, arg, { timeout, polling: 100 });
}

const ctx = await launch();
token = await signIn(ctx, BASE);
api = apiWith(BASE, token);
try {
  // ---- the viewer ----
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const problems = watchRequests(page, new URL(BASE).origin);
  const viewerCfg = await api('/api/viewer');
  const openedAt = Date.now();
  await page.goto(BASE + '/');
  // 3D terrain in software GL: a map frame takes seconds until every DEM tile is in (minutes on a
  // loaded machine).
  await waitFor(page, () => {
    const c = window.__citytwin;
    return c && c.store.entities.size > 0 && c.view.map.loaded() && c.view.map.areTilesLoaded();
  }, null, 300_000);
  await page.waitForTimeout(2500); // labels and icons settle
  await page.screenshot({ path: `${OUT}/viewer.png` });

  // 3D terrain from /tiles/terrain is on by default when the server has a DEM (the demo does).
  const terrain = await page.evaluate(() => {
    const v = window.__citytwin.view;
    // The highest ground in view, sampled on a grid of screen points.
    const c = v.map.getCanvas();
    let z = null;
    for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) {
      const ll = v.map.unproject([(c.clientWidth * i) / 10, (c.clientHeight * j) / 10]);
      const e = v.map.queryTerrainElevation(ll);
      if (e !== null) z = Math.max(z ?? -Infinity, e);
    }
    return { on: v.hasTerrain(), is3d: v.is3D(), pitch: v.map.getPitch(), z };
  });
  check(!viewerCfg.terrain || (terrain.on && terrain.is3d && terrain.pitch > 30 && terrain.z !== null),
    `3D terrain is on in 3D mode (server DEM: ${viewerCfg.terrain}; ${JSON.stringify(terrain)})`);

  const stats = await canvasStats(page, '#map canvas');
  check(stats.length >= 1 && stats.some((s) => s.colours > 12 && s.nonBackground > 0.05),
    `map canvas is drawn (colours/non-background: ${JSON.stringify(stats)})`);

  // Entity count in the UI equals the API's (retry: the demo may add entities meanwhile).
  let uiCount = -1;
  let apiCount = -2;
  for (let i = 0; i < 10 && uiCount !== apiCount; i++) {
    apiCount = (await api('/api/entities?limit=1000000')).features.length;
    await page.waitForTimeout(1100);
    uiCount = Number(await page.textContent('#entity-count'));
  }
  check(uiCount === apiCount, `entity count in the UI (${uiCount}) equals /api/entities (${apiCount})`);

  // Pick an isolated, on-screen, stationary entity and click it.
  const target = await page.evaluate(() => {
    const v = window.__citytwin.view;
    const canvas = v.map.getCanvas().getBoundingClientRect();
    const pts = v.drawn.map((d) => ({ d, s: v.map.project(d.pos) }))
      .filter(({ s }) => s.x > 260 && s.x < canvas.width - 360 && s.y > 80 && s.y < canvas.height - 90);
    const alone = pts.filter((a) => pts.every((b) => a === b || Math.hypot(a.s.x - b.s.x, a.s.y - b.s.y) > 30));
    const fixed = alone.find(({ d }) => d.kind === 'flood_sensor' || d.kind === 'air_quality_station') ?? alone[0];
    return fixed ? { id: fixed.d.id, kind: fixed.d.kind, x: fixed.s.x, y: fixed.s.y, pos: fixed.d.pos } : null;
  });
  check(target !== null, 'an isolated entity is on screen');
  // A sensor's chart shows the readings the server recorded before its panel opened: wait (bounded)
  // until the server has one, so a slow start of the demo's feeds is not taken for a missing chart.
  let seriesReadyAt = openedAt;
  if (target && ['flood_sensor', 'air_quality_station'].includes(target.kind)) {
    for (let i = 0; i < 60; i++) {
      const doc = await api(`/api/entities/${target.id}/series`).catch(() => null);
      if (doc && Object.values(doc.series ?? {}).some((s) => s.t.length > 0)) break;
      await page.waitForTimeout(500);
    }
    seriesReadyAt = Date.now();
  }
  if (target) {
    await page.mouse.click(target.x, target.y);
    await page.waitForTimeout(500);
    const opened = await page.evaluate(() => {
      const h = document.querySelector('#details:not(.hidden) h3[data-entity]');
      return h ? Number(h.getAttribute('data-entity')) : null;
    });
    check(opened === target.id, `clicking entity ${target.id} opens its panel (opened: ${opened})`);
    if (['flood_sensor', 'air_quality_station'].includes(target.kind)) {
      // The sensor's chart starts with readings from the server, older than this page.
      const chart = await page.waitForFunction(() => {
        const el = document.querySelector('#details-chart');
        return el && Number(el.dataset.server) > 0 && el.querySelector('svg path') ? { ...el.dataset } : null;
      }, null, { timeout: 10_000 }).then((h) => h.jsonValue()).catch(() => null);
      check(chart !== null && Number(chart.first) < seriesReadyAt,
        `the ${target.kind} chart loads past readings from /api/entities/{id}/series (${JSON.stringify(chart)}, panel opened after ${seriesReadyAt})`);
    }
    await page.screenshot({ path: `${OUT}/viewer-details.png` });

    // A new observation moves its marker within a second. The unit is ours alone (the demo's feeds
    // keep updating their own entities and would race with the test), placed beside the clicked one.
    const post = (lon, lat) => fetch(BASE + '/ingest/observations', {
      method: 'POST', headers: { 'content-type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify([{ kind: 'police_unit', id: 'e2e-unit', time: new Date().toISOString(), lon, lat, heading: 45 }]),
    });
    const [lon, lat] = target.pos;
    check((await post(lon - 0.002, lat - 0.001)).status === 200, 'observation for a new unit accepted');
    const unitHandle = await page.waitForFunction(() => {
      for (const e of window.__citytwin.store.entities.values()) if (e.props.external_id === 'e2e-unit') return e.id;
      return null;
    }, null, { timeout: 10_000 });
    const unitId = await unitHandle.jsonValue();
    await page.waitForTimeout(1500); // its first glide is over
    const to = [lon + 0.002, lat + 0.001];
    const before = await page.evaluate((id) => window.__citytwin.view.screenOf(id), unitId);
    const posted = Date.now();
    const res = await post(to[0], to[1]);
    check(res.status === 200 && before !== null, `observation accepted (${res.status}), unit ${unitId} drawn at ${before}`);
    const moved = await page.waitForFunction(([id, b]) => {
      const s = window.__citytwin.view.screenOf(id);
      return s && Math.hypot(s[0] - b[0], s[1] - b[1]) > 5;
    }, [unitId, before], { timeout: 5000, polling: 'raf' }).then(() => Date.now() - posted).catch(() => null);
    check(moved !== null && moved <= 1000, `marker moved ${moved} ms after the POST (≤ 1000 ms)`);
    const arrived = await page.waitForFunction(([id, p]) => {
      const v = window.__citytwin.view;
      const s = v.screenOf(id);
      const t = v.map.project(p);
      return s && Math.hypot(s[0] - t.x, s[1] - t.y) < 2;
    }, [unitId, to], { timeout: 5000, polling: 'raf' }).then(() => true).catch(() => false);
    check(arrived, 'marker reaches the posted position');
  }

  // 2D, planning theme, English: still drawn.
  const langBefore = await page.evaluate(() => document.documentElement.lang);
  await page.click('#btn-3d');
  await page.click('#btn-theme');
  await page.click('#btn-lang');
  await page.waitForTimeout(1000);
  await waitFor(page, () => window.__citytwin.view.map.loaded() && window.__citytwin.view.map.areTilesLoaded(), null, 60_000);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: `${OUT}/viewer-2d-planning.png` });
  const langAfter = await page.evaluate(() => document.documentElement.lang);
  const title = await page.textContent('#title');
  check(langBefore !== langAfter && title === (langAfter === 'vi' ? 'Bản sao số Đà Nẵng' : 'Da Nang digital twin'),
    `language switches ${langBefore} → ${langAfter} (${title})`);
  const planning = await canvasStats(page, '#map canvas.maplibregl-canvas');
  check(planning.every((s) => s.colours > 12), `planning theme in 2D is drawn ${JSON.stringify(planning)}`);

  // Time slider: replay from the server's history at 60×, then back to live.
  await page.selectOption('#replay-speed', '60');
  await page.$eval('#time-slider', (el) => { el.value = '-60'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  const replayed = await page.waitForFunction(() => (window.__citytwin.view.replay?.length ?? 0) > 0, null, { timeout: 10_000 })
    .then(() => true).catch(() => false);
  check(replayed, 'the time slider replays positions from /api/history');
  await page.click('#btn-live');
  check(await page.evaluate(() => window.__citytwin.view.replay === null), 'Live returns to live positions');
  check(problems.length === 0, `viewer: no failed or off-origin requests ${JSON.stringify(problems.slice(0, 10))}`);

  // ---- the wall ----
  const wall = await ctx.newPage();
  await wall.setViewportSize({ width: 1920, height: 1080 });
  const wallProblems = watchRequests(wall, new URL(BASE).origin);
  await wall.goto(BASE + '/wall?kiosk=1');
  await waitFor(wall, () => {
    const c = window.__citytwin;
    return c && c.store.entities.size > 0 && c.views.every((v) => v.map.loaded() && v.map.areTilesLoaded());
  });
  await wall.waitForTimeout(3000);
  await wall.screenshot({ path: `${OUT}/wall.png` });
  const panels = await wall.$$eval('[data-panel]', (els) => els.map((e) => e.getAttribute('data-panel')));
  check(['overview', 'port', 'traffic', 'flood', 'alerts', 'kpi'].every((p) => panels.includes(p)),
    `wall renders all panels (${panels.join(', ')})`);
  const wallStats = await canvasStats(wall, '.wp .map canvas.maplibregl-canvas');
  check(wallStats.length === 4 && wallStats.every((s) => s.colours > 8 && s.nonBackground > 0.03),
    `every wall map is drawn ${JSON.stringify(wallStats)}`);
  const kpi = await wall.textContent('[data-panel="kpi"] .kpi .v');
  check(Number(kpi) > 0, `KPI counters show the entity count (${kpi})`);
  const lang = await wall.evaluate(() => document.documentElement.lang);
  check(lang === 'vi', `the wall defaults to Vietnamese (${lang})`);
  const kioskControls = await wall.$$('.maplibregl-ctrl, button');
  check(kioskControls.length === 0, `kiosk mode shows no controls (${kioskControls.length})`);
  // A dropped connection (server restart, network) reconnects and resubscribes: a fresh snapshot.
  const snaps = await wall.evaluate(() => window.__citytwin.live.snapshots);
  await wall.evaluate(() => window.__citytwin.live.drop());
  const resynced = await wall.waitForFunction((n) => window.__citytwin.live.snapshots > n
    && document.querySelector('#conn:not(.down)') !== null, snaps, { timeout: 30_000, polling: 200 }).then(() => true).catch(() => false);
  check(resynced, 'the wall reconnects and resubscribes after the connection drops');
  // Every wall layout of the city config is served by name and drawn as configured.
  for (const [name, spec] of Object.entries(viewerCfg.walls ?? {})) {
    await wall.goto(BASE + `/wall?layout=${name}&kiosk=1`);
    await waitFor(wall, () => {
      const c = window.__citytwin;
      return c && c.store.entities.size > 0 && c.views.every((v) => v.map.loaded() && v.map.areTilesLoaded());
    });
    const got = await wall.evaluate(() => ({ name: window.__citytwin.layout.name, ids: [...document.querySelectorAll('[data-panel]')].map((e) => e.dataset.panel),
      cols: getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length }));
    const want = spec.panels.map((p) => p.id);
    check(got.name === name && JSON.stringify(got.ids) === JSON.stringify(want) && got.cols === spec.cols,
      `/wall?layout=${name} shows its configured ${spec.cols}x${spec.rows} panels ${JSON.stringify(got)}`);
    await wall.screenshot({ path: `${OUT}/wall-${name}.png` });
  }
  check(wallProblems.length === 0, `wall: no failed or off-origin requests ${JSON.stringify(wallProblems.slice(0, 10))}`);
} finally {
  await ctx.close();
}

console.log(failures.length ? `\n${failures.length} check(s) failed` : '\nall checks passed');
process.exit(failures.length ? 1 : 0);
