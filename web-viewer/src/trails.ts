// Which trails to draw. Every trail point is a path vertex the GPU processes each frame; with
// 10,000 moving entities that is most of a frame in software GL. So: only entities inside the view
// (with a margin), only their newest points, and a budget for all of them together.

export interface TrailSource {
  id: number;
  kind: string;
  trail: [number, number, number][];
}

export interface TrailOptions {
  /** [west, south, east, north] of the view. */
  bounds: [number, number, number, number];
  /** Kinds shown; null: every kind. */
  kinds: ReadonlySet<string> | null;
  /** Newest points kept per trail. */
  perTrail: number;
  /** Points over all trails. */
  budget: number;
  /** More trails than this in view draw none: they would be clutter, and cost most of a frame. */
  maxTrails?: number;
  /** Height (m) the trail of an entity is drawn at. */
  height?: (id: number) => number;
}

export interface TrailPath {
  id: number;
  kind: string;
  path: [number, number, number][];
}

export function pickTrails(entities: Iterable<TrailSource>, o: TrailOptions): TrailPath[] {
  const [w, s, e, n] = o.bounds;
  const mx = (e - w) * 0.1;
  const my = (n - s) * 0.1;
  const inView: TrailSource[] = [];
  for (const ent of entities) {
    const t = ent.trail;
    if (t.length < 2) continue;
    if (o.kinds && !o.kinds.has(ent.kind)) continue;
    const [x, y] = t[t.length - 1];
    if (x < w - mx || x > e + mx || y < s - my || y > n + my) continue;
    inView.push(ent);
    if (o.maxTrails !== undefined && inView.length > o.maxTrails) return [];
  }
  const out: TrailPath[] = [];
  let left = o.budget;
  for (const ent of inView) {
    const t = ent.trail;
    if (left < 2) break;
    const k = Math.min(t.length, o.perTrail, left);
    const z = o.height ? o.height(ent.id) : 0;
    const path: [number, number, number][] = new Array(k);
    for (let i = 0; i < k; i++) {
      const p = t[t.length - k + i];
      path[i] = [p[0], p[1], z];
    }
    out.push({ id: ent.id, kind: ent.kind, path });
    left -= k;
  }
  return out;
}
