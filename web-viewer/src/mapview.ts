// One map: MapLibre basemap from our tiles and styles, with deck.gl layers for live entities, trails,
// H3 counts at low zoom, alert highlights and a selected track. Used by the viewer and by each wall panel.

import * as maplibregl from 'maplibre-gl';
// The worker is its own module; ship it as an asset of ours so it loads from this origin.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { MapboxOverlay } from '@deck.gl/mapbox';
import { GeoJsonLayer, IconLayer, PathLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import type { PickingInfo } from '@deck.gl/core';
import { buildStyle, terrainSource, type StyleJson } from './style';
import { installDeckCompat } from './deckcompat';
import { viewerConfig } from './config';
import { api, client } from './api';
import { buildAtlas, iconKey } from './icons';
import { FIXED_KINDS, kindColor } from './kinds';
import { pickTrails } from './trails';
import { coneFeatures, coneSignature, detectionLabel, LABEL_MIN_ZOOM, type CameraInfo, type ConeCollection } from './cameras';
import type { EntityStore } from './store';

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
  /** A wall panel: drawn at one device pixel per CSS pixel (many maps, large screens). */
  wall?: boolean;
  /** Start in 3D: pitched, on terrain when the style has a DEM. */
  threeD?: boolean;
  onPick?: (id: number | null) => void;
  /** Draw camera view cones from /api/cameras (the desk viewer). */
  cones?: boolean;
}

maplibregl.setWorkerUrl(workerUrl);

let atlas: ReturnType<typeof buildAtlas> | null = null;
/** Terrain when the server has a DEM (probing /tiles/terrain.json would log a failed request);
 * `?terrain=0` turns it off. */
const terrainProbe = (): Promise<boolean> => viewerConfig()
  .then((c) => c.terrain === true && new URLSearchParams(location.search).get('terrain') !== '0');
/** Terrain exaggeration: Đà Nẵng's centre is flat, the Sơn Trà and Hải Vân hills stand out. */
const EXAGGERATION = 1.5;

/** The server's style for the theme; `withDem: false` leaves out the DEM (flat wall panels: no
 * hillshade to draw, no DEM tiles to load). */
export async function loadStyle(dark: boolean, withDem = true): Promise<StyleJson> {
  const name = dark ? 'operations' : 'planning';
  const [server, terrain] = await Promise.all([
    api(`/styles/${name}.json`).then((r) => r.json() as Promise<StyleJson>),
    withDem ? terrainProbe() : Promise.resolve(false),
  ]);
  return buildStyle(server, { origin: location.origin, terrain, dark });
}

export class MapView {
  readonly map: maplibregl.Map;
  readonly overlay: MapboxOverlay;
  visibleKinds: Set<string> | null = null;
  selected: number | null = null;
  track: [number, number][] | null = null;
  highlights: { pos: [number, number] | [number, number, number]; until: number; color: [number, number, number] }[] = [];
  hexes: unknown = null;
  /** Replay positions replace live ones while set. */
  replay: Drawn[] | null = null;
  private frame = new FrameBuffers();
  private trails: { path: number[][]; color: [number, number, number, number] }[] = [];
  private trailAt = -Infinity;
  /** Outlines of other maps' views (the wall's overview shows where each panel looks). */
  frames: { path: [number, number][]; label: string }[] = [];
  private threeD = false;
  private terrainOn = false;
  private elevGen = 0;
  private elevCache = new Map<number, [number, number, number, number]>();
  private lastHexFetch = 0;
  private opts: ViewOptions;
  /** Camera cones: what is drawn, the camera list it came from, and when to look again. */
  cones: ConeCollection = { type: 'FeatureCollection', features: [] };
  private conesVisible = true;
  private cameraList: CameraInfo[] = [];
  private coneCheckAt = -Infinity;
  private coneFetchAt = -Infinity;
  private coneFetching = false;
  private coneSig = { shape: '', los: '' };
  /** Detection labels drawn in the last frame (tests and tools). */
  labels: { i: number; text: string }[] = [];

  constructor(private store: EntityStore, opts: ViewOptions, style: StyleJson) {
    this.opts = opts;
    atlas ??= buildAtlas();
    this.threeD = opts.threeD ?? false;
    this.map = new maplibregl.Map({
      container: opts.container,
      // Terrain in the first style, not set after 'load': the map lays out and loads tiles once.
      style: withTerrain(style, this.threeD) as maplibregl.StyleSpecification,
      center: opts.center,
      zoom: opts.zoom,
      pitch: opts.pitch ?? 0,
      bearing: opts.bearing ?? 0,
      maxPitch: 75,
      interactive: opts.interactive ?? true,
      attributionControl: false,
      // Tiles, glyphs and the DEM carry the bearer token when signed in.
      transformRequest: client.transformRequest,
      canvasContextAttributes: { preserveDrawingBuffer: true },
      ...(opts.wall ? { pixelRatio: 1 } : {}),
    });
    installDeckCompat(this.map);
    this.overlay = new MapboxOverlay({
      interleaved: false,
      useDevicePixels: !opts.wall,
      layers: [],
      onClick: (info: PickingInfo) => {
        const hit = info.layer?.id === 'entities' && info.index >= 0 && info.index < this.frame.n;
        opts.onPick?.(hit ? this.frame.ids[info.index] : null);
      },
      getCursor: ({ isHovering }) => (isHovering ? 'pointer' : 'grab'),
    });
    this.map.addControl(this.overlay as unknown as maplibregl.IControl);
    this.map.on('load', () => this.applyTerrain());
    // Every style (first load and theme switches) gets the cone layers again.
    this.map.on('style.load', () => this.addConeLayers());
    // Finer DEM tiles arrive after moves: refresh the heights entities stand on.
    this.map.on('idle', () => { this.elevGen++; });
  }

  setStyle(style: StyleJson, dark = this.opts.dark): void {
    this.opts = { ...this.opts, dark };
    this.map.setStyle(withTerrain(style, this.threeD) as maplibregl.StyleSpecification, { diff: false });
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
    const want = this.threeD && src !== null;
    if (want !== this.hasTerrain()) this.map.setTerrain(want ? { source: src!, exaggeration: EXAGGERATION } : null);
    this.elevGen++;
  }

  /**
   * Camera view cones as MapLibre layers under the deck.gl entities and under the basemap's
   * buildings and labels; coloured by level of service.
   */
  private addConeLayers(): void {
    if (!this.opts.cones || this.map.getSource(CONE_SOURCE)) return;
    const layers = this.map.getStyle()?.layers ?? [];
    const before = layers.find((l) => l.type === 'fill-extrusion' || l.type === 'symbol')?.id;
    const visibility = this.conesVisible ? 'visible' : 'none';
    this.map.addSource(CONE_SOURCE, { type: 'geojson', data: this.cones as never });
    this.map.addLayer({
      id: 'camera-cones-fill', type: 'fill', source: CONE_SOURCE, layout: { visibility },
      paint: { 'fill-color': ['get', 'color'], 'fill-opacity': 0.28 },
    }, before);
    this.map.addLayer({
      id: 'camera-cones-line', type: 'line', source: CONE_SOURCE, layout: { visibility },
      paint: { 'line-color': ['get', 'color'], 'line-width': 2, 'line-opacity': 0.9 },
    }, before);
  }

  setConesVisible(on: boolean): void {
    this.conesVisible = on;
    for (const id of ['camera-cones-fill', 'camera-cones-line']) {
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
  }

  conesShown(): boolean {
    return this.conesVisible;
  }

  /**
   * Once a second: the camera entities' footprints and levels of service. A new camera or footprint
   * (or 30 s passing) refetches /api/cameras; a changed level of service only recolours.
   */
  private maybeRefreshCones(now: number): void {
    if (!this.opts.cones || now - this.coneCheckAt < 1000) return;
    this.coneCheckAt = now;
    const sig = coneSignature(this.store.entities.values());
    const refetch = sig.shape !== this.coneSig.shape || now - this.coneFetchAt > CONE_REFETCH_MS;
    const recolour = sig.los !== this.coneSig.los;
    this.coneSig = sig;
    if (refetch && !this.coneFetching) {
      this.coneFetching = true;
      this.coneFetchAt = now;
      api('/api/cameras')
        .then((r) => (r.ok ? r.json() : null))
        .then((d: { cameras?: CameraInfo[] } | null) => {
          if (Array.isArray(d?.cameras)) this.cameraList = d.cameras;
          this.updateCones();
        })
        .catch(() => this.updateCones())
        .finally(() => { this.coneFetching = false; });
    } else if (recolour) {
      this.updateCones();
    }
  }

  private updateCones(): void {
    this.cones = coneFeatures(this.cameraList, this.store.entities.values());
    const src = this.map.getSource(CONE_SOURCE) as maplibregl.GeoJSONSource | undefined;
    src?.setData(this.cones as never);
  }

  /** Whether the map currently drapes over terrain. */
  hasTerrain(): boolean {
    return this.map.getTerrain() !== null;
  }

  /**
   * Ground height (metres × exaggeration) under an entity's target position, so it stands on the
   * terrain. Cached per entity: recomputed when its target moves, or after the map settles (finer
   * DEM tiles may have arrived).
   */
  private elevationOf(id: number, lon: number, lat: number): number {
    if (!this.terrainOn) return 0;
    const c = this.elevCache.get(id);
    if (c && c[0] === lon && c[1] === lat && c[3] === this.elevGen) return c[2];
    const z = Math.max(0, this.map.queryTerrainElevation([lon, lat]) ?? 0);
    this.elevCache.set(id, [lon, lat, z, this.elevGen]);
    return z;
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
    api(`/api/h3?bbox=${bbox}&res=${res}${kinds}`)
      .then((r) => (r.ok ? r.json() : null))
      .then((fc) => { if (fc) this.hexes = fc; })
      .catch(() => undefined);
  }

  /**
   * Fills the per-frame buffers with the entities to draw at client time `now` (interpolated), or
   * with the replay positions. Typed arrays go to the GPU as they are: 10,000 entities per frame.
   */
  private compute(now: number, wallNow: number): void {
    const f = this.frame;
    const list = this.replay;
    const cap = list ? list.length : this.store.entities.size;
    this.terrainOn = this.hasTerrain();
    if (this.elevCache.size > 2 * cap + 1024) this.elevCache.clear();
    f.reserve(cap);
    const { ids, icons, stale } = f;
    let changed = false;
    const put = (i: number, id: number, kind: string, icon: string, st: number) => {
      if (ids[i] !== id || icons[i] !== icon || stale[i] !== st) changed = true;
      ids[i] = id; f.kinds[i] = kind; icons[i] = icon; stale[i] = st;
    };
    let n = 0;
    if (list) {
      for (const d of list) {
        put(n, d.id, d.kind, iconKey(d.kind, {}), 0);
        f.pos[3 * n] = d.pos[0]; f.pos[3 * n + 1] = d.pos[1]; f.pos[3 * n + 2] = this.elevationOf(d.id, d.pos[0], d.pos[1]);
        f.angle[n] = FIXED_KINDS.has(d.kind) ? 0 : -d.heading;
        n++;
      }
    } else {
      for (const e of this.store.entities.values()) {
        if (!e.hasPosition) continue;
        if (this.visibleKinds && !this.visibleKinds.has(e.kind)) continue;
        const [pos, heading] = this.store.positionAt(e, now);
        put(n, e.id, e.kind, iconKey(e.kind, e.props), this.store.isStale(e, wallNow) ? 1 : 0);
        f.pos[3 * n] = pos[0]; f.pos[3 * n + 1] = pos[1]; f.pos[3 * n + 2] = this.elevationOf(e.id, e.to[0], e.to[1]);
        f.angle[n] = FIXED_KINDS.has(e.kind) ? 0 : -heading;
        n++;
      }
    }
    // Only a changed set of entities or icons rebuilds every attribute; otherwise positions and
    // angles alone are refreshed (see render).
    if (changed || n !== f.n || f.data === null) {
      f.data = { length: n };
      f.structure++;
    }
    f.n = n;
    f.frame++;
  }

  /** The entities as drawn in the last frame (tests and tools; allocates). */
  get drawn(): Drawn[] {
    const f = this.frame;
    const out: Drawn[] = [];
    for (let i = 0; i < f.n; i++) {
      const c = kindColor(f.kinds[i]);
      out.push({ id: f.ids[i], kind: f.kinds[i], pos: [f.pos[3 * i], f.pos[3 * i + 1]], heading: -f.angle[i],
        stale: f.stale[i] === 1, color: [c[0], c[1], c[2], f.stale[i] ? 90 : 255] });
    }
    return out;
  }

  render(now: number, wallNow: number, trails: boolean): void {
    this.maybeFetchHexes(now);
    this.maybeRefreshCones(now);
    const hex = this.hexMode() && !this.replay;
    this.compute(now, wallNow);
    const f = this.frame;
    const n = f.n;
    const layers = [];
    if (hex && this.hexes) {
      layers.push(new GeoJsonLayer({
        id: 'h3', data: this.hexes as never, filled: true, stroked: true, pickable: false,
        getFillColor: (g: { properties: { total: number } }) => hexColor(g.properties.total),
        getLineColor: [255, 255, 255, 60], lineWidthMinPixels: 1,
      }));
      layers.push(new TextLayer({
        id: 'h3-count', data: ((this.hexes as { features: unknown[] }).features ?? []) as never,
        getPosition: (g: { geometry: { coordinates: number[][][] } }) => centroid(g.geometry.coordinates[0]),
        getText: (g: { properties: { total: number } }) => String(g.properties.total),
        getSize: 13, getColor: [255, 255, 255, 255], fontWeight: 700, characterSet: '0123456789',
        outlineWidth: 3, outlineColor: [0, 0, 0, 200], fontSettings: { sdf: true },
      }));
    }
    if (trails && !hex && !this.replay) {
      // Trails change slowly next to the frame rate: rebuild their geometry once a second.
      if (now - this.trailAt > 1000) {
        this.trailAt = now;
        this.trails = this.trailData();
      }
      layers.push(new PathLayer({
        id: 'trails', data: this.trails, getPath: (d: { path: number[][] }) => d.path as [number, number, number][],
        getColor: (d: { color: [number, number, number, number] }) => d.color, getWidth: 2, widthUnits: 'pixels',
      }));
    }
    if (this.frames.length) {
      layers.push(new PathLayer({
        id: 'frames', data: this.frames, getPath: (d: { path: [number, number][] }) => d.path,
        getColor: [255, 255, 255, 150], getWidth: 1.5, widthUnits: 'pixels',
      }));
      layers.push(new TextLayer({
        id: 'frame-labels', data: this.frames, getPosition: (d: { path: [number, number][] }) => d.path[3],
        getText: (d: { label: string }) => d.label, getSize: 12, getColor: [255, 255, 255, 220],
        getTextAnchor: 'start', getAlignmentBaseline: 'bottom', getPixelOffset: [4, -2],
        characterSet: 'auto', fontFamily: 'Noto Sans, system-ui, sans-serif', outlineWidth: 2, outlineColor: [0, 0, 0, 220],
        fontSettings: { sdf: true },
      }));
    }
    if (this.track) {
      layers.push(new PathLayer({
        id: 'track', data: [{ path: this.track }], getPath: (d: { path: [number, number][] }) => d.path,
        getColor: [255, 64, 129, 230], getWidth: 4, widthUnits: 'pixels',
      }));
    }
    const wall = Date.now();
    this.highlights = this.highlights.filter((h) => h.until > wall);
    const rings: { pos: number[]; color: [number, number, number] }[] = [...this.highlights];
    const sel = this.selected === null ? -1 : f.ids.indexOf(this.selected);
    if (sel >= 0 && sel < n) rings.push({ pos: [f.pos[3 * sel], f.pos[3 * sel + 1], f.pos[3 * sel + 2]], color: [255, 64, 129] });
    if (rings.length) {
      const pulse = 18 + 6 * Math.sin(now / 150);
      layers.push(new ScatterplotLayer({
        id: 'rings', data: rings, getPosition: (h: { pos: number[] }) => h.pos as [number, number, number],
        getRadius: pulse, radiusUnits: 'pixels', billboard: true, filled: false, stroked: true, lineWidthMinPixels: 3,
        getLineColor: (h: { color: [number, number, number] }) => [...h.color, 230] as [number, number, number, number],
        updateTriggers: { getRadius: now, getPosition: now },
      }));
    }
    if (!hex) {
      // Smaller icons when zoomed out: less overlap, and less to rasterise with many entities.
      const z = this.map.getZoom();
      const iconPx = z < 12 ? 16 : z < 14 ? 20 : 24;
      const icons = f.icons;
      const stale = f.stale;
      const { pos, angle } = f;
      layers.push(new IconLayer({
        id: 'entities', iconAtlas: atlas?.canvas as never, iconMapping: atlas?.mapping, data: f.data as never,
        getPosition: (_: unknown, { index, target }: { index: number; target: number[] }) => {
          target[0] = pos[3 * index];
          target[1] = pos[3 * index + 1];
          target[2] = pos[3 * index + 2];
          return target as unknown as [number, number, number];
        },
        getAngle: (_: unknown, { index }: { index: number }) => angle[index],
        getIcon: (_: unknown, { index }: { index: number }) => icons[index],
        getColor: (_: unknown, { index }: { index: number }) => (stale[index] ? FADED : OPAQUE),
        getSize: iconPx, sizeUnits: 'pixels', pickable: true,
        updateTriggers: { getPosition: f.frame, getAngle: f.frame },
      }));
      // Detection labels ("car #12") close in, where they do not cover each other.
      this.labels = [];
      if (z >= LABEL_MIN_ZOOM && !this.replay) {
        for (let i = 0; i < n; i++) {
          if (f.kinds[i] !== 'detection') continue;
          const text = detectionLabel(this.store.entities.get(f.ids[i])?.props ?? {});
          if (text) this.labels.push({ i, text });
        }
      }
      if (this.labels.length) {
        layers.push(new TextLayer({
          id: 'detection-labels', data: this.labels,
          getPosition: (d: { i: number }) => [pos[3 * d.i], pos[3 * d.i + 1], pos[3 * d.i + 2]] as [number, number, number],
          getText: (d: { text: string }) => d.text, getSize: 12, getColor: [255, 255, 255, 240],
          getPixelOffset: [0, iconPx / 2 + 9], characterSet: 'auto', fontFamily: 'Noto Sans, system-ui, sans-serif',
          // On a dark tag: readable over roads, cones and the selection ring alike.
          background: true, getBackgroundColor: [11, 16, 32, 210], backgroundPadding: [4, 1],
          updateTriggers: { getPosition: f.frame },
        }));
      }
      const staleIdx: number[] = [];
      for (let i = 0; i < n; i++) if (stale[i]) staleIdx.push(i);
      if (staleIdx.length) {
        layers.push(new IconLayer({
          id: 'stale-badges', data: staleIdx, iconAtlas: atlas?.canvas as never, iconMapping: atlas?.mapping,
          getIcon: () => 'badge', getPosition: (i: number) => [f.pos[3 * i], f.pos[3 * i + 1], f.pos[3 * i + 2]], getSize: 10,
          sizeUnits: 'pixels', getPixelOffset: [10, -10], getColor: [255, 179, 0, 255], pickable: false,
        }));
      }
    }
    this.overlay.setProps({ layers });
  }

  private trailData(): { path: number[][]; color: [number, number, number, number] }[] {
    const b = this.map.getBounds();
    const picked = pickTrails(this.store.entities.values(), {
      bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], kinds: this.visibleKinds,
      perTrail: TRAIL_POINTS, budget: TRAIL_BUDGET, maxTrails: MAX_TRAILS,
      // On terrain a trail stands at its entity's current ground height (the city centre is flat).
      height: (id) => (this.terrainOn ? this.elevCache.get(id)?.[2] ?? 0 : 0),
    });
    return picked.map((t) => ({ path: t.path, color: [...kindColor(t.kind), 110] as [number, number, number, number] }));
  }

  /** The visible area as a closed ring (for another map's frame). */
  viewRing(): [number, number][] {
    const c = this.map.getContainer();
    const pts: [number, number][] = [[0, 0], [c.clientWidth, 0], [c.clientWidth, c.clientHeight], [0, c.clientHeight]];
    const ring = pts.map((p) => { const ll = this.map.unproject(p); return [ll.lng, ll.lat] as [number, number]; });
    return [...ring, ring[0]];
  }

  flyTo(pos: [number, number], zoom = 15): void {
    this.map.flyTo({ center: pos, zoom: Math.max(zoom, this.map.getZoom()), duration: 1200 });
  }

  /** Screen position of an entity as currently drawn (tests and the wall use it). */
  screenOf(id: number): [number, number] | null {
    const f = this.frame;
    const i = f.ids.indexOf(id);
    if (i < 0 || i >= f.n) return null;
    const p = this.map.project([f.pos[3 * i], f.pos[3 * i + 1]]);
    return [p.x, p.y];
  }
}

const CONE_SOURCE = 'camera-cones';
/** Cameras are configured, not discovered: a slow refetch picks up status and added cameras. */
const CONE_REFETCH_MS = 30_000;

/** Newest points drawn per trail (the store keeps five minutes). */
const TRAIL_POINTS = 30;
/** Trail points drawn over all entities. */
const TRAIL_BUDGET = 20_000;
/** Above this many moving entities in view, no trails (measured: trails were half of a frame at
 * 10,000 entities in software GL, and unreadable at that density). */
const MAX_TRAILS = 2_000;
const OPAQUE: [number, number, number, number] = [255, 255, 255, 255];
const FADED: [number, number, number, number] = [255, 255, 255, 90];

/** Per-frame arrays, grown as needed and reused so a frame allocates almost nothing. */
class FrameBuffers {
  n = 0;
  ids: number[] = [];
  kinds: string[] = [];
  icons: string[] = [];
  stale = new Uint8Array(0);
  pos = new Float64Array(0);
  angle = new Float32Array(0);

  /** The layer's data: replaced only when the entity set or an icon changes. */
  data: { length: number } | null = null;
  structure = 0;
  frame = 0;

  reserve(cap: number): void {
    if (this.angle.length >= cap) return;
    const size = Math.max(1024, cap * 2);
    this.stale = new Uint8Array(size);
    this.pos = new Float64Array(size * 3);
    this.angle = new Float32Array(size);
  }
}

/** The style with terrain on its DEM source (3D), or without terrain. */
export function withTerrain(style: StyleJson, on: boolean): StyleJson {
  const src = terrainSource(style);
  const { terrain: _, ...rest } = style;
  return on && src ? { ...rest, terrain: { source: src, exaggeration: EXAGGERATION } } : rest as StyleJson;
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
