// Frame times of the viewer with N live entities moving (default 10,000), in headless Chromium.
// Usage: CITYTWIN_URL=http://127.0.0.1:PORT node e2e/perf.mjs [N] [seconds]
// Entities are posted to /ingest/observations and re-posted, moved, every second while measuring.
import { launch } from './browser.mjs';

const BASE = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:8080';
const N = Number(process.argv[2] ?? 10_000);
const SECONDS = Number(process.argv[3] ?? 15);
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

await post();
const ctx = await launch({ width: 1600, height: 900 });
const page = ctx.pages()[0] ?? await ctx.newPage();
await page.goto(BASE + '/');
await page.waitForFunction((n) => window.__citytwin?.store.entities.size >= n, N, { timeout: 60_000 });
await page.waitForTimeout(3000);
const feeder = process.env.PERF_FEED === '0' ? 0 : setInterval(() => { post().catch((e) => console.error(e.message)); }, 1000);
// Time spent in our per-frame code (interpolation + layer building), apart from drawing.
await page.evaluate(() => {
  const v = window.__citytwin.view;
  const orig = v.render.bind(v);
  window.__renderMs = [];
  v.render = (...a) => { const t = performance.now(); orig(...a); window.__renderMs.push(performance.now() - t); };
});
const frames = await page.evaluate((seconds) => new Promise((done) => {
  const d = [];
  let last = performance.now();
  const end = last + seconds * 1000;
  const f = (t) => { d.push(t - last); last = t; if (t < end) requestAnimationFrame(f); else done(d); };
  requestAnimationFrame(f);
}), SECONDS);
clearInterval(feeder);
const drawn = await page.evaluate(() => window.__citytwin.view.drawn.length);
const renderMs = (await page.evaluate(() => window.__renderMs)).sort((a, b) => a - b);
await page.screenshot({ path: process.env.PERF_SHOT ?? '../target/viewer-perf.png' });
await ctx.close();
const s = [...frames].sort((a, b) => a - b);
const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
console.log(JSON.stringify({ entities: N, drawn, frames: s.length, seconds: SECONDS,
  p50_ms: +q(0.5).toFixed(1), p95_ms: +q(0.95).toFixed(1), max_ms: +s[s.length - 1].toFixed(1), fps: +(s.length / SECONDS).toFixed(1),
  js_render_p50_ms: +(renderMs[Math.floor(renderMs.length / 2)] ?? 0).toFixed(1), load: (await import('node:os')).loadavg()[0] }));
