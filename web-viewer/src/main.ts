// The desk viewer: map, layer panel, search, alerts, details with track and chart, time slider.

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { MapView, loadStyle, type Drawn } from './mapview';
import { EntityStore } from './store';
import { alertPosition, LiveClient, wsUrl, type Alert } from './live';
import { FIXED_KINDS, KINDS, THEMES, THEME_KINDS, kindColor } from './kinds';
import { lang, pickLang, setLang, t, themeLabel, type Lang } from './i18n';
import { chartSvg } from './chart';
import { FLOOD_BANDS, VN_AQI_BANDS } from './sensors';
import { positionAt, ReplayClock, type HistoryDoc } from './replay';
import { chartKey, mergeSeries, type SeriesDoc } from './series';
import { CameraPopup } from './camerapopup';
import { LOS_COLORS } from './cameras';
import { esc } from './html';
import { api, apiJson, client } from './api';
import { installSignIn, LANG_EVENT, mountAccount } from './signin';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const store = new EntityStore();
const alerts: Alert[] = [];
const params = new URLSearchParams(location.search);
let dark = params.get('theme') !== 'planning';
/** `?view=2d` opens flat and top-down (software GL draws that much faster than terrain). */
const start2d = params.get('view') === '2d';
let showTrails = true;
const hidden = new Set<string>();
let trackPeriodMin = 60;
let history: HistoryDoc | null = null;
let clock: ReplayClock | null = null;
let playing = false;
let connected = false;
let alertTimer: ReturnType<typeof setTimeout> | 0 = 0;
let freshAlert: number | null = null;
/** The open sensor's readings from the server. */
let serverSeries: SeriesDoc | null = null;
/** Pulsing rings on the map at once (the newest alerts). */
const MAX_HIGHLIGHTS = 20;

function renderStatus(): void {
  $('conn').textContent = connected ? t('connected') : t('reconnecting');
  $('conn').classList.toggle('down', !connected);
}

setLang(pickLang(location.search, undefined, navigator.language));
installSignIn(client);

async function main(): Promise<void> {
  const style = await loadStyle(dark);
  const view = new MapView(store, {
    container: $('map'), center: [108.2165, 16.0600], zoom: 14.3, pitch: start2d ? 0 : 58, bearing: start2d ? 0 : -20,
    dark, threeD: !start2d, cones: true,
    onPick: (id) => (id === null ? closeDetails() : openDetails(id)),
  }, style);
  const cameraCard = new CameraPopup(view.map, store, () => { view.selected = null; });
  (window as unknown as Record<string, unknown>).__citytwin = { store, view, alerts, openDetails, cameraCard };

  const live = new LiveClient({ url: () => client.streamUrl(wsUrl(location)), renew: () => client.refresh() }, {
    snapshot: (f) => store.applySnapshot(f, performance.now()),
    delta: (u, r) => store.applyDelta(u, r, performance.now()),
    alert: (a) => addAlert(a, true),
    status: (ok) => {
      connected = ok;
      renderStatus();
    },
  });
  live.start();
  apiJson<{ alerts: Alert[] }>('/api/alerts').then((d) => {
    for (const a of [...d.alerts].reverse()) addAlert(a, false);
  }).catch(() => undefined);

  function frame(): void {
    const now = performance.now();
    if (clock) {
      const at = clock.time(now);
      view.replay = replayAt(at);
      $('time-label').textContent = new Date(at).toLocaleTimeString(lang());
      const rel = (at - Date.now()) / 60_000;
      ($('time-slider') as HTMLInputElement).value = String(Math.round(rel));
      if (clock.done(now)) goLive();
    }
    view.render(now, Date.now(), showTrails);
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  setInterval(() => { store.pruneTrails(performance.now()); refreshCounts(); renderChart(); cameraCard.render(); }, 1000);

  function replayAt(at: number): Drawn[] {
    const out: Drawn[] = [];
    for (const tr of history?.entities ?? []) {
      if (hidden.has(tr.kind)) continue;
      const p = positionAt(tr, at);
      if (!p) continue;
      out.push({ id: tr.id, kind: tr.kind, pos: p.pos, heading: p.heading, stale: false, color: [...kindColor(tr.kind), 255] });
    }
    return out;
  }

  async function startReplay(minutesAgo: number): Promise<void> {
    const from = new Date(Date.now() - 120 * 60_000).toISOString();
    history = await apiJson<HistoryDoc>(`/api/history?from=${encodeURIComponent(from)}`);
    const speed = Number(($('replay-speed') as HTMLSelectElement).value) || 10;
    // Never start before the oldest position the server still holds.
    const oldest = Math.min(...(history?.entities ?? []).map((e) => e.t[0] ?? Infinity));
    const start = Math.max(Date.now() + minutesAgo * 60_000, Number.isFinite(oldest) ? oldest : -Infinity);
    clock = new ReplayClock(start, Date.now(), speed);
    clock.begin(start, performance.now());
    playing = true;
    $('btn-live').classList.remove('on');
    $('btn-play').textContent = '⏸';
  }

  function goLive(): void {
    clock = null;
    playing = false;
    view.replay = null;
    ($('time-slider') as HTMLInputElement).value = '0';
    $('btn-live').classList.add('on');
    $('btn-play').textContent = '▶';
    $('time-label').textContent = t('live');
  }

  $('time-slider').addEventListener('change', (ev) => {
    const v = Number((ev.target as HTMLInputElement).value);
    if (v >= 0) goLive();
    else void startReplay(v);
  });
  $('btn-live').addEventListener('click', goLive);
  $('btn-play').addEventListener('click', () => {
    if (playing) goLive();
    else void startReplay(Math.min(-1, Number(($('time-slider') as HTMLInputElement).value) || -60));
  });
  $('replay-speed').addEventListener('change', (ev) => {
    if (clock) {
      const now = performance.now();
      clock.begin(clock.time(now), now);
      clock.speed = Number((ev.target as HTMLSelectElement).value);
    }
  });

  function addAlert(a: Alert, fresh: boolean): void {
    if (alerts.some((x) => x.id === a.id)) return;
    alerts.unshift(a);
    if (alerts.length > 200) alerts.pop();
    const pos = alertPosition(a);
    if (fresh && pos) highlight(pos, 30_000, [255, 64, 129]);
    // A burst of alerts (hundreds a second when a fleet crosses a geofence) renders once.
    if (fresh) freshAlert = a.id;
    if (!alertTimer) alertTimer = setTimeout(() => { alertTimer = 0; renderAlerts(freshAlert); freshAlert = null; }, 250);
  }

  function highlight(pos: [number, number], ms: number, color: [number, number, number]): void {
    view.highlights.push({ pos, until: Date.now() + ms, color });
    if (view.highlights.length > MAX_HIGHLIGHTS) view.highlights.shift();
  }

  function renderAlerts(freshId: number | null): void {
    $('alert-list').innerHTML = alerts.length === 0 ? `<li>${t('no_alerts')}</li>` : alerts.slice(0, 60).map((a) =>
      `<li data-id="${a.id}" class="sev-${esc(a.severity)}${a.id === freshId ? ' new' : ''}"><div>${esc(a.message)}</div>
       <div class="meta">${esc(a.severity)} · ${new Date(a.time).toLocaleTimeString(lang())} · ${esc(a.external_id)}</div></li>`).join('');
  }
  $('alert-list').addEventListener('click', (ev) => {
    const li = (ev.target as HTMLElement).closest('li');
    const a = alerts.find((x) => String(x.id) === li?.dataset.id);
    if (!a) return;
    const pos = alertPosition(a);
    if (pos) {
      view.flyTo(pos, 16);
      highlight(pos, 15_000, [255, 214, 0]);
    }
    if (a.entity != null && store.entities.has(a.entity)) openDetails(a.entity);
  });

  function openDetails(id: number): void {
    const e = store.entities.get(id);
    if (!e) return;
    if (e.kind === 'camera') {
      // A camera gets its card on the map, beside its view cone.
      view.track = null;
      $('details').classList.add('hidden');
      $('alerts').classList.remove('hidden');
      view.selected = id;
      cameraCard.open(id);
      return;
    }
    cameraCard.close();
    view.selected = id;
    const stale = store.isStale(e, Date.now());
    const rows = Object.entries(e.props).filter(([k]) => !['id', 'name'].includes(k))
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v ?? '–')}</td></tr>`).join('');
    if (serverSeries?.id !== id) serverSeries = null;
    $('details').innerHTML = `<button id="details-close" style="float:right">${t('close')}</button>
      <h3 data-entity="${id}">${esc(e.name)}${stale ? `<span class="badge">${t('stale')}</span>` : ''}</h3>
      <div class="meta">${t(e.kind)} · #${id} · ${t('last_update')}: ${new Date(e.time).toLocaleString(lang())}</div>
      <div id="details-chart"></div>
      <div style="margin:8px 0">${t('track')}: <select id="track-period">${[15, 60, 180, 360].map((m) =>
        `<option value="${m}"${m === trackPeriodMin ? ' selected' : ''}>${m < 60 ? `${m} min` : `${m / 60} h`}</option>`).join('')}</select></div>
      <table>${rows}</table>`;
    $('details').classList.remove('hidden');
    $('alerts').classList.add('hidden');
    $('details-close').onclick = closeDetails;
    ($('track-period') as HTMLSelectElement).onchange = (ev) => {
      trackPeriodMin = Number((ev.target as HTMLSelectElement).value);
      void loadTrack(id);
      void loadSeries(id);
    };
    void loadTrack(id);
    renderChart();
    void loadSeries(id);
  }

  /** The sensor's past readings over the chosen period (the chart then adds live ones). */
  async function loadSeries(id: number): Promise<void> {
    if (!FIXED_KINDS.has(store.entities.get(id)?.kind ?? '')) return;
    const from = new Date(Date.now() - trackPeriodMin * 60_000).toISOString();
    const r = await api(`/api/entities/${id}/series?from=${encodeURIComponent(from)}`).catch(() => null);
    if (!r?.ok || view.selected !== id) return;
    serverSeries = await r.json();
    renderChart();
  }

  function renderChart(): void {
    const el = document.getElementById('details-chart');
    const e = view.selected === null ? undefined : store.entities.get(view.selected);
    if (!el || !e) return;
    const server = serverSeries?.id === e.id ? serverSeries.series : {};
    const key = chartKey(new Set([...Object.keys(server), ...Object.keys(e.series).filter((k) => e.series[k].length)]));
    const points = key ? mergeSeries(server[key], e.series[key], Date.now() - trackPeriodMin * 60_000) : [];
    el.dataset.points = String(points.length);
    el.dataset.server = String(server[key ?? '']?.t.length ?? 0);
    el.dataset.first = String(points[0]?.[0] ?? '');
    el.innerHTML = key && points.length ? `<h4>${t('series')}: ${esc(key)}</h4>${chartSvg(points, {
      bands: key === 'water_depth_m' ? FLOOD_BANDS : key === 'vn_aqi' ? VN_AQI_BANDS : undefined,
    })}<div class="meta">${points.length} · ${new Date(points[0][0]).toLocaleTimeString(lang())} – ${new Date(points[points.length - 1][0]).toLocaleTimeString(lang())}</div>` : '';
  }

  async function loadTrack(id: number): Promise<void> {
    const from = new Date(Date.now() - trackPeriodMin * 60_000).toISOString();
    const r = await api(`/api/entities/${id}/track?from=${encodeURIComponent(from)}`);
    if (!r.ok || view.selected !== id) return;
    const f = await r.json();
    view.track = f.geometry?.coordinates?.length > 1 ? f.geometry.coordinates : null;
  }

  function closeDetails(): void {
    cameraCard.close();
    view.selected = null;
    view.track = null;
    $('details').classList.add('hidden');
    $('alerts').classList.remove('hidden');
  }

  // Search
  const input = $<HTMLInputElement>('search');
  input.addEventListener('input', () => {
    const hits = store.search(input.value);
    $('search-results').innerHTML = hits.map((e) =>
      `<li data-id="${e.id}"><b>${esc(e.name)}</b> <span class="meta">${t(e.kind)} · ${esc(e.props.route ?? e.props.mmsi ?? e.props.call_sign ?? '#' + e.id)}</span></li>`).join('');
  });
  $('search-results').addEventListener('click', (ev) => {
    const id = Number((ev.target as HTMLElement).closest('li')?.dataset.id);
    const e = store.entities.get(id);
    if (!e) return;
    $('search-results').innerHTML = '';
    input.value = e.name;
    view.flyTo(e.to, 16);
    openDetails(id);
  });

  // Layers
  function renderLayers(): void {
    const themes = THEMES.map((th) => {
      const on = THEME_KINDS[th].some((k) => !hidden.has(k));
      return `<label><input type="checkbox" data-theme="${th}"${on ? ' checked' : ''}/>${themeLabel(th)}</label>`;
    }).join('');
    const kinds = KINDS.map((k) => `<label><input type="checkbox" data-kind="${k}"${hidden.has(k) ? '' : ' checked'}/>
      <span class="chip" style="background:rgb(${kindColor(k).join(',')})"></span>${t(k)}<span class="n" data-n="${k}"></span></label>`).join('');
    $('layers').innerHTML = `<h4>${t('themes')}</h4>${themes}<h4>${t('kinds')}</h4>${kinds}
      <h4>${t('layers')}</h4><label><input type="checkbox" id="trails"${showTrails ? ' checked' : ''}/>${t('track')}</label>
      <label><input type="checkbox" id="cones"${view.conesShown() ? ' checked' : ''}/>${t('camera_cones')}</label>
      <div class="los-legend" title="${t('los')}">${t('los')}: ${Object.entries(LOS_COLORS).map(([l, c]) =>
        `<span class="los-chip" style="background:rgb(${c.join(',')});color:${l === 'B' || l === 'C' ? '#111' : '#fff'}">${l}</span>`).join('')}</div>`;
    refreshCounts();
  }
  $('layers').addEventListener('change', (ev) => {
    const el = ev.target as HTMLInputElement;
    if (el.id === 'trails') showTrails = el.checked;
    if (el.id === 'cones') view.setConesVisible(el.checked);
    const kinds = el.dataset.theme ? THEME_KINDS[el.dataset.theme as keyof typeof THEME_KINDS] : el.dataset.kind ? [el.dataset.kind] : [];
    for (const k of kinds) if (el.checked) hidden.delete(k); else hidden.add(k);
    view.visibleKinds = hidden.size ? new Set(KINDS.filter((k) => !hidden.has(k))) : null;
    renderLayers();
  });

  function refreshCounts(): void {
    const counts: Record<string, number> = {};
    for (const e of store.entities.values()) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    $('entity-count').textContent = String(store.entities.size);
    for (const el of document.querySelectorAll<HTMLElement>('[data-n]')) el.textContent = String(counts[el.dataset.n ?? ''] ?? '');
  }

  function renderTexts(): void {
    document.documentElement.lang = lang();
    $('title').textContent = t('title');
    $('entity-label').textContent = t('entities');
    $('search').setAttribute('placeholder', t('search'));
    $('alerts-title').textContent = t('alerts');
    $('btn-3d').textContent = view.is3D() ? t('view2d') : t('view3d');
    $('btn-theme').textContent = dark ? t('theme_light') : t('theme_dark');
    $('btn-lang').textContent = lang() === 'vi' ? 'English' : 'Tiếng Việt';
    $('btn-live').textContent = t('live');
    if (!clock) $('time-label').textContent = t('live');
    renderStatus();
    renderAccount?.();
    if (view.selected !== null) openDetails(view.selected);
    renderLayers();
    renderAlerts(null);
  }
  $('btn-3d').addEventListener('click', () => { view.set3D(!view.is3D()); renderTexts(); });
  $('btn-theme').addEventListener('click', async () => {
    dark = !dark;
    document.body.classList.toggle('dark', dark);
    document.body.classList.toggle('light', !dark);
    view.setStyle(await loadStyle(dark), dark);
    renderTexts();
  });
  $('btn-lang').addEventListener('click', () => { setLang((lang() === 'vi' ? 'en' : 'vi') as Lang); renderTexts(); });
  document.addEventListener(LANG_EVENT, renderTexts);
  const renderAccount = mountAccount($('account'), client);
  document.body.classList.toggle('dark', dark);
  document.body.classList.toggle('light', !dark);
  renderTexts();
}

void main();
