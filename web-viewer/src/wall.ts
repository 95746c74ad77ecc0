// The operations map wall: synchronised panels over one live connection (one store, one clock).

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import './wall.css';
import { MapView, loadStyle } from './mapview';
import { EntityStore } from './store';
import { LiveClient, wsUrl, type Alert } from './live';
import { lang, pickLang, setLang, t } from './i18n';
import { parseWall, PRESETS } from './wallcfg';
import { band, FLOOD_BANDS, pm25ToAqi, VN_AQI_BANDS } from './sensors';

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const store = new EntityStore(3 * 60_000);
const alerts: Alert[] = [];
const layout = parseWall(location.search);
let alertTimer: ReturnType<typeof setTimeout> | 0 = 0;
setLang(pickLang(location.search, 'vi'));

async function main(): Promise<void> {
  document.documentElement.lang = lang();
  document.body.classList.toggle('kiosk', layout.kiosk);
  document.getElementById('wall-title')!.textContent = `${t('title')} · IOC`;
  const grid = document.getElementById('grid')!;
  grid.style.gridTemplateColumns = `repeat(${layout.cols}, 1fr)`;
  grid.style.gridTemplateRows = `repeat(${layout.rows}, 1fr)`;
  const style = await loadStyle(true);
  const views: MapView[] = [];
  const lists: HTMLElement[] = [];
  const kpis: HTMLElement[] = [];
  for (const p of layout.panels) {
    const el = document.createElement('section');
    el.className = 'wp';
    el.dataset.panel = p;
    el.innerHTML = `<div class="ptitle">${t(p === 'kpi' ? 'kpi' : p === 'alerts' ? 'alerts' : p)}</div>`;
    grid.appendChild(el);
    if (p === 'alerts') {
      el.classList.add('list');
      el.insertAdjacentHTML('beforeend', '<ul></ul>');
      lists.push(el.querySelector('ul')!);
    } else if (p === 'kpi') {
      el.insertAdjacentHTML('beforeend', '<div class="kpis"></div>');
      kpis.push(el.querySelector('.kpis')!);
    } else {
      const preset = PRESETS[p];
      const m = document.createElement('div');
      m.className = 'map';
      el.appendChild(m);
      if (p === 'flood') {
        el.insertAdjacentHTML('beforeend', `<div class="legend">${FLOOD_BANDS.map((b) =>
          `<span style="color:rgb(${b.color.join(',')})">■ ${lang() === 'vi' ? b.vi : b.en}</span>`).join('')}</div>`);
      }
      const v = new MapView(store, {
        container: m, center: preset.center, zoom: preset.zoom, pitch: preset.pitch, bearing: preset.bearing,
        dark: true, interactive: !layout.kiosk, hexZoom: 9,
      }, style);
      v.visibleKinds = preset.kinds ? new Set(preset.kinds) : null;
      (v as MapView & { panel?: string }).panel = p;
      views.push(v);
    }
  }

  const conn = document.getElementById('conn')!;
  const live = new LiveClient(wsUrl(location), {
    snapshot: (f) => store.applySnapshot(f, performance.now()),
    delta: (u, r) => store.applyDelta(u, r, performance.now()),
    alert: (a) => addAlert(a, true),
    status: (ok) => { conn.textContent = ok ? t('connected') : t('reconnecting'); conn.classList.toggle('down', !ok); },
  });
  live.start();
  (window as unknown as Record<string, unknown>).__citytwin = { store, views, alerts, layout, live };
  fetch('/api/alerts').then((r) => r.json()).then((d: { alerts: Alert[] }) => {
    for (const a of [...d.alerts].reverse()) addAlert(a, false);
  }).catch(() => undefined);

  function addAlert(a: Alert, fresh: boolean): void {
    if (alerts.some((x) => x.id === a.id)) return;
    alerts.unshift(a);
    if (alerts.length > 100) alerts.pop();
    if (fresh && a.position) {
      for (const v of views) {
        v.highlights.push({ pos: a.position, until: Date.now() + 30_000, color: [255, 64, 129] });
        if (v.highlights.length > 20) v.highlights.shift();
      }
    }
    // Bursts of alerts render once.
    if (!alertTimer) alertTimer = setTimeout(() => { alertTimer = 0; renderAlerts(); }, 250);
  }
  function renderAlerts(): void {
    const html = alerts.length === 0 ? `<li>${t('no_alerts')}</li>` : alerts.slice(0, 12).map((a) =>
      `<li class="sev-${esc(a.severity)}">${esc(a.message)}<div class="meta">${new Date(a.time).toLocaleTimeString(lang())} · ${esc(a.severity)}</div></li>`).join('');
    for (const l of lists) l.innerHTML = html;
  }
  renderAlerts();

  function renderKpis(): void {
    let moving = 0;
    let maxFlood = 0;
    let pmSum = 0;
    let pmN = 0;
    let stale = 0;
    const now = Date.now();
    for (const e of store.entities.values()) {
      if (typeof e.props.speed === 'number' && e.props.speed > 0.5) moving++;
      if (typeof e.props.water_depth_m === 'number') maxFlood = Math.max(maxFlood, e.props.water_depth_m);
      if (typeof e.props.pm25_ugm3 === 'number') { pmSum += e.props.pm25_ugm3; pmN++; }
      if (store.isStale(e, now)) stale++;
    }
    const pm = pmN ? pmSum / pmN : 0;
    const aqi = band(VN_AQI_BANDS, pm25ToAqi(pm));
    const flood = band(FLOOD_BANDS, maxFlood);
    const cells = [
      [t('entities'), String(store.entities.size), ''],
      [t('moving'), String(moving), ''],
      [t('active_alerts'), String(alerts.length), alerts.length ? 'color:#ff8a65' : ''],
      [t('stale'), String(stale), stale ? 'color:#ffb300' : ''],
      [t('max_flood'), `${maxFlood.toFixed(2)} m`, `color:rgb(${flood.color.join(',')})`],
      [t('avg_pm25'), `${pm.toFixed(0)} µg/m³`, `color:rgb(${aqi.color.join(',')})`],
    ];
    const html = cells.map(([l, v, s]) => `<div class="kpi"><span class="v" style="${s}">${esc(v)}</span><span class="l">${esc(l)}</span></div>`).join('');
    for (const k of kpis) k.innerHTML = html;
    document.getElementById('wall-clock')!.textContent = new Date().toLocaleTimeString(lang());
  }
  renderKpis();
  setInterval(renderKpis, 1000);

  // The overview outlines what the other map panels show, so the wall reads as one picture.
  const overview = views.find((v) => (v as MapView & { panel?: string }).panel === 'overview');
  const syncFrames = () => {
    if (!overview) return;
    overview.frames = views.filter((v) => v !== overview && v.map.loaded())
      .map((v) => ({ path: v.viewRing(), label: t((v as MapView & { panel?: string }).panel ?? '') }));
  };
  for (const v of views) v.map.on('moveend', syncFrames);
  for (const v of views) v.map.on('load', syncFrames);

  function frame(): void {
    const now = performance.now();
    for (const v of views) v.render(now, Date.now(), true);
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}

void main();
