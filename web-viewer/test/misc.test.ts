import { describe, expect, it } from 'vitest';
import { pickLang, setLang, stringKeys, t } from '../src/i18n';
import { band, FLOOD_BANDS, pm25ToAqi, sensorColor, VN_AQI_BANDS } from '../src/sensors';
import { resolveWall, type ViewerConfig } from '../src/wallcfg';
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
  const cfg: ViewerConfig = {
    default_wall: 'ioc',
    walls: {
      ioc: {
        cols: 2, rows: 2, lang: 'vi', kiosk: true, panels: [
          { id: 'port', kind: 'map', center: [108.265, 16.15], zoom: 11, pitch: 30, layers: ['vessel'] },
          { id: 'alerts', kind: 'alerts', severities: ['severe'], max: 5 },
          { id: 'kpi', kind: 'kpi', counters: ['entities'] },
        ],
      },
      lobby: { cols: 1, rows: 1, lang: 'en', panels: [{ id: 'city', kind: 'map', title: 'City', center: [108.2, 16.06], zoom: 12 }] },
    },
  };
  it('uses the config default wall without a URL layout', () => {
    const w = resolveWall('', cfg);
    expect([w.name, w.cols, w.rows, w.kiosk, w.lang]).toEqual(['ioc', 2, 2, true, 'vi']);
    expect(w.panels.map((p) => p.id)).toEqual(['port', 'alerts', 'kpi']);
    expect(w.panels[0].layers).toEqual(['vessel']);
  });
  it('selects a configured wall by name; the URL still overrides', () => {
    const w = resolveWall('?layout=lobby', cfg);
    expect([w.name, w.cols, w.rows, w.lang, w.panels[0].title]).toEqual(['lobby', 1, 1, 'en', 'City']);
    expect(resolveWall('?layout=lobby&lang=vi&kiosk=1', cfg)).toMatchObject({ lang: 'vi', kiosk: true });
    expect(resolveWall('?kiosk=0', cfg).kiosk).toBe(false);
  });
  it('falls back with a warning for an unknown wall name', () => {
    const w = resolveWall('?layout=atrium', cfg);
    expect(w.name).toBe('ioc');
    expect(w.warning).toContain('atrium');
  });
  it('reads grid and panels from the URL, config panels first, then built-in ones', () => {
    const w = resolveWall('?layout=2x1&panels=kpi,traffic,bogus&kiosk=1', cfg);
    expect([w.cols, w.rows, w.kiosk]).toEqual([2, 1, true]);
    expect(w.panels.map((p) => [p.id, p.kind])).toEqual([['kpi', 'kpi'], ['traffic', 'map']]);
    expect(w.panels[0].counters).toEqual(['entities']);
    expect(w.panels[1].center).toEqual([108.218, 16.062]);
  });
  it('defaults to the six built-in panels in 3x2, in Vietnamese', () => {
    const w = resolveWall('', {});
    expect([w.name, w.cols, w.rows, w.panels.length, w.kiosk, w.lang]).toEqual([null, 3, 2, 6, false, 'vi']);
    expect(w.panels.map((p) => p.kind)).toEqual(['map', 'map', 'map', 'map', 'alerts', 'kpi']);
    // More panels than the grid holds: the grid grows to three columns.
    expect(resolveWall('?panels=overview,port,traffic,flood,alerts,kpi,overview', { walls: { s: { cols: 1, rows: 1, panels: [] } }, default_wall: 's' }).rows).toBe(3);
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
