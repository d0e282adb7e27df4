import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { Quality } from '../../../src/domain/quality.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { Historian } from '../../../src/runtime/historian.js';
import { HistoryQueries, type HistoryQuery } from '../../../src/runtime/history-query.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import type { Actor } from '../../../src/services/actor.js';
import { CollectingSink, HistoryService, type HistoryServiceOptions } from '../../../src/services/history-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteHistoryRepository } from '../../../src/storage/sqlite/sqlite-history-repository.js';

const T0 = Date.UTC(2025, 0, 1);
const N = 500; // samples of A.Level, one per second

const defs: TagDefinition[] = [
  { name: 'A.Level', type: 'Float64', access: 'read', connection: 'internal', history: { mode: 'onChange' } },
  { name: 'A.Text', type: 'String', access: 'read', connection: 'internal', history: { mode: 'onChange' } },
  { name: 'B.Level', type: 'Float64', access: 'read', connection: 'internal', history: { mode: 'onChange' } },
  { name: 'A.NoHistory', type: 'Float64', access: 'read', connection: 'internal' },
];

let dir: string;
let db: Database;
let queries: HistoryQueries;
let clock: ManualClock;

function actor(username: string, grants: Grant[]): Actor {
  const principal: Principal = {
    username,
    displayName: username,
    groups: [],
    permissions: new PermissionSet(grants),
    authMethod: 'session',
  };
  return { principal, clientAddress: '127.0.0.1', via: 'rest' };
}
const admin = actor('admin', [{ permission: 'history:read' }]);
const aOnly = actor('ann', [{ permission: 'history:read', tags: 'A.*' }]);
const none = actor('nobody', [{ permission: 'tags:read' }]);

function service(opts: Partial<HistoryServiceOptions> = {}): HistoryService {
  return new HistoryService(queries, clock, { maxSamples: 1_000_000, maxConcurrent: 2, maxTags: 1000, ...opts });
}

async function failure(p: Promise<unknown>): Promise<TagwayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TagwayError);
  return err as TagwayError;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-history-service-'));
  db = openDatabase(join(dir, 'tagway.db'));
  const repo = new SqliteHistoryRepository(db);
  const store = repo.store;
  clock = new ManualClock(T0 + 86_400_000);
  const engine = new TagEngine(defs, clock);
  const put = (name: string, rows: { ts: number; value: number | string; quality?: number }[]) =>
    store.insertBatch({
      count: rows.length,
      tagIds: rows.map(() => store.tagId(name)),
      ts: rows.map((r) => r.ts),
      values: rows.map((r) => r.value),
      quality: rows.map((r) => r.quality ?? Quality.GOOD),
    });
  put(
    'A.Level',
    Array.from({ length: N }, (_, i) => ({ ts: T0 + i * 1000, value: i, quality: i % 50 === 7 ? Quality.BAD : Quality.GOOD })),
  );
  put('A.Level', [{ ts: T0 - 5000, value: -1 }]);
  put('A.Text', [{ ts: T0 + 1000, value: '=1+1' }]);
  put('B.Level', [{ ts: T0, value: 1 }]);
  const historian = new Historian(engine, repo, clock);
  queries = new HistoryQueries(engine, repo, historian, clock);
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const range = { from: T0, to: T0 + N * 1000 };

describe('HistoryService: one tag', () => {
  it('answers raw samples chunk by chunk exactly as the whole page, bounding values at the ends, both orders', async () => {
    const tag = queries.requireTag('A.Level');
    for (const order of ['asc', 'desc'] as const) {
      for (const boundingValues of [false, true]) {
        let cursor: string | undefined;
        let pages = 0;
        do {
          const q: HistoryQuery = { ...range, to: range.to + 1, limit: 120, order, cursor, boundingValues };
          const whole = await queries.query(tag, q);
          const sink = new CollectingSink();
          await service({ chunkSize: 7 }).query(admin, 'A.Level', { ...q, cursor }, sink);
          const [only] = sink.tags as unknown as [{ items: unknown[]; tail: { next: string | null } }];
          expect(sink.tags).toHaveLength(1);
          expect(only.items).toEqual(whole.items);
          expect(only.tail.next).toEqual(whole.kind === 'raw' ? whole.next : undefined);
          cursor = only.tail.next ?? undefined;
          pages++;
        } while (cursor);
        expect(pages).toBe(Math.ceil(N / 120));
      }
    }
  });

  it('aggregates, with bounding values in the tail', async () => {
    const sink = new CollectingSink();
    await service().query(admin, 'A.Level', { ...range, interval: '1m', aggregate: 'max', boundingValues: true }, sink);
    expect(sink.aggregated).toBe(true);
    const [only] = sink.tags as unknown as [{ items: { value: number; count: number }[]; tail: any }];
    expect(only.items).toHaveLength(9);
    expect(only.items[0]).toMatchObject({ value: 59, count: 60 });
    expect(only.tail.boundingValues.before).toMatchObject({ value: -1 });
  });

  it('defaults to the last hour before now and 1000 samples', async () => {
    const sink = new CollectingSink();
    await service().query(admin, 'A.Level', {}, sink);
    expect(sink.tags).toEqual([{ name: '', items: [], tail: { next: null } }]);
  });

  it('refuses without history:read, out of scope, unknown tags and tags without history', async () => {
    expect((await failure(service().query(none, 'A.Level', range, new CollectingSink()))).code).toBe('FORBIDDEN');
    expect((await failure(service().query(aOnly, 'B.Level', range, new CollectingSink()))).code).toBe('FORBIDDEN');
    expect((await failure(service().query(aOnly, 'Nope', range, new CollectingSink()))).code).toBe('TAG_NOT_FOUND');
    expect((await failure(service().query(aOnly, 'A.NoHistory', range, new CollectingSink()))).code).toBe('NOT_FOUND');
    const ok = new CollectingSink();
    await service().query(aOnly, 'A.Text', range, ok);
    expect(ok.tags[0]).toMatchObject({ items: [{ value: '=1+1' }] });
  });

  it('validates before it begins: range, interval, cursor, limit, numeric aggregate of a text tag', async () => {
    const cases: [Parameters<HistoryService['query']>[2], string][] = [
      [{ from: T0, to: T0 }, 'from'],
      [{ ...range, interval: '1m' }, 'aggregate'],
      [{ ...range, aggregate: 'avg' }, 'interval'],
      [{ ...range, interval: 'soon', aggregate: 'avg' }, 'interval'],
      [{ ...range, cursor: 'garbage' }, 'cursor'],
      [{ ...range, limit: 0 }, 'limit'],
      [{ ...range, interval: '1ms', aggregate: 'avg' }, 'interval'],
    ];
    for (const [opts, field] of cases) {
      const sink = new CollectingSink();
      const err = await failure(service().query(admin, 'A.Level', opts, sink));
      expect(err.code, JSON.stringify(opts)).toBe('VALIDATION_FAILED');
      expect(err.errors?.[0]?.field, JSON.stringify(opts)).toBe(field);
      expect(sink.tags).toEqual([]);
    }
    expect(
      (await failure(service().query(admin, 'A.Text', { ...range, interval: '1m', aggregate: 'avg' }, new CollectingSink()))).code,
    ).toBe('VALIDATION_FAILED');
  });
});

describe('HistoryService: many tags', () => {
  it('answers each name once in request order, each alone with its error', async () => {
    const sink = new CollectingSink();
    await service().queryMany(
      aOnly,
      { ...range, limit: 3, tags: ['A.Level', 'Nope', 'A.Level', 'B.Level', 'A.NoHistory', 'A.Text'] },
      sink,
    );
    expect(sink.tags.map((t) => t.name)).toEqual(['A.Level', 'Nope', 'B.Level', 'A.NoHistory', 'A.Text']);
    expect(sink.tags[1]).toMatchObject({ error: { code: 'TAG_NOT_FOUND' } });
    expect(sink.tags[2]).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(sink.tags[3]).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(sink.tags[0]).toMatchObject({ items: [{ value: 0 }, { value: 1 }, { value: 2 }], tail: { next: expect.any(String) } });
  });

  it('pages per tag with cursors; a bad cursor is that tag’s error', async () => {
    const first = new CollectingSink();
    await service().queryMany(admin, { ...range, limit: 2, tags: ['A.Level', 'B.Level'] }, first);
    const next = (first.tags[0] as any).tail.next as string;
    const second = new CollectingSink();
    await service().queryMany(
      admin,
      { ...range, limit: 2, tags: ['A.Level', 'B.Level'], cursors: { 'A.Level': next, 'B.Level': 'bad' } },
      second,
    );
    expect(second.tags[0]).toMatchObject({ items: [{ value: 2 }, { value: 3 }] });
    expect(second.tags[1]).toMatchObject({ name: 'B.Level', error: { code: 'VALIDATION_FAILED' } });
  });

  it('with failOnTagError the first failing tag fails the request before anything is answered', async () => {
    const sink = new CollectingSink();
    const err = await failure(service().queryMany(admin, { ...range, tags: ['A.Level', 'Nope'], failOnTagError: true }, sink));
    expect(err.code).toBe('TAG_NOT_FOUND');
    expect(sink.tags).toEqual([]);
  });

  it('refuses without history:read at all, and more names than allowed', async () => {
    expect((await failure(service().queryMany(none, { tags: ['A.Level'] }, new CollectingSink()))).code).toBe('FORBIDDEN');
    expect((await failure(service({ maxTags: 3 }).queryMany(admin, { tags: ['a', 'b', 'c', 'd'] }, new CollectingSink()))).code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });
});

describe('HistoryService: budgets', () => {
  it('counts the samples a request could answer (distinct tags × limit, or × buckets) before reading anything', async () => {
    const s = service({ maxSamples: 1000 });
    const sink = new CollectingSink();
    const raw = await failure(s.queryMany(admin, { ...range, limit: 600, tags: ['A.Level', 'B.Level'] }, sink));
    expect(raw.code).toBe('PAYLOAD_TOO_LARGE');
    expect(raw.message).toMatch(/1200 samples \(2 tags × 600\); at most 1000/);
    expect(sink.tags).toEqual([]);
    // The same tag 300 times is one tag: within the budget.
    const dup = new CollectingSink();
    await s.queryMany(admin, { ...range, limit: 600, tags: Array(300).fill('A.Level') }, dup);
    expect(dup.tags).toHaveLength(1);
    expect((dup.tags[0] as any).items).toHaveLength(N);
    // A day in 1-minute buckets is 1,440 per tag.
    const agg = await failure(
      s.query(admin, 'A.Level', { from: T0, to: T0 + 86_400_000, interval: '1m', aggregate: 'avg' }, new CollectingSink()),
    );
    expect(agg.code).toBe('PAYLOAD_TOO_LARGE');
    expect(agg.message).toMatch(/1440 buckets/);
    await s.query(admin, 'A.Level', { from: T0, to: T0 + 86_400_000, interval: '2m', aggregate: 'avg' }, new CollectingSink());
  });

  it('reads at most maxSamples samples of a tag for an aggregate: PAYLOAD_TOO_LARGE before anything is answered', async () => {
    const s = service({ maxSamples: 400 });
    // Under a minute, buckets read raw samples; from a minute on, a minute's roll-up counts as one row (see below).
    const agg = { ...range, interval: '30s', aggregate: 'avg' as const };
    const one = new CollectingSink();
    const err = await failure(s.query(admin, 'A.Level', agg, one));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.message).toMatch(/'A.Level' has more than 400 samples in the range/);
    expect(one.tags).toEqual([]);
    // Many tags: that tag's error, the others answer; with failOnTagError the request fails.
    const many = new CollectingSink();
    await s.queryMany(admin, { ...agg, tags: ['B.Level', 'A.Level'] }, many);
    expect(many.tags[0]).toMatchObject({ name: 'B.Level', items: expect.any(Array) });
    expect(many.tags[1]).toMatchObject({ name: 'A.Level', error: { code: 'PAYLOAD_TOO_LARGE' } });
    const strict = new CollectingSink();
    expect((await failure(s.queryMany(admin, { ...agg, tags: ['A.Level', 'B.Level'], failOnTagError: true }, strict))).code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(strict.tags).toEqual([]);
    // A shorter range is fine.
    await s.query(admin, 'A.Level', { ...agg, to: T0 + 300_000 }, new CollectingSink());
  });

  it('lets a user have at most maxConcurrent queries in flight (429 with Retry-After), others unaffected', async () => {
    const s = service({ maxConcurrent: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = new CollectingSink();
    slow.begin = async () => gate;
    const running = s.query(admin, 'A.Level', range, slow);
    await Promise.resolve();
    expect(s.running(admin)).toBe(1);
    const busy = await failure(s.queryMany(admin, { ...range, tags: ['A.Level'] }, new CollectingSink()));
    expect(busy.code).toBe('TOO_MANY_REQUESTS');
    expect(busy.headers).toEqual({ 'Retry-After': '1' });
    await s.query(aOnly, 'A.Level', range, new CollectingSink());
    release();
    await running;
    expect(s.running(admin)).toBe(0);
    await s.query(admin, 'A.Level', range, new CollectingSink());
  });

  it('releases the slot when the consumer fails mid-answer (a client that went away)', async () => {
    const s = service({ maxConcurrent: 1, chunkSize: 10 });
    const broken = new CollectingSink();
    let chunks = 0;
    broken.items = () => {
      if (++chunks === 3) throw new Error('client gone');
    };
    await expect(s.query(admin, 'A.Level', range, broken)).rejects.toThrow('client gone');
    expect(chunks).toBe(3);
    expect(s.running(admin)).toBe(0);
  });
});
