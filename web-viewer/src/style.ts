// Builds the MapLibre style from the server's: our live layers are drawn by deck.gl, so the
// server's live/hexagon layers go; URLs are made same-origin; terrain only when the server has it.

/* eslint-disable @typescript-eslint/no-explicit-any */
export type StyleJson = { version: number; sources: Record<string, any>; layers: any[]; [k: string]: any };

export interface StyleOptions {
  /** The page origin every URL must point at. */
  origin: string;
  /** Whether `/tiles/terrain.json` answered 200. */
  terrain: boolean;
  dark: boolean;
}

/** Rewrites an absolute URL to the page origin (the server may have built it for another host name). */
export function sameOrigin(url: string, origin: string): string {
  const m = /^[a-z]+:\/\/[^/]+(\/.*)$/i.exec(url);
  return m ? origin + m[1] : url.startsWith('/') ? origin + url : url;
}

export function buildStyle(server: StyleJson, opts: StyleOptions): StyleJson {
  const style: StyleJson = JSON.parse(JSON.stringify(server));
  const sources: Record<string, any> = {};
  for (const [name, src] of Object.entries(style.sources)) {
    if (name === 'live') continue;
    if (src.type === 'raster-dem' && !opts.terrain) continue;
    const s = { ...src };
    if (typeof s.url === 'string') s.url = sameOrigin(s.url, opts.origin);
    if (Array.isArray(s.tiles)) s.tiles = s.tiles.map((u: string) => sameOrigin(u, opts.origin));
    sources[name] = s;
  }
  style.sources = sources;
  style.layers = style.layers.filter((l: any) => !l.source || l.source in sources);
  if (typeof style.glyphs === 'string') style.glyphs = sameOrigin(style.glyphs, opts.origin);
  delete style.sprite; // icons are ours, drawn on a canvas
  if (opts.terrain) {
    const dem = Object.entries(sources).find(([, s]) => s.type === 'raster-dem');
    if (dem) {
      const at = style.layers.findIndex((l: any) => l.type === 'fill-extrusion' || l.type === 'symbol');
      const hill = {
        id: 'hillshade', type: 'hillshade', source: dem[0],
        paint: { 'hillshade-exaggeration': 0.35, 'hillshade-shadow-color': opts.dark ? '#000000' : '#5a5a5a' },
      };
      style.layers.splice(at < 0 ? style.layers.length : at, 0, hill);
    }
  }
  return style;
}

/** The raster-dem source name, if the style kept one. */
export function terrainSource(style: StyleJson): string | null {
  const hit = Object.entries(style.sources).find(([, s]) => s.type === 'raster-dem');
  return hit ? hit[0] : null;
}
