// The operations map wall: synchronised panels over one live connection (one store, one clock).
// The layout comes from the city config (/api/viewer) or the built-in one; the URL overrides it.
// Kiosk walls sign themselves in with the client credentials in the URL fragment (see api.ts).

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import './wall.css';
import { MapView, loadStyle } from './mapview';
import { EntityStore } from './store';
import { alertPosition, LiveClient, wsUrl, type Alert } from './live';
import { lang, pickLang, setLang, t } from './i18n';
import { KPI_COUNTERS, resolveWall, type PanelSpec } from './wallcfg';
import { viewerConfig } from './config';
import { band, FLOOD_BANDS, pm25ToAqi, VN_AQI_BANDS } from './sensors';
import { esc } from './html';
import { apiJson, client } from './api';
import { installSignIn, mountAccount } from './signin';

const store = new EntityStore(3 * 60_000);
const alerts: Alert[] = [];
let alertTimer: ReturnType<typeof setTimeout> | 0 = 0;

async function main(): Promise<void> {
  // The wall's language before the layout is known: a sign-in page may come first.
  setLang(pickLang(location.search, 'vi'));
  installSignIn(client);
  await client.startKiosk(location, (url) => history.replaceState(history.state, '', url));
  const layout = resolveWall(location.search, await viewerConfig());
  if (layout.warning) console.warn(`wall: ${layout.warning}; showing ${layout.name ?? 'the built-in layout'}`);
  setLang(layout.lang);
  document.documentElement.lang = lang();
  document.body.classList.toggle('kiosk', layout.kiosk);
  document.getElementById('wall-title')!.textContent = `${t('title')} · IOC`;
  const grid = document.getElementById('grid')!;
  grid.style.gridTemplateColumns = `repeat(${layout.cols}, 1fr)`;
  grid.style.gridTemplateRows = `repeat(${layout.rows}, 1fr)`;
  const style = await loadStyle(true, false);
  const views: (MapView & { panel?: string })[] = [];
  const lists: { el: HTMLElement; spec: PanelSpec }[] = [];
  const kpis: { el: HTMLElement; spec: PanelSpec }[] = [];
  for (const p of layout.panels) {
    const el = document.createElement('section');
    el.className = 'wp';
    el.dataset.panel = p.id;
    el.dataset.kind = p.kind;
    el.innerHTML = `<div class="ptitle">${esc(p.title ?? t(p.id))}</div>`;
    grid.appendChild(el);
    if (p.kind === 'alerts') {
      el.classList.add('list');
      el.insertAdjacentHTML('beforeend', '<ul></ul>');
      lists.push({ el: el.querySelector('ul')!, spec: p });
    } else if (p.kind === 'kpi') {
      el.insertAdjacentHTML('beforeend', '<div class="kpis"></div>');
      kpis.push({ el: el.querySelector('.kpis')!, spec: p });
    } else {
      const m = document.createElement('div');
      m.className = 'map';
      el.appendChild(m);
      const layers = p.layers ?? null;
      if (layers?.includes('flood_sensor')) {
        el.insertAdjacentHTML('beforeend', `<div class="legend">${FLOOD_BANDS.map((b) =>
          `<span style="color:rgb(${b.color.join(',')})">■ ${lang() === 'vi' ? b.vi : b.en}</span>`).join('')}</div>`);
      }
      const v: MapView & { panel?: string } = new MapView(store, {
        container: m, center: p.center ?? [108.2, 16.06], zoom: p.zoom ?? 12, pitch: p.pitch ?? 0, bearing: p.bearing ?? 0,
        dark: true, interactive: !layout.kiosk, hexZoom: 9, wall: true,
      }, style);
      v.visibleKinds = layers ? new Set(layers) : null;
      v.panel = p.id;
      views.push(v);
    }
  }

  const conn = document.getElementById('conn')!;
  const live = new LiveClient({ url: () => client.streamUrl(wsUrl(location)), renew: () => client.refresh() }, {
    snapshot: (f) => store.applySnapshot(f, performance.now()),
    delta: (u, r) => store.applyDelta(u, r, performance.now()),
    alert: (a) => addAlert(a, true),
    status: (ok) => { conn.textContent = ok ? t('connected') : t('reconnecting'); conn.classList.toggle('down', !ok); },
  });
  live.start();
  // A kiosk wall has no one to sign out; a person's session shows who is signed in.
  if (!client.kiosk() && !layout.kiosk) mountAccount(document.getElementById('account')!, client);
  (window as unknown as Record<string, unknown>).__citytwin = { store, views, alerts, layout, live };
  apiJson<{ alerts: Alert[] }>('/api/alerts').then((d) => {
    for (const a of [...d.alerts].reverse()) addAlert(a, false);
  }).catch(() => undefined);

  function addAlert(a: Alert, fresh: boolean): void {
    if (alerts.some((x) => x.id === a.id)) return;
    alerts.unshift(a);
    if (alerts.length > 100) alerts.pop();
    const pos = alertPosition(a);
    if (fresh && pos) {
      for (const v of views) {
        v.highlights.push({ pos, until: Date.now() + 30_000, color: [255, 64, 129] });
        if (v.highlights.length > 20) v.highlights.shift();
      }
    }
    // Bursts of alerts render once.
    if (!alertTimer) alertTimer = setTimeout(() => { alertTimer = 0; renderAlerts(); }, 250);
  }
  function renderAlerts(): void {
    for (const { el, spec } of lists) {
      const shown = alerts.filter((a) => !spec.severities || spec.severities.includes(a.severity)).slice(0, spec.max ?? 12);
      el.innerHTML = shown.length === 0 ? `<li>${t('no_alerts')}</li>` : shown.map((a) =>
        `<li class="sev-${esc(a.severity)}">${esc(a.message)}<div class="meta">${new Date(a.time).toLocaleTimeString(lang())} · ${esc(a.severity)}</div></li>`).join('');
    }
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
    const cells: Record<string, [string, string]> = {
      entities: [String(store.entities.size), ''],
      moving: [String(moving), ''],
      active_alerts: [String(alerts.length), alerts.length ? 'color:#ff8a65' : ''],
      stale: [String(stale), stale ? 'color:#ffb300' : ''],
      max_flood: [`${maxFlood.toFixed(2)} m`, `color:rgb(${flood.color.join(',')})`],
      avg_pm25: [`${pm.toFixed(0)} µg/m³`, `color:rgb(${aqi.color.join(',')})`],
    };
    for (const { el, spec } of kpis) {
      el.innerHTML = (spec.counters ?? [...KPI_COUNTERS]).filter((c) => c in cells).map((c) =>
        `<div class="kpi" data-kpi="${esc(c)}"><span class="v" style="${cells[c][1]}">${esc(cells[c][0])}</span><span class="l">${esc(t(c))}</span></div>`).join('');
    }
    document.getElementById('wall-clock')!.textContent = new Date().toLocaleTimeString(lang());
  }
  renderKpis();
  setInterval(renderKpis, 1000);

  // The overview outlines what the other map panels show, so the wall reads as one picture.
  // The widest map is the overview.
  const overview = views.find((v) => v.panel === 'overview') ?? [...views].sort((a, b) => a.map.getZoom() - b.map.getZoom())[0];
  const syncFrames = () => {
    if (!overview) return;
    overview.frames = views.filter((v) => v !== overview && v.map.loaded())
      .map((v) => ({ path: v.viewRing(), label: layout.panels.find((p) => p.id === v.panel)?.title ?? t(v.panel ?? '') }));
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
