import { describe, expect, it } from 'vitest';
import { DETECTION_CLASSES, iconEntries, iconKey } from '../src/icons';
import { KINDS } from '../src/kinds';

describe('icon keys', () => {
  it('draws sensors by threshold band and everything else by kind', () => {
    expect(iconKey('flood_sensor', { water_depth_m: 0 })).toBe('flood_sensor#0');
    expect(iconKey('flood_sensor', { water_depth_m: 0.6 })).toBe('flood_sensor#3');
    expect(iconKey('flood_sensor', {})).toBe('flood_sensor');
    expect(iconKey('air_quality_station', { vn_aqi: 136 })).toBe('air_quality_station#2');
    expect(iconKey('air_quality_station', { pm25_ugm3: 10 })).toBe('air_quality_station#0');
    expect(iconKey('bus', { water_depth_m: 3 })).toBe('bus');
    expect(iconKey('detection', { class: 'car' })).toBe('detection#car');
    expect(iconKey('detection', { class: 'Motorcycle ' })).toBe('detection#motorcycle');
    expect(iconKey('detection', { class: 'traffic light' })).toBe('detection');
    expect(iconKey('detection', { class: 3 })).toBe('detection');
    expect(iconKey('bus', { class: 'car' })).toBe('bus');
  });
  it('has an atlas entry for every key it hands out', () => {
    const keys = new Set(iconEntries().map((e) => e.key));
    for (const k of KINDS) expect(keys.has(iconKey(k, {}))).toBe(true);
    for (const d of [0, 0.1, 0.3, 2]) expect(keys.has(iconKey('flood_sensor', { water_depth_m: d }))).toBe(true);
    for (const a of [10, 60, 120, 180, 250, 400]) expect(keys.has(iconKey('air_quality_station', { vn_aqi: a }))).toBe(true);
    expect(keys.has(iconKey('unknown_kind', {}))).toBe(true);
    for (const c of DETECTION_CLASSES) expect(keys.has(iconKey('detection', { class: c }))).toBe(true);
  });
});
