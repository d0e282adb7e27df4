import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveClient, type LiveValue, type SocketLike } from '../../../client/src/live.js';

/** A scripted peer standing in for the server's /ws: records what the client sends, lets the test answer. */
class PeerSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

const value = (name: string, v: number) => ({
  name,
  value: v,
  quality: 'GOOD',
  qualityCode: 192,
  subStatus: 'NON_SPECIFIC',
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe('LiveClient', () => {
  let sockets: PeerSocket[];
  let live: LiveClient;
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
  });
  afterEach(() => {
    live?.close();
    vi.useRealTimers();
  });
  const make = (random = () => 0.5, token: string | null = 'tok') =>
    new LiveClient({
      url: 'wss://plant/ws',
      token: () => token ?? undefined,
      createSocket: () => {
        const s = new PeerSocket();
        sockets.push(s);
        return s;
      },
      backoff: { initialMs: 100, maxMs: 1000 },
      random,
    });

  it('authenticates first, then subscribes; re-authenticates and re-subscribes with the same ids after a reconnect', () => {
    live = make();
    const got: LiveValue[] = [];
    live.subscribeTags(['Line1.**'], (v) => got.push(...v), { minIntervalMs: 100 });
    live.start();
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'auth', token: 'tok' }]);
    sockets[0]!.receive({ type: 'authenticated', user: { username: 'u' } });
    expect(sockets[0]!.sent[1]).toEqual({ type: 'subscribe', id: 't1', tags: ['Line1.**'], minIntervalMs: 100 });
    sockets[0]!.receive({ type: 'values', id: 't1', items: [value('Line1.A', 1)] });
    expect(got.at(-1)).toMatchObject({ name: 'Line1.A', value: 1, stale: false });

    sockets[0]!.close(1006, 'network');
    expect(got.at(-1)).toMatchObject({ name: 'Line1.A', value: 1, stale: true });
    expect(live.status).toBe('reconnecting');
    vi.advanceTimersByTime(100);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    sockets[1]!.receive({ type: 'authenticated', user: { username: 'u' } });
    expect(sockets[1]!.sent).toEqual([
      { type: 'auth', token: 'tok' },
      { type: 'subscribe', id: 't1', tags: ['Line1.**'], minIntervalMs: 100 },
    ]);
    const users: unknown[] = [];
    live.onUser((u) => users.push(u));
    sockets[1]!.receive({ type: 'rescoped', user: { username: 'u', grants: [] }, subscriptions: { t1: 0 } });
    expect(users).toEqual([{ username: 'u', grants: [] }]);
    sockets[1]!.receive({ type: 'values', id: 't1', items: [value('Line1.A', 2)] });
    expect(live.value('Line1.A')).toMatchObject({ value: 2, stale: false });
    expect(live.connects).toBe(2);
  });

  it('backs off exponentially up to the ceiling, with jitter, and starts over after a success', () => {
    let r = 0;
    const randoms = [0, 1, 0.5, 0.5, 0.5, 0.5, 0.5];
    live = make(() => randoms[r++] ?? 0.5);
    live.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const n = sockets.length;
      sockets[n - 1]!.close(1006, '');
      let waited = 0;
      while (sockets.length === n) {
        vi.advanceTimersByTime(1);
        waited++;
      }
      delays.push(waited);
    }
    // 100·0.5, 200·1.5, 400, 800, then the 1000 ms ceiling (each ×(0.5 + random)).
    expect(delays).toEqual([50, 300, 400, 800, 1000, 1000]);
    sockets.at(-1)!.open();
    sockets.at(-1)!.receive({ type: 'authenticated', user: {} });
    sockets.at(-1)!.close(1006, '');
    let waited = 0;
    const n = sockets.length;
    while (sockets.length === n) {
      vi.advanceTimersByTime(1);
      waited++;
    }
    expect(waited).toBe(100);
  });

  it('tells alarm subscribers to resync after a reconnect, and stops for good on 4401', () => {
    live = make(() => 0.5, null);
    const resync = vi.fn();
    live.subscribeAlarms({ minPriority: 5 }, () => undefined, resync);
    live.start();
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([]); // the cookie authenticates the upgrade
    sockets[0]!.receive({ type: 'authenticated', user: {} });
    expect(sockets[0]!.sent).toEqual([{ type: 'subscribeAlarms', id: 'a1', minPriority: 5 }]);
    expect(resync).not.toHaveBeenCalled();
    sockets[0]!.close(1006, '');
    vi.advanceTimersByTime(100);
    sockets[1]!.open();
    sockets[1]!.receive({ type: 'authenticated', user: {} });
    expect(resync).toHaveBeenCalledTimes(1);
    sockets[1]!.close(4401, 'session revoked');
    expect(live.status).toBe('unauthenticated');
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(2);
  });
});
