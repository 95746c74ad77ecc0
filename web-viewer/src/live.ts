// The /ws client: subscribes, hands snapshots/deltas/alerts to the caller, and after the server goes
// away (restart, network) reconnects with backoff and subscribes again; the new snapshot resyncs.

import type { Feature } from './store';

export interface Alert {
  id: number;
  time: string;
  entity: number;
  entity_kind: string;
  external_id: string;
  rule: string;
  severity: string;
  message: string;
  position: [number, number] | null;
}

export interface LiveHandlers {
  snapshot(features: Feature[]): void;
  delta(upserts: Feature[], removes: number[]): void;
  alert(a: Alert): void;
  status(connected: boolean): void;
}

export function wsUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/** Backoff after `attempt` failed tries: 0.5 s doubling to 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private closed = false;
  private sub: { kinds?: string[]; bbox?: number[] } = {};

  constructor(private url: string, private h: LiveHandlers) {}

  start(): void {
    this.closed = false;
    this.connect();
  }

  stop(): void {
    this.closed = true;
    this.ws?.close();
  }

  /** Drops the connection as a network failure or server restart would (used by the e2e test). */
  drop(): void {
    this.ws?.close();
  }

  /** Snapshots received so far: 1 after the first connect, +1 per reconnect. */
  snapshots = 0;

  subscribe(sub: { kinds?: string[]; bbox?: number[] }): void {
    this.sub = sub;
    this.send();
  }

  private send(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'subscribe', ...this.sub }));
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.h.status(true);
      this.send();
    };
    ws.onmessage = (ev) => {
      let m: { type: string; [k: string]: unknown };
      try {
        m = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (m.type === 'snapshot') {
        this.snapshots++;
        this.h.snapshot(m.features as Feature[]);
      }
      else if (m.type === 'delta') this.h.delta(m.upserts as Feature[], m.removes as number[]);
      else if (m.type === 'alert') this.h.alert(m.alert as Alert);
    };
    ws.onclose = () => {
      this.h.status(false);
      if (this.closed) return;
      setTimeout(() => this.connect(), backoffMs(this.attempt++));
    };
  }
}
