/**
 * Fencing of the alarm journal on a real PostgreSQL: a commit records alarm events only while its node still holds
 * the lease (holder, fencing token, unexpired by the database's clock) they were evaluated under, checked in the
 * commit's own transaction. A deposed owner's late commit is refused; the engine then drops those events (counted,
 * logged once, never retried) and commits the rest. See docs/scaling.md, "Alarms in a cluster".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEventType, AlarmState } from '../../../src/domain/alarms/state-machine.js';
import { systemClock } from '../../../src/domain/clock.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { Quality } from '../../../src/domain/quality.js';
import { AlarmEngine, type AlarmPeer } from '../../../src/runtime/alarms/engine.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import {
  JournalFencedError,
  type AlarmJournalRepository,
  type JournalFence,
  type LeaseRef,
  type NewAlarmEvent,
} from '../../../src/storage/alarm-journal-repository.js';
import { createPool, openPostgresStorage, postgresSqlForTests, type PostgresStorage } from '../../../src/storage/postgres/open-postgres.js';
import { PgClusterRepository } from '../../../src/storage/postgres/pg-cluster-repository.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/wait.js';
import { TWO_PLC_ALARMS as DEFS, TWO_PLC_TAGS as TAGS } from '../../helpers/two-plc-alarms.js';

const T0 = Date.UTC(2026, 10, 1);

function ev(id: number, event: AlarmEventType, at: number): NewAlarmEvent {
  const state: AlarmState = event === 'RAISED' ? 'RAISED' : 'RAISED_CLEARED';
  return {
    id,
    alarm: 'Tank1.High',
    number: 1,
    class: 'Alarm',
    priority: 10,
    event,
    at,
    state,
    text: 'Tank 1 high',
    tag: 'Tank1.Level',
    value: 91.5,
    user: null,
    stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
    closes: false,
  };
}

let pg: TestCluster | undefined;
let dataDir: string;
let storage: PostgresStorage;
let leases: PgClusterRepository;
let journal: AlarmJournalRepository;
let leasePool: ReturnType<typeof createPool>;

/** Lets a lease run out now, as it does for an owner cut off from PostgreSQL (it cannot renew). */
async function expire(connection: string): Promise<void> {
  await postgresSqlForTests(storage).query(`UPDATE cluster_leases SET expires_at = now() - interval '1 second' WHERE connection = $1`, [
    connection,
  ]);
}

/** Another node takes a lease at once (the UPDATE that acquire does once the lease expired). */
async function takeOver(connection: string, holder: string): Promise<number> {
  const r = await leasePool.query<{ token: number }>(
    `UPDATE cluster_leases SET holder = $2, token = token + 1, expires_at = now() + interval '60 seconds'
     WHERE connection = $1 RETURNING token`,
    [connection, holder],
  );
  return Number(r.rows[0]!.token);
}

beforeAll(async () => {
  pg = await startTestCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'tagway-fencing-'));
  const url = await pg.createDatabase('tagway_fencing');
  storage = await openPostgresStorage({ databaseUrl: url, dataDir, poolSize: 4 });
  leases = new PgClusterRepository(createPool(url, 2));
  leasePool = createPool(url, 1);
  await leases.init();
  journal = storage.alarmJournal;
}, 60_000);

afterAll(async () => {
  await leases?.close();
  await leasePool?.end();
  await storage?.close();
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('PgAlarmJournalRepository with a fence', () => {
  it('records a holder’s commit; refuses a deposed owner’s after another node took the lease with a new token', async () => {
    expect(journal.fencing).toBe(true);
    await leases.ensure(['f1', 'f2']);
    const a1 = (await leases.acquire('f1', 'node-a', 60_000))!;
    const a2 = (await leases.acquire('f2', 'node-a', 60_000))!;
    const fenceA = (...ls: LeaseRef[]): JournalFence => ({ holder: 'node-a', leases: ls });
    const before = await journal.count();
    await journal.append([ev(journal.nextOccurrenceId(), 'RAISED', T0)], fenceA({ connection: 'f1', token: a1 }));
    expect(await journal.count()).toBe(before + 1);

    // node-a is cut off: its lease of f1 runs out and node-b takes it with the next token.
    await expire('f1');
    const b1 = (await leases.acquire('f1', 'node-b', 60_000))!;
    expect(b1).toBe(a1 + 1);
    const late = [ev(journal.nextOccurrenceId(), 'RAISED', T0 + 1000), ev(journal.nextOccurrenceId(), 'RAISED', T0 + 1001)];
    // A batch with a lease still held and one lost is refused as a whole, naming only the lost one.
    const err = await journal
      .append(late, fenceA({ connection: 'f2', token: a2 }, { connection: 'f1', token: a1 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalFencedError);
    expect((err as JournalFencedError).refused).toEqual([{ connection: 'f1', token: a1 }]);
    expect(await journal.count()).toBe(before + 1);
    // The right holder with the wrong (old) token is refused too; node-b with its token commits.
    await expect(journal.append(late, { holder: 'node-b', leases: [{ connection: 'f1', token: a1 }] })).rejects.toBeInstanceOf(
      JournalFencedError,
    );
    const records = await journal.append(late, { holder: 'node-b', leases: [{ connection: 'f1', token: b1 }] });
    expect(records.map((r) => r.eventId)).toEqual([records[0]!.eventId, records[0]!.eventId + 1]);
    expect(await journal.count()).toBe(before + 3);
    // Without a fence (a single node) nothing is checked.
    await journal.append([ev(journal.nextOccurrenceId(), 'RAISED', T0 + 2000)]);
    expect(await journal.count()).toBe(before + 4);
  });

  it('refuses a commit under an expired lease nobody took yet, and one of a connection with no lease row', async () => {
    await leases.ensure(['f3']);
    const t = (await leases.acquire('f3', 'node-a', 60_000))!;
    const e = [ev(journal.nextOccurrenceId(), 'RAISED', T0 + 3000)];
    await expire('f3');
    await expect(journal.append(e, { holder: 'node-a', leases: [{ connection: 'f3', token: t }] })).rejects.toBeInstanceOf(
      JournalFencedError,
    );
    await expect(journal.append(e, { holder: 'node-a', leases: [{ connection: 'nowhere', token: 1 }] })).rejects.toBeInstanceOf(
      JournalFencedError,
    );
    // A free (released) lease fences as well: the holder gave it up.
    const t2 = (await leases.acquire('f3', 'node-a', 60_000))!;
    await leases.release('f3', 'node-a', t2);
    await expect(journal.append(e, { holder: 'node-a', leases: [{ connection: 'f3', token: t2 }] })).rejects.toBeInstanceOf(
      JournalFencedError,
    );
  });

  it('never lets a takeover miss a commit that raced it: whatever the old owner committed, the new owner reads', async () => {
    // The append holds the lease row (FOR SHARE) until it commits: a taking node's UPDATE waits for it, and its
    // rebuild afterwards sees the events; a takeover that commits first makes the append refuse.
    for (let round = 0; round < 20; round++) {
      const c = `race${round}`;
      await leases.ensure([c]);
      const t = (await leases.acquire(c, 'node-a', 60_000))!;
      const id = journal.nextOccurrenceId();
      const [appended, taken] = await Promise.all([
        journal.append([ev(id, 'RAISED', T0 + 4000)], { holder: 'node-a', leases: [{ connection: c, token: t }] }).then(
          () => true,
          (e: unknown) => {
            if (!(e instanceof JournalFencedError)) throw e;
            return false;
          },
        ),
        // A takeover's UPDATE of the row (as acquire's, without waiting for the expiry), then its rebuild.
        takeOver(c, 'node-b').then(async (token) => ({ token, open: await journal.loadOpen() })),
      ]);
      expect(taken.token).toBe(t + 1);
      // Committed if and only if the new owner's rebuild has it.
      expect(taken.open.some((h) => h.id === id)).toBe(appended);
    }
  });
});

describe('AlarmEngine fenced out of the journal', () => {
  let tags: TagEngine;
  let engine: AlarmEngine;
  /** The leases this node believes it holds (its link has not noticed the loss yet). */
  let held: Map<string, number>;
  let fenced: Array<{ refused: readonly LeaseRef[]; dropped: number }>;
  let appends: number;
  let warnings: string[];

  beforeEach(async () => {
    await postgresSqlForTests(storage).query('TRUNCATE alarm_events, alarm_open, alarm_names');
    await leases.ensure(['plc1', 'plc2']);
    for (const c of ['plc1', 'plc2']) await expire(c);
    held = new Map();
    for (const c of ['plc1', 'plc2']) held.set(c, (await leases.acquire(c, 'node-x', 60_000))!);
    fenced = [];
    appends = 0;
    warnings = [];
    // The real repository, with its appends counted (a retry loop would show as more of them).
    const counted = Object.create(storage.alarmJournal) as AlarmJournalRepository;
    counted.append = (events, fence) => {
      appends++;
      return storage.alarmJournal.append(events, fence);
    };
    tags = new TagEngine(TAGS, systemClock);
    engine = new AlarmEngine({
      tags,
      journal: counted,
      settings: storage.alarmSettings,
      clock: systemClock,
      definitions: DEFS,
      retryMs: 20,
      logger: { error: () => undefined, warn: (_o, msg) => warnings.push(msg ?? '') },
    });
    const peer: AlarmPeer = {
      home: (c) => c ?? 'plc1',
      owns: (c) => held.has(c),
      forward: () => Promise.reject(new TagwayError('DEVICE_UNAVAILABLE', 'no other node here')),
      committed: () => undefined,
      settingChanged: () => undefined,
      holder: 'node-x',
      leaseToken: (c) => held.get(c),
      fenced: (refused, dropped) => fenced.push({ refused, dropped }),
    };
    engine.joinCluster(peer);
    await engine.start();
    await engine.adopt('plc1');
    await engine.adopt('plc2');
  });

  afterEach(async () => {
    await engine.stop();
  });

  const set = (name: string, value: number) => tags.update(tags.require(name).index, value, Quality.GOOD);
  const events = async () => (await journal.query({ order: 'asc', limit: 100 })).items.map((e) => `${e.alarm} ${e.event}`);

  it('drops the deposed connection’s events (counted, logged once, not retried) and commits the others', async () => {
    set('A.Level', 90);
    await engine.flush();
    expect(await events()).toEqual(['A.High RAISED']);
    const [occ] = await engine.current();

    // Another node takes plc1 over (node-x was cut off and has not noticed yet: it still evaluates plc1).
    await expire('plc1');
    const newToken = (await leases.acquire('plc1', 'node-y', 60_000))!;
    const appendsBefore = appends;
    set('A.Level', 50); // would clear A.High: plc1's now, not node-x's
    set('B.Level', 95); // plc2 is still node-x's
    await waitUntil(async () => ((await events()).includes('B.High RAISED') ? true : undefined), 'B.High committed');
    expect(fenced).toEqual([{ refused: [{ connection: 'plc1', token: held.get('plc1') }], dropped: 1 }]);
    expect(await events()).toEqual(['A.High RAISED', 'B.High RAISED']);
    expect(engine.storageState()).toMatchObject({ state: 'ok', pendingEvents: 0 });
    // The refused attempt and the one that committed the rest; then nothing more, however long one waits.
    expect(appends - appendsBefore).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(appends - appendsBefore).toBe(2);

    // An operator action on the lost connection's alarm is refused as such, and leaves no trace.
    const err = await engine.acknowledge(occ!.id, 'operator').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagwayError);
    expect((err as TagwayError).code).toBe('DEVICE_UNAVAILABLE');
    expect(fenced).toHaveLength(2);
    expect(await events()).toEqual(['A.High RAISED', 'B.High RAISED']);
    expect(warnings.filter((w) => w.includes('no longer holds the lease'))).toHaveLength(1);

    // The new owner's commit for plc1 goes through with its token.
    await journal.append([{ ...ev(occ!.id, 'CLEARED', Date.now()), alarm: 'A.High' }], {
      holder: 'node-y',
      leases: [{ connection: 'plc1', token: newToken }],
    });
    expect(await events()).toEqual(['A.High RAISED', 'B.High RAISED', 'A.High CLEARED']);
  });
});
