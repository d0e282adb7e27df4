import { fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient, TagwayApiError, TagwayClient, type LiveValue, type SocketLike } from '../../../client/src/index.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';

/** The client library end to end in Node 20 against a real server: bearer auth, typed calls, live values, reconnect. */
describe('@tagway/client against a real server', () => {
  let s: TestServer;
  const clientFor = () =>
    new TagwayClient({
      baseUrl: s.url,
      auth: 'bearer',
      fetch: ((url: string, init: RequestInit) =>
        undiciFetch(url, { ...(init as object), dispatcher: s.agent })) as unknown as typeof fetch,
    });
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.stop());

  it('logs in, lists, reads and writes typed; a refusal carries the server problem; logout ends the session', async () => {
    const c = clientFor();
    await expect(c.login('admin', 'wrong')).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    const session = await c.login('operator', 'operator-password');
    expect(session.user.username).toBe('operator');
    expect((await c.session()).user.grants).toContainEqual({ permission: 'tags:write', tags: 'Line1.**' });
    const tags = await c.allTags({ filter: 'Line*.Setpoint' });
    expect(tags.map((t) => t.name)).toEqual(['Line1.Setpoint', 'Line2.Setpoint']);
    expect((await c.writeTag('Line1.Setpoint', 33.5)).value).toBe(33.5);
    expect((await c.readTag('Line1.Setpoint')).value).toBe(33.5);
    const refused = await c.writeTag('Line2.Setpoint', 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TagwayApiError);
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((refused as Error).message).toMatch(/Line2\.Setpoint/);
    const csv = await c.csv(c.alarmArchiveCsvUrl({ limit: 5 }));
    expect(csv.split('\n')[0]).toMatch(/^eventId,/);
    const board = await c.createBoard({ name: 'Mine', widgets: [{ kind: 'value', tags: ['Line1.Setpoint'] }] });
    expect((await c.boards()).items.map((b) => b.id)).toContain(board.id);
    await c.logout();
    c.token = session.token;
    await expect(c.readTag('Line1.Setpoint')).rejects.toMatchObject({ status: 401 });
  });

  it('filters the audit trail by tag, in JSON and in the CSV link, with a name that needs URL encoding', async () => {
    const special = 'Line1/Filler Speed:rpm.[1]#a';
    const c = clientFor();
    await c.login('admin', ADMIN_PASSWORD);
    await c.writeTags([
      { name: 'Line2.Setpoint', value: 7 },
      { name: special, value: 8 },
    ]);
    const page = await c.audit({ tag: special, limit: 1 });
    expect(page.items[0]).toMatchObject({ action: 'tag.write', user: 'admin', target: null, result: 'OK' });
    expect(page.items[0]!.details).toMatchObject({ items: [{ name: 'Line2.Setpoint' }, { name: special, newValue: 8 }] });
    const csv = (await c.csv(c.auditCsvUrl({ tag: special }))).trim().split(/\r?\n/);
    expect(csv[0]).toMatch(/^id,at,action,/);
    expect(Number(csv[1]!.split(',')[0])).toBe(page.items[0]!.id);
    expect((await c.audit({ tag: 'Line1/Filler' })).items).toEqual([]);
    await c.logout();
  });

  it('delivers live values, flags them stale while disconnected, re-authenticates and re-delivers after a forced reconnect', async () => {
    const c = clientFor();
    await c.login('operator', 'operator-password');
    const live = new LiveClient({
      url: `${s.url.replace('https', 'wss')}/ws`,
      token: () => c.token,
      createSocket: (url) => new WebSocket(url, { ca: s.ca }) as unknown as SocketLike,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    const seen: LiveValue[] = [];
    const statuses: string[] = [];
    live.onStatus((st) => statuses.push(st));
    live.subscribeTags(['Line1.Setpoint'], (items) => seen.push(...items));
    live.start();
    try {
      await waitUntil(() => seen.some((v) => v.name === 'Line1.Setpoint' && !v.stale), 'the live client to get there');
      await c.writeTag('Line1.Setpoint', 44);
      await waitUntil(() => seen.some((v) => v.value === 44 && !v.stale), 'the live client to get there');
      expect(live.user?.username).toBe('operator');

      const before = seen.length;
      live.dropConnection();
      await waitUntil(() => seen.slice(before).some((v) => v.stale), 'the live client to get there');
      expect(live.value('Line1.Setpoint')?.stale === true || live.status === 'open').toBe(true);
      // Changed while (possibly) away: the re-subscription's current values bring it.
      await c.writeTag('Line1.Setpoint', 45);
      await waitUntil(() => live.connects >= 2 && seen.some((v) => v.value === 45 && !v.stale), 'the live client to get there');
      expect(statuses).toContain('reconnecting');
      expect(live.status).toBe('open');
      expect(live.value('Line1.Setpoint')).toMatchObject({ value: 45, stale: false });
    } finally {
      live.close();
    }
    expect(live.status).toBe('closed');
  });

  it('stops reconnecting when the session is revoked and says so', async () => {
    const c = clientFor();
    await c.login('viewer', 'viewer-password');
    const live = new LiveClient({
      url: `${s.url.replace('https', 'wss')}/ws`,
      token: () => c.token,
      createSocket: (url) => new WebSocket(url, { ca: s.ca }) as unknown as SocketLike,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    live.start();
    try {
      await waitUntil(() => live.status === 'open', 'the live client to get there');
      await c.logout();
      await waitUntil(() => live.status === 'unauthenticated', 'the live client to get there');
    } finally {
      live.close();
    }
  });
});
