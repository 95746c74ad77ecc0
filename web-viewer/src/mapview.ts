// One map: MapLibre basemap from our tiles and styles, with deck.gl layers for live entities, trails,
// H3 counts at low zoom, alert highlights and a selected track. Used by the viewer and by each wall panel.

import * as maplibregl from 'maplibre-gl';
// The worker is its own module; ship it as an asset of ours so it loads from this origin.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { MapboxOverlay } from '@deck.gl/mapbox';
import { GeoJsonLayer, IconLayer, PathLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import type { PickingInfo } from '@deck.gl/core';
import { buildStyle, terrainSource, type StyleJson } from './style';
import { buildAtlas } from './icons';
import { FIXED_KINDS, kindColor } from './kinds';
import { sensorColor } from './sensors';
import type { EntityStore, LiveEntity } from './store';

export interface Drawn {
  id: number;
  kind: string;
  pos: [number, number];
  heading: number;
  color: [number, number, number, number];
  stale: boolean;
}

export interface ViewOptions {
  container: HTMLElement;
  center: [number, number];
  zoom: number;
  pitch?: number;
  bearing?: number;
  dark: boolean;
  interactive?: boolean;
  /** Below this zoom entities are shown as H3 counts. */
  hexZoom?: number;
  onPick?: (id: number | null) => void;
}

maplibregl.setWorkerUrl(workerUrl);

let atlas: ReturnType<typeof buildAtlas> | null = null;
/** Asks the server whether it has a DEM (probing /tiles/terrain.json would log a failed request). */
const terrainProbe: Promise<boolean> = fetch('/api/viewer')
  .then((r) => (r.ok ? r.json() : { terrain: false }))
  .then((c: { terrain?: boolean }) => c.terrain === true)
  .catch(() => false);

export async function loadStyle(dark: boolean): Promise<StyleJson> {
  const name = dark ? 'operations' : 'planning';
  const [server, terrain] = await Promise.all([
    fetch(`/styles/${name}.json`).then((r) => r.json() as Promise<StyleJson>),
    terrainProbe,
  ]);
  return buildStyle(server, { origin: location.origin, terrain, dark });
}

export class MapView {
  readonly map: maplibregl.Map;
  readonly overlay: MapboxOverlay;
  visibleKinds: Set<string> | null = null;
  selected: number | null = null;
  track: [number, number][] | null = null;
  highlights: { pos: [number, number]; until: number; color: [number, number, number] }[] = [];
  hexes: unknown = null;
  /** Replay positions replace live ones while set. */
  replay: Drawn[] | null = null;
  drawn: Drawn[] = [];
  private threeD = false;
  private lastHexFetch = 0;
  private opts: ViewOptions;

  constructor(private store: EntityStore, opts: ViewOptions, style: StyleJson) {
    this.opts = opts;
    atlas ??= buildAtlas();
    this.map = new maplibregl.Map({
      container: opts.container,
      style: style as maplibregl.StyleSpecification,
      center: opts.center,
      zoom: opts.zoom,
      pitch: opts.pitch ?? 0,
      bearing: opts.bearing ?? 0,
      maxPitch: 75,
      interactive: opts.interactive ?? true,
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true },
    });
    this.overlay = new MapboxOverlay({
      interleaved: false,
      layers: [],
      onClick: (info: PickingInfo) => {
        const obj = info.object as Drawn | undefined;
        opts.onPick?.(obj && typeof obj.id === 'number' ? obj.id : null);
      },
      getCursor: ({ isHovering }) => (isHovering ? 'pointer' : 'grab'),
    });
    this.map.addControl(this.overlay as unknown as maplibregl.IControl);
    this.map.on('load', () => this.applyTerrain());
  }

  setStyle(style: StyleJson): void {
    this.map.setStyle(style as maplibregl.StyleSpecification, { diff: false });
    this.map.once('style.load', () => this.applyTerrain());
  }

  set3D(on: boolean): void {
    this.threeD = on;
    this.map.easeTo({ pitch: on ? 60 : 0, bearing: on ? -17 : 0, duration: 800 });
    this.applyTerrain();
  }

  is3D(): boolean {
    return this.threeD;
  }

  private applyTerrain(): void {
    if (!this.map.isStyleLoaded()) return;
    const style = this.map.getStyle() as unknown as StyleJson | undefined;
    const src = style ? terrainSource(style) : null;
    this.map.setTerrain(this.threeD && src ? { source: src, exaggeration: 1.5 } : null);
  }

  private hexMode(): boolean {
    return this.map.getZoom() < (this.opts.hexZoom ?? 10.5);
  }

  /** Fetches H3 counts for the view (at most every 3 s) while zoomed out. */
  private maybeFetchHexes(now: number): void {
    if (!this.hexMode() || now - this.lastHexFetch < 3000) return;
    this.lastHexFetch = now;
    const b = this.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
    const kinds = this.visibleKinds ? `&kind=${[...this.visibleKinds].join(',')}` : '';
    const res = this.map.getZoom() < 9 ? 6 : 7;
    fetch(`/api/h3?bbox=${bbox}&res=${res}${kinds}`)
      .then((r) => (r.ok ? r.json() : null))
      .then((fc) => { if (fc) this.hexes = fc; })
      .catch(() => undefined);
  }

  /** Current drawable entities at client time `now` (interpolated). */
  compute(now: number, wallNow: number): Drawn[] {
    if (this.replay) return this.replay;
    const out: Drawn[] = [];
    for (const e of this.store.entities.values()) {
      if (!e.hasPosition) continue;
      if (this.visibleKinds && !this.visibleKinds.has(e.kind)) continue;
      const [pos, heading] = this.store.positionAt(e, now);
      const stale = this.store.isStale(e, wallNow);
      const c = sensorColor(e.kind, e.props) ?? kindColor(e.kind);
      out.push({ id: e.id, kind: e.kind, pos, heading, stale, color: [c[0], c[1], c[2], stale ? 90 : 255] });
    }
    return out;
  }

  render(now: number, wallNow: number, trails: boolean): void {
    this.maybeFetchHexes(now);
    const hex = this.hexMode();
    const data = this.compute(now, wallNow);
    this.drawn = data;
    const dark = this.opts.dark;
    const layers = [];
    if (hex && this.hexes) {
      layers.push(new GeoJsonLayer({
        id: 'h3', data: this.hexes as never, filled: true, stroked: true, pickable: false,
        getFillColor: (f: { properties: { total: number } }) => hexColor(f.properties.total),
        getLineColor: [255, 255, 255, 60], lineWidthMinPixels: 1,
      }));
      layers.push(new TextLayer({
        id: 'h3-count', data: ((this.hexes as { features: unknown[] }).features ?? []) as never,
        getPosition: (f: { geometry: { coordinates: number[][][] } }) => centroid(f.geometry.coordinates[0]),
        getText: (f: { properties: { total: number } }) => String(f.properties.total),
        getSize: 13, getColor: [255, 255, 255, 255], fontWeight: 700, characterSet: '0123456789',
        outlineWidth: 3, outlineColor: [0, 0, 0, 200], fontSettings: { sdf: true },
      }));
    }
    if (trails && !hex && !this.replay) {
      layers.push(new PathLayer({
        id: 'trails', data: this.trailData(), getPath: (d: LiveEntity) => d.trail.map((p) => [p[0], p[1]] as [number, number]),
        getColor: (d: LiveEntity) => [...kindColor(d.kind), 110] as [number, number, number, number],
        getWidth: 2, widthUnits: 'pixels', updateTriggers: { getPath: this.store.version },
      }));
    }
    if (this.track) {
      layers.push(new PathLayer({
        id: 'track', data: [{ path: this.track }], getPath: (d: { path: [number, number][] }) => d.path,
        getColor: [255, 64, 129, 230], getWidth: 4, widthUnits: 'pixels',
      }));
    }
    const live = new Date().getTime();
    this.highlights = this.highlights.filter((h) => h.until > live);
    if (this.highlights.length) {
      const pulse = 18 + 10 * Math.sin(now / 150);
      layers.push(new ScatterplotLayer({
        id: 'alert-highlights', data: this.highlights, getPosition: (h: { pos: [number, number] }) => h.pos,
        getRadius: pulse, radiusUnits: 'pixels', billboard: true, filled: false, stroked: true, lineWidthMinPixels: 3,
        getLineColor: (h: { color: [number, number, number] }) => [...h.color, 230] as [number, number, number, number],
        updateTriggers: { getRadius: now },
      }));
    }
    if (!hex || this.replay) {
      layers.push(new ScatterplotLayer({
        id: 'entity-discs', data, getPosition: (d: Drawn) => d.pos, getRadius: 11, radiusUnits: 'pixels', billboard: true,
        getFillColor: (d: Drawn) => (dark ? [11, 16, 32, d.stale ? 110 : 210] : [255, 255, 255, d.stale ? 110 : 230]),
        getLineColor: (d: Drawn) => (d.id === this.selected ? [255, 64, 129, 255] : d.color),
        stroked: true, lineWidthUnits: 'pixels', getLineWidth: (d: Drawn) => (d.id === this.selected ? 3 : 1.5),
        pickable: true, updateTriggers: { getPosition: now, getLineColor: [this.selected, now] },
      }));
      layers.push(new IconLayer({
        id: 'entities', data, iconAtlas: atlas?.canvas as never, iconMapping: atlas?.mapping,
        getIcon: (d: Drawn) => d.kind, getPosition: (d: Drawn) => d.pos, getSize: 16, sizeUnits: 'pixels',
        getAngle: (d: Drawn) => (FIXED_KINDS.has(d.kind) ? 0 : -d.heading), getColor: (d: Drawn) => d.color,
        pickable: true, updateTriggers: { getPosition: now, getAngle: now, getColor: now },
      }));
      layers.push(new IconLayer({
        id: 'stale-badges', data: data.filter((d) => d.stale), iconAtlas: atlas?.canvas as never,
        iconMapping: atlas?.mapping, getIcon: () => 'badge', getPosition: (d: Drawn) => d.pos, getSize: 10,
        sizeUnits: 'pixels', getPixelOffset: [10, -10], getColor: [255, 179, 0, 255], pickable: false,
        updateTriggers: { getPosition: now },
      }));
    }
    this.overlay.setProps({ layers });
  }

  private trailData(): LiveEntity[] {
    const out: LiveEntity[] = [];
    for (const e of this.store.entities.values()) {
      if (e.trail.length > 1 && (!this.visibleKinds || this.visibleKinds.has(e.kind))) out.push(e);
    }
    return out;
  }

  flyTo(pos: [number, number], zoom = 15): void {
    this.map.flyTo({ center: pos, zoom: Math.max(zoom, this.map.getZoom()), duration: 1200 });
  }

  /** Screen position of an entity as currently drawn (tests and the wall use it). */
  screenOf(id: number): [number, number] | null {
    const d = this.drawn.find((x) => x.id === id);
    if (!d) return null;
    const p = this.map.project(d.pos);
    return [p.x, p.y];
  }
}

export function hexColor(total: number): [number, number, number, number] {
  const stops: [number, [number, number, number]][] = [
    [1, [44, 123, 182]], [5, [171, 217, 233]], [20, [255, 255, 191]], [60, [253, 174, 97]], [200, [215, 25, 28]],
  ];
  let c = stops[0][1];
  for (const [n, col] of stops) if (total >= n) c = col;
  return [c[0], c[1], c[2], 150];
}

function centroid(ring: number[][]): [number, number] {
  let x = 0;
  let y = 0;
  const n = Math.max(1, ring.length - 1);
  for (let i = 0; i < n; i++) {
    x += ring[i][0];
    y += ring[i][1];
  }
  return [x / n, y / n];
}
