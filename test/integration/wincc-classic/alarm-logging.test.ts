import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { BASE, call, LINER, PROJECT, TAGS_ONLY } from './fixture.js';

describe('WinCC classic alarmLogging', () => {
  let s: TestServer;
  const AL = `${BASE}/alarmLogging`;
  const numbers = (r: { json: Array<{ messageNumber: number }> }) => r.json.map((m) => m.messageNumber);

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    // Raise all three alarms through the profile itself.
    for (const [name, value] of [
      ['Line1.Stop', true],
      ['Line1.Temp', 60],
      ['Secret.Value', 200],
    ] as const) {
      const w = await call(s, 'PUT', `${BASE}/tagManagement/Value/${name}`, { body: { value } });
      expect(w.json.errorcode).toBe(0);
    }
    await waitUntil(async () => (await call(s, 'GET', `${AL}/MessageList/All`)).json.length === 3, 'three alarms raised');
  });
  afterAll(() => s?.stop());

  it('MessageClasses and MessageClass/{name}', async () => {
    const r = await call(s, 'GET', `${AL}/MessageClasses`);
    expect(r.json).toContainEqual({
      className: 'Alarm',
      stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
      acknowledgmentRequired: true,
      resetRequired: false,
      color: '#d32f2f',
    });
    expect((await call(s, 'GET', `${AL}/MessageClass/warning`)).json).toMatchObject({
      className: 'Warning',
      acknowledgmentRequired: false,
    });
    const none = await call(s, 'GET', `${AL}/MessageClass/Nope`);
    expect(none.status).toBe(404);
    expect(none.json).toMatchObject({ errorcode: 6, code: 'NOT_FOUND' });
  });

  it('Messages and Message/{number}: number, class, type, texts by language (Accept-Language)', async () => {
    const r = await call(s, 'GET', `${AL}/Messages`);
    expect(numbers(r)).toEqual([1, 2, 3]);
    expect(r.json[0]).toMatchObject({
      messageNumber: 1,
      name: 'Line1.Stop',
      className: 'Alarm',
      typeName: 'Discrete',
      priority: 16,
      variableName: 'Line1.Stop',
      text: 'Stop pressed',
      texts: { en: 'Stop pressed', de: 'Halt gedrückt' },
      locked: false,
      hidden: false,
    });
    expect(r.json[1]).toMatchObject({ typeName: 'H', limitType: 'H', limitValue: 50 });
    const de = await call(s, 'GET', `${AL}/Message/1`, { headers: { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' } });
    expect(de.json.text).toBe('Halt gedrückt');
    expect((await call(s, 'GET', `${AL}/Message/99`)).status).toBe(404);
    expect((await call(s, 'GET', `${AL}/Message/one`)).status).toBe(400);
    // Scoped alarms:read: the liner sees Line1's messages only.
    expect(numbers(await call(s, 'GET', `${AL}/Messages`, { auth: LINER }))).toEqual([1, 2]);
    expect((await call(s, 'GET', `${AL}/Message/3`, { auth: LINER })).status).toBe(404);
  });

  it('LimitValues, LimitValue/{tag}, MessageGroups, MessageTypes, MessageBlocks', async () => {
    expect((await call(s, 'GET', `${AL}/LimitValues`)).json).toEqual([
      { variableName: 'Line1.Temp', messageNumber: 2, name: 'Line1.TempHigh', limitType: 'H', limitValue: 50, hysteresis: 1 },
      { variableName: 'Secret.Value', messageNumber: 3, name: 'Secret.High', limitType: 'HH', limitValue: 100, hysteresis: 0 },
    ]);
    expect((await call(s, 'GET', `${AL}/LimitValue/Line1.Temp`)).json).toEqual({
      variableName: 'Line1.Temp',
      limits: [{ messageNumber: 2, name: 'Line1.TempHigh', limitType: 'H', limitValue: 50, hysteresis: 1 }],
    });
    expect((await call(s, 'GET', `${AL}/LimitValue/Line1.Stop`)).status).toBe(404);
    expect((await call(s, 'GET', `${AL}/MessageGroups`)).json).toEqual([
      { groupName: 'Line1', messageNumbers: [1, 2] },
      { groupName: 'Secret', messageNumbers: [3] },
    ]);
    expect((await call(s, 'GET', `${AL}/MessageTypes`)).json[0]).toEqual({ typeNumber: 1, typeName: 'Discrete' });
    expect((await call(s, 'GET', `${AL}/MessageBlocks`)).json.map((b: { field: string }) => b.field)).toContain('messageNumber');
  });

  it('RestFilters: the project filters and the built-in All; RestFilter/{name}', async () => {
    expect((await call(s, 'GET', `${AL}/RestFilters`)).json).toEqual([
      { filterName: 'All', filter: {} },
      { filterName: 'HighPrio', filter: { minPriority: 10 } },
      { filterName: 'Line1Only', filter: { alarm: 'Line1.*' } },
    ]);
    expect((await call(s, 'GET', `${AL}/RestFilter/highprio`)).json).toEqual({ filterName: 'HighPrio', filter: { minPriority: 10 } });
    expect((await call(s, 'GET', `${AL}/RestFilter/Nope`)).status).toBe(404);
  });

  it('MessageList/{filter}: the current list through the filter, texts in the asked language', async () => {
    const all = await call(s, 'GET', `${AL}/MessageList/All`);
    expect(all.json.map((m: { messageNumber: number }) => m.messageNumber).sort()).toEqual([1, 2, 3]);
    const stop = all.json.find((m: { messageNumber: number }) => m.messageNumber === 1);
    expect(stop).toMatchObject({
      name: 'Line1.Stop',
      className: 'Alarm',
      state: 'RAISED',
      active: true,
      acknowledged: false,
      text: 'Stop pressed',
    });
    expect(stop.instanceId).toBeTypeOf('number');
    expect(numbers(await call(s, 'GET', `${AL}/MessageList/HighPrio`)).sort()).toEqual([1, 3]);
    expect(numbers(await call(s, 'GET', `${AL}/MessageList/Line1Only`)).sort()).toEqual([1, 2]);
    expect(numbers(await call(s, 'GET', `${AL}/MessageList`)).sort()).toEqual([1, 2, 3]);
    expect(numbers(await call(s, 'GET', `${AL}/MessageList/All`, { auth: LINER })).sort()).toEqual([1, 2]);
    const de = await call(s, 'GET', `${AL}/MessageList/Line1Only`, { headers: { 'accept-language': 'de-DE' } });
    expect(de.json.find((m: { messageNumber: number }) => m.messageNumber === 1).text).toBe('Halt gedrückt');
    expect((await call(s, 'GET', `${AL}/MessageList/All?maxValues=1`)).json).toHaveLength(1);
    const unknown = await call(s, 'GET', `${AL}/MessageList/Nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.errorcode).toBe(6);
    const forbidden = await call(s, 'GET', `${AL}/MessageList/All`, { auth: TAGS_ONLY });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toMatchObject({ errorcode: 2, code: 'FORBIDDEN' });
  });

  it('ShortTermArchive, LongTermArchive and HitList with maxValues', async () => {
    const short = await call(s, 'GET', `${AL}/ShortTermArchive/All`);
    expect(short.json.filter((e: { event: string }) => e.event === 'RAISED')).toHaveLength(3);
    expect(short.json[0]).toHaveProperty('eventId');
    // Newest first.
    const ids = short.json.map((e: { eventId: number }) => e.eventId);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await call(s, 'GET', `${AL}/ShortTermArchive/All?maxValues=1`)).json).toHaveLength(1);
    expect((await call(s, 'GET', `${AL}/ShortTermArchive/All?maxValues=0`)).status).toBe(400);
    expect(numbers(await call(s, 'GET', `${AL}/LongTermArchive/HighPrio`)).sort()).toEqual([1, 3]);
    const past = await call(s, 'GET', `${AL}/LongTermArchive/All?timeTo=2000-01-01T00:00:00Z`);
    expect(past.json).toEqual([]);
    const de = await call(s, 'GET', `${AL}/LongTermArchive/Line1Only`, { headers: { 'accept-language': 'de' } });
    expect(de.json.find((e: { messageNumber: number }) => e.messageNumber === 1).text).toBe('Halt gedrückt');
    const hits = await call(s, 'GET', `${AL}/HitList/All`);
    expect(hits.json.map((h: { messageNumber: number; count: number }) => [h.messageNumber, h.count])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(numbers(await call(s, 'GET', `${AL}/HitList/Line1Only`, { auth: LINER }))).toEqual([1, 2]);
  });

  it('paging across every alarmLogging list', async () => {
    for (const path of [
      'MessageClasses',
      'MessageTypes',
      'MessageBlocks',
      'Messages',
      'LimitValues',
      'MessageGroups',
      'RestFilters',
      'MessageList/All',
      'ShortTermArchive/All',
      'LongTermArchive/All',
      'HitList/All',
    ]) {
      const all = (await call(s, 'GET', `${AL}/${path}`)).json;
      expect(all.length).toBeGreaterThan(1);
      const first = await call(s, 'GET', `${AL}/${path}?itemLimit=1`);
      expect(first.json).toEqual(all.slice(0, 1));
      expect(first.headers['x-continuation-point']).toBe('1');
      const rest = await call(s, 'GET', `${AL}/${path}?itemLimit=1000&continuationPoint=1`);
      expect(rest.json).toEqual(all.slice(1));
      expect(rest.headers['x-continuation-point']).toBeUndefined();
    }
  });

  it('LockList, Hidelist and HiddenMessageList follow disabled and shelved alarms', async () => {
    const token = await s.login();
    expect((await s.request('POST', '/alarms/definitions/Line1.TempHigh/disable', { token })).status).toBe(200);
    expect((await s.request('POST', '/alarms/definitions/Secret.High/shelve', { token, body: { durationMs: 3_600_000 } })).status).toBe(
      200,
    );
    expect(numbers(await call(s, 'GET', `${AL}/LockList/All`))).toEqual([2]);
    expect((await call(s, 'GET', `${AL}/LockList/HighPrio`)).json).toEqual([]);
    const hide = await call(s, 'GET', `${AL}/Hidelist/All`);
    expect(numbers(hide)).toEqual([3]);
    expect(hide.json[0]).toMatchObject({ hidden: true });
    expect(hide.json[0].hiddenUntil).toMatch(/Z$/);
    expect((await call(s, 'GET', `${AL}/Hidelist/All`, { auth: LINER })).json).toEqual([]);
    const hidden = await call(s, 'GET', `${AL}/HiddenMessageList/All`);
    expect(hidden.status).toBe(200);
    expect(Array.isArray(hidden.json)).toBe(true);
    for (const m of hidden.json) expect(m.messageNumber).toBe(3);
    expect((await call(s, 'GET', `${AL}/Messages`)).json[1]).toMatchObject({ messageNumber: 2, locked: true });
  });
});
