// A sensor's chart series: its past readings from the server (/api/entities/{id}/series) joined with
// the readings that arrived live since.

export interface SeriesDoc {
  id: number;
  series: Record<string, { t: number[]; v: number[] }>;
}

/** Properties worth charting, best first: the thresholded ones lead. */
export const CHART_KEYS = ['water_depth_m', 'vn_aqi', 'pm25_ugm3', 'rain_mm_h', 'turbidity_ntu', 'ph'];

/** The property to chart among those with readings, or null. */
export function chartKey(keys: Iterable<string>): string | null {
  const have = [...keys];
  return CHART_KEYS.find((k) => have.includes(k)) ?? have.sort()[0] ?? null;
}

/**
 * Server readings, then live readings newer than the last server one, from `from` on; ordered by
 * time with one value per instant (the server's wins).
 */
export function mergeSeries(
  server: { t: number[]; v: number[] } | undefined,
  live: [number, number][] | undefined,
  from = -Infinity,
): [number, number][] {
  const out: [number, number][] = [];
  const n = Math.min(server?.t.length ?? 0, server?.v.length ?? 0);
  for (let i = 0; i < n; i++) {
    const t = server!.t[i];
    const v = server!.v[i];
    if (t >= from && Number.isFinite(v) && (out.length === 0 || t > out[out.length - 1][0])) out.push([t, v]);
  }
  const last = out.length ? out[out.length - 1][0] : -Infinity;
  for (const [t, v] of live ?? []) {
    if (t > last && t >= from && Number.isFinite(v) && (out.length === 0 || t > out[out.length - 1][0])) out.push([t, v]);
  }
  return out;
}
