import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_TOKEN_EXPIRED, LiveClient } from '../src/live';

/** Enough of a WebSocket to drive the client's reconnect logic. */
class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  sent: string[] = [];
  constructor(readonly url: string) { FakeSocket.all.push(this); }
  send(s: string) { this.sent.push(s); }
  close() { this.onclose?.({ code: 1000 }); }
  open() { this.readyState = 1; this.onopen?.(); }
}

const handlers = () => ({ snapshot: () => undefined, delta: () => undefined, alert: () => undefined, status: () => undefined });
const flush = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

describe('LiveClient tickets', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks for a fresh URL (ticket) on every connect', async () => {
    let n = 0;
    const live = new LiveClient({ url: async () => `ws://h/ws?ticket=t${++n}`, renew: async () => undefined }, handlers());
    live.start();
    await flush();
    FakeSocket.all[0].open();
    live.drop();
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['ws://h/ws?ticket=t1', 'ws://h/ws?ticket=t2']);
    live.stop();
  });

  it('renews the token before reconnecting after close code 4401', async () => {
    const order: string[] = [];
    const live = new LiveClient({
      url: async () => { order.push('url'); return 'ws://h/ws'; },
      renew: async () => { order.push('renew'); },
    }, handlers());
    live.start();
    await flush();
    FakeSocket.all[0].open();
    FakeSocket.all[0].onclose?.({ code: CLOSE_TOKEN_EXPIRED });
    await vi.advanceTimersByTimeAsync(600);
    expect(order).toEqual(['url', 'renew', 'url']);
    live.stop();
  });

  it('retries with backoff when no ticket could be had', async () => {
    let calls = 0;
    const live = new LiveClient({ url: async () => { if (++calls < 3) throw new Error('down'); return 'ws://h/ws'; }, renew: async () => undefined }, handlers());
    live.start();
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.all).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1100);
    expect(FakeSocket.all).toHaveLength(1);
    live.stop();
  });
});
