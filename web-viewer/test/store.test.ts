import { describe, expect, it } from 'vitest';
import { EntityStore, lerpAngle, MAX_GLIDE_MS, type Feature } from '../src/store';

const feat = (id: number, lon: number, lat: number, time: string, extra: Record<string, unknown> = {}): Feature => ({
  type: 'Feature', id, geometry: { type: 'Point', coordinates: [lon, lat] },
  properties: { id, kind: 'bus', name: `bus ${id}`, time, heading: 90, ...extra },
});

describe('delta merging', () => {
  it('snapshot replaces, deltas upsert and remove', () => {
    const s = new EntityStore();
    s.applySnapshot([feat(1, 108.2, 16.0, '2026-01-01T00:00:00Z'), feat(2, 108.3, 16.1, '2026-01-01T00:00:00Z')], 0);
    expect(s.entities.size).toBe(2);
    s.applyDelta([feat(3, 108.25, 16.05, '2026-01-01T00:00:01Z')], [1], 100);
    expect([...s.entities.keys()].sort()).toEqual([2, 3]);
    // A reconnect's snapshot drops what the server no longer has.
    s.applySnapshot([feat(3, 108.25, 16.05, '2026-01-01T00:00:02Z')], 200);
    expect([...s.entities.keys()]).toEqual([3]);
  });

  it('ignores an observation older than the one it has', () => {
    const s = new EntityStore();
    s.applyDelta([feat(1, 108.2, 16.0, '2026-01-01T00:00:10Z')], [], 0);
    s.applyDelta([feat(1, 108.21, 16.0, '2026-01-01T00:00:05Z')], [], 500);
    expect(s.entities.get(1)?.to).toEqual([108.2, 16.0]);
  });

  it('records numeric sensor series once per observation time', () => {
    const s = new EntityStore();
    const f = (t: string, d: number) => ({ ...feat(7, 108.2, 16, t), properties: { ...feat(7, 108.2, 16, t).properties, kind: 'flood_sensor', water_depth_m: d } });
    s.applyDelta([f('2026-01-01T00:00:00Z', 0.1)], [], 0);
    s.applyDelta([f('2026-01-01T00:00:00Z', 0.1)], [], 10);
    s.applyDelta([f('2026-01-01T00:01:00Z', 0.3)], [], 20);
    expect(s.entities.get(7)?.series.water_depth_m.map((p) => p[1])).toEqual([0.1, 0.3]);
  });
});

describe('interpolation', () => {
  it('glides from the drawn position to the new one', () => {
    const s = new EntityStore();
    s.applyDelta([feat(1, 108.2, 16.0, '2026-01-01T00:00:00Z')], [], 0);
    s.applyDelta([feat(1, 108.202, 16.0, '2026-01-01T00:00:01Z')], [], 1000);
    const e = s.entities.get(1)!;
    expect(e.dur).toBe(MAX_GLIDE_MS);
    const [start] = s.positionAt(e, 1000);
    const [mid] = s.positionAt(e, 1000 + MAX_GLIDE_MS / 2);
    const [end] = s.positionAt(e, 1000 + MAX_GLIDE_MS * 3);
    expect(start[0]).toBeCloseTo(108.2, 9);
    expect(mid[0]).toBeCloseTo(108.201, 9);
    expect(end[0]).toBeCloseTo(108.202, 9);
  });

  it('snaps long jumps instead of sliding across the city', () => {
    const s = new EntityStore();
    s.applyDelta([feat(1, 108.2, 16.0, '2026-01-01T00:00:00Z')], [], 0);
    s.applyDelta([feat(1, 108.3, 16.0, '2026-01-01T00:00:01Z')], [], 500);
    const [p] = s.positionAt(s.entities.get(1)!, 500);
    expect(p[0]).toBeCloseTo(108.3, 9);
  });

  it('turns the short way round', () => {
    expect(lerpAngle(350, 10, 0.5)).toBeCloseTo(0, 9);
    expect(lerpAngle(10, 350, 0.25)).toBeCloseTo(5, 9);
    expect(lerpAngle(90, 270, 1)).toBeCloseTo(270, 9);
  });

  it('keeps trails only for the window', () => {
    const s = new EntityStore(1000);
    s.applyDelta([feat(1, 108.2, 16.0, '2026-01-01T00:00:00Z')], [], 0);
    s.applyDelta([feat(1, 108.201, 16.0, '2026-01-01T00:00:01Z')], [], 600);
    s.applyDelta([feat(1, 108.202, 16.0, '2026-01-01T00:00:02Z')], [], 1200);
    expect(s.entities.get(1)?.trail.map((p) => p[0])).toEqual([108.201, 108.202]);
  });

  it('finds by call sign, MMSI, route and id', () => {
    const s = new EntityStore();
    s.applyDelta([feat(1, 108.2, 16, '2026-01-01T00:00:00Z', { route: 'Tuyến 01' }),
      feat(2, 108.2, 16, '2026-01-01T00:00:00Z', { mmsi: '574100000' }),
      feat(3, 108.2, 16, '2026-01-01T00:00:00Z', { call_sign: '115-01' })], [], 0);
    expect(s.search('tuyến 01').map((e) => e.id)).toEqual([1]);
    expect(s.search('5741').map((e) => e.id)).toEqual([2]);
    expect(s.search('115-01').map((e) => e.id)).toEqual([3]);
    expect(s.search('2').map((e) => e.id)).toContain(2);
  });
});
