// Our own icons, drawn on a canvas at start-up (no sprite sheet to fetch). White shapes used as masks:
// deck.gl tints them per entity. Moving kinds point up (north) so the heading rotates them.

import { isKind, KIND_COLOR, KINDS } from './kinds';
import { band, FLOOD_BANDS, pm25ToAqi, VN_AQI_BANDS } from './sensors';

export const CELL = 64;

type Draw = (c: CanvasRenderingContext2D) => void;

const poly = (c: CanvasRenderingContext2D, pts: number[]) => {
  c.beginPath();
  c.moveTo(pts[0], pts[1]);
  for (let i = 2; i < pts.length; i += 2) c.lineTo(pts[i], pts[i + 1]);
  c.closePath();
  c.fill();
};
const circle = (c: CanvasRenderingContext2D, x: number, y: number, r: number) => {
  c.beginPath();
  c.arc(x, y, r, 0, Math.PI * 2);
  c.fill();
};
const cut = (c: CanvasRenderingContext2D, f: () => void) => {
  c.globalCompositeOperation = 'destination-out';
  f();
  c.globalCompositeOperation = 'source-over';
};

const DRAW: Record<string, Draw> = {
  vessel: (c) => poly(c, [32, 4, 46, 24, 46, 58, 18, 58, 18, 24]),
  fishing_boat: (c) => {
    poly(c, [32, 10, 44, 28, 42, 56, 22, 56, 20, 28]);
    cut(c, () => circle(c, 32, 38, 5));
  },
  bus: (c) => {
    c.beginPath();
    c.roundRect(18, 6, 28, 52, 6);
    c.fill();
    cut(c, () => { c.fillRect(22, 12, 20, 8); c.fillRect(22, 26, 20, 4); c.fillRect(22, 36, 20, 4); });
  },
  ambulance: (c) => {
    circle(c, 32, 32, 24);
    cut(c, () => { c.fillRect(27, 16, 10, 32); c.fillRect(16, 27, 32, 10); });
    poly(c, [32, 2, 38, 10, 26, 10]);
  },
  fire_truck: (c) => {
    c.beginPath();
    c.moveTo(32, 4);
    c.bezierCurveTo(50, 22, 52, 40, 44, 52);
    c.bezierCurveTo(38, 60, 26, 60, 20, 52);
    c.bezierCurveTo(12, 40, 20, 30, 24, 24);
    c.bezierCurveTo(26, 32, 30, 34, 32, 30);
    c.bezierCurveTo(34, 22, 30, 14, 32, 4);
    c.fill();
  },
  police_unit: (c) => {
    poly(c, [32, 4, 54, 14, 50, 40, 32, 60, 14, 40, 10, 14]);
    cut(c, () => poly(c, [32, 18, 36, 28, 46, 28, 38, 34, 41, 44, 32, 38, 23, 44, 26, 34, 18, 28, 28, 28]));
  },
  camera: (c) => {
    c.beginPath();
    c.roundRect(8, 20, 36, 26, 5);
    c.fill();
    poly(c, [44, 28, 58, 20, 58, 46, 44, 38]);
    cut(c, () => circle(c, 26, 33, 7));
  },
  drone: (c) => {
    c.lineWidth = 6;
    c.strokeStyle = '#fff';
    c.beginPath();
    c.moveTo(14, 14); c.lineTo(50, 50); c.moveTo(50, 14); c.lineTo(14, 50);
    c.stroke();
    for (const [x, y] of [[14, 14], [50, 14], [14, 50], [50, 50]]) circle(c, x, y, 9);
    circle(c, 32, 32, 8);
  },
  flood_sensor: (c) => {
    c.beginPath();
    c.moveTo(32, 4);
    c.bezierCurveTo(44, 24, 52, 34, 52, 42);
    c.arc(32, 42, 20, 0, Math.PI);
    c.bezierCurveTo(12, 34, 20, 24, 32, 4);
    c.fill();
    cut(c, () => c.fillRect(18, 44, 28, 4));
  },
  rain_gauge: (c) => {
    circle(c, 22, 26, 12); circle(c, 38, 22, 14); circle(c, 46, 30, 9);
    c.fillRect(14, 28, 40, 10);
    for (const x of [20, 32, 44]) poly(c, [x, 44, x + 4, 54, x - 4, 54]);
  },
  air_quality_station: (c) => {
    circle(c, 32, 32, 26);
    cut(c, () => { c.fillRect(16, 22, 26, 4); c.fillRect(16, 30, 32, 4); c.fillRect(16, 38, 22, 4); });
  },
  water_quality_station: (c) => {
    DRAW.flood_sensor(c);
    cut(c, () => circle(c, 32, 40, 6));
  },
  citizen_report: (c) => {
    c.beginPath();
    c.roundRect(6, 8, 52, 36, 8);
    c.fill();
    poly(c, [16, 40, 30, 40, 14, 58]);
    cut(c, () => { c.fillRect(30, 14, 5, 16); c.fillRect(30, 34, 5, 5); });
  },
  incident: (c) => {
    poly(c, [32, 4, 60, 56, 4, 56]);
    cut(c, () => { c.fillRect(29, 20, 6, 20); c.fillRect(29, 44, 6, 6); });
  },
  detection: (c) => {
    c.lineWidth = 6;
    c.strokeStyle = '#fff';
    c.beginPath(); c.arc(32, 32, 20, 0, Math.PI * 2); c.stroke();
    circle(c, 32, 32, 8);
    c.fillRect(29, 2, 6, 12); c.fillRect(29, 50, 6, 12); c.fillRect(2, 29, 12, 6); c.fillRect(50, 29, 12, 6);
  },
  // Detections by class, seen from above and pointing up like the moving kinds.
  'detection:car': (c) => {
    c.beginPath();
    c.roundRect(19, 5, 26, 54, 9);
    c.fill();
    cut(c, () => { c.fillRect(23, 17, 18, 8); c.fillRect(23, 45, 18, 5); });
  },
  'detection:truck': (c) => {
    c.beginPath();
    c.roundRect(20, 4, 24, 14, 4);
    c.fill();
    c.fillRect(17, 21, 30, 39);
  },
  'detection:bus': (c) => DRAW.bus(c),
  'detection:motorcycle': (c) => {
    c.fillRect(16, 14, 32, 5);
    c.beginPath();
    c.roundRect(27, 3, 10, 58, 5);
    c.fill();
    c.beginPath();
    c.ellipse(32, 34, 10, 13, 0, 0, Math.PI * 2);
    c.fill();
  },
  'detection:bicycle': (c) => {
    c.fillRect(18, 14, 28, 5);
    c.beginPath();
    c.roundRect(28, 3, 8, 58, 4);
    c.fill();
  },
  'detection:person': (c) => {
    circle(c, 32, 13, 9);
    c.beginPath();
    c.roundRect(21, 25, 22, 20, 6);
    c.fill();
    c.fillRect(22, 42, 8, 18);
    c.fillRect(34, 42, 8, 18);
  },
  badge: (c) => {
    circle(c, 32, 32, 28);
    cut(c, () => { c.fillRect(28, 12, 8, 26); c.fillRect(28, 44, 8, 8); });
  },
};

export interface IconMapping {
  [name: string]: { x: number; y: number; width: number; height: number; mask: boolean; anchorY: number };
}

/** Detection classes (COCO names the cameras report) with their own glyph; others get the kind's. */
export const DETECTION_CLASSES = ['car', 'truck', 'bus', 'motorcycle', 'bicycle', 'person'] as const;

/** Atlas entries: every kind in its colour, the threshold sensors once per band colour, and
 * detections once per class. */
export function iconEntries(): { key: string; kind: string; color: [number, number, number] }[] {
  const out = KINDS.map((k) => ({ key: k as string, kind: k as string, color: KIND_COLOR[k] }));
  for (const c of DETECTION_CLASSES) out.push({ key: `detection#${c}`, kind: `detection:${c}`, color: KIND_COLOR.detection });
  FLOOD_BANDS.forEach((b, i) => out.push({ key: `flood_sensor#${i}`, kind: 'flood_sensor', color: b.color }));
  VN_AQI_BANDS.forEach((b, i) => out.push({ key: `air_quality_station#${i}`, kind: 'air_quality_station', color: b.color }));
  return out;
}

/** The atlas key an entity is drawn with: sensors by their threshold band, detections by class,
 * others by kind. */
export function iconKey(kind: string, props: Record<string, unknown>): string {
  if (kind === 'detection' && typeof props.class === 'string') {
    const cls = props.class.trim().toLowerCase();
    if ((DETECTION_CLASSES as readonly string[]).includes(cls)) return `detection#${cls}`;
  }
  if (kind === 'flood_sensor' && typeof props.water_depth_m === 'number') {
    return `flood_sensor#${FLOOD_BANDS.indexOf(band(FLOOD_BANDS, props.water_depth_m))}`;
  }
  if (kind === 'air_quality_station') {
    const aqi = typeof props.vn_aqi === 'number' ? props.vn_aqi
      : typeof props.pm25_ugm3 === 'number' ? pm25ToAqi(props.pm25_ugm3) : null;
    if (aqi !== null) return `air_quality_station#${VN_AQI_BANDS.indexOf(band(VN_AQI_BANDS, aqi))}`;
  }
  return isKind(kind) ? kind : 'incident';
}

/**
 * Draws every entry as a dark disc with a coloured ring and the kind's glyph in that colour, plus a
 * white mask badge for stale entities; one atlas, one icon layer.
 */
export function buildAtlas(doc: Document = document): { canvas: HTMLCanvasElement; mapping: IconMapping } {
  const entries = iconEntries();
  const cols = 8;
  const canvas = doc.createElement('canvas');
  canvas.width = CELL * cols;
  canvas.height = CELL * Math.ceil((entries.length + 1) / cols);
  const ctx = canvas.getContext('2d');
  const glyph = doc.createElement('canvas');
  glyph.width = CELL;
  glyph.height = CELL;
  const g = glyph.getContext('2d');
  const mapping: IconMapping = {};
  const cell = (i: number) => [(i % cols) * CELL, Math.floor(i / cols) * CELL];
  entries.forEach((e, i) => {
    const [x, y] = cell(i);
    mapping[e.key] = { x, y, width: CELL, height: CELL, mask: false, anchorY: CELL / 2 };
    if (!ctx || !g) return;
    const rgb = `rgb(${e.color.join(',')})`;
    g.clearRect(0, 0, CELL, CELL);
    g.globalCompositeOperation = 'source-over';
    g.fillStyle = '#fff';
    DRAW[e.kind]?.(g);
    g.globalCompositeOperation = 'source-in';
    g.fillStyle = rgb;
    g.fillRect(0, 0, CELL, CELL);
    ctx.save();
    ctx.translate(x, y);
    ctx.fillStyle = 'rgba(11, 16, 32, 0.86)';
    ctx.beginPath();
    ctx.arc(32, 32, 29, 0, Math.PI * 2);
    ctx.fill();
    ctx.lineWidth = 4;
    ctx.strokeStyle = rgb;
    ctx.stroke();
    ctx.drawImage(glyph, 13, 13, 38, 38);
    ctx.restore();
  });
  const [bx, by] = cell(entries.length);
  mapping.badge = { x: bx, y: by, width: CELL, height: CELL, mask: true, anchorY: CELL / 2 };
  if (ctx) {
    ctx.save();
    ctx.translate(bx, by);
    ctx.fillStyle = '#fff';
    DRAW.badge(ctx);
    ctx.restore();
  }
  return { canvas, mapping };
}
