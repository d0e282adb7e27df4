import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 11, finding 3: a user granted `alarms:acknowledge` on `Line1.*` acknowledged, disabled and shelved alarms
 * on `Tank1.*`; the acknowledge answer showed the text and value of an alarm its `alarms:read` scope hides; the
 * definitions ignored the read scope. Now every alarm action is checked against the alarm's tag: an alarm the
 * caller may not read answers exactly like an unknown one (404), one it may read but not act on is 403.
 */
const PROJECT = `
name: Scope test plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Jam, type: Bool, connection: internal, initial: false }
  - { name: Line1.Motor, type: Bool, connection: internal, initial: false }
  - { name: Tank1.Leak, type: Bool, connection: internal, initial: false }
  - { name: Tank1.Level, type: Float64, unit: "%", connection: internal, initial: 10 }
  - { name: Tank1.Pump, type: Bool, connection: internal, initial: false }
alarmClasses:
  - { name: Trip, stateMachine: RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET }
alarms:
  - { name: Line1.Jam, number: 1, class: Alarm, priority: 10, tag: Line1.Jam, text: "Line 1 jam" }
  - { name: Line1.Motor, number: 2, class: Trip, priority: 12, tag: Line1.Motor, text: "Line 1 motor trip" }
  - { name: Tank1.Leak, number: 3, class: Alarm, priority: 14, tag: Tank1.Leak, text: "Secret tank leak" }
  - { name: Tank1.High, number: 4, class: Alarm, priority: 8, tag: Tank1.Level, limit: { type: H, value: 80 }, text: "Secret level {value}" }
  - { name: Tank1.Pump, number: 5, class: Trip, priority: 12, tag: Tank1.Pump, text: "Secret pump trip" }
groups:
  - name: line1
    permissions:
      - { permission: "tags:read" }
      - { permission: "alarms:read", tags: "Line1.*" }
      - { permission: "alarms:acknowledge", tags: "Line1.*" }
  - name: line1-responders
    permissions:
      - { permission: "alarms:read" }
      - { permission: "alarms:acknowledge", tags: "Line1.*" }
users:
  - { username: lena, password: lena-password-1, groups: [line1] }
  - { username: rita, password: rita-password-1, groups: [line1-responders] }
`;

describe('scoped alarm permissions over HTTPS', () => {
  let s: TestServer;
  let admin: string, lena: string, rita: string;
  const ids: Record<string, number> = {};

  const write = async (name: string, value: unknown): Promise<void> => {
    const r = await s.request('PUT', `/tags/${encodeURIComponent(name)}/value`, { token: admin, body: { value } });
    expect(r.status).toBe(200);
  };
  const occurrenceOf = async (alarm: string): Promise<any> => {
    const r = await s.request('GET', `/alarms/current?alarm=${encodeURIComponent(alarm)}`, { token: admin });
    expect(r.status).toBe(200);
    return r.json.items[0];
  };
  const definitionOf = async (name: string): Promise<any> => (await s.request('GET', `/alarms/definitions/${name}`, { token: admin })).json;
  /** A refusal that names no hidden alarm: no text, no value, no tag of it. */
  const revealsNothing = (text: string): void => {
    expect(text).not.toMatch(/Secret|"value"|"text"/);
  };

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { sqliteSynchronous: 'NORMAL' } });
    admin = await s.login();
    lena = await s.login('lena', 'lena-password-1');
    rita = await s.login('rita', 'rita-password-1');
    await write('Line1.Jam', true);
    await write('Tank1.Leak', true);
    await write('Tank1.Level', 95);
    await write('Line1.Motor', true);
    await write('Tank1.Pump', true);
    for (const a of ['Line1.Jam', 'Tank1.Leak', 'Tank1.High', 'Line1.Motor', 'Tank1.Pump']) ids[a] = (await occurrenceOf(a)).id;
  });
  afterAll(async () => {
    await s.stop();
  });

  it('an alarm hidden by the read scope answers like an unknown one for every action', async () => {
    const cases: Array<[method: string, path: (target: string) => string, hidden: string, unknown: string, body?: unknown]> = [
      ['POST', (t) => `/alarms/${t}/acknowledge`, String(ids['Tank1.Leak']), '999999'],
      ['POST', (t) => `/alarms/${t}/acknowledge`, String(ids['Tank1.High']), '999999'],
      ['POST', (t) => `/alarms/${t}/reset`, String(ids['Tank1.Pump']), '999999'],
      ['POST', (t) => `/alarms/definitions/${t}/disable`, 'Tank1.Leak', 'Nope.Alarm'],
      ['POST', (t) => `/alarms/definitions/${t}/enable`, 'Tank1.Leak', 'Nope.Alarm'],
      ['POST', (t) => `/alarms/definitions/${t}/shelve`, 'Tank1.Leak', 'Nope.Alarm', { durationMs: 30 * 86_400_000 }],
      ['POST', (t) => `/alarms/definitions/${t}/unshelve`, 'Tank1.Leak', 'Nope.Alarm'],
      ['GET', (t) => `/alarms/definitions/${t}`, 'Tank1.High', 'Nope.Alarm'],
    ];
    for (const [method, path, hidden, unknown, body] of cases) {
      const r = await s.request(method, path(hidden), { token: lena, body });
      const u = await s.request(method, path(unknown), { token: lena, body });
      expect(r.status, path(hidden)).toBe(404);
      // The same answer as for a name or id that does not exist, apart from echoing what was asked for.
      expect({ ...r.json, requestId: 0, instance: 0, detail: r.json.detail.replace(hidden, 'X') }).toEqual({
        ...u.json,
        requestId: 0,
        instance: 0,
        detail: u.json.detail.replace(unknown, 'X'),
      });
      revealsNothing(r.text);
    }
    // Nothing happened to the hidden alarms.
    expect(await occurrenceOf('Tank1.Leak')).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
    expect(await occurrenceOf('Tank1.High')).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
    expect(await definitionOf('Tank1.Leak')).toMatchObject({ enabled: true });
    expect((await definitionOf('Tank1.Leak')).shelvedUntil).toBeUndefined();
  });

  it('bulk acknowledgement fails per item outside the scope and acknowledges the rest', async () => {
    const r = await s.request('POST', '/alarms/acknowledge', {
      token: lena,
      body: { ids: [ids['Tank1.Leak'], ids['Line1.Jam'], 999_999, ids['Tank1.High']] },
    });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([
      { id: ids['Tank1.Leak'], error: { code: 'NOT_FOUND', message: `No alarm occurrence ${ids['Tank1.Leak']}` } },
      { id: ids['Line1.Jam'], state: 'RAISED_ACKNOWLEDGED' },
      { id: 999_999, error: { code: 'NOT_FOUND', message: 'No alarm occurrence 999999' } },
      { id: ids['Tank1.High'], error: { code: 'NOT_FOUND', message: `No alarm occurrence ${ids['Tank1.High']}` } },
    ]);
    revealsNothing(r.text);
    expect(await occurrenceOf('Tank1.Leak')).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
    expect(await occurrenceOf('Line1.Jam')).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'lena' });
  });

  it('inside the scope everything works: acknowledge, reset, disable, enable, shelve, unshelve', async () => {
    const ack = await s.request('POST', `/alarms/${ids['Line1.Motor']}/acknowledge`, { token: lena });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ alarm: 'Line1.Motor', acknowledgedBy: 'lena' });
    await write('Line1.Motor', false);
    expect((await s.request('POST', `/alarms/${ids['Line1.Motor']}/reset`, { token: lena })).status).toBe(200);
    for (const action of ['disable', 'enable', 'unshelve']) {
      const r = await s.request('POST', `/alarms/definitions/Line1.Jam/${action}`, { token: lena });
      expect(r.status, action).toBe(200);
    }
    const shelf = await s.request('POST', '/alarms/definitions/Line1.Jam/shelve', { token: lena, body: { durationMs: 60_000 } });
    expect(shelf.status).toBe(200);
    expect((await s.request('POST', '/alarms/definitions/Line1.Jam/unshelve', { token: lena })).status).toBe(200);
  });

  it('the read scope also limits the definitions, the current list and the archive', async () => {
    const defs = await s.request('GET', '/alarms/definitions', { token: lena });
    expect(defs.status).toBe(200);
    expect(defs.json.items.map((d: any) => d.name).sort()).toEqual(['Line1.Jam', 'Line1.Motor']);
    expect(defs.text).not.toMatch(/Secret|Tank1/);
    expect((await s.request('GET', '/alarms/definitions/Line1.Jam', { token: lena })).json).toMatchObject({ name: 'Line1.Jam' });
    const cur = await s.request('GET', '/alarms/current', { token: lena });
    expect(cur.json.items.every((o: any) => o.tag.startsWith('Line1.'))).toBe(true);
    const arch = await s.request('GET', '/alarms/archive?limit=10000', { token: lena });
    expect(arch.json.items.length).toBeGreaterThan(0);
    expect(arch.text).not.toMatch(/Secret|Tank1/);
  });

  it('an alarm the caller may read but not act on is 403, and stays as it was', async () => {
    for (const [path, body] of [
      [`/alarms/${ids['Tank1.Leak']}/acknowledge`, undefined],
      [`/alarms/${ids['Tank1.Pump']}/reset`, undefined],
      ['/alarms/definitions/Tank1.Leak/disable', undefined],
      ['/alarms/definitions/Tank1.Leak/enable', undefined],
      ['/alarms/definitions/Tank1.Leak/shelve', { durationMs: 30 * 86_400_000 }],
      ['/alarms/definitions/Tank1.Leak/unshelve', undefined],
    ] as const) {
      const r = await s.request('POST', path, { token: rita, body });
      expect(r.status, path).toBe(403);
      expect(r.json.code, path).toBe('FORBIDDEN');
    }
    const bulk = await s.request('POST', '/alarms/acknowledge', { token: rita, body: { ids: [ids['Tank1.High']] } });
    expect(bulk.json.items).toEqual([{ id: ids['Tank1.High'], error: { code: 'FORBIDDEN', message: expect.any(String) } }]);
    expect(await occurrenceOf('Tank1.Leak')).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
    expect(await occurrenceOf('Tank1.High')).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
    expect(await definitionOf('Tank1.Leak')).toMatchObject({ enabled: true });
    expect((await definitionOf('Tank1.Leak')).shelvedUntil).toBeUndefined();
    // Admin's unscoped grant still acts on everything.
    expect((await s.request('POST', `/alarms/${ids['Tank1.Leak']}/acknowledge`, { token: admin })).json).toMatchObject({
      acknowledgedBy: 'admin',
    });
  });
});
