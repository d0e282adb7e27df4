/**
 * The alarm engine as a cluster member: two engines (two "nodes", each with its own tag engine) on one real SQLite
 * journal, joined by an in-process peer that carries what src/cluster/alarms.ts carries over NATS (committed
 * changes, settings, forwarded actions). The NATS part itself is tested with real processes in
 * test/integration/cluster/alarms.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEventRecord, AlarmOccurrence } from '../../../../src/domain/alarms/records.js';
import { ManualClock } from '../../../../src/domain/clock.js';
import { TagwayError } from '../../../../src/domain/problems.js';
import { Quality } from '../../../../src/domain/quality.js';
import { CurrentList } from '../../../../src/runtime/alarms/current-list.js';
import { AlarmEngine, type AlarmPeer } from '../../../../src/runtime/alarms/engine.js';
import { TagEngine } from '../../../../src/runtime/tag-engine.js';
import { openDatabase, type Database } from '../../../../src/storage/sqlite/database.js';
import {
  SqliteAlarmJournalRepository,
  SqliteAlarmSettingsRepository,
} from '../../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { TWO_PLC_ALARMS as DEFS, TWO_PLC_TAGS as TAGS } from '../../../helpers/two-plc-alarms.js';

const CONNECTIONS = ['plc1', 'plc2'];

interface TestNode {
  name: string;
  tags: TagEngine;
  engine: AlarmEngine;
  owned: Set<string>;
  /** Events this node journaled itself (what its audit trail hears). */
  local: AlarmEventRecord[];
  /** Events its push channels hear (its own and the other node's). */
  all: AlarmEventRecord[];
}

let db: Database;
let clock: ManualClock;
let journal: SqliteAlarmJournalRepository;
let nodes: TestNode[];

function node(name: string): TestNode {
  const tags = new TagEngine(TAGS, clock);
  const settings = new SqliteAlarmSettingsRepository(journal.journal);
  const engine = new AlarmEngine({ tags, journal, settings, clock, definitions: DEFS });
  const n: TestNode = { name, tags, engine, owned: new Set(), local: [], all: [] };
  const others = () => nodes.filter((x) => x !== n);
  const peer: AlarmPeer = {
    home: (c) => (c !== undefined && CONNECTIONS.includes(c) ? c : CONNECTIONS[0]!),
    owns: (c) => n.owned.has(c),
    forward: async (c, action) => {
      const owner = others().find((x) => x.owned.has(c));
      if (!owner) throw new TagwayError('DEVICE_UNAVAILABLE', `no owner of ${c}`);
      return owner.engine.perform(action);
    },
    committed: (_c, changes, records) => {
      for (const o of others()) o.engine.applyRemote(changes, records);
    },
    settingChanged: (_c, change) => {
      for (const o of others()) o.engine.applySetting(change);
    },
    holder: name,
    // SQLite has no cluster leases: the journal fences nothing here (test/integration/cluster/fencing.test.ts does).
    leaseToken: (c) => (n.owned.has(c) ? 1 : undefined),
    fenced: () => undefined,
  };
  engine.joinCluster(peer);
  engine.onLocalEvent((e) => n.local.push(e));
  engine.onEvent((e) => n.all.push(e));
  return n;
}

/** A value reaches every node (the owner's driver, then NATS). */
function set(name: string, value: number, quality: number = Quality.GOOD): void {
  for (const n of nodes) n.tags.update(n.tags.require(name).index, value, quality);
}

async function settle(): Promise<void> {
  for (const n of nodes) await n.engine.flush();
}

async function adopt(n: TestNode, connection: string): Promise<void> {
  await n.engine.adopt(connection);
  n.owned.add(connection);
}

const strip = (l: AlarmOccurrence[]) => l.map((o) => ({ id: o.id, alarm: o.alarm, state: o.state }));

beforeEach(async () => {
  db = openDatabase(':memory:');
  clock = new ManualClock();
  journal = new SqliteAlarmJournalRepository(db);
  nodes = [node('x'), node('y')];
  for (const n of nodes) await n.engine.start();
  await adopt(nodes[0]!, 'plc1');
  await adopt(nodes[1]!, 'plc2');
});

afterEach(async () => {
  for (const n of nodes) await n.engine.stop();
  db.close();
});

describe('AlarmEngine in a cluster', () => {
  it('evaluates only the alarms of owned connections: each raise journaled once, listed on both nodes', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    set('B.Level', 95);
    await settle();
    expect((await journal.query({ limit: 100 })).items.map((e) => `${e.alarm}:${e.event}`).sort()).toEqual([
      'A.High:RAISED',
      'B.High:RAISED',
    ]);
    expect(x.local.map((e) => e.alarm)).toEqual(['A.High']);
    expect(y.local.map((e) => e.alarm)).toEqual(['B.High']);
    // Both nodes' channels hear both events; both lists are the same.
    expect(x.all.map((e) => e.alarm).sort()).toEqual(['A.High', 'B.High']);
    expect(strip(await x.engine.current())).toEqual(strip(await y.engine.current()));
    expect(await x.engine.current()).toHaveLength(2);
  });

  it('forwards an acknowledgement to the owner: journaled and audited once, applied on both nodes', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    await settle();
    const [occ] = await y.engine.current();
    const acked = await y.engine.acknowledge(occ!.id, 'operator');
    expect(acked).toMatchObject({ id: occ!.id, acknowledged: true, acknowledgedBy: 'operator' });
    // The owner journaled it (its audit listener heard it); the receiving node only shows it.
    expect(x.local.map((e) => e.event)).toEqual(['RAISED', 'ACKNOWLEDGED']);
    expect(y.local).toEqual([]);
    expect((await y.engine.current())[0]).toMatchObject({ acknowledged: true });
    expect((await x.engine.current())[0]).toMatchObject({ acknowledged: true });
    // Bulk acknowledgement across both owners: each part done by its owner.
    set('B.Level', 90);
    await settle();
    const b = (await x.engine.current()).find((o) => o.alarm === 'B.High')!;
    const many = await x.engine.acknowledgeMany([b.id, occ!.id, 999_999], 'operator');
    expect(many.map((r) => ('state' in r ? r.state : r.error.code))).toEqual(['RAISED_ACKNOWLEDGED', 'RAISED_ACKNOWLEDGED', 'NOT_FOUND']);
    expect(y.local.map((e) => `${e.alarm}:${e.event}`)).toEqual(['B.High:RAISED', 'B.High:ACKNOWLEDGED']);
  });

  it('answers DEVICE_UNAVAILABLE when the owner is gone, and changes nothing', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    await settle();
    const [occ] = await y.engine.current();
    x.owned.delete('plc1');
    x.engine.release('plc1');
    await expect(y.engine.acknowledge(occ!.id, 'operator')).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    await expect(y.engine.setEnabled('A.High', false)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect((await journal.query({ limit: 100 })).items.map((e) => e.event)).toEqual(['RAISED']);
    // In a bulk acknowledgement only the unreachable owner's items fail; y's own are done.
    set('B.Level', 90);
    await settle();
    const b = (await y.engine.current()).find((o) => o.alarm === 'B.High')!;
    const many = await y.engine.acknowledgeMany([occ!.id, b.id], 'operator');
    expect(many.map((r) => ('state' in r ? r.state : r.error.code))).toEqual(['DEVICE_UNAVAILABLE', 'RAISED_ACKNOWLEDGED']);
  });

  it('forwards overrides to the owner; every node shows them', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    await settle();
    const v = await y.engine.setEnabled('A.High', false);
    expect(v.enabled).toBe(false);
    expect(x.engine.definition('A.High').enabled).toBe(false);
    expect(y.engine.definition('A.High').enabled).toBe(false);
    // Disabling cleared the occurrence (by the owner): unacknowledged, it stays listed as cleared on both.
    expect((await y.engine.current())[0]).toMatchObject({ active: false, acknowledged: false });
    await y.engine.shelve('B.High', 60_000);
    expect(x.engine.definition('B.High').shelvedUntil).toBe(y.engine.definition('B.High').shelvedUntil);
  });

  it('a takeover rebuilds the list from the journal: no second RAISED, acknowledgement and evaluation go on', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    await settle();
    const [occ] = await y.engine.current();
    // x dies (its lease expires): its tags are BAD on y during the gap, then y takes plc1 over.
    x.owned.delete('plc1');
    x.engine.release('plc1');
    nodes = [y];
    y.tags.update(y.tags.require('A.Level').index, 90, Quality.BAD_NOT_CONNECTED);
    await adopt(y, 'plc1');
    y.tags.update(y.tags.require('A.Level').index, 91, Quality.GOOD);
    await y.engine.flush();
    expect(y.local).toEqual([]);
    expect((await y.engine.current()).map((o) => o.id)).toEqual([occ!.id]);
    // No connection-lost alarm for the gap: the tags were BAD because the previous owner went away.
    expect((await journal.query({ limit: 100 })).items.map((e) => `${e.alarm}:${e.event}`)).toEqual(['A.High:RAISED']);
    expect(await y.engine.acknowledge(occ!.id, 'operator')).toMatchObject({ acknowledged: true });
    set('A.Level', 10);
    await y.engine.flush();
    expect(await y.engine.current()).toEqual([]);
    expect(y.local.map((e) => e.event)).toEqual(['ACKNOWLEDGED', 'CLEARED']);
    await x.engine.stop();
    nodes = [y];
  });

  it('a node that stops owning stops evaluating', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    x.owned.delete('plc1');
    x.engine.release('plc1');
    set('A.Level', 90);
    await settle();
    expect(x.local).toEqual([]);
    expect(y.local).toEqual([]);
    expect(await y.engine.current()).toEqual([]);
  });
});

describe('CurrentList replication', () => {
  const view = (id: number, state: AlarmOccurrence['state']): AlarmOccurrence =>
    ({ id, alarm: `a${id}`, state, raisedAt: '2026-01-01T00:00:00.000Z' }) as AlarmOccurrence;

  it('applies a change only when newer than the last one applied; null closes', () => {
    const l = new CurrentList();
    expect(l.applyRemote(1, 10, view(1, 'RAISED'))).toBe(true);
    expect(l.applyRemote(1, 12, view(1, 'RAISED_ACKNOWLEDGED'))).toBe(true);
    // A repeat or an older change (read from the journal and also received) changes nothing.
    expect(l.applyRemote(1, 12, view(1, 'RAISED'))).toBe(false);
    expect(l.applyRemote(1, 11, view(1, 'RAISED'))).toBe(false);
    expect(l.get(1)?.state).toBe('RAISED_ACKNOWLEDGED');
    expect(l.applyRemote(1, 13, null)).toBe(true);
    expect(l.size).toBe(0);
  });

  it('replaces what a selection holds with an owner snapshot', () => {
    const l = new CurrentList();
    l.applyRemote(1, 1, view(1, 'RAISED'));
    l.applyRemote(2, 2, view(2, 'RAISED'));
    l.replace((o) => o.id === 1 || o.id === 3, [[view(3, 'RAISED'), 5]]);
    expect(
      l
        .list()
        .map((o) => o.id)
        .sort(),
    ).toEqual([2, 3]);
    expect(l.entries((o) => o.id === 3)).toEqual([[view(3, 'RAISED'), 5]]);
    expect(l.applyRemote(3, 4, null)).toBe(false);
  });
});
