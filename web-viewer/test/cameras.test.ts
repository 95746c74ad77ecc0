import { describe, expect, it } from 'vitest';
import {
  activeAlertFlags, cameraCardHtml, className, coneFeatures, coneSignature, countsPerMinute, detectionLabel,
  LOS_COLORS, LOS_UNKNOWN, losColor, losLetter, parseFootprint, snapshotUrl,
} from '../src/cameras';
import { setLang, t } from '../src/i18n';

const square = { type: 'Polygon', coordinates: [[[108.211, 16.06], [108.2112, 16.06], [108.2112, 16.0598], [108.211, 16.0598], [108.211, 16.06]]] };

describe('level of service colours', () => {
  it('maps A to F from free-flow green to jam red, case and spaces aside', () => {
    expect(losColor('A')).toEqual(LOS_COLORS.A);
    expect(losColor(' f ')).toEqual(LOS_COLORS.F);
    expect(losColor('c')).toEqual([253, 216, 53]);
    const greens = LOS_COLORS.A[1] - LOS_COLORS.A[0];
    const reds = LOS_COLORS.E[0] - LOS_COLORS.E[1];
    expect(greens).toBeGreaterThan(0);
    expect(reds).toBeGreaterThan(0);
  });
  it('gives unknown levels a neutral colour', () => {
    for (const bad of [undefined, null, '', 'G', 'AB', 3, {}]) {
      expect(losColor(bad)).toEqual(LOS_UNKNOWN);
      expect(losLetter(bad)).toBeNull();
    }
    expect(losLetter('d')).toBe('D');
  });
});

describe('footprint parsing', () => {
  it('reads a GeoJSON Polygon as object or text, and closes an open ring', () => {
    expect(parseFootprint(square)).toEqual(square.coordinates[0]);
    expect(parseFootprint(JSON.stringify(square))).toEqual(square.coordinates[0]);
    const open = { type: 'Polygon', coordinates: [square.coordinates[0].slice(0, 4)] };
    const ring = parseFootprint(open)!;
    expect(ring).toHaveLength(5);
    expect(ring[4]).toEqual(ring[0]);
  });
  it('rejects bad input instead of drawing it', () => {
    const bad: unknown[] = [
      null, undefined, 42, '', 'not json', '{"type":"Polygon"', '{}', [],
      { type: 'Point', coordinates: [108.2, 16.06] },
      { type: 'MultiPolygon', coordinates: [square.coordinates] },
      { type: 'Polygon', coordinates: [] },
      { type: 'Polygon', coordinates: 'x' },
      { type: 'Polygon', coordinates: [[[108.2, 16.06], [108.3, 16.06], [108.2, 16.06]]] }, // two corners
      { type: 'Polygon', coordinates: [[[108.2, 16.06], [108.3, 'a'], [108.3, 16.07], [108.2, 16.06]]] },
      { type: 'Polygon', coordinates: [[[108.2, 16.06], [181, 16.06], [108.3, 16.07], [108.2, 16.06]]] },
      { type: 'Polygon', coordinates: [[[108.2, 16.06], [108.3, 91], [108.3, 16.07], [108.2, 16.06]]] },
      { type: 'Polygon', coordinates: [[[108.2, 16.06], [NaN, 16.0], [108.3, 16.07], [108.2, 16.06]]] },
      { type: 'Polygon', coordinates: [[[108.2], [108.3, 16.0], [108.3, 16.07], [108.2, 16.06]]] },
    ];
    for (const b of bad) expect(parseFootprint(b), JSON.stringify(b) ?? String(b)).toBeNull();
  });
});

describe('cone features', () => {
  const cam = (external_id: string, props: Record<string, unknown> = {}) => ({ kind: 'camera', props: { external_id, ...props } });

  it('takes footprints from /api/cameras and colours them by the camera entity level of service', () => {
    const fc = coneFeatures([{ id: 'c1', name: 'One', footprint: square }], [cam('c1', { los: 'E' })]);
    expect(fc.features).toHaveLength(1);
    expect(fc.features[0].properties).toEqual({ camera: 'c1', name: 'One', los: 'E', color: 'rgb(229,57,53)' });
    expect(fc.features[0].geometry.coordinates[0]).toEqual(square.coordinates[0]);
  });
  it('falls back to the entity footprint and adds cameras the list lacks; skips bad footprints', () => {
    const fc = coneFeatures(
      [{ id: 'c1', footprint: 'garbage' }, { id: 'c2', footprint: null }, { id: 'c1', footprint: square }],
      [cam('c1', { footprint: JSON.stringify(square) }), cam('c3', { footprint: JSON.stringify(square), name: 'Three' }),
        cam('c4', { footprint: '{"type":"Point"}' }), { kind: 'bus', props: { external_id: 'b', footprint: JSON.stringify(square) } }],
    );
    expect(fc.features.map((f) => [f.properties.camera, f.properties.name, f.properties.los])).toEqual([['c1', 'c1', ''], ['c3', 'Three', '']]);
    expect(fc.features[1].properties.color).toBe(`rgb(${LOS_UNKNOWN.join(',')})`);
  });
  it('tells a recolour from a reshape', () => {
    const a = coneSignature([cam('c1', { los: 'A', footprint: 'x' }), cam('c2', { footprint: 'y' })]);
    const recoloured = coneSignature([cam('c2', { footprint: 'y' }), cam('c1', { los: 'B', footprint: 'x' })]);
    const added = coneSignature([cam('c1', { los: 'A', footprint: 'x' }), cam('c2', { footprint: 'y' }), cam('c3', { footprint: 'z' })]);
    expect(recoloured.shape).toBe(a.shape);
    expect(recoloured.los).not.toBe(a.los);
    expect(added.shape).not.toBe(a.shape);
  });
});

describe('camera measures', () => {
  it('lists counts per minute by class and ignores other counters', () => {
    expect(countsPerMinute({ count_car_per_min: 12, count_person_per_min: 0, count_car_this_min: 3, count_bad_per_min: 'x',
      count_traffic_light_per_min: 1, line_north_per_min: 9 }))
      .toEqual([['car', 12], ['person', 0], ['traffic light', 1]]);
  });
  it('lists raised alert flags only', () => {
    expect(activeAlertFlags({ alert_queue: 1, alert_stopped_vehicle: 0, alert_person_restricted: true, alert_detail: 'queue in x' }))
      .toEqual(['alert_person_restricted', 'alert_queue']);
    expect(activeAlertFlags({ alert_queue: 0, los: 'F' })).toEqual([]);
  });
  it('labels detections by class and track id', () => {
    expect(detectionLabel({ class: 'car', track_id: 12 })).toBe('car #12');
    expect(detectionLabel({ class: ' motorcycle ', track_id: '7' })).toBe('motorcycle #7');
    expect(detectionLabel({ class: 'person' })).toBe('person');
    expect(detectionLabel({ track_id: 3 })).toBe('? #3');
    expect(detectionLabel({ class: '', track_id: 'seven' })).toBeNull();
    expect(detectionLabel({})).toBeNull();
  });
  it('asks for a fresh snapshot each time', () => {
    expect(snapshotUrl('cam-ham-nghi-replay', 1700000000000)).toBe('/api/cameras/cam-ham-nghi-replay/snapshot.jpg?ts=1700000000000');
    expect(snapshotUrl('a b/c', 1)).toBe('/api/cameras/a%20b%2Fc/snapshot.jpg?ts=1');
  });
});

describe('camera card', () => {
  const e = {
    id: 5, name: 'Hàm Nghi <x>', time: 0,
    props: { external_id: 'cam-1', replay: true, los: 'C', vehicles_in_view: 4, mean_speed_kmh: 17.25, count_car_per_min: 2,
      count_motorcycle_per_min: 11, count_bus_per_min: 0, alert_queue: 1, alert_stopped_vehicle: 0, alert_detail: 'queue in box' },
  };
  it('shows measures, alert flags and the replay label, escaped, in both languages', () => {
    setLang('en');
    const en = cameraCardHtml(e, (k) => t(k), () => '12:00');
    expect(en).toContain('Hàm Nghi &#60;x&#62;');
    expect(en).toContain('data-los="C"');
    expect(en).toContain('>Replay</span>');
    expect(en).toContain('<td data-k="vehicles_in_view">4</td>');
    expect(en).toContain('17.3 km/h');
    expect(en).toContain('<td data-k="counts">Motorcycle 11/min<br>Car 2/min</td>');
    expect(en).toContain('Queue or jam');
    expect(en).not.toContain('Vehicle stopped');
    expect(en).toContain('queue in box');
    setLang('vi');
    const vi = cameraCardHtml(e, (k) => t(k), () => '12:00');
    expect(vi).toContain('Xe máy 11/phút<br>Ô tô 2/phút');
    expect(vi).toContain('Phát lại');
    setLang('en');
  });
  it('copes with a camera that has not measured anything yet', () => {
    const html = cameraCardHtml({ id: 1, name: 'c', time: 0, props: { external_id: 'c' } }, (k) => t(k), () => '');
    expect(html).toContain('data-los=""');
    expect(html).toContain('(unknown)');
    expect(html).toContain('<td data-k="mean_speed_kmh">–</td>');
    expect(html).toContain('No alerts');
    expect(html).toContain('<td data-k="counts">–</td>');
    const quiet = cameraCardHtml({ id: 1, name: 'c', time: 0, props: { count_car_per_min: 0, count_bus_per_min: 0 } }, (k) => t(k), () => '');
    expect(quiet).toContain('<td data-k="counts">0/min</td>');
    expect(html).not.toContain('Replay');
  });
  it('translates known classes and keeps unknown ones', () => {
    expect(className('car', (k) => t(k, 'vi'))).toBe('Ô tô');
    expect(className('traffic light', (k) => t(k, 'vi'))).toBe('traffic light');
  });
});
