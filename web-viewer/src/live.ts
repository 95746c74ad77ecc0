import type { components } from './api-types';
// The /ws client: subscribes, hands snapshots/deltas/alerts to the caller, and after the server goes
// away (restart, network) reconnects with backoff and subscribes again; the new snapshot resyncs.
// The URL is asked for on each connect, so a server with authentication gets a fresh single-use
// ticket every time; close code 4401 (token expired) renews the token before reconnecting.

import type { Feature } from './store';

/** An alert of any source, as the server's OpenAPI document declares it (generated types). */
export type Alert = components['schemas']['Alert'];

/** An alert's `[lon, lat]`, or null when it has none (a feed alert of a feed that sent no position). */
export function alertPosition(a: Alert): [number, number] | null {
  const p = a.position;
  return p && p.length === 2 ? [p[0], p[1]] : null;
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

/** Close code the server uses when the connection's token has expired. */
export const CLOSE_TOKEN_EXPIRED = 4401;

export interface LiveAuth {
  /** The URL to open now (with a fresh ticket where the server wants one). */
  url(): Promise<string>;
  /** Renews the access token after the server closed with 4401. */
  renew(): Promise<unknown>;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private closed = false;
  private sub: { kinds?: string[]; bbox?: number[] } = {};

  private auth: LiveAuth;

  constructor(url: string | LiveAuth, private h: LiveHandlers) {
    this.auth = typeof url === 'string' ? { url: async () => url, renew: async () => undefined } : url;
  }

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

  private retry(): void {
    setTimeout(() => void this.connect(), backoffMs(this.attempt++));
  }

  private async connect(): Promise<void> {
    let url: string;
    try {
      url = await this.auth.url();
    } catch {
      // No ticket (server down or refusing): try again as after a dropped connection.
      if (!this.closed) this.retry();
      return;
    }
    if (this.closed) return;
    const ws = new WebSocket(url);
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
    ws.onclose = async (ev) => {
      this.h.status(false);
      if (this.closed) return;
      if (ev.code === CLOSE_TOKEN_EXPIRED) await this.auth.renew().catch(() => undefined);
      this.retry();
    };
  }
}
