// A small SVG time-series chart for the details panel, with threshold bands behind the line.

import type { Band } from './sensors';

export function chartSvg(points: [number, number][], opts: { width?: number; height?: number; bands?: Band[] } = {}): string {
  const w = opts.width ?? 280;
  const h = opts.height ?? 90;
  if (points.length === 0) return `<svg width="${w}" height="${h}" class="chart"></svg>`;
  const t0 = points[0][0];
  const t1 = Math.max(points[points.length - 1][0], t0 + 1);
  const vals = points.map((p) => p[1]);
  const lo = Math.min(0, ...vals);
  const hi = Math.max(...vals, lo + 1e-6) * 1.1;
  const x = (t: number) => ((t - t0) / (t1 - t0)) * (w - 36) + 32;
  const y = (v: number) => h - 14 - ((v - lo) / (hi - lo)) * (h - 22);
  let bands = '';
  let prev = lo;
  for (const b of opts.bands ?? []) {
    const top = Math.min(b.max, hi);
    if (top > prev) {
      bands += `<rect x="32" width="${w - 36}" y="${y(top).toFixed(1)}" height="${(y(prev) - y(top)).toFixed(1)}" fill="rgb(${b.color.join(',')})" opacity="0.16"/>`;
    }
    prev = Math.max(prev, b.max);
    if (prev >= hi) break;
  }
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
  const last = points[points.length - 1];
  const fmt = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2));
  return `<svg width="${w}" height="${h}" class="chart" viewBox="0 0 ${w} ${h}">${bands}
<line x1="32" x2="${w - 4}" y1="${h - 14}" y2="${h - 14}" stroke="currentColor" opacity="0.3"/>
<text x="2" y="12" font-size="10" fill="currentColor">${fmt(hi)}</text><text x="2" y="${h - 14}" font-size="10" fill="currentColor">${fmt(lo)}</text>
<path d="${d}" fill="none" stroke="#ff4081" stroke-width="2"/>
<circle cx="${x(last[0]).toFixed(1)}" cy="${y(last[1]).toFixed(1)}" r="3" fill="#ff4081"/></svg>`;
}
