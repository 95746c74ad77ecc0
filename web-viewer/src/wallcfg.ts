// The wall's layout: a named layout from the city config ([viewer.walls.NAME], served by /api/viewer)
// or the built-in one, then the URL on top:
//   /wall?layout=NAME            a configured wall
//   /wall?layout=3x2&panels=overview,port,alerts&kiosk=1&lang=en   grid, panels, kiosk and language

import type { Lang } from './i18n';

export const PANEL_TYPES = ['overview', 'port', 'traffic', 'flood', 'alerts', 'kpi'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

export const KPI_COUNTERS = ['entities', 'moving', 'active_alerts', 'stale', 'max_flood', 'avg_pm25'] as const;

export interface MapPreset {
  center: [number, number];
  zoom: number;
  pitch: number;
  bearing: number;
  kinds: string[] | null;
}

export const PRESETS: Record<'overview' | 'port' | 'traffic' | 'flood', MapPreset> = {
  overview: { center: [108.2, 16.06], zoom: 11.4, pitch: 0, bearing: 0, kinds: null },
  port: { center: [108.265, 16.15], zoom: 11, pitch: 30, bearing: 0, kinds: ['vessel', 'fishing_boat'] },
  traffic: {
    center: [108.218, 16.062], zoom: 14.2, pitch: 55, bearing: -20,
    kinds: ['bus', 'ambulance', 'fire_truck', 'police_unit', 'incident'],
  },
  flood: {
    center: [108.205, 16.055], zoom: 12.6, pitch: 0, bearing: 0,
    kinds: ['flood_sensor', 'rain_gauge', 'air_quality_station', 'water_quality_station'],
  },
};

/** One panel as the city config writes it (`[[viewer.walls.NAME.panels]]`). */
export interface PanelSpec {
  id: string;
  kind: 'map' | 'alerts' | 'kpi';
  title?: string;
  center?: [number, number];
  zoom?: number;
  pitch?: number;
  bearing?: number;
  /** Entity kinds drawn; absent: all. */
  layers?: string[];
  /** Alert severities listed; absent: all. */
  severities?: string[];
  max?: number;
  counters?: string[];
}

export interface ServerWall {
  cols: number;
  rows: number;
  lang?: string;
  kiosk?: boolean;
  panels: PanelSpec[];
}

/** What `/api/viewer` answers. */
export interface ViewerConfig {
  terrain?: boolean;
  default_wall?: string | null;
  walls?: Record<string, ServerWall>;
}

export interface WallLayout {
  /** The configured wall used, or null for the built-in layout. */
  name: string | null;
  cols: number;
  rows: number;
  panels: PanelSpec[];
  kiosk: boolean;
  lang: Lang;
  /** Why the URL's layout was not used, if it was not. */
  warning?: string;
}

/** The built-in panel of a type (the layout without a city config). */
export function builtinPanel(type: PanelType): PanelSpec {
  if (type === 'alerts') return { id: type, kind: 'alerts', max: 12 };
  if (type === 'kpi') return { id: type, kind: 'kpi', counters: [...KPI_COUNTERS] };
  const p = PRESETS[type];
  return { id: type, kind: 'map', center: p.center, zoom: p.zoom, pitch: p.pitch, bearing: p.bearing, ...(p.kinds ? { layers: p.kinds } : {}) };
}

const BUILTIN: ServerWall = { cols: 3, rows: 2, panels: PANEL_TYPES.map(builtinPanel) };

export function resolveWall(search: string, cfg: ViewerConfig = {}): WallLayout {
  const q = new URLSearchParams(search);
  const walls = cfg.walls ?? {};
  const asked = q.get('layout') ?? '';
  const grid = /^(\d{1,2})x(\d{1,2})$/.exec(asked);
  let name: string | null = null;
  let warning: string | undefined;
  if (asked && !grid) {
    if (walls[asked]) name = asked;
    else warning = `no wall layout "${asked}"`;
  }
  if (name === null && cfg.default_wall && walls[cfg.default_wall]) name = cfg.default_wall;
  const base = name ? walls[name] : BUILTIN;

  // ?panels= picks panels by id: the base wall's first, then the built-in types.
  const listed = (q.get('panels') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const picked = listed
    .map((id) => base.panels.find((p) => p.id === id)
      ?? ((PANEL_TYPES as readonly string[]).includes(id) ? builtinPanel(id as PanelType) : undefined))
    .filter((p): p is PanelSpec => p !== undefined);
  const panels = picked.length ? picked : base.panels;

  let cols: number;
  let rows: number;
  if (grid) {
    cols = Math.max(1, Number(grid[1]));
    rows = Math.max(1, Number(grid[2]));
  } else if (panels.length <= base.cols * base.rows) {
    cols = base.cols;
    rows = base.rows;
  } else {
    cols = Math.min(3, panels.length);
    rows = Math.ceil(panels.length / cols);
  }
  const k = q.get('kiosk');
  const kiosk = k === null ? base.kiosk === true : k === '1' || k === 'true';
  const l = q.get('lang');
  const lang: Lang = l === 'vi' || l === 'en' ? l : base.lang === 'en' ? 'en' : 'vi';
  return { name, cols, rows, panels: panels.slice(0, cols * rows), kiosk, lang, ...(warning ? { warning } : {}) };
}
