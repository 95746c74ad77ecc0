// The client's copy of the live model: snapshot/delta merging, smooth interpolation between updates,
// recent trails, staleness and the numeric series of sensors seen since the page opened.

import { FIXED_KINDS } from './kinds';

export interface Feature {
  type: 'Feature';
  id?: number;
  geometry: { type: 'Point'; coordinates: [number, number] } | null;
  properties: Record<string, unknown> & { id: number; kind: string; name?: string; time?: string };
}

export interface LiveEntity {
  id: number;
  kind: string;
  name: string;
  props: Record<string, unknown>;
  /** Observation time (ms). */
  time: number;
  hasPosition: boolean;
  /** Interpolation: from → to over [t0, t0 + dur] in client time. */
  from: [number, number];
  to: [number, number];
  headingFrom: number;
  headingTo: number;
  t0: number;
  dur: number;
  /** Client time of the last update. */
  seen: number;
  trail: [number, number, number][];
  series: Record<string, [number, number][]>;
}

/** Numeric properties worth a chart. */
export const SERIES_KEYS = ['water_depth_m', 'pm25_ugm3', 'rain_mm_h', 'vn_aqi', 'turbidity_ntu', 'ph'];
/** Longest glide between two updates; a slower feed just arrives and waits. */
export const MAX_GLIDE_MS = 1000;
/** Jumps longer than this (degrees, ≈ 2 km) snap instead of gliding across the city. */
export const SNAP_DEG = 0.02;

export function staleAfterMs(kind: string): number {
  return FIXED_KINDS.has(kind) ? 30 * 60_000 : 3 * 60_000;
}

/** Shortest-way angle interpolation in degrees. */
export function lerpAngle(a: number, b: number, f: number): number {
  const d = ((((b - a) % 360) + 540) % 360) - 180;
  return (a + d * f + 360) % 360;
}

export function easeFraction(now: number, t0: number, dur: number): number {
  if (dur <= 0) return 1;
  return Math.min(1, Math.max(0, (now - t0) / dur));
}

export class EntityStore {
  readonly entities = new Map<number, LiveEntity>();
  /** Increases on every change: a cheap "did anything change" for renderers. */
  version = 0;
  trailMs: number;
  seriesMax: number;

  constructor(trailMs = 5 * 60_000, seriesMax = 720) {
    this.trailMs = trailMs;
    this.seriesMax = seriesMax;
  }

  /** Replaces everything (after a (re)connect): entities not in the snapshot are gone. */
  applySnapshot(features: Feature[], now: number): void {
    const keep = new Set<number>();
    for (const f of features) {
      const id = this.upsert(f, now);
      if (id !== undefined) keep.add(id);
    }
    for (const id of [...this.entities.keys()]) if (!keep.has(id)) this.entities.delete(id);
    this.version++;
  }

  applyDelta(upserts: Feature[], removes: number[], now: number): void {
    for (const f of upserts) this.upsert(f, now);
    for (const id of removes) this.entities.delete(id);
    this.version++;
  }

  private upsert(f: Feature, now: number): number | undefined {
    const p = f.properties;
    const id = typeof p?.id === 'number' ? p.id : f.id;
    if (typeof id !== 'number') return undefined;
    const time = p.time ? Date.parse(p.time) : now;
    const coords = f.geometry?.coordinates;
    const heading = typeof p.heading === 'number' ? p.heading : null;
    const old = this.entities.get(id);
    if (old && time < old.time) return id; // an older observation never moves us back
    const e: LiveEntity = old ?? {
      id, kind: p.kind, name: '', props: {}, time, hasPosition: false,
      from: [0, 0], to: [0, 0], headingFrom: 0, headingTo: 0, t0: now, dur: 0, seen: now, trail: [], series: {},
    };
    e.kind = p.kind;
    e.name = String(p.name ?? p.external_id ?? id);
    e.props = p;
    e.time = time;
    if (coords) {
      const target: [number, number] = [coords[0], coords[1]];
      const [cur, curHeading] = old?.hasPosition ? this.positionAt(e, now) : [target, heading ?? 0];
      const jump = Math.hypot(target[0] - cur[0], target[1] - cur[1]);
      const glide = old?.hasPosition && jump < SNAP_DEG;
      e.from = glide ? cur : target;
      e.to = target;
      e.headingFrom = glide ? curHeading : heading ?? curHeading;
      e.headingTo = heading ?? curHeading;
      e.dur = glide ? Math.min(MAX_GLIDE_MS, Math.max(100, now - e.seen)) : 0;
      e.t0 = now;
      e.hasPosition = true;
      const last = e.trail[e.trail.length - 1];
      if (!last || last[0] !== target[0] || last[1] !== target[1]) e.trail.push([target[0], target[1], now]);
      const cutoff = now - this.trailMs;
      while (e.trail.length > 0 && e.trail[0][2] < cutoff) e.trail.shift();
    }
    for (const k of SERIES_KEYS) {
      const v = p[k];
      if (typeof v !== 'number') continue;
      const s = (e.series[k] ??= []);
      if (s.length === 0 || s[s.length - 1][0] !== time) s.push([time, v]);
      if (s.length > this.seriesMax) s.shift();
    }
    e.seen = now;
    this.entities.set(id, e);
    return id;
  }

  /** Interpolated [lon, lat] and heading at client time `now`. */
  positionAt(e: LiveEntity, now: number): [[number, number], number] {
    const f = easeFraction(now, e.t0, e.dur);
    return [
      [e.from[0] + (e.to[0] - e.from[0]) * f, e.from[1] + (e.to[1] - e.from[1]) * f],
      lerpAngle(e.headingFrom, e.headingTo, f),
    ];
  }

  isStale(e: LiveEntity, wallNow: number): boolean {
    return wallNow - e.time > staleAfterMs(e.kind);
  }

  /** Drops trail points older than the window (trails of entities that stopped reporting). */
  pruneTrails(now: number): void {
    const cutoff = now - this.trailMs;
    for (const e of this.entities.values()) {
      while (e.trail.length > 0 && e.trail[0][2] < cutoff) e.trail.shift();
    }
  }

  search(query: string, limit = 12): LiveEntity[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const fields = ['name', 'call_sign', 'callsign', 'mmsi', 'route', 'external_id', 'shipname', 'route_id'];
    const out: LiveEntity[] = [];
    for (const e of this.entities.values()) {
      const hit = String(e.id) === q || fields.some((k) => String(e.props[k] ?? '').toLowerCase().includes(q));
      if (hit) out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }
}
