// The wall's layout from the URL: ?layout=3x2&panels=overview,port,traffic,flood,alerts,kpi&kiosk=1&lang=en

export const PANEL_TYPES = ['overview', 'port', 'traffic', 'flood', 'alerts', 'kpi'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

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

export interface WallLayout {
  cols: number;
  rows: number;
  panels: PanelType[];
  kiosk: boolean;
}

export function parseWall(search: string): WallLayout {
  const q = new URLSearchParams(search);
  const m = /^(\d{1,2})x(\d{1,2})$/.exec(q.get('layout') ?? '');
  let cols = m ? Math.max(1, Number(m[1])) : 3;
  let rows = m ? Math.max(1, Number(m[2])) : 2;
  const listed = (q.get('panels') ?? '').split(',').map((s) => s.trim())
    .filter((s): s is PanelType => (PANEL_TYPES as readonly string[]).includes(s));
  const panels = listed.length ? listed : [...PANEL_TYPES];
  if (!m) {
    cols = Math.min(3, panels.length);
    rows = Math.ceil(panels.length / cols);
  }
  return { cols, rows, panels: panels.slice(0, cols * rows), kiosk: q.get('kiosk') === '1' || q.get('kiosk') === 'true' };
}
