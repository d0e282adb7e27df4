/**
 * The alarm part of the cluster link (src/cluster/alarms.ts) over a real nats-server, in one process: two alarm
 * engines on one SQLite journal, each with its own tag engine and NATS connection. Leases are a shared table here
 * (the PostgreSQL lease rows are tested with three node processes in alarms.test.ts); this file checks the NATS
 * part: changes reaching the other node, stale fencing tokens ignored, actions forwarded and refused.
 */
import { connect, ErrorCode, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterAlarms } from '../../../src/cluster/alarms.js';
import type { ClusterLink } from '../../../src/cluster/link.js';
import { systemClock } from '../../../src/domain/clock.js';
import { Quality } from '../../../src/domain/quality.js';
import { AlarmEngine } from '../../../src/runtime/alarms/engine.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import {
  SqliteAlarmJournalRepository,
  SqliteAlarmSettingsRepository,
} from '../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { startTestNats, type TestNats } from '../../helpers/nats.js';
import { waitUntil } from '../../helpers/wait.js';
import { TWO_PLC_ALARMS as DEFS, TWO_PLC_TAGS as TAGS } from '../../helpers/two-plc-alarms.js';

const runtime = { project: { connections: [{ name: 'plc1' }, { name: 'plc2' }] } } as unknown as Runtime;
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** The lease table both nodes see (the part of ClusterLink that src/cluster/alarms.ts uses). */
const leases = new Map<string, { holder: string; token: number }>();

class Link {
  private readonly seen = new Map<string, number>();
  private listeners: Array<(c: string, held: boolean) => void> = [];
  readonly log = quiet;
  constructor(
    readonly nodeId: string,
    readonly natsConnection: NatsConnection,
  ) {}
  ownerOf(c: string): string | undefined {
    return leases.get(c)?.holder;
  }
  isLocal(c: string): boolean {
    return leases.get(c)?.holder === this.nodeId;
  }
  leaseToken(c: string): number | undefined {
    return this.isLocal(c) ? leases.get(c)!.token : undefined;
  }
  heldConnections(): string[] {
    return [...leases].filter(([, l]) => l.holder === this.nodeId).map(([c]) => c);
  }
  /** As ClusterLink: a token lower than the newest seen is a deposed owner's. */
  believes(c: string, token: number): boolean {
    if (this.isLocal(c) || token < (this.seen.get(c) ?? 0)) return false;
    this.seen.set(c, token);
    return true;
  }
  /** A lease read showed this token (a newer owner elsewhere). */
  note(c: string, token: number): void {
    this.seen.set(c, Math.max(token, this.seen.get(c) ?? 0));
  }
  onLease(l: (c: string, held: boolean) => void): () => void {
    this.listeners.push(l);
    return () => (this.listeners = this.listeners.filter((x) => x !== l));
  }
  take(c: string, token: number): void {
    leases.set(c, { holder: this.nodeId, token });
    for (const l of this.listeners) l(c, true);
  }
  drop(c: string): void {
    if (leases.get(c)?.holder === this.nodeId) leases.delete(c);
    for (const l of this.listeners) l(c, false);
  }
}

interface TestNode {
  tags: TagEngine;
  engine: AlarmEngine;
  link: Link;
  part: ClusterAlarms;
  nc: NatsConnection;
}

let nats: TestNats;
let db: Database;
let journal: SqliteAlarmJournalRepository;
let nodes: TestNode[];

async function node(id: string): Promise<TestNode> {
  const tags = new TagEngine(TAGS, systemClock);
  const engine = new AlarmEngine({
    tags,
    journal,
    settings: new SqliteAlarmSettingsRepository(journal.journal),
    clock: systemClock,
    definitions: DEFS,
  });
  const nc = await connect({ servers: nats.url });
  const link = new Link(id, nc);
  const part = new ClusterAlarms(link as unknown as ClusterLink, runtime);
  await part.attach(engine);
  await engine.start();
  part.ready();
  return { tags, engine, link, part, nc };
}

function set(name: string, value: number): void {
  for (const n of nodes) n.tags.update(n.tags.require(name).index, value, Quality.GOOD);
}

const owned = (n: TestNode, c: string) => waitUntil(() => n.engine['peer']?.owns(c) || undefined, `${c} adopted`, 5000);

beforeAll(async () => {
  nats = await startTestNats();
});
afterAll(async () => {
  await nats?.stop();
});
beforeEach(async () => {
  leases.clear();
  db = openDatabase(':memory:');
  journal = new SqliteAlarmJournalRepository(db);
  nodes = [await node('x'), await node('y')];
  nodes[0]!.link.take('plc1', 1);
  nodes[1]!.link.take('plc2', 1);
  await owned(nodes[0]!, 'plc1');
  await owned(nodes[1]!, 'plc2');
});
afterEach(async () => {
  for (const n of nodes) {
    await n.engine.stop();
    n.part.stop();
    if (!n.nc.isClosed()) await n.nc.close();
  }
  db.close();
});

describe('alarms over NATS (src/cluster/alarms.ts)', () => {
  it('carries committed changes to the other node; acknowledgements are forwarded to the owner', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    const [occ] = await waitUntil(async () => {
      const l = await y.engine.current();
      return l.length === 1 ? l : undefined;
    }, 'the raise on y');
    expect(occ).toMatchObject({ alarm: 'A.High', active: true, acknowledged: false });
    const acked = await y.engine.acknowledge(occ!.id, 'operator');
    expect(acked).toMatchObject({ acknowledged: true, acknowledgedBy: 'operator' });
    expect((await x.engine.current())[0]).toMatchObject({ acknowledged: true });
    await waitUntil(async () => (await y.engine.current())[0]?.acknowledged || undefined, 'the acknowledgement on y');
    expect((await journal.query({ limit: 10 })).items.map((e) => e.event).sort()).toEqual(['ACKNOWLEDGED', 'RAISED']);
    // Overrides too.
    await y.engine.setEnabled('A.High', false);
    expect(x.engine.definition('A.High').enabled).toBe(false);
  });

  it('ignores a deposed owner: its messages carry an older fencing token', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    // y has seen a newer lease of plc1 (another node took it while x has not noticed yet).
    y.link.note('plc1', 2);
    set('A.Level', 90);
    await x.engine.flush();
    // x journaled it (its commit), but y does not believe x's announcement.
    expect((await journal.query({ limit: 10 })).items.map((e) => e.event)).toEqual(['RAISED']);
    // A message of y's own afterwards proves x's had time to arrive.
    set('B.Level', 90);
    await waitUntil(async () => (await x.engine.current()).some((o) => o.alarm === 'B.High') || undefined, 'B.High on x');
    await new Promise((r) => setTimeout(r, 50));
    expect((await y.engine.current()).map((o) => o.alarm)).toEqual(['B.High']);
  });

  it('refuses an action with DEVICE_UNAVAILABLE when the owner does not answer, and changes nothing', async () => {
    const [x, y] = nodes as [TestNode, TestNode];
    set('A.Level', 90);
    const [occ] = await waitUntil(async () => {
      const l = await y.engine.current();
      return l.length === 1 ? l : undefined;
    }, 'the raise on y');
    // x is gone from NATS (killed: the server drops its subscriptions), but the lease still names it.
    await x.nc.close();
    // The server drops x's subscriptions when it has processed the closed socket, which may be a moment after
    // close() resolved; until then a request is routed to x and times out (504) instead of "no responders" (503).
    await waitUntil(
      () =>
        y.nc.request(`tagway.alarms.act.${x.link.nodeId}`, new Uint8Array(), { timeout: 200 }).then(
          () => undefined,
          (err: { code?: string }) => (err.code === ErrorCode.NoResponders ? true : undefined),
        ),
      "x's subscriptions gone from the server",
    );
    await expect(y.engine.acknowledge(occ!.id, 'operator')).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    // The lease expired: nobody owns plc1.
    leases.delete('plc1');
    await expect(y.engine.acknowledge(occ!.id, 'operator')).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect((await journal.query({ limit: 10 })).items.map((e) => e.event)).toEqual(['RAISED']);
    // y takes plc1 over: rebuilt from the journal, the acknowledgement works, no second RAISED.
    y.link.take('plc1', 2);
    await owned(y, 'plc1');
    expect(await y.engine.acknowledge(occ!.id, 'operator')).toMatchObject({ acknowledged: true });
    expect((await journal.query({ limit: 10 })).items.map((e) => e.event).sort()).toEqual(['ACKNOWLEDGED', 'RAISED']);
  });

  it('after a fenced commit of the lease it still shows, stops judging those alarms and rebuilds them from the journal', async () => {
    const [x] = nodes as [TestNode, TestNode];
    // The journal refused x's commit for plc1 with an older token (a previous tenure): nothing to undo now.
    x.part.fenced([{ connection: 'plc1', token: 0 }], 2);
    expect(x.part.counts).toMatchObject({ fencedCommits: 1, fencedEvents: 2 });
    await x.part['chain'];
    expect(x.part.owns('plc1')).toBe(true);
    // Refused for the lease x still shows (its link has not told yet): what x has in memory is not what the journal
    // holds, so x lets those alarms go and, the lease still shown, takes them back from the journal a moment later.
    set('A.Level', 90);
    await x.engine.flush();
    x.part.fenced([{ connection: 'plc1', token: 1 }], 1);
    await x.part['chain'];
    expect(x.part.owns('plc1')).toBe(false);
    expect(x.part.owns('plc2')).toBe(false); // y's, untouched
    await owned(x, 'plc1');
    expect(x.part.counts).toMatchObject({ fencedCommits: 2, fencedEvents: 3 });
    // Rebuilt: the same occurrence, no second RAISED.
    set('A.Level', 95);
    await x.engine.flush();
    expect((await journal.query({ limit: 10 })).items.map((e) => e.event)).toEqual(['RAISED']);
  });
});
