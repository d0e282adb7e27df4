import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PROJECT = `
name: Alarm test plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Pump.Fault, type: Bool, connection: internal, initial: false }
  - { name: Tank.Level, type: Float64, unit: "%", connection: internal, initial: 50 }
  - { name: Motor.Status, type: UInt16, connection: internal, initial: 0 }
  - { name: Toggle, type: Bool, connection: internal, initial: false }
alarmClasses:
  - { name: Fault, stateMachine: RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET }
alarms:
  - { name: Pump.Fault, number: 1, class: Alarm, priority: 12, tag: Pump.Fault, text: "Pump fault" }
  - { name: Tank.High, number: 2, class: Warning, priority: 6, tag: Tank.Level, limit: { type: H, value: 80 }, hysteresis: 2, text: "Tank high: {value} {unit}" }
  - { name: Motor.Overload, number: 3, class: Fault, priority: 15, tag: Motor.Status, bit: 0, text: "Motor overload" }
  - { name: Toggle.On, number: 4, class: Alarm, priority: 2, tag: Toggle, text: { en: "Toggle {value}", de: "Schalter {value}", pt-BR: "Interruptor {value}" } }
groups:
  - name: operators
    permissions:
      - { permission: "tags:read" }
      - { permission: "tags:write" }
      - { permission: "alarms:read" }
      - { permission: "alarms:acknowledge" }
  - name: viewers
    permissions:
      - { permission: "tags:read" }
      - { permission: "alarms:read" }
  - name: pumpwatchers
    permissions:
      - { permission: "alarms:read", tags: "Pump.*" }
  - name: nobody
    permissions: []
users:
  - { username: pumpwatcher, password: pumpwatcher-password, groups: [pumpwatchers] }
  - { username: operator, password: operator-password, groups: [operators] }
  - { username: viewer, password: viewer-password, groups: [viewers] }
  - { username: outsider, password: outsider-password, groups: [nobody] }
`;

describe('alarms over HTTPS', () => {
  let s: TestServer;
  let admin: string, op: string, viewer: string, outsider: string;
  const write = async (name: string, value: unknown): Promise<void> => {
    const r = await s.request('PUT', `/tags/${encodeURIComponent(name)}/value`, { token: op, body: { value } });
    expect(r.status).toBe(200);
  };
  const current = async (qs = ''): Promise<any[]> => {
    const r = await s.request('GET', `/alarms/current${qs}`, { token: viewer });
    expect(r.status).toBe(200);
    return r.json.items;
  };

  beforeAll(async () => {
    // NORMAL still survives a process crash (the kill -9 test covers FULL); it keeps this suite quick on a busy disk.
    s = await startTestServer({ projectYaml: PROJECT, config: { sqliteSynchronous: 'NORMAL' } });
    admin = await s.login();
    op = await s.login('operator', 'operator-password');
    viewer = await s.login('viewer', 'viewer-password');
    outsider = await s.login('outsider', 'outsider-password');
  });
  afterAll(async () => {
    await s.stop();
  });

  it('a tag write raises an alarm that is in /alarms/current at once; acknowledge, clear, archive in order', async () => {
    await write('Pump.Fault', true);
    const [occ] = await current();
    expect(occ).toMatchObject({
      alarm: 'Pump.Fault',
      number: 1,
      class: 'Alarm',
      priority: 12,
      state: 'RAISED',
      status: '+',
      active: true,
      acknowledged: false,
      tag: 'Pump.Fault',
      value: true,
      text: 'Pump fault',
      userResponse: 'NONE',
      clearedAt: null,
    });

    const ack = await s.request('POST', `/alarms/${occ.id}/acknowledge`, { token: op });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ id: occ.id, state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'operator', status: '+*' });
    // Twice: the same answer, no second journal event.
    const again = await s.request('POST', `/alarms/${occ.id}/acknowledge`, { token: admin });
    expect(again.json).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'operator' });

    await write('Pump.Fault', false);
    expect(await current()).toEqual([]);

    const arch = await s.request('GET', '/alarms/archive?alarm=Pump.Fault&order=asc', { token: viewer });
    expect(arch.status).toBe(200);
    expect(arch.json.items.map((e: any) => [e.event, e.state, e.user])).toEqual([
      ['RAISED', 'RAISED', null],
      ['ACKNOWLEDGED', 'RAISED_ACKNOWLEDGED', 'operator'],
      ['CLEARED', 'RAISED_ACKNOWLEDGED_CLEARED', null],
    ]);
    expect(arch.json.next).toBeNull();
    expect(arch.json.items.every((e: any) => e.id === occ.id && e.number === 1 && /Z$/.test(e.at))).toBe(true);
  });

  it('checks permissions', async () => {
    await write('Pump.Fault', true);
    const [occ] = await current();
    expect((await s.request('GET', '/alarms/current', { token: outsider })).status).toBe(403);
    expect((await s.request('GET', '/alarms/archive', { token: outsider })).status).toBe(403);
    const denied = await s.request('POST', `/alarms/${occ.id}/acknowledge`, { token: viewer });
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(denied.json.code).toBe('FORBIDDEN');
    expect((await s.request('GET', '/alarms/current')).status).toBe(401);
    await s.request('POST', `/alarms/${occ.id}/acknowledge`, { token: op });
    await write('Pump.Fault', false);
  });

  it('bulk acknowledge answers per item; unknown ids are NOT_FOUND; a reset where none is due is 409', async () => {
    await write('Tank.Level', 90);
    await write('Motor.Status', 1);
    const items = await current();
    expect(items.map((o) => o.alarm)).toEqual(['Motor.Overload', 'Tank.High']);
    const r = await s.request('POST', '/alarms/acknowledge', { token: op, body: { ids: [items[0].id, 999_999, items[1].id] } });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([
      { id: items[0].id, state: 'RAISED_ACKNOWLEDGED' },
      { id: 999_999, error: { code: 'NOT_FOUND', message: expect.any(String) } },
      // Warning needs no acknowledgement: answered with its state.
      { id: items[1].id, state: 'RAISED' },
    ]);
    const nf = await s.request('POST', '/alarms/999999/acknowledge', { token: op });
    expect(nf.status).toBe(404);
    expect(nf.json.code).toBe('NOT_FOUND');
    const early = await s.request('POST', `/alarms/${items[0].id}/reset`, { token: op });
    expect(early.status).toBe(409);
    expect(early.json.code).toBe('INVALID_STATE');
    await write('Motor.Status', 0);
    expect((await current('?class=Fault'))[0]).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED', status: '-*' });
    const reset = await s.request('POST', `/alarms/${items[0].id}/reset`, { token: op });
    expect(reset.status).toBe(200);
    expect(reset.json.userResponse).toBe('RESET');
    expect(await current('?class=Fault')).toEqual([]);
    await write('Tank.Level', 50);
    const bad = await s.request('POST', '/alarms/acknowledge', { token: op, body: { ids: ['x'] } });
    expect(bad.status).toBe(400);
  });

  it('filters the current list', async () => {
    await write('Tank.Level', 95);
    await write('Pump.Fault', true);
    expect((await current('?class=Warning')).map((o) => o.alarm)).toEqual(['Tank.High']);
    expect((await current('?minPriority=10')).map((o) => o.alarm)).toEqual(['Pump.Fault']);
    expect((await current('?alarm=Tank.*&state=RAISED')).map((o) => o.alarm)).toEqual(['Tank.High']);
    expect((await current('?tag=Pump.Fault')).map((o) => o.alarm)).toEqual(['Pump.Fault']);
    expect((await s.request('GET', '/alarms/current?state=NOPE', { token: viewer })).status).toBe(400);
    const [p] = await current('?tag=Pump.Fault');
    await s.request('POST', `/alarms/${p.id}/acknowledge`, { token: op });
    await write('Pump.Fault', false);
    await write('Tank.Level', 50);
    expect(await current()).toEqual([]);
  });

  it('pages the archive with filters and a cursor, without duplicates or gaps while new events arrive', async () => {
    for (let i = 0; i < 20; i++) await write('Toggle', i % 2 === 0);
    const all = await s.request('GET', '/alarms/archive?alarm=Toggle.*&limit=10000', { token: viewer });
    const before: number[] = all.json.items.map((e: any) => e.eventId);
    expect(before.length).toBe(20);
    const seen: number[] = [];
    let next: string | null = null;
    let round = 0;
    do {
      const r: any = await s.request('GET', `/alarms/archive?alarm=Toggle.*&event=RAISED,CLEARED&limit=3${next ? `&cursor=${next}` : ''}`, {
        token: viewer,
      });
      expect(r.status).toBe(200);
      seen.push(...r.json.items.map((e: any) => e.eventId));
      next = r.json.next;
      // New events arrive between pages.
      await write('Toggle', round++ % 2 === 0);
    } while (next);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
    const asc = await s.request('GET', `/alarms/archive?alarm=Toggle.On&order=asc&limit=5`, { token: viewer });
    expect(asc.json.items.map((e: any) => e.eventId)).toEqual([...before].reverse().slice(0, 5));
    // Time window: from inclusive, to exclusive.
    const mid = all.json.items[10];
    const win = await s.request(
      'GET',
      `/alarms/archive?alarm=Toggle.On&from=${encodeURIComponent(mid.at)}&to=${encodeURIComponent(new Date(Date.parse(mid.at) + 1).toISOString())}`,
      { token: viewer },
    );
    expect(win.json.items.map((e: any) => e.eventId)).toContain(mid.eventId);
    expect(win.json.items.every((e: any) => e.at === mid.at)).toBe(true);
    const text = await s.request('GET', '/alarms/archive?text=TOGGLE%20TRUE&limit=10000', { token: viewer });
    expect(text.json.items.length).toBeGreaterThan(0);
    expect(text.json.items.every((e: any) => e.text === 'Toggle true')).toBe(true);
  });

  it('downloads the archive as CSV and validates its query', async () => {
    const r = await s.request('GET', '/alarms/archive?alarm=Pump.Fault&order=asc&format=csv&limit=2', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const lines = r.text.split('\r\n');
    expect(lines[0]).toBe('eventId,id,alarm,number,class,priority,event,at,state,text,tag,value,user');
    expect(lines[1]).toMatch(/^\d+,\d+,Pump\.Fault,1,Alarm,12,RAISED,\d{4}-.*Z,RAISED,Pump fault,Pump\.Fault,true,$/);
    expect(lines).toHaveLength(4);
    expect(typeof r.headers['x-next-cursor']).toBe('string');
    for (const qs of [
      'limit=0',
      'limit=10001',
      'cursor=nope',
      'from=yesterday',
      'order=up',
      'event=BOOM',
      'minPriority=17',
      'colour=red',
    ]) {
      const bad = await s.request('GET', `/alarms/archive?${qs}`, { token: viewer });
      expect(bad.status, qs).toBe(400);
      expect(bad.json.code, qs).toBe('VALIDATION_FAILED');
    }
  });

  it('lists definitions and classes; enables, disables and shelves', async () => {
    const defs = await s.request('GET', '/alarms/definitions', { token: viewer });
    expect(defs.json.items.find((d: any) => d.name === 'Tank.High')).toEqual({
      name: 'Tank.High',
      number: 2,
      class: 'Warning',
      priority: 6,
      tag: 'Tank.Level',
      kind: 'analog',
      limit: { type: 'H', value: 80 },
      hysteresis: 2,
      text: 'Tank high: {value} {unit}',
      enabled: true,
    });
    const classes = await s.request('GET', '/alarms/classes', { token: viewer });
    expect(classes.json.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Fault', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET' }),
        expect.objectContaining({ name: 'Warning', stateMachine: 'RAISE_CLEAR' }),
        expect.objectContaining({ name: 'System' }),
      ]),
    );
    const dis = await s.request('POST', '/alarms/definitions/Tank.High/disable', { token: op });
    expect(dis.json.enabled).toBe(false);
    await write('Tank.Level', 99);
    expect(await current('?alarm=Tank.High')).toEqual([]);
    await s.request('POST', '/alarms/definitions/Tank.High/enable', { token: op });
    expect(await current('?alarm=Tank.High')).toHaveLength(1);
    const sh = await s.request('POST', '/alarms/definitions/Tank.High/shelve', { token: op, body: { durationMs: 3_600_000 } });
    expect(sh.status).toBe(200);
    expect(Date.parse(sh.json.shelvedUntil)).toBeGreaterThan(Date.now());
    expect(await current('?alarm=Tank.High')).toEqual([]);
    const un = await s.request('POST', '/alarms/definitions/Tank.High/unshelve', { token: op });
    expect(un.json.shelvedUntil).toBeUndefined();
    expect(await current('?alarm=Tank.High')).toHaveLength(1);
    expect((await s.request('POST', '/alarms/definitions/Nope/disable', { token: op })).status).toBe(404);
    expect((await s.request('POST', '/alarms/definitions/Tank.High/disable', { token: viewer })).status).toBe(403);
    expect((await s.request('POST', '/alarms/definitions/Tank.High/shelve', { token: op, body: { durationMs: 0 } })).status).toBe(400);
    await write('Tank.Level', 50);
  });

  it('keeps the current list across a restart, with the original times and no new events', async () => {
    await write('Pump.Fault', true);
    const before = await current();
    const lastBefore = (await s.request('GET', '/alarms/archive?limit=1', { token: viewer })).json.items[0].eventId;
    await s.restart();
    viewer = await s.login('viewer', 'viewer-password');
    op = await s.login('operator', 'operator-password');
    // The internal driver restores Pump.Fault = true, so the alarm is still active and nothing new is written.
    expect(await current()).toEqual(before);
    const after = await s.request('GET', '/alarms/archive?limit=1', { token: viewer });
    expect(after.json.items[0].eventId).toBe(lastBefore);
    // After the restart the condition goes away: CLEARED is journaled as usual.
    await write('Pump.Fault', false);
    expect((await current())[0]).toMatchObject({ state: 'RAISED_CLEARED', raisedAt: before[0].raisedAt });
  });

  it('alarms:read scoped by a tag glob shows only the alarms of those tags, in current and archive (paged)', async () => {
    const watcher = await s.login('pumpwatcher', 'pumpwatcher-password');
    for (let i = 0; i < 3; i++) {
      await write('Toggle', true);
      await write('Toggle', false);
    }
    await write('Pump.Fault', true);
    await write('Tank.Level', 95);
    const all = (await current()).map((o) => o.alarm);
    expect(all).toEqual(expect.arrayContaining(['Pump.Fault', 'Tank.High']));
    const mine = await s.request('GET', '/alarms/current', { token: watcher });
    expect(mine.status).toBe(200);
    expect(mine.json.items.length).toBeGreaterThan(0);
    expect(mine.json.items.every((o: any) => o.alarm === 'Pump.Fault')).toBe(true);
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await s.request('GET', `/alarms/archive?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: watcher });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items);
      cursor = page.json.next;
    } while (cursor);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.tag === 'Pump.Fault')).toBe(true);
    const full = await s.request('GET', '/alarms/archive?limit=10000&tag=Pump.Fault', { token: admin });
    expect(seen.map((e) => e.eventId)).toEqual(full.json.items.map((e: any) => e.eventId));
    await write('Pump.Fault', false);
    await write('Tank.Level', 50);
  });

  it('answers alarm texts in the language asked for (?lang= or Accept-Language), the journal language otherwise', async () => {
    await write('Toggle', true);
    const de = await s.request('GET', '/alarms/current?lang=de&alarm=Toggle.On', { token: viewer });
    expect(de.json.items[0].text).toBe('Schalter true');
    const at = await s.request('GET', '/alarms/current?alarm=Toggle.On', {
      token: viewer,
      headers: { 'accept-language': 'de-AT,de;q=0.9,en;q=0.5' },
    });
    expect(at.json.items[0].text).toBe('Schalter true');
    const br = await s.request('GET', '/alarms/current?lang=pt-br&alarm=Toggle.On', { token: viewer });
    expect(br.json.items[0].text).toBe('Interruptor true');
    const fr = await s.request('GET', '/alarms/current?lang=fr&alarm=Toggle.On', { token: viewer });
    expect(fr.json.items[0].text).toBe('Toggle true');
    const arch = await s.request('GET', '/alarms/archive?alarm=Toggle.On&limit=1&lang=de', { token: viewer });
    expect(arch.json.items[0].text).toMatch(/^Schalter (true|false)$/);
    const def = await s.request('GET', '/alarms/definitions/Toggle.On', { token: viewer });
    expect(def.json).toMatchObject({ text: 'Toggle {value}', texts: { en: 'Toggle {value}', de: 'Schalter {value}' } });
    expect((await s.request('GET', '/alarms/current?lang=not_a_language', { token: viewer })).status).toBe(400);
    await write('Toggle', false);
  });
});
