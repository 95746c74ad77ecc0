// Replaying the last hours: positions of every entity at a past instant, interpolated from the tracks
// that /api/history returns.

export interface HistoryTrack {
  id: number;
  kind: string;
  name: string;
  t: number[];
  c: [number, number][];
  h: (number | null)[];
}

export interface HistoryDoc {
  from: string;
  to: string;
  entities: HistoryTrack[];
}

/** Index of the last sample at or before `time` (-1 when none). */
export function sampleIndex(t: number[], time: number): number {
  let lo = 0;
  let hi = t.length - 1;
  if (hi < 0 || time < t[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t[mid] <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Position and heading at `time`, or null before the track starts. */
export function positionAt(tr: HistoryTrack, time: number): { pos: [number, number]; heading: number } | null {
  const i = sampleIndex(tr.t, time);
  if (i < 0) return null;
  const a = tr.c[i];
  const heading = tr.h[i] ?? 0;
  if (i === tr.t.length - 1) return { pos: a, heading };
  const b = tr.c[i + 1];
  const f = (time - tr.t[i]) / Math.max(1, tr.t[i + 1] - tr.t[i]);
  return { pos: [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f], heading };
}

/** The replay clock: `speed`× real time from `start`, clamped to `end`. */
export class ReplayClock {
  constructor(public start: number, public end: number, public speed = 10, private startedAt = 0) {}

  begin(at: number, realNow: number): void {
    this.start = at;
    this.startedAt = realNow;
  }

  time(realNow: number): number {
    return Math.min(this.end, this.start + (realNow - this.startedAt) * this.speed);
  }

  done(realNow: number): boolean {
    return this.time(realNow) >= this.end;
  }
}
