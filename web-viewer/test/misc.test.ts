import { describe, expect, it } from 'vitest';
import { pickLang, setLang, stringKeys, t } from '../src/i18n';
import { band, FLOOD_BANDS, pm25ToAqi, sensorColor, VN_AQI_BANDS } from '../src/sensors';
import { parseWall } from '../src/wallcfg';
import { positionAt, sampleIndex, ReplayClock } from '../src/replay';
import { backoffMs } from '../src/live';

describe('i18n', () => {
  it('has the same keys in both languages', () => {
    expect(stringKeys('vi').sort()).toEqual(stringKeys('en').sort());
  });
  it('picks the URL language, then the page default, then the browser', () => {
    expect(pickLang('?lang=en', 'vi')).toBe('en');
    expect(pickLang('', 'vi', 'en-US')).toBe('vi');
    expect(pickLang('', undefined, 'vi-VN')).toBe('vi');
    expect(pickLang('?lang=xx', undefined, 'de')).toBe('en');
  });
  it('translates with diacritics intact', () => {
    setLang('vi');
    expect(t('flood_sensor')).toBe('Cảm biến ngập');
    expect(t('fire')).toBe('PCCC & CNCH');
    setLang('en');
    expect(t('fire')).toBe('Fire & Rescue');
    expect(t('no_such_key')).toBe('no_such_key');
  });
});

describe('sensor thresholds', () => {
  it('maps PM2.5 to VN_AQI at the breakpoints', () => {
    expect(pm25ToAqi(25)).toBe(50);
    expect(pm25ToAqi(50)).toBe(100);
    expect(pm25ToAqi(65)).toBe(125);
    expect(pm25ToAqi(150)).toBe(200);
    expect(pm25ToAqi(900)).toBe(500);
  });
  it('colours by band', () => {
    expect(band(VN_AQI_BANDS, 136).en).toBe('Poor');
    expect(band(FLOOD_BANDS, 0.3).en).toBe('Flooded');
    expect(sensorColor('air_quality_station', { vn_aqi: 20 })).toEqual([0, 228, 0]);
    expect(sensorColor('air_quality_station', { pm25_ugm3: 200 })).toEqual([143, 63, 151]);
    expect(sensorColor('flood_sensor', { water_depth_m: 0.8 })).toEqual([229, 57, 53]);
    expect(sensorColor('bus', {})).toBeNull();
  });
});

describe('wall layout', () => {
  it('reads grid and panels from the URL', () => {
    const w = parseWall('?layout=2x2&panels=port,kpi,bogus,alerts&kiosk=1');
    expect(w).toEqual({ cols: 2, rows: 2, panels: ['port', 'kpi', 'alerts'], kiosk: true });
  });
  it('defaults to all six panels in 3x2', () => {
    const w = parseWall('');
    expect([w.cols, w.rows, w.panels.length, w.kiosk]).toEqual([3, 2, 6, false]);
  });
});

describe('replay', () => {
  const tr = { id: 1, kind: 'bus', name: 'b', t: [0, 1000, 3000], c: [[0, 0], [1, 0], [1, 2]] as [number, number][], h: [0, 90, null] };
  it('interpolates between samples', () => {
    expect(sampleIndex(tr.t, -1)).toBe(-1);
    expect(sampleIndex(tr.t, 2000)).toBe(1);
    expect(positionAt(tr, 500)?.pos).toEqual([0.5, 0]);
    expect(positionAt(tr, 2000)?.pos).toEqual([1, 1]);
    expect(positionAt(tr, 9000)?.pos).toEqual([1, 2]);
    expect(positionAt(tr, -5)).toBeNull();
  });
  it('runs the clock at the chosen speed up to the end', () => {
    const c = new ReplayClock(0, 100_000, 60);
    c.begin(1000, 5000);
    expect(c.time(6000)).toBe(61_000);
    expect(c.done(7000)).toBe(true);
  });
  it('backs off up to ten seconds', () => {
    expect(backoffMs(0)).toBe(500);
    expect(backoffMs(3)).toBe(4000);
    expect(backoffMs(30)).toBe(10_000);
  });
});
