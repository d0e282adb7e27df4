import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PROJECT = `
name: History test
connections:
  - { name: internal, driver: internal }
tags:
  - { name: H.Level, type: Float64, unit: m, connection: internal, history: { mode: onChange } }
  - { name: H.Counter, type: UInt32, connection: internal, history: { mode: onChange } }
  - { name: H.Flag, type: Bool, connection: internal, history: { mode: onChange } }
  - { name: H.Text, type: String, connection: internal, history: { mode: onChange } }
  - { name: "Line1/Speed #1", type: Float64, connection: internal, history: { mode: onChange, deadband: 0.5 } }
  - { name: H.NoHistory, type: Float64, connection: internal }
groups:
  - name: hOnly
    permissions: [{ permission: "tags:read" }, { permission: "history:read", tags: "H.**" }]
  - name: noHistory
    permissions: [{ permission: "tags:read" }]
users:
  - { username: hreader, password: hreader-password, groups: [hOnly] }
  - { username: plain, password: plain-password, groups: [noHistory] }
`;

const GOOD = 0xc0;
// Finding 18: formulas hidden behind whitespace and invisible or full-width characters.
const FORMULAS = [' =1+1', '\u3000=1+1', '\uff1dSUM(A1)', '\ufeff=1', '\u200b@A1', '\t=1', '-2+3', '-5'];
const BAD = 0x08;
const UNCERTAIN = 0x44;
const H0 = Date.UTC(2025, 5, 1, 10, 0, 0); // a past hour, far from anything the live historian logs
const iso = (t: number) => new Date(t).toISOString();
const enc = encodeURIComponent;

/** Deterministic pseudo-random numbers, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

interface S {
  ts: number;
  value: number | string;
  quality: number;
}

// Level: ~150 samples in the hour at whole seconds, some BAD/UNCERTAIN; one sample before the hour.
const rand = rng(7);
const level: S[] = [{ ts: H0 - 90_000, value: 3, quality: GOOD }];
for (let sec = 0; sec < 3600; sec += 1 + Math.floor(rand() * 45)) {
  const r = rand();
  level.push({ ts: H0 + sec * 1000, value: Math.round(rand() * 1000) / 10, quality: r < 0.1 ? BAD : r < 0.15 ? UNCERTAIN : GOOD });
}
level.push({ ts: H0 + 3_700_000, value: 99, quality: GOOD }); // after the hour
// Counter: counts up with one reset.
const counter: S[] = [];
for (let i = 0, v = 100; i < 60; i++) {
  v = i === 30 ? 4 : v + Math.floor(rand() * 10);
  counter.push({ ts: H0 + i * 60_000 + 500, value: v, quality: GOOD });
}

// ---- expected values, computed second by second from the definitions in the API contract ----
const usable = (q: number) => (q & 0xc0) !== 0;
function expectedBuckets(samples: S[], agg: string, from: number, to: number, interval: number) {
  const out: { timestamp: string; value: number | null; count: number }[] = [];
  for (let b = Math.floor(from / interval) * interval; b < to; b += interval) {
    const start = Math.max(b, from);
    const end = Math.min(b + interval, to);
    const inside = samples.filter((s) => s.ts >= start && s.ts < end);
    const good = inside.filter((s) => usable(s.quality)).map((s) => s.value as number);
    let value: number | null = null;
    if (inside.length > 0) {
      if (agg === 'count') value = inside.length;
      if (agg === 'min' && good.length) value = Math.min(...good);
      if (agg === 'max' && good.length) value = Math.max(...good);
      if (agg === 'first' && good.length) value = good[0]!;
      if (agg === 'last' && good.length) value = good.at(-1)!;
      if (agg === 'avg') {
        let sum = 0;
        let n = 0;
        for (let t = start; t < end; t += 500) {
          // all timestamps here are multiples of 500 ms
          const held = samples.filter((s) => s.ts <= t).at(-1);
          if (held && usable(held.quality)) {
            sum += held.value as number;
            n++;
          }
        }
        value = n ? sum / n : (good.at(-1) ?? null);
      }
      if (agg === 'delta') {
        const prior = samples.filter((s) => s.ts < start && usable(s.quality)).at(-1);
        let prev = prior ? (prior.value as number) : NaN;
        let sum = 0;
        for (const v of good) {
          if (!Number.isNaN(prev)) sum += v >= prev ? v - prev : v;
          prev = v;
        }
        value = good.length ? sum : null;
      }
    }
    out.push({ timestamp: iso(b), value, count: inside.length });
  }
  return out;
}

const rawOf = (s: S) => ({
  timestamp: iso(s.ts),
  value: s.value,
  quality: s.quality === GOOD ? 'GOOD' : s.quality === BAD ? 'BAD' : 'UNCERTAIN',
  qualityCode: s.quality,
});

describe('history API over HTTPS', () => {
  let s: TestServer;
  let admin: string;
  let hreader: string;
  let plain: string;

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    [admin, hreader, plain] = await Promise.all([s.login(), s.login('hreader', 'hreader-password'), s.login('plain', 'plain-password')]);
    // Known history, written straight into the server's own database (as the historian would have).
    const store = (s.server.runtime.storage as SqliteStorage).history.store;
    const put = (name: string, rows: S[]) =>
      store.insertBatch({
        count: rows.length,
        tagIds: rows.map(() => store.tagId(name)),
        ts: rows.map((r) => r.ts),
        values: rows.map((r) => r.value),
        quality: rows.map((r) => r.quality),
      });
    put('H.Level', level);
    put('H.Counter', counter);
    put('H.Text', [
      { ts: H0 + 1000, value: 'plain', quality: GOOD },
      { ts: H0 + 2000, value: 'with, comma and "quotes"', quality: GOOD },
      { ts: H0 + 3000, value: 'two\nlines', quality: GOOD },
    ]);
    put('H.Text', [{ ts: H0 + 7_200_000, value: '=HYPERLINK("http://x")', quality: GOOD }]);
    put('Line1/Speed #1', [{ ts: H0, value: 1, quality: GOOD }]);
    put(
      'H.Text',
      FORMULAS.map((value, i) => ({ ts: H0 + 10_800_000 + i * 1000, value, quality: GOOD })),
    );
    put('H.Level', [{ ts: H0 + 10_800_000, value: -5, quality: GOOD }]);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const get = (path: string, token = admin) => s.request('GET', path, { token });
  const hist = (name: string, q: string, token = admin) => get(`/tags/${enc(name)}/history?${q}`, token);
  const range = `from=${iso(H0)}&to=${iso(H0 + 3_600_000)}`;

  describe('raw', () => {
    it('answers samples in [from, to) ascending with quality, decoding the tag type', async () => {
      const r = await hist('H.Level', `${range}&limit=100000`);
      expect(r.status).toBe(200);
      const want = level.filter((x) => x.ts >= H0 && x.ts < H0 + 3_600_000).map(rawOf);
      expect(r.json).toEqual({ items: want, next: null });
      // from inclusive, to exclusive, exactly on sample timestamps
      const a = level[5]!;
      const b = level[9]!;
      const r2 = await hist('H.Level', `from=${iso(a.ts)}&to=${iso(b.ts)}`);
      expect(r2.json.items.map((i: any) => i.timestamp)).toEqual(level.slice(5, 9).map((x) => iso(x.ts)));
    });

    it('pages with a cursor in both orders, each sample exactly once', async () => {
      const want = level.filter((x) => x.ts >= H0 && x.ts < H0 + 3_600_000).map((x) => iso(x.ts));
      for (const order of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const r = await hist('H.Level', `${range}&limit=17&order=${order}${cursor ? `&cursor=${enc(cursor)}` : ''}`);
          expect(r.status).toBe(200);
          seen.push(...r.json.items.map((i: any) => i.timestamp));
          cursor = r.json.next;
          pages++;
        } while (cursor);
        expect(seen).toEqual(order === 'asc' ? want : [...want].reverse());
        expect(pages).toBe(Math.ceil(want.length / 17));
      }
    });

    it('adds bounding values at the ends of the whole result', async () => {
      const r = await hist('H.Level', `${range}&boundingValues=true&limit=100000`);
      expect(r.json.items[0]).toEqual(rawOf(level[0]!));
      expect(r.json.items.at(-1)).toEqual(rawOf(level.at(-1)!));
      const first = await hist('H.Level', `${range}&boundingValues=true&limit=5`);
      expect(first.json.items).toHaveLength(6);
      expect(first.json.items[0].timestamp).toBe(iso(level[0]!.ts));
      const empty = await hist('H.Level', `from=${iso(H0 + 3_650_000)}&to=${iso(H0 + 3_660_000)}&boundingValues=true`);
      expect(empty.json.items.map((i: any) => i.value)).toEqual([level.at(-2)!.value, 99]);
    });

    it('serves Bool and text values in their JSON types', async () => {
      const t = await hist('H.Text', range);
      expect(t.json.items.map((i: any) => i.value)).toEqual(['plain', 'with, comma and "quotes"', 'two\nlines']);
    });
  });

  describe('aggregates', () => {
    for (const agg of ['avg', 'min', 'max', 'first', 'last', 'count']) {
      it(`${agg} per 10 minutes matches values computed here`, async () => {
        const r = await hist('H.Level', `${range}&interval=10m&aggregate=${agg}`);
        expect(r.status).toBe(200);
        const want = expectedBuckets(level, agg, H0, H0 + 3_600_000, 600_000);
        expect(r.json.items).toHaveLength(6);
        r.json.items.forEach((b: any, i: number) => {
          expect(b.timestamp).toBe(want[i]!.timestamp);
          expect(b.count).toBe(want[i]!.count);
          if (want[i]!.value === null) expect(b.value).toBeNull();
          else expect(b.value).toBeCloseTo(want[i]!.value!, 9);
        });
      });
    }

    it('delta of a counter with a reset, per 7 minutes (unaligned range, ISO 8601 interval)', async () => {
      const from = H0 + 123_000;
      const to = H0 + 3_000_000;
      const r = await hist('H.Counter', `from=${iso(from)}&to=${iso(to)}&interval=PT7M&aggregate=delta`);
      expect(r.status).toBe(200);
      expect(r.json.items).toEqual(expectedBuckets(counter, 'delta', from, to, 420_000));
      expect(r.json.items[0].timestamp).toBe(iso(Math.floor(from / 420_000) * 420_000));
    });

    it('answers empty buckets as null with count 0, and bounding values beside the buckets', async () => {
      const from = H0 + 3_600_000;
      const to = H0 + 3_900_000;
      const r = await hist('H.Level', `from=${iso(from)}&to=${iso(to)}&interval=1m&aggregate=avg&boundingValues=true`);
      // The one sample (99 at 1:01:40) holds from there, the value before it from the bucket start (step interpolation).
      const held = level.at(-2)!.value as number;
      expect(r.json.items.map((b: any) => [b.value, b.count])).toEqual([
        [null, 0],
        [(held * 40 + 99 * 20) / 60, 1],
        [null, 0],
        [null, 0],
        [null, 0],
      ]);
      expect(r.json.boundingValues.before).toEqual(rawOf(level.at(-2)!));
      // After `to` the next sample is the live historian's first point of the tag (its state at start-up).
      expect(Date.parse(r.json.boundingValues.after.timestamp)).toBeGreaterThan(to);
    });
  });

  describe('csv', () => {
    it('raw: RFC 4180 with the JSON field names as header and the next page in a Link header', async () => {
      const r = await hist('H.Text', `${range}&format=csv&limit=2`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/csv/);
      expect(r.text).toBe(
        `timestamp,value,quality,qualityCode\r\n${iso(H0 + 1000)},plain,GOOD,192\r\n${iso(H0 + 2000)},"with, comma and ""quotes""",GOOD,192\r\n`,
      );
      expect(r.headers['x-next-cursor']).toEqual(expect.any(String));
      const link = String(r.headers.link);
      const m = /^<([^>]+)>; rel="next"$/.exec(link);
      expect(m).not.toBeNull();
      const next = await get(m![1]!);
      expect(next.text).toBe(`timestamp,value,quality,qualityCode\r\n${iso(H0 + 3000)},"two\nlines",GOOD,192\r\n`);
      expect(next.headers.link).toBeUndefined();
    });

    it('aggregated', async () => {
      const r = await hist('H.Level', `${range}&interval=30m&aggregate=count&format=csv`);
      const want = expectedBuckets(level, 'count', H0, H0 + 3_600_000, 1_800_000);
      expect(r.text).toBe(`timestamp,value,count\r\n${want.map((b) => `${b.timestamp},${b.value},${b.count}`).join('\r\n')}\r\n`);
    });
  });

  it('csv: a text value that a spreadsheet would run as a formula is defused', async () => {
    const r = await hist('H.Text', `from=${iso(H0 + 7_200_000)}&to=${iso(H0 + 7_300_000)}&format=csv`);
    expect(r.text.split('\r\n')[1]).toBe(`${iso(H0 + 7_200_000)},"'=HYPERLINK(""http://x"")",GOOD,192`);
  });

  it('csv: formulas behind spaces, U+3000, BOM, zero-width space or in full width are defused; numbers are not', async () => {
    const span = `from=${iso(H0 + 10_800_000)}&to=${iso(H0 + 10_900_000)}&format=csv`;
    const text = (await hist('H.Text', span)).text.split('\r\n').slice(1, -1);
    expect(text.map((l) => l.split(',')[1])).toEqual([
      "' =1+1",
      "'\u3000=1+1",
      "'\uff1dSUM(A1)",
      "'\ufeff=1",
      "'\u200b@A1",
      "'\t=1",
      "'-2+3",
      '-5',
    ]);
    expect((await hist('H.Level', span)).text.split('\r\n')[1]).toBe(`${iso(H0 + 10_800_000)},-5,GOOD,192`);
  });

  describe('POST /history/query', () => {
    it('answers many tags in request order, each alone', async () => {
      const r = await s.request('POST', '/history/query', {
        token: hreader,
        body: {
          tags: ['H.Counter', 'Nope', 'H.NoHistory', 'Line1/Speed #1', 'H.Level'],
          from: iso(H0),
          to: iso(H0 + 3_600_000),
          interval: '1h',
          aggregate: 'max',
        },
      });
      expect(r.status).toBe(200);
      const [c, nope, noHist, forbidden, l] = r.json.items;
      expect(c).toEqual({ name: 'H.Counter', items: expectedBuckets(counter, 'max', H0, H0 + 3_600_000, 3_600_000) });
      expect(nope).toMatchObject({ name: 'Nope', error: { code: 'TAG_NOT_FOUND' } });
      expect(noHist).toMatchObject({ name: 'H.NoHistory', error: { code: 'NOT_FOUND' } });
      expect(forbidden).toMatchObject({ name: 'Line1/Speed #1', error: { code: 'FORBIDDEN' } });
      expect(l.items[0].value).toBe(expectedBuckets(level, 'max', H0, H0 + 3_600_000, 3_600_000)[0]!.value);
    });

    it('pages raw results per tag with cursors, and answers CSV with the name first', async () => {
      const body = { tags: ['H.Level', 'H.Text'], from: iso(H0), to: iso(H0 + 3_600_000), limit: 2 };
      const p1 = await s.request('POST', '/history/query', { token: admin, body });
      const [lv, tx] = p1.json.items;
      expect(lv.items).toEqual(level.slice(1, 3).map(rawOf));
      const p2 = await s.request('POST', '/history/query', {
        token: admin,
        body: { ...body, cursors: { 'H.Level': lv.next, 'H.Text': tx.next } },
      });
      expect(p2.json.items[0].items).toEqual(level.slice(3, 5).map(rawOf));
      expect(p2.json.items[1].items.map((i: any) => i.value)).toEqual(['two\nlines']);
      expect(p2.json.items[1].next).toBeNull();
      const csv = await s.request('POST', '/history/query?format=csv', {
        token: admin,
        body: { ...body, tags: ['H.Text'], interval: '1h', aggregate: 'first' },
      });
      expect(csv.text).toBe(`name,timestamp,value,count\r\nH.Text,${iso(H0)},plain,3\r\n`);
      const bad = await s.request('POST', '/history/query?format=csv', { token: admin, body: { ...body, tags: ['H.Text', 'Nope'] } });
      expect(bad.status).toBe(404);
    });

    it('answers a tag named twice once, streamed', async () => {
      const r = await s.request('POST', '/history/query', {
        token: hreader,
        body: { tags: ['H.Text', 'H.Counter', 'H.Text'], from: iso(H0), to: iso(H0 + 3_600_000), interval: '1h', aggregate: 'count' },
      });
      expect(r.status).toBe(200);
      expect(r.headers['transfer-encoding']).toBe('chunked');
      expect(r.json.items.map((i: any) => i.name)).toEqual(['H.Text', 'H.Counter']);
      expect(r.json.items[0].items).toEqual([{ timestamp: iso(H0), value: 3, count: 3 }]);
    });

    it('refuses too many tags and a body with unknown fields', async () => {
      const many = await s.request('POST', '/history/query', {
        token: admin,
        body: { tags: Array.from({ length: 1001 }, (_, i) => `T${i}`) },
      });
      expect(many.status).toBe(413);
      const odd = await s.request('POST', '/history/query', { token: admin, body: { tags: ['H.Level'], colour: 'red' } });
      expect(odd.status).toBe(400);
    });
  });

  describe('live logging', () => {
    it('logs a written value and a Bool, readable at once', async () => {
      const before = Date.now() - 1;
      expect((await s.request('PUT', '/tags/H.Level/value', { token: admin, body: { value: 12.25 } })).status).toBe(200);
      expect((await s.request('PUT', '/tags/H.Flag/value', { token: admin, body: { value: true } })).status).toBe(200);
      const r = await hist('H.Level', `from=${iso(before)}`);
      expect(r.json.items.map((i: any) => i.value)).toContain(12.25);
      const f = await hist('H.Flag', `from=${iso(before - 60_000)}`);
      expect(f.json.items.at(-1)).toMatchObject({ value: true, quality: 'GOOD' });
      const tags = await get('/tags?filter=H.*');
      expect(tags.json.items.find((t: any) => t.name === 'H.Level').history).toBe(true);
      expect(tags.json.items.find((t: any) => t.name === 'H.NoHistory').history).toBeUndefined();
    });
  });

  it('documents both routes in the OpenAPI description', async () => {
    const r = await s.request('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.paths['/tags/{name}/history'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['name', 'from', 'to', 'interval', 'aggregate', 'cursor', 'format']),
    );
    expect(r.json.paths['/history/query'].post).toBeDefined();
  });

  describe('errors', () => {
    const problem = async (r: Promise<{ status: number; headers: any; json: any }>, status: number, code: string) => {
      const x = await r;
      expect(x.status).toBe(status);
      expect(x.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(x.json.code).toBe(code);
      return x.json;
    };
    it('unknown tag 404, tag without history 404', async () => {
      await problem(hist('Nope', range), 404, 'TAG_NOT_FOUND');
      const p = await problem(hist('H.NoHistory', range), 404, 'NOT_FOUND');
      expect(p.detail).toContain('does not log history');
    });
    it('bad interval, lone aggregate, bad aggregate, reversed range, bad cursor, numeric aggregate on text: 400 naming the field', async () => {
      expect((await problem(hist('H.Level', `${range}&interval=5 parsecs&aggregate=avg`), 400, 'VALIDATION_FAILED')).errors).toEqual([
        { field: 'query.interval', message: expect.any(String) },
      ]);
      expect((await problem(hist('H.Level', `${range}&interval=P1M&aggregate=avg`), 400, 'VALIDATION_FAILED')).detail).toContain('months');
      expect((await problem(hist('H.Level', `${range}&aggregate=avg`), 400, 'VALIDATION_FAILED')).errors[0].field).toBe('query.interval');
      expect((await problem(hist('H.Level', `${range}&interval=1m&aggregate=median`), 400, 'VALIDATION_FAILED')).errors[0].field).toMatch(
        /aggregate/,
      );
      expect((await problem(hist('H.Level', `from=${iso(H0)}&to=${iso(H0)}`), 400, 'VALIDATION_FAILED')).errors[0].field).toBe(
        'query.from',
      );
      expect((await problem(hist('H.Level', `${range}&cursor=garbage`), 400, 'VALIDATION_FAILED')).errors[0].field).toBe('query.cursor');
      await problem(hist('H.Level', `${range}&interval=1ms&aggregate=avg`), 400, 'VALIDATION_FAILED');
      await problem(hist('H.Text', `${range}&interval=1m&aggregate=avg`), 400, 'VALIDATION_FAILED');
      await problem(hist('H.Level', 'from=yesterday'), 400, 'VALIDATION_FAILED');
      const body = await problem(
        s.request('POST', '/history/query', { token: admin, body: { tags: ['H.Level'], interval: 'soon', aggregate: 'avg' } }),
        400,
        'VALIDATION_FAILED',
      );
      expect(body.errors[0].field).toBe('body.interval');
    });
    it('403 without history:read (at all, or for that tag); 401 without a token', async () => {
      await problem(hist('H.Level', range, plain), 403, 'FORBIDDEN');
      await problem(hist('Line1/Speed #1', range, hreader), 403, 'FORBIDDEN');
      expect((await hist('H.Level', range, hreader)).status).toBe(200);
      await problem(s.request('POST', '/history/query', { token: plain, body: { tags: ['H.Level'] } }), 403, 'FORBIDDEN');
      await problem(s.request('GET', `/tags/H.Level/history?${range}`), 401, 'UNAUTHENTICATED');
    });
  });
});
