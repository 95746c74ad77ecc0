// Entity kinds, their colours and the agency themes that group them in the layer panel.

export const KINDS = [
  'vessel', 'fishing_boat', 'bus', 'ambulance', 'fire_truck', 'police_unit', 'camera', 'drone',
  'flood_sensor', 'rain_gauge', 'air_quality_station', 'water_quality_station', 'citizen_report',
  'incident', 'detection',
] as const;
export type Kind = (typeof KINDS)[number];

export const THEMES = ['transport', 'port', 'police', 'health', 'fire', 'environment'] as const;
export type Theme = (typeof THEMES)[number];

export const THEME_KINDS: Record<Theme, Kind[]> = {
  transport: ['bus'],
  port: ['vessel', 'fishing_boat'],
  police: ['police_unit', 'camera', 'drone', 'detection', 'citizen_report'],
  health: ['ambulance'],
  fire: ['fire_truck', 'incident'],
  environment: ['flood_sensor', 'rain_gauge', 'air_quality_station', 'water_quality_station'],
};

export const KIND_COLOR: Record<Kind, [number, number, number]> = {
  vessel: [79, 195, 247],
  fishing_boat: [38, 166, 154],
  bus: [255, 213, 79],
  ambulance: [239, 83, 80],
  fire_truck: [255, 112, 67],
  police_unit: [92, 107, 192],
  camera: [171, 130, 255],
  drone: [206, 147, 216],
  flood_sensor: [41, 182, 246],
  rain_gauge: [129, 212, 250],
  air_quality_station: [156, 204, 101],
  water_quality_station: [77, 208, 225],
  citizen_report: [255, 167, 38],
  incident: [244, 67, 54],
  detection: [240, 98, 146],
};

/** Kinds that stay put: their icons are not rotated and they go stale much later. */
export const FIXED_KINDS: ReadonlySet<string> = new Set([
  'camera', 'flood_sensor', 'rain_gauge', 'air_quality_station', 'water_quality_station',
]);

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

export function kindColor(kind: string): [number, number, number] {
  return isKind(kind) ? KIND_COLOR[kind] : [200, 200, 200];
}
