import { describe, expect, it } from 'vitest';
import { chartKey, mergeSeries } from '../src/series';
import { deckTransform, installDeckCompat } from '../src/deckcompat';
import { pickTrails } from '../src/trails';

describe('sensor series', () => {
  it('joins server readings with newer live ones, in time order', () => {
    const server = { t: [1000, 2000, 3000], v: [0.1, 0.2, 0.3] };
    const live: [number, number][] = [[2000, 9], [3000, 9], [4000, 0.4], [5000, 0.5]];
    expect(mergeSeries(server, live)).toEqual([[1000, 0.1], [2000, 0.2], [3000, 0.3], [4000, 0.4], [5000, 0.5]]);
    expect(mergeSeries(server, live, 2500)).toEqual([[3000, 0.3], [4000, 0.4], [5000, 0.5]]);
    expect(mergeSeries(undefined, live)).toEqual(live);
    expect(mergeSeries(server, undefined)).toEqual([[1000, 0.1], [2000, 0.2], [3000, 0.3]]);
  });
  it('drops out-of-order and non-finite readings', () => {
    expect(mergeSeries({ t: [1, 3, 2, 4], v: [1, 3, 2, NaN] }, [[3, 7], [6, Infinity], [7, 7]])).toEqual([[1, 1], [3, 3], [7, 7]]);
  });
  it('charts the thresholded property first', () => {
    expect(chartKey(['pm25_ugm3', 'vn_aqi'])).toBe('vn_aqi');
    expect(chartKey(['rain_mm_h', 'water_depth_m'])).toBe('water_depth_m');
    expect(chartKey(['salinity', 'conductivity'])).toBe('conductivity');
    expect(chartKey([])).toBeNull();
  });
});

describe('deck.gl camera on MapLibre 6', () => {
  const map = (terrain: boolean) => ({
    getContainer: () => ({ clientHeight: 900 }),
    getTerrain: () => (terrain ? { source: 'dem' } : null),
    getCameraTargetElevation: () => 42.5,
  });
  it('reports the canvas height and the terrain elevation under the centre', () => {
    expect(deckTransform(map(true))).toMatchObject({ height: 900, elevation: 42.5 });
    expect(deckTransform(map(false)).elevation).toBe(0);
  });
  it('installs map.transform once, and never over a library one', () => {
    const m = map(true) as ReturnType<typeof map> & { transform?: { height: number; elevation: number } };
    installDeckCompat(m);
    expect(m.transform?.elevation).toBe(42.5);
    const own = { ...map(true), transform: { height: 1, elevation: 2 } };
    installDeckCompat(own);
    expect(own.transform).toEqual({ height: 1, elevation: 2 });
  });
});

describe('trails drawn', () => {
  const mk = (id: number, x: number, n: number, kind = 'bus') =>
    ({ id, kind, trail: Array.from({ length: n }, (_, i) => [x, i * 0.001, i] as [number, number, number]) });
  const bounds: [number, number, number, number] = [0, 0, 1, 1];
  it('keeps the newest points of trails in view, within the budget', () => {
    const es = [mk(1, 0.5, 100), mk(2, 5, 10), mk(3, 0.5, 1), mk(4, 0.2, 10, 'vessel'), mk(5, 0.3, 10)];
    const got = pickTrails(es, { bounds, kinds: null, perTrail: 30, budget: 45, height: (id) => id });
    expect(got.map((t) => [t.id, t.path.length])).toEqual([[1, 30], [4, 10], [5, 5]]);
    expect(got[0].path[29]).toEqual([0.5, 0.099, 1]);
    expect(got[0].path[0][1]).toBeCloseTo(0.07);
    expect(pickTrails(es, { bounds, kinds: new Set(['vessel']), perTrail: 30, budget: 1000 }).map((t) => t.id)).toEqual([4]);
    expect(pickTrails(es, { bounds, kinds: null, perTrail: 30, budget: 1000, maxTrails: 3 })).toHaveLength(3);
    expect(pickTrails(es, { bounds, kinds: null, perTrail: 30, budget: 1000, maxTrails: 2 })).toEqual([]);
  });
});
