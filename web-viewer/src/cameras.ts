// Traffic cameras, pure parts: view footprints from /api/cameras or the camera entity's `footprint`
// attribute, level-of-service colours, what the camera card shows, and detection labels.

import { esc } from './html';

/** `GET /api/cameras` entry (the fields the viewer reads). */
export interface CameraInfo {
  id: string;
  name?: string;
  position?: [number, number];
  replay?: boolean;
  footprint?: unknown;
  status?: { state?: string; frames?: number; [k: string]: unknown };
}

export type Ring = [number, number][];
export interface ConeFeature {
  type: 'Feature';
  geometry: { type: 'Polygon'; coordinates: Ring[] };
  properties: { camera: string; name: string; los: string; color: string };
}
export interface ConeCollection {
  type: 'FeatureCollection';
  features: ConeFeature[];
}
export type Rgb = [number, number, number];

/** Level of service A–F (HCM urban-street bands the server uses): free flow green to jam red. */
export const LOS_COLORS: Record<string, Rgb> = {
  A: [46, 125, 50],
  B: [124, 179, 66],
  C: [253, 216, 53],
  D: [251, 140, 0],
  E: [229, 57, 53],
  F: [136, 14, 79],
};
/** A camera whose level of service is not known yet: its kind colour, grey-blue. */
export const LOS_UNKNOWN: Rgb = [144, 164, 196];

export function losColor(los: unknown): Rgb {
  if (typeof los !== 'string') return LOS_UNKNOWN;
  return LOS_COLORS[los.trim().toUpperCase()] ?? LOS_UNKNOWN;
}

/** The letter when it is one of A–F, else null. */
export function losLetter(los: unknown): string | null {
  if (typeof los !== 'string') return null;
  const l = los.trim().toUpperCase();
  return l in LOS_COLORS ? l : null;
}

function lonLat(p: unknown): [number, number] | null {
  if (!Array.isArray(p) || p.length < 2) return null;
  const [lon, lat] = p;
  if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) return null;
  return [lon, lat];
}

/**
 * The outer ring of a footprint given as a GeoJSON Polygon (object or JSON text), closed; null for
 * anything else: bad JSON, another geometry type, fewer than three distinct corners, positions out of
 * WGS84 range. Holes are dropped: a view cone has none.
 */
export function parseFootprint(raw: unknown): Ring | null {
  let g = raw;
  if (typeof g === 'string') {
    try {
      g = JSON.parse(g);
    } catch {
      return null;
    }
  }
  if (!g || typeof g !== 'object') return null;
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown };
  if (type !== 'Polygon' || !Array.isArray(coordinates) || !Array.isArray(coordinates[0])) return null;
  const ring: Ring = [];
  for (const p of coordinates[0] as unknown[]) {
    const ll = lonLat(p);
    if (!ll) return null;
    ring.push(ll);
  }
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first && (first[0] !== last[0] || first[1] !== last[1])) ring.push([first[0], first[1]]);
  const distinct = new Set(ring.map((p) => `${p[0]},${p[1]}`));
  return distinct.size >= 3 ? ring : null;
}

/** What the cone layer needs of a camera entity in the live store. */
export interface CameraEntityLike {
  kind: string;
  props: Record<string, unknown>;
}

/**
 * The cone features: every camera from /api/cameras with a valid footprint, then camera entities the
 * list does not name (their own `footprint` attribute), each coloured by its entity's `los`.
 */
export function coneFeatures(cameras: CameraInfo[], entities: Iterable<CameraEntityLike>): ConeCollection {
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of entities) {
    if (e.kind === 'camera' && typeof e.props.external_id === 'string') byId.set(e.props.external_id, e.props);
  }
  const features: ConeFeature[] = [];
  const seen = new Set<string>();
  const push = (id: string, name: string, ring: Ring, props: Record<string, unknown> | undefined) => {
    const los = losLetter(props?.los);
    const [r, g, b] = losColor(los);
    seen.add(id);
    features.push({
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [ring] },
      properties: { camera: id, name, los: los ?? '', color: `rgb(${r},${g},${b})` },
    });
  };
  for (const c of cameras) {
    if (typeof c?.id !== 'string' || seen.has(c.id)) continue;
    const props = byId.get(c.id);
    const ring = parseFootprint(c.footprint) ?? parseFootprint(props?.footprint);
    if (ring) push(c.id, c.name ?? c.id, ring, props);
  }
  for (const [id, props] of byId) {
    if (seen.has(id)) continue;
    const ring = parseFootprint(props.footprint);
    if (ring) push(id, String(props.name ?? id), ring, props);
  }
  return { type: 'FeatureCollection', features };
}

/**
 * A signature of what the cones depend on in the live model (which cameras, their footprints and
 * levels of service): the layer is rebuilt only when it changes, and refetched when more than the
 * levels changed.
 */
export function coneSignature(entities: Iterable<CameraEntityLike>): { shape: string; los: string } {
  const shape: string[] = [];
  const los: string[] = [];
  for (const e of entities) {
    if (e.kind !== 'camera') continue;
    const id = String(e.props.external_id ?? '');
    shape.push(`${id}=${String(e.props.footprint ?? '')}`);
    los.push(`${id}=${losLetter(e.props.los) ?? ''}`);
  }
  return { shape: shape.sort().join('|'), los: los.sort().join('|') };
}

/** `count_<class>_per_min` measures as [class, vehicles per minute], classes in name order. */
export function countsPerMinute(props: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(props)) {
    const m = /^count_(.+)_per_min$/.exec(k);
    if (m && typeof v === 'number' && Number.isFinite(v)) out.push([m[1].replace(/_/g, ' '), v]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The camera's raised alert flags (`alert_<name>` = 1 or true), by name. */
export function activeAlertFlags(props: Record<string, unknown>): string[] {
  return Object.entries(props)
    .filter(([k, v]) => k.startsWith('alert_') && k !== 'alert_detail' && (v === true || (typeof v === 'number' && v > 0)))
    .map(([k]) => k)
    .sort();
}

/** "car #12": a detection's class and track id; null when it has neither. */
export function detectionLabel(props: Record<string, unknown>): string | null {
  const cls = typeof props.class === 'string' && props.class.trim() ? props.class.trim() : null;
  const track = typeof props.track_id === 'number' && Number.isFinite(props.track_id) ? props.track_id
    : typeof props.track_id === 'string' && /^\d+$/.test(props.track_id) ? Number(props.track_id) : null;
  if (cls === null && track === null) return null;
  if (track === null) return cls;
  return `${cls ?? '?'} #${track}`;
}

/** Detection labels are drawn from this zoom on (below it they would cover each other). */
export const LABEL_MIN_ZOOM = 17;

/** The snapshot URL, made unique so neither the browser nor a proxy answers from a cache. */
export function snapshotUrl(cameraId: string, now: number): string {
  return `/api/cameras/${encodeURIComponent(cameraId)}/snapshot.jpg?ts=${now}`;
}

/** A COCO class name in the current language (the name itself when there is no translation). */
export function className(cls: string, tr: (k: string) => string): string {
  const key = `cls_${cls.replace(/ /g, '_')}`;
  const s = tr(key);
  return s === key ? cls : s;
}

/**
 * The camera card's text part (the snapshot image lives beside it and is not rebuilt): name with a
 * replay badge, level of service, vehicles in view, mean speed, counts per minute and raised alert
 * flags. `tr` translates keys, `time` formats a timestamp.
 */
export function cameraCardHtml(
  e: { id: number; name: string; time: number; props: Record<string, unknown> },
  tr: (k: string) => string,
  time: (ms: number) => string,
): string {
  const p = e.props;
  const los = losLetter(p.los);
  const [r, g, b] = losColor(los);
  const dark = los === 'B' || los === 'C';
  const num = (v: unknown, digits: number, unit = '') =>
    (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '–');
  const counts = countsPerMinute(p);
  // Classes that passed, busiest first; a quiet minute is one zero, not a zero per class.
  const counted = counts.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const flags = activeAlertFlags(p);
  const detail = typeof p.alert_detail === 'string' ? p.alert_detail.trim() : '';
  return `<h3 data-entity="${e.id}" data-camera="${esc(p.external_id ?? '')}">${esc(e.name)}${p.replay === true
    ? `<span class="badge replay">${esc(tr('replay'))}</span>` : ''}</h3>
    <div class="meta">${esc(tr('camera'))} · ${esc(p.external_id ?? e.id)} · ${esc(tr('last_update'))}: ${esc(time(e.time))}</div>
    <div class="cam-los" data-los="${los ?? ''}"><span class="los-chip" style="background:rgb(${r},${g},${b});color:${dark ? '#111' : '#fff'}">${
      los ?? '–'}</span>${esc(tr('los'))}${los ? '' : ` (${esc(tr('los_unknown'))})`}</div>
    <table>
      <tr><td>${esc(tr('vehicles_in_view'))}</td><td data-k="vehicles_in_view">${num(p.vehicles_in_view, 0)}</td></tr>
      <tr><td>${esc(tr('mean_speed'))}</td><td data-k="mean_speed_kmh">${num(p.mean_speed_kmh, 1, ' km/h')}</td></tr>
      <tr><td>${esc(tr('counts_per_min'))}</td><td data-k="counts">${counted.length ? counted.map(([c, n]) =>
        `${esc(className(c, tr))} ${n}${esc(tr('per_min'))}`).join('<br>') : counts.length ? `0${esc(tr('per_min'))}` : '–'}</td></tr>
      <tr><td>${esc(tr('camera_alerts'))}</td><td data-k="alerts">${flags.length ? flags.map((f) =>
        `<span class="flag">${esc(tr(f))}</span>`).join('<br>') + (detail ? `<div class="meta">${esc(detail)}</div>` : '')
        : esc(tr('no_alerts'))}</td></tr>
    </table>`;
}
