import { describe, expect, it } from 'vitest';
import { buildStyle, sameOrigin, terrainSource, type StyleJson } from '../src/style';

const server = (): StyleJson => ({
  version: 8,
  glyphs: 'http://10.0.0.5:8080/fonts/{fontstack}/{range}.pbf',
  sprite: 'https://example.com/sprite',
  sources: {
    basemap: { type: 'vector', url: 'http://10.0.0.5:8080/tiles/basemap.json' },
    live: { type: 'vector', url: 'http://10.0.0.5:8080/tiles/live.json' },
    terrain: { type: 'raster-dem', url: 'http://10.0.0.5:8080/tiles/terrain.json', encoding: 'terrarium' },
  },
  layers: [
    { id: 'background', type: 'background' },
    { id: 'roads', type: 'line', source: 'basemap', 'source-layer': 'roads' },
    { id: 'buildings', type: 'fill-extrusion', source: 'basemap', 'source-layer': 'buildings' },
    { id: 'live-bus', type: 'circle', source: 'live', 'source-layer': 'bus' },
  ],
});

describe('style building', () => {
  it('keeps every URL on the page origin and drops live layers and sprites', () => {
    const s = buildStyle(server(), { origin: 'http://127.0.0.1:9000', terrain: false, dark: true });
    expect(Object.keys(s.sources)).toEqual(['basemap']);
    expect(s.sources.basemap.url).toBe('http://127.0.0.1:9000/tiles/basemap.json');
    expect(s.glyphs).toBe('http://127.0.0.1:9000/fonts/{fontstack}/{range}.pbf');
    expect(s.sprite).toBeUndefined();
    expect(s.layers.map((l) => l.id)).toEqual(['background', 'roads', 'buildings']);
    expect(JSON.stringify(s)).not.toMatch(/10\.0\.0\.5|example\.com/);
    expect(terrainSource(s)).toBeNull();
  });

  it('adds hillshade below the buildings when the server has terrain', () => {
    const s = buildStyle(server(), { origin: 'http://h', terrain: true, dark: false });
    expect(terrainSource(s)).toBe('terrain');
    const ids = s.layers.map((l) => l.id);
    expect(ids.indexOf('hillshade')).toBe(ids.indexOf('buildings') - 1);
  });

  it('does not modify the server style', () => {
    const input = server();
    buildStyle(input, { origin: 'http://h', terrain: true, dark: true });
    expect(input.layers).toHaveLength(4);
  });

  it('rewrites origins only', () => {
    expect(sameOrigin('https://a.b:1/x/y?z=1', 'http://o')).toBe('http://o/x/y?z=1');
    expect(sameOrigin('/tiles/a.json', 'http://o')).toBe('http://o/tiles/a.json');
  });
});
