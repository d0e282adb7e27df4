import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import type { AlarmDefinition } from '../../../src/domain/alarms/definition.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { Quality } from '../../../src/domain/quality.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { AlarmEngine } from '../../../src/runtime/alarms/engine.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import type { Actor } from '../../../src/services/actor.js';
import { AlarmService } from '../../../src/services/alarm-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import {
  SqliteAlarmJournalRepository,
  SqliteAlarmSettingsRepository,
} from '../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';

const TAGS: TagDefinition[] = [
  { name: 'Line1.Jam', type: 'Bool', access: 'readwrite', connection: 'plc1' },
  { name: 'Line1.Speed', type: 'Float64', access: 'readwrite', connection: 'plc1' },
  { name: 'Tank1.Leak', type: 'Bool', access: 'readwrite', connection: 'plc2' },
];
const DEFS: AlarmDefinition[] = [
  { name: 'Line1.Jam', number: 1, class: 'Alarm', priority: 10, tag: 'Line1.Jam', kind: 'discrete', text: 'Jam', texts: { de: 'Stau' } },
  {
    name: 'Line1.Fast',
    number: 2,
    class: 'Warning',
    priority: 5,
    tag: 'Line1.Speed',
    kind: 'analog',
    limit: { type: 'H', value: 100 },
    text: 'Fast {value}',
  },
  { name: 'Tank1.Leak', number: 3, class: 'Alarm', priority: 14, tag: 'Tank1.Leak', kind: 'discrete', text: 'Leak' },
];

let db: Database;
let clock: ManualClock;
let tags: TagEngine;
let engine: AlarmEngine;
let audit: SqliteAuditRepository;
let service: AlarmService;

function actor(username: string, grants: Grant[]): Actor {
  const principal: Principal = {
    username,
    displayName: username,
    groups: [],
    permissions: new PermissionSet(grants),
    authMethod: 'session',
  };
  return { principal, clientAddress: '127.0.0.1', requestId: 'r1', via: 'rest' };
}
const admin = actor('admin', [{ permission: 'alarms:read' }, { permission: 'alarms:acknowledge' }]);
const viewer = actor('viewer', [{ permission: 'alarms:read' }]);
const nobody = actor('nobody', [{ permission: 'tags:read' }]);
/** Reads and acts on Line1 only. */
const line1 = actor('lena', [
  { permission: 'alarms:read', tags: 'Line1.*' },
  { permission: 'alarms:acknowledge', tags: 'Line1.*' },
]);
/** Reads everything, acts on Line1 only. */
const responder = actor('rita', [{ permission: 'alarms:read' }, { permission: 'alarms:acknowledge', tags: 'Line1.*' }]);
/** Acts on Line1 without reading anything: acting needs sight of the alarm. */
const blind = actor('bob', [{ permission: 'alarms:acknowledge', tags: 'Line1.*' }]);

const set = (name: string, value: boolean | number): void => tags.update(tags.require(name).index, value, Quality.GOOD);
const idOf = async (alarm: string): Promise<number> => (await service.current(admin, { alarm }))[0]!.id;
const code = async (fn: () => unknown): Promise<string | undefined> => {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};
const auditActions = async (): Promise<string[]> =>
  (await audit.query({ order: 'asc', limit: 1000 })).items.map((r) => `${r.action}:${r.user}:${r.target}`);
/** Lets the burst's (asynchronous) journal commit run. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(async () => {
  db = openDatabase(':memory:');
  clock = new ManualClock();
  tags = new TagEngine(TAGS, clock);
  const journal = new SqliteAlarmJournalRepository(db);
  engine = new AlarmEngine({ tags, journal, settings: new SqliteAlarmSettingsRepository(journal.journal), clock, definitions: DEFS });
  await engine.start();
  audit = new SqliteAuditRepository(db);
  service = new AlarmService({ engine, audit: new AuditTrail(audit, clock), maxBulkItems: 3 });
  set('Line1.Jam', true);
  set('Line1.Speed', 150);
  set('Tank1.Leak', true);
  await tick();
});
afterEach(async () => {
  await engine.stop();
  db.close();
});

describe('AlarmService reads', () => {
  it('needs alarms:read for every read', async () => {
    for (const fn of [
      () => service.current(nobody),
      () => service.archive(nobody, {}),
      () => service.definitions(nobody),
      () => service.definition(nobody, 'Line1.Jam'),
      () => service.classes(nobody),
    ])
      expect(await code(fn)).toBe('FORBIDDEN');
    expect(await code(async () => service.current(blind))).toBe('FORBIDDEN');
  });

  it('scopes the current list, the archive and the definitions by the alarms:read globs', async () => {
    expect((await service.current(viewer)).map((o) => o.alarm)).toEqual(['Tank1.Leak', 'Line1.Fast', 'Line1.Jam']);
    expect((await service.current(line1)).map((o) => o.alarm)).toEqual(['Line1.Fast', 'Line1.Jam']);
    expect((await service.current(line1, { minPriority: 8 })).map((o) => o.alarm)).toEqual(['Line1.Jam']);
    expect((await service.archive(line1, { order: 'asc' })).items.map((e) => e.alarm)).toEqual(['Line1.Jam', 'Line1.Fast']);
    expect((await service.archive(viewer, {})).items).toHaveLength(3);
    expect(service.definitions(line1).map((d) => d.name)).toEqual(['Line1.Jam', 'Line1.Fast']);
    expect(service.definitions(viewer)).toHaveLength(3);
    expect(service.definition(line1, 'Line1.Jam').name).toBe('Line1.Jam');
    expect(await code(async () => service.definition(line1, 'Tank1.Leak'))).toBe('NOT_FOUND');
    expect(await code(async () => service.definition(viewer, 'Nope'))).toBe('NOT_FOUND');
    expect(service.classes(line1).map((c) => c.name)).toContain('System');
  });

  it('pages a scoped archive with a cursor that skips hidden events', async () => {
    for (let i = 0; i < 6; i++) {
      set('Tank1.Leak', i % 2 === 1);
      set('Line1.Speed', i % 2 === 0 ? 50 : 150);
    }
    await engine.flush();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let round = 0; round < 20; round++) {
      const page = await service.archive(line1, { limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.alarm));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen.length).toBe((await service.archive(admin, { limit: 1000 })).items.filter((e) => e.tag!.startsWith('Line1.')).length);
    expect(seen.every((a) => a.startsWith('Line1.'))).toBe(true);
  });

  it('answers texts in the language asked for', async () => {
    expect((await service.current(viewer, { alarm: 'Line1.Jam' }, 'de'))[0]!.text).toBe('Stau');
    expect((await service.current(viewer, { alarm: 'Line1.Jam' }, 'de-at'))[0]!.text).toBe('Stau');
    expect((await service.current(viewer, { alarm: 'Line1.Jam' }, 'fr'))[0]!.text).toBe('Jam');
    expect((await service.archive(viewer, { alarm: 'Line1.Jam' }, 'de')).items[0]!.text).toBe('Stau');
  });
});

describe('AlarmService responses', () => {
  it('acknowledges and resets within the scope, as the acting user', async () => {
    expect(await service.acknowledge(line1, await idOf('Line1.Jam'))).toMatchObject({
      state: 'RAISED_ACKNOWLEDGED',
      acknowledgedBy: 'lena',
    });
    expect(await code(async () => service.reset(line1, await idOf('Line1.Jam')))).toBe('INVALID_STATE');
    expect(await auditActions()).toEqual([]); // acknowledgements are audited from the journal (see AuditTrail.attachToAlarms)
  });

  it('answers an alarm hidden by the read scope exactly like an unknown one', async () => {
    const leak = await idOf('Tank1.Leak');
    const hidden = (await (async () => {
      try {
        await service.acknowledge(line1, leak);
      } catch (err) {
        return err as Error & { code: string };
      }
    })())!;
    const unknown = (await (async () => {
      try {
        await service.acknowledge(line1, 999_999);
      } catch (err) {
        return err as Error & { code: string };
      }
    })())!;
    expect(hidden.code).toBe('NOT_FOUND');
    expect(hidden.message.replace(String(leak), 'X')).toBe(unknown.message.replace('999999', 'X'));
    expect(await code(async () => service.reset(line1, leak))).toBe('NOT_FOUND');
    expect(await code(async () => service.acknowledge(blind, await idOf('Line1.Jam')))).toBe('NOT_FOUND');
    expect((await service.current(admin, { alarm: 'Tank1.Leak' }))[0]).toMatchObject({ state: 'RAISED', acknowledgedBy: null });
  });

  it('refuses a readable alarm outside the act scope with FORBIDDEN', async () => {
    expect(await code(async () => service.acknowledge(responder, await idOf('Tank1.Leak')))).toBe('FORBIDDEN');
    expect(await code(async () => service.reset(responder, await idOf('Tank1.Leak')))).toBe('FORBIDDEN');
    expect(await code(async () => service.acknowledge(viewer, await idOf('Line1.Jam')))).toBe('FORBIDDEN');
    expect((await service.current(admin, { alarm: 'Tank1.Leak' }))[0]!.acknowledgedBy).toBeNull();
  });

  it('acknowledges in bulk with an error per item outside the scope, within the bulk budget', async () => {
    const ids = [await idOf('Tank1.Leak'), await idOf('Line1.Jam'), 4242];
    expect(await service.acknowledgeMany(line1, ids)).toEqual([
      { id: ids[0], error: { code: 'NOT_FOUND', message: `No alarm occurrence ${ids[0]}` } },
      { id: ids[1], state: 'RAISED_ACKNOWLEDGED' },
      { id: 4242, error: { code: 'NOT_FOUND', message: 'No alarm occurrence 4242' } },
    ]);
    expect(await service.acknowledgeMany(responder, [ids[0]!])).toEqual([
      { id: ids[0], error: { code: 'FORBIDDEN', message: expect.any(String) } },
    ]);
    expect(await code(async () => service.acknowledgeMany(line1, [1, 2, 3, 4]))).toBe('PAYLOAD_TOO_LARGE');
    expect(await code(async () => service.acknowledgeMany(viewer, [1]))).toBe('FORBIDDEN');
  });

  it('acts on alarms bound to no tag (connection lost) only with an unscoped grant', async () => {
    tags.setQuality(tags.require('Line1.Jam').index, Quality.BAD);
    await tick();
    const lost = (await service.current(admin, { alarm: 'System.ConnectionLost.plc1' }))[0]!;
    expect(lost.tag).toBeNull();
    // Visible to scoped readers (it names no tag), but not theirs to acknowledge.
    expect((await service.current(line1)).map((o) => o.alarm)).toContain('System.ConnectionLost.plc1');
    expect(await code(async () => service.acknowledge(line1, lost.id))).toBe('FORBIDDEN');
    expect(await service.acknowledge(admin, lost.id)).toMatchObject({ acknowledgedBy: 'admin' });
  });
});

describe('AlarmService overrides of definitions', () => {
  it('enables, disables, shelves and unshelves within the scope, and audits each with the client address', async () => {
    expect(await service.setEnabled(line1, 'Line1.Jam', false)).toMatchObject({ enabled: false });
    expect((await service.current(admin, { alarm: 'Line1.Jam' }))[0]!.active).toBe(false);
    expect(await service.setEnabled(line1, 'Line1.Jam', true)).toMatchObject({ enabled: true });
    expect((await service.shelve(line1, 'Line1.Fast', 60_000)).shelvedUntil).toBe(new Date(clock.now() + 60_000).toISOString());
    expect((await service.unshelve(line1, 'Line1.Fast')).shelvedUntil).toBeUndefined();
    expect(await auditActions()).toEqual([
      'alarm.disable:lena:Line1.Jam',
      'alarm.enable:lena:Line1.Jam',
      'alarm.shelve:lena:Line1.Fast',
      'alarm.unshelve:lena:Line1.Fast',
    ]);
    const row = (await audit.query({ action: 'alarm.shelve' })).items[0]!;
    expect(row.clientAddress).toBe('127.0.0.1');
    expect(JSON.parse(row.details!)).toMatchObject({ durationMs: 60_000, tag: 'Line1.Speed', via: 'rest' });
  });

  it('hides, refuses and validates like the responses', async () => {
    for (const fn of [
      () => service.setEnabled(line1, 'Tank1.Leak', false),
      () => service.shelve(line1, 'Tank1.Leak', 60_000),
      () => service.unshelve(line1, 'Tank1.Leak'),
      () => service.setEnabled(admin, 'Nope', false),
    ])
      expect(await code(fn)).toBe('NOT_FOUND');
    for (const fn of [
      () => service.setEnabled(responder, 'Tank1.Leak', false),
      () => service.shelve(responder, 'Tank1.Leak', 30 * 86_400_000),
      () => service.unshelve(responder, 'Tank1.Leak'),
      () => service.setEnabled(viewer, 'Line1.Jam', false),
    ])
      expect(await code(fn)).toBe('FORBIDDEN');
    expect(await code(async () => service.shelve(line1, 'Line1.Jam', 0))).toBe('VALIDATION_FAILED');
    expect(await code(async () => service.shelve(line1, 'Line1.Jam', 31 * 86_400_000))).toBe('VALIDATION_FAILED');
    expect(service.definition(admin, 'Tank1.Leak')).toMatchObject({ enabled: true });
    expect(await auditActions()).toEqual([]);
  });
});
