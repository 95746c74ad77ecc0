// Frame times of the viewer with N live entities moving (default 10,000), in headless Chromium.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/perf.mjs [N] [seconds] [variant,…]
// Entities are posted to /ingest/observations and re-posted, moved, every second while measuring.
// Variants (to find what a frame costs; each on a fresh page):
//   base      the viewer as it opens (3D, terrain when the server has a DEM, trails on)
//   notrails  trails off (layer panel)
//   2d        the 2D button
//   nomap     every basemap layer hidden: what deck.gl's layers cost alone
//   nodeck    our layers not drawn: what the basemap costs alone
//   wall      /wall (default layout) instead of the viewer
import { launch } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const N = Number(process.argv[2] ?? 10_000);
const SECONDS = Number(process.argv[3] ?? 15);
const VARIANTS = (process.argv[4] ?? 'base').split(',');
const KINDS = ['bus', 'vessel', 'fishing_boat', 'ambulance', 'police_unit'];
const center = [108.2022, 16.0544];

let tick = 0;
async function post() {
  tick++;
  const now = new Date().toISOString();
  for (let start = 0; start < N; start += 2000) {
    const batch = [];
    for (let i = start; i < Math.min(N, start + 2000); i++) {
      const a = (i / N) * Math.PI * 2 * 7 + tick * 0.002;
      const r = 0.004 + 0.05 * ((i * 7919) % N) / N;
      batch.push({ kind: KINDS[i % KINDS.length], id: `perf-${i}`, time: now,
        lon: center[0] + r * Math.cos(a), lat: center[1] + r * Math.sin(a), heading: ((a * 180) / Math.PI + 90) % 360, speed: 5 });
    }
    const res = await fetch(BASE + '/ingest/observations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
}

async function measure(ctx, variant) {
  const page = await ctx.newPage();
  const wall = variant === 'wall';
  await page.goto(BASE + (wall ? '/wall?kiosk=1' : '/'));
  await page.waitForFunction((n) => window.__citytwin?.store.entities.size >= n, N, { timeout: 180_000, polling: 1000 });
  // Measure the steady state: the basemap (and its terrain, slow in software GL) fully loaded.
  await page.waitForFunction((vs) => eval(vs).every((v) => v.map.loaded()), wall ? 'window.__citytwin.views' : '[window.__citytwin.view]',
    { timeout: 180_000, polling: 500 });
  await page.waitForTimeout(3000);
  const views = wall ? 'window.__citytwin.views' : '[window.__citytwin.view]';
  if (variant === 'notrails') await page.$eval('#trails', (el) => el.click());
  if (variant === '2d') await page.click('#btn-3d');
  if (variant === 'nomap') {
    await page.evaluate(() => {
      const m = window.__citytwin.view.map;
      for (const l of m.getStyle().layers) m.setLayoutProperty(l.id, 'visibility', 'none');
      m.setTerrain(null);
    });
  }
  if (variant === 'nodeck') {
    await page.evaluate(() => {
      const v = window.__citytwin.view;
      v.overlay.setProps({ layers: [] });
      v.render = () => undefined;
    });
  }
  if (variant === '2d' || variant === 'nomap') await page.waitForTimeout(2000);
  // Time spent in our per-frame code (interpolation + layer building), apart from drawing; and how
  // often the basemap itself re-renders.
  await page.evaluate((vs) => {
    window.__renderMs = [];
    window.__mapRenders = 0;
    for (const v of eval(vs)) {
      const orig = v.render.bind(v);
      v.render = (...a) => { const t = performance.now(); orig(...a); window.__renderMs.push(performance.now() - t); };
      v.map.on('render', () => { window.__mapRenders++; });
    }
  }, views);
  const frames = await page.evaluate((seconds) => new Promise((done) => {
    const d = [];
    let last = performance.now();
    const end = last + seconds * 1000;
    const f = (t) => { d.push(t - last); last = t; if (t < end) requestAnimationFrame(f); else done(d); };
    requestAnimationFrame(f);
  }), SECONDS);
  const info = await page.evaluate((vs) => ({
    drawn: eval(vs).reduce((s, v) => s + v.drawn.length, 0),
    terrain: eval(vs).some((v) => v.hasTerrain()),
    renderMs: window.__renderMs.sort((a, b) => a - b),
    mapRenders: window.__mapRenders,
    dpr: window.devicePixelRatio,
  }), views);
  await page.screenshot({ path: (process.env.PERF_SHOT ?? '../target/viewer-perf') + `-${variant}.png` });
  await page.close();
  const s = [...frames].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = info.renderMs;
  return { variant, entities: N, drawn: info.drawn, terrain: info.terrain, frames: s.length, seconds: SECONDS,
    p50_ms: +q(0.5).toFixed(1), p95_ms: +q(0.95).toFixed(1), max_ms: +s[s.length - 1].toFixed(1), fps: +(s.length / SECONDS).toFixed(1),
    js_render_p50_ms: +(r[Math.floor(r.length / 2)] ?? 0).toFixed(1), map_renders_per_s: +(info.mapRenders / SECONDS).toFixed(1),
    load: (await import('node:os')).loadavg()[0].toFixed(1) };
}

await post();
const ctx = await launch({ width: 1600, height: 900 });
const feeder = process.env.PERF_FEED === '0' ? 0 : setInterval(() => { post().catch((e) => console.error(e.message)); }, 1000);
try {
  for (const v of VARIANTS) console.log(JSON.stringify(await measure(ctx, v)));
} finally {
  clearInterval(feeder);
  await ctx.close();
}
