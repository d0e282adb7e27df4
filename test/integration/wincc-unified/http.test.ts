import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { gqlClient, UNIFIED_PROJECT, unifiedLogin } from './setup.js';

const VALUE = '{ name value { value timestamp quality { quality subStatus limit } } error { code description } }';
const H0 = Date.UTC(2025, 5, 1, 10, 0, 0);
const iso = (t: number) => new Date(t).toISOString();

describe('WinCC Unified GraphQL over HTTPS (/graphql)', () => {
  let s: TestServer;
  let gql: ReturnType<typeof gqlClient>;
  let admin: string;
  let operator: string;
  let tanker: string;

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: UNIFIED_PROJECT });
    gql = gqlClient(s);
    admin = await unifiedLogin(s, 'admin', ADMIN_PASSWORD);
    operator = await unifiedLogin(s, 'operator', 'operator-password');
    tanker = await unifiedLogin(s, 'tanker', 'tanker-password');
    const store = (s.server.runtime.storage as SqliteStorage).history.store;
    const put = (name: string, rows: Array<[number, number]>) =>
      store.insertBatch({
        count: rows.length,
        tagIds: rows.map(() => store.tagId(name)),
        ts: rows.map((r) => r[0]),
        values: rows.map((r) => r[1]),
        quality: rows.map(() => 0xc0),
      });
    put('Tank1.Level', [
      [H0 - 60_000, 1],
      [H0 + 1_000, 2],
      [H0 + 2_000, 3],
      [H0 + 3_000, 4],
      [H0 + 60_000, 5],
    ]);
    put('Secret.Value', [[H0 + 1_000, 8]]);
  });
  afterAll(() => s?.stop());

  describe('sessions', () => {
    const LOGIN = `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) {
      token expires user { id name fullName groups { id name } language autoLogoffSec } error { code description } } }`;

    it.each([['undefined'], ['Bearer not-a-token'], ['']])(
      'logs in whatever Authorization holds (%j), answering error.code "0"',
      async (auth) => {
        const r = await gql(LOGIN, { u: 'operator', p: 'operator-password' }, { headers: auth ? { authorization: auth } : {} });
        expect(r.status).toBe(200);
        expect(r.errors).toBeUndefined();
        const l = r.data.login;
        expect(l.error).toEqual({ code: '0', description: 'Success' });
        expect(l.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
        expect(Date.parse(l.expires)).toBeGreaterThan(Date.now());
        expect(l.user).toMatchObject({
          id: 'operator',
          name: 'operator',
          groups: [{ id: 'operators', name: 'operators' }],
          autoLogoffSec: 1800,
        });
      },
    );

    it('answers wrong credentials with HTTP 200, token null and code "101", audited like the native login', async () => {
      const r = await gql(LOGIN, { u: 'operator', p: 'wrong' }, { headers: { authorization: 'undefined' } });
      expect(r.status).toBe(200);
      expect(r.data.login).toEqual({
        token: null,
        expires: null,
        user: null,
        error: { code: '101', description: 'Incorrect credentials provided' },
      });
      const audit = await s.request('GET', '/audit?action=auth.login_failed&user=operator', { token: admin });
      expect(audit.json.items.length).toBeGreaterThan(0);
    });

    it('throttles like the native login: after five failures code "105", even with the right password', async () => {
      for (let i = 0; i < 5; i++) expect((await gql(LOGIN, { u: 'ghost', p: `x${i}` })).data.login.error.code).toBe('101');
      const r = await gql(LOGIN, { u: 'ghost', p: 'x' });
      expect(r.data.login).toMatchObject({ token: null, error: { code: '105' } });
    });

    it('shares tokens with the native API in both directions', async () => {
      expect((await s.request('GET', '/tags/HMI_Tag_1/value', { token: operator })).status).toBe(200);
      const native = await s.login('operator', 'operator-password');
      const r = await gql(`{ tagValues(names: ["HMI_Tag_1"]) { value { value } } }`, {}, { token: native });
      expect(r.data.tagValues[0].value.value).toBe(1.5);
    });

    it('session, extendSession and logout(allSessions)', async () => {
      const a = await unifiedLogin(s, 'operator', 'operator-password');
      const b = await unifiedLogin(s, 'operator', 'operator-password');
      const mine = await gql(`{ session { token user { name } error { code } } }`, {}, { token: a });
      expect(mine.data.session).toEqual([{ token: a, user: { name: 'operator' }, error: { code: '0' } }]);
      const all = await gql(`{ session(allSessions: true) { token expires } }`, {}, { token: a });
      expect(all.data.session.length).toBeGreaterThanOrEqual(2);
      expect(all.data.session.filter((x: { token: string | null }) => x.token !== null)).toEqual([expect.objectContaining({ token: a })]);
      const ext = await gql(`mutation { extendSession { token expires error { code } } }`, {}, { token: a });
      expect(ext.data.extendSession).toMatchObject({ token: a, error: { code: '0' } });
      const out = await gql(`mutation { logout }`, {}, { token: a });
      expect(out.data.logout).toBe(true);
      expect((await gql(`{ session { token } }`, {}, { token: a })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await gql(`{ session { token } }`, {}, { token: b })).data.session).toHaveLength(1);
      await gql(`mutation { logout(allSessions: true) }`, {}, { token: b });
      expect((await gql(`{ session { token } }`, {}, { token: b })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      operator = await unifiedLogin(s, 'operator', 'operator-password');
    });

    it('answers the UMC operations with code 102 and everything else without a token with UNAUTHENTICATED', async () => {
      const n = await gql(`{ nonce { value validFor } }`, {}, { token: operator });
      expect(n.status).toBe(200);
      expect(n.errors?.[0].extensions.code).toBe('102');
      expect((await gql(`{ identityProviderURL }`, {}, { token: operator })).errors?.[0].extensions.code).toBe('102');
      const swac = await gql(`mutation { loginSWAC(claim: "c", signedClaim: "s") { token error { code } } }`);
      expect(swac.data.loginSWAC).toEqual({ token: null, error: { code: '102' } });
      const anon = await gql(`{ tagValues(names: ["HMI_Tag_1"]) { name } }`, {}, { headers: { authorization: 'undefined' } });
      expect(anon.status).toBe(200);
      expect(anon.errors?.[0]).toMatchObject({ path: ['tagValues'], extensions: { code: 'UNAUTHENTICATED' } });
    });
  });

  describe('transport and budgets', () => {
    it('serves /graphql/ (trailing slash) too', async () => {
      const r = await gql(`{ tagValues(names: ["HMI_Tag_2"]) { value { value } } }`, {}, { token: operator, path: '/graphql/' });
      expect(r.data.tagValues[0].value.value).toBe(7);
    });

    it('answers a malformed body with 400 and GraphQL-level problems with 200 and extensions.code', async () => {
      const bad = await s.request('POST', '/graphql', { rawBody: '{"query": ', headers: { 'content-type': 'application/json' } });
      expect(bad.status).toBe(400);
      const noQuery = await s.request('POST', '/graphql', { body: { variables: {} } });
      expect(noQuery.status).toBe(400);
      const syntax = await gql(`{ tagValues(names: [) }`, {}, { token: operator });
      expect(syntax.status).toBe(200);
      expect(syntax.errors?.[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
      const unknown = await gql(`{ tagValues(names: ["a"]) { nam } }`, {}, { token: operator });
      expect(unknown.errors?.[0]).toMatchObject({ locations: [expect.any(Object)], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    });

    it('refuses oversized, too deep and too complex queries', async () => {
      const long = await gql(`{ tagValues(names: ["${'x'.repeat(70_000)}"]) { name } }`, {}, { token: operator });
      expect(long.errors?.[0].extensions.code).toBe('QUERY_TOO_LARGE');
      const nested = `{ __schema { types { fields { type ${'{ ofType '.repeat(12)}{ name }${' }'.repeat(12)} } } } }`;
      expect((await gql(nested, {}, { token: operator })).errors?.[0].message).toMatch(/depth|deep/i);
      const badVars = await s.request('POST', '/graphql', { body: { query: '{ session { token } }', variables: 'x' } });
      expect(badVars.status).toBe(400);
      const many = Array.from({ length: 400 }, (_, i) => `a${i}: tagValues(names: ["HMI_Tag_1"]) { name error { code } }`).join(' ');
      expect((await gql(`{ ${many} }`, {}, { token: operator })).errors?.[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      const frag = `fragment F on TagValueResult { name value { value timestamp } error { code description } }
        query { ${Array.from({ length: 200 }, (_, i) => `b${i}: tagValues(names: ["HMI_Tag_1"]) { ...F }`).join(' ')} }`;
      expect((await gql(frag, {}, { token: operator })).errors?.[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    });

    it('refuses documents that would make validation expensive, before validating them (also without a token)', async () => {
      // graphql-js compares fields of one response name pairwise: 300 copies would cost ~200 ms of CPU each time.
      const same = await gql(`{ ${'a: session { token } '.repeat(300)} }`);
      expect(same.errors?.[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      const bomb = `query { ...F12 } fragment F0 on Query { session { token } } ${Array.from({ length: 12 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join(' ')}`;
      expect((await gql(bomb)).errors?.[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      // A handful of repeats (fragments merging the same field) is normal and passes.
      const ok = await gql(
        `fragment N on TagValueResult { name } { tagValues(names: ["HMI_Tag_1"]) { name ...N ...N value { value } } }`,
        {},
        { token: operator },
      );
      expect(ok.data.tagValues[0].name).toBe('HMI_Tag_1');
    });

    it('allows introspection only to signed-in callers', async () => {
      expect((await gql(`{ __schema { queryType { name } } }`)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(
        (await gql(`{ __type(name: "Session") { name } }`, {}, { headers: { authorization: 'undefined' } })).errors?.[0].extensions.code,
      ).toBe('UNAUTHENTICATED');
      const r = await gql(`{ __schema { queryType { name } } }`, {}, { token: operator });
      expect(r.data.__schema.queryType.name).toBe('Query');
    });
  });

  describe('tagValues and writeTagValues', () => {
    it('reads by bare and system-prefixed names, echoing the form sent, with the Quality object', async () => {
      const r = await gql(
        `query ($n: [String!]!) { tagValues(names: $n) ${VALUE} }`,
        { n: ['HMI_Tag_1', 'Plant1::HMI_Tag_2', 'Other::HMI_Tag_1', 'Nope'] },
        { token: operator },
      );
      const [a, b, c, d] = r.data.tagValues;
      expect(a).toMatchObject({
        name: 'HMI_Tag_1',
        value: { value: 1.5, quality: { quality: 'GOOD_CASCADE', subStatus: 'NON_SPECIFIC', limit: 'OK' } },
        error: { code: '0' },
      });
      expect(Date.parse(a.value.timestamp)).toBeGreaterThan(0);
      expect(b).toMatchObject({ name: 'Plant1::HMI_Tag_2', value: { value: 7 }, error: { code: '0' } });
      expect(c).toMatchObject({ name: 'Other::HMI_Tag_1', value: null, error: { code: '2' } });
      expect(d).toEqual({ name: 'Nope', value: null, error: { code: '2', description: "No tag named 'Nope'" } });
    });

    it('answers the system tags', async () => {
      const r = await gql(
        `{ tagValues(names: ["@ServerMachineName", "Plant1::@SystemName", "@RedundancyState_1", "@RedundancyState_2"], directRead: true) { name value { value } error { code } } }`,
        {},
        { token: operator },
      );
      const values = r.data.tagValues.map((t: { value: { value: unknown } }) => t.value.value);
      expect(typeof values[0]).toBe('string');
      expect(values.slice(1)).toEqual(['Plant1', 'ACTIVE', 'ACTIVE']);
    });

    it('writes per item: 0 written, 2 unknown, 201 cannot convert, 203 not allowed, 204 read-only', async () => {
      const W = `mutation ($i: [TagValueInput]!) { writeTagValues(input: $i) { name error { code description } } }`;
      const r = await gql(
        W,
        {
          i: [
            { name: 'Plant1::HMI_Tag_1', value: 12.25 },
            { name: 'Missing', value: 1 },
            { name: 'HMI_Tag_2', value: 'abc' },
            { name: 'Secret.Value', value: 1 },
            { name: 'Tank1.ReadOnly', value: 4 },
            { name: 'Tank1.Level', value: 41, timestamp: '2026-01-01T00:00:00.000Z', quality: { quality: 'GOOD_CASCADE' } },
          ],
        },
        { token: operator },
      );
      expect(r.data.writeTagValues.map((x: { name: string; error: { code: string } }) => [x.name, x.error.code])).toEqual([
        ['Plant1::HMI_Tag_1', '0'],
        ['Missing', '2'],
        ['HMI_Tag_2', '201'],
        ['Secret.Value', '203'],
        ['Tank1.ReadOnly', '204'],
        ['Tank1.Level', '0'],
      ]);
      const back = await gql(`{ tagValues(names: ["HMI_Tag_1"]) { value { value } } }`, {}, { token: admin });
      expect(back.data.tagValues[0].value.value).toBe(12.25);
      // A restricted user is refused per item, and the refusal is audited as on the native API.
      const t = await gql(
        W,
        {
          i: [
            { name: 'Tank1.Level', value: 1 },
            { name: 'Secret.Value', value: 1 },
          ],
        },
        { token: tanker },
      );
      expect(t.data.writeTagValues.map((x: { error: { code: string } }) => x.error.code)).toEqual(['203', '2']);
      const audit = await s.request('GET', '/audit?action=tag.write&user=tanker', { token: admin });
      expect(audit.json.items[0]).toMatchObject({ result: 'FORBIDDEN' });
      const badQ = await gql(
        `mutation { writeTagValues(input: [{name: "HMI_Tag_1", value: 1}], quality: {quality: BAD, subStatus: INIT_ACKED}) { name } }`,
        {},
        { token: operator },
      );
      expect(badQ.errors?.[0].extensions.code).toBe('3');
    });
    it('honours the timestamp and quality of a write on internal tags (item first, then the request-wide ones)', async () => {
      const W = `mutation ($i: [TagValueInput]!, $t: Timestamp, $q: QualityInput) { writeTagValues(input: $i, timestamp: $t, quality: $q) { error { code } } }`;
      const r = await gql(
        W,
        {
          i: [
            {
              name: 'HMI_Tag_2',
              value: 8,
              timestamp: '2026-01-02T03:04:05.678Z',
              quality: { quality: 'UNCERTAIN', subStatus: 'SUBSTITUTE_VALUE' },
            },
            { name: 'Tank1.Pump.Running', value: true },
          ],
          t: '2026-02-01T00:00:00.000Z',
          q: { quality: 'GOOD_NON_CASCADE' },
        },
        { token: operator },
      );
      expect(r.data.writeTagValues.map((x: { error: { code: string } }) => x.error.code)).toEqual(['0', '0']);
      const back = await gql(`{ tagValues(names: ["HMI_Tag_2", "Tank1.Pump.Running"]) ${VALUE} }`, {}, { token: operator });
      expect(back.data.tagValues[0].value).toEqual({
        value: 8,
        timestamp: '2026-01-02T03:04:05.678Z',
        quality: { quality: 'UNCERTAIN', subStatus: 'SUBSTITUTE_VALUE', limit: 'OK' },
      });
      expect(back.data.tagValues[1].value).toMatchObject({
        value: true,
        timestamp: '2026-02-01T00:00:00.000Z',
        quality: { quality: 'GOOD_NON_CASCADE' },
      });
    });
  });

  describe('browse', () => {
    const B = `query ($n: [String], $o: [ObjectTypesEnum], $b: [String]) { browse(nameFilters: $n, objectTypeFilters: $o, baseTypeFilters: $b) { name displayName objectType dataType } }`;
    const names = async (vars: Record<string, unknown>, token = admin) => {
      const r = await gql(B, vars, { token });
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return (r.data.browse as Array<{ name: string }>).map((x) => x.name).sort();
    };
    const TAGS = [
      'HMI_Tag_1',
      'HMI_Tag_2',
      'Info.Flag',
      'Motor.Trip',
      'Pump.Fault',
      'Secret.Value',
      'Tank1.Level',
      'Tank1.Pump.Running',
      'Tank1.ReadOnly',
    ];
    const P = (xs: string[]) => xs.map((x) => `Plant1::${x}`).sort();

    it.each<[string, Record<string, unknown>, string[]]>([
      ['all tags by type TAG', { o: ['TAG'] }, P(TAGS)],
      ['"*" with SIMPLETAG', { n: ['*'], o: ['SIMPLETAG'] }, P(TAGS)],
      ['"*::*": objects without levels', { n: ['*::*'], o: ['TAG'] }, P(['HMI_Tag_1', 'HMI_Tag_2'])],
      [
        '"*.*": first level only',
        { n: ['*.*'], o: ['TAG'] },
        P(['Info.Flag', 'Motor.Trip', 'Pump.Fault', 'Secret.Value', 'Tank1.Level', 'Tank1.ReadOnly']),
      ],
      ['"*.**": every level', { n: ['*.**'], o: ['TAG'] }, P(TAGS.filter((t) => t.includes('.')))],
      ['"Plant1::Tank1.**"', { n: ['Plant1::Tank1.**'] }, P(['Tank1.Level', 'Tank1.Pump.Running', 'Tank1.ReadOnly'])],
      ['"?" is one character', { n: ['HMI_Tag_?'] }, P(['HMI_Tag_1', 'HMI_Tag_2'])],
      ['OR within a list', { n: ['HMI_Tag_1', 'Pump.Fault'], o: ['TAG'] }, P(['HMI_Tag_1', 'Pump.Fault'])],
      ['AND across lists', { n: ['Tank1.*'], b: ['LReal'] }, P(['Tank1.Level'])],
      [
        'base type with the system prefix',
        { b: ['Plant1::Bool'], o: ['TAG'] },
        P(['Info.Flag', 'Motor.Trip', 'Pump.Fault', 'Tank1.Pump.Running']),
      ],
      ['logging tags', { o: ['LOGGINGTAG'] }, P(['HMI_Tag_1:LoggingTag_1', 'Secret.Value:LoggingTag_1', 'Tank1.Level:LoggingTag_1'])],
      ['"*.**:*": sub-elements', { n: ['*.**:*'] }, P(['Secret.Value:LoggingTag_1', 'Tank1.Level:LoggingTag_1'])],
      ['alarms', { o: ['ALARM'] }, P(['InfoFlag', 'MotorTrip', 'PumpFault'])],
      ['alarm classes', { o: ['ALARMCLASS'], n: ['F*', 'W*'] }, P(['Fault', 'Warning'])],
      ['another system', { n: ['Other::*'] }, []],
      ['structure types Tagway has not', { o: ['STRUCTURETAG', 'TAGTYPE'] }, []],
    ])('%s', async (_what, vars, expected) => {
      expect(await names(vars)).toEqual(expected);
    });

    it('answers names, display names, object and data types', async () => {
      const r = await gql(B, { n: ['Tank1.Level', 'Tank1.Level:LoggingTag_1'] }, { token: admin });
      expect(r.data.browse).toEqual([
        { name: 'Plant1::Tank1.Level', displayName: 'Tank level', objectType: 'SIMPLETAG', dataType: 'LReal' },
        { name: 'Plant1::Tank1.Level:LoggingTag_1', displayName: 'Tank1.Level:LoggingTag_1', objectType: 'LOGGINGTAG', dataType: 'LReal' },
      ]);
    });

    it('rejects an explicit null (code 3)', async () => {
      const r = await gql(`{ browse(nameFilters: null) { name } }`, {}, { token: admin });
      expect(r.errors?.[0].extensions.code).toBe('3');
      expect((await gql(`{ browse(nameFilters: ["a", null]) { name } }`, {}, { token: admin })).errors?.[0].extensions.code).toBe('3');
    });

    it('shows a restricted user only what it may read', async () => {
      expect(await names({}, tanker)).toEqual(
        P([
          'PumpFault',
          'Tank1.Level',
          'Tank1.Level:LoggingTag_1',
          'Tank1.Pump.Running',
          'Tank1.ReadOnly',
          'Alarm',
          'Fault',
          'Warning',
          'System',
          'Info',
        ])
          .filter((n) => !n.endsWith('::Info'))
          .sort(),
      );
    });
  });

  describe('loggedTagValues', () => {
    const L = `query ($n: [String]!, $s: Timestamp, $e: Timestamp, $m: Int, $o: LoggedTagValuesSortingModeEnum, $b: LoggedTagValuesBoundingModeEnum) {
      loggedTagValues(names: $n, startTime: $s, endTime: $e, maxNumberOfValues: $m, sortingMode: $o, boundingValuesMode: $b) {
        loggingTagName error { code } values { value { value timestamp quality { quality } } flags } } }`;
    const vals = (r: { data: any }, i = 0) => r.data.loggedTagValues[i].values.map((v: { value: { value: number } }) => v.value.value);

    it('reads a range by logging tag or tag name, ascending or descending, with bounding values', async () => {
      const a = await gql(
        L,
        { n: ['Plant1::Tank1.Level:LoggingTag_1', 'Tank1.Level'], s: iso(H0), e: iso(H0 + 3_000) },
        { token: operator },
      );
      expect(a.data.loggedTagValues[0]).toMatchObject({ loggingTagName: 'Plant1::Tank1.Level:LoggingTag_1', error: { code: '0' } });
      expect(vals(a)).toEqual([2, 3, 4]);
      expect(vals(a, 1)).toEqual([2, 3, 4]);
      const d = await gql(L, { n: ['Tank1.Level'], s: iso(H0), e: iso(H0 + 3_000), o: 'TIME_DESC', m: 2 }, { token: operator });
      expect(vals(d)).toEqual([4, 3]);
      const b = await gql(L, { n: ['Tank1.Level'], s: iso(H0), e: iso(H0 + 3_000), b: 'LEFTRIGHT_BOUNDING_VALUES' }, { token: operator });
      expect(vals(b)).toEqual([1, 2, 3, 4, 5]);
      expect(b.data.loggedTagValues[0].values[0].flags).toEqual(['BOUNDING']);
      expect(b.data.loggedTagValues[0].values[1].flags).toEqual([]);
    });

    it('reads from a start forward or from an end backward with maxNumberOfValues', async () => {
      const f = await gql(L, { n: ['Tank1.Level'], s: iso(H0), m: 2 }, { token: operator });
      expect(vals(f)).toEqual([2, 3]);
      const back = await gql(L, { n: ['Tank1.Level'], e: iso(H0 + 2_500), m: 2, o: 'TIME_DESC' }, { token: operator });
      expect(vals(back)).toEqual([3, 2]);
    });

    it.each<[string, Record<string, unknown>]>([
      ['neither start nor end', {}],
      ['only start without max', { s: iso(H0) }],
      ['only start with TIME_DESC', { s: iso(H0), m: 1, o: 'TIME_DESC' }],
      ['only end with TIME_ASC', { e: iso(H0), m: 1 }],
      ['end before start', { s: iso(H0), e: iso(H0 - 1) }],
      ['a malformed time', { s: 'yesterday', e: iso(H0) }],
    ])('refuses %s with code 3', async (_w, v) => {
      const r = await gql(L, { n: ['Tank1.Level'], ...v }, { token: operator });
      expect(r.errors?.[0].extensions.code).toBe('3');
    });

    it('answers per name: unknown, not logged, not readable (2)', async () => {
      const r = await gql(L, { n: ['Nope:LoggingTag_1', 'HMI_Tag_2', 'Secret.Value'], s: iso(H0), e: iso(H0 + 5_000) }, { token: tanker });
      expect(r.data.loggedTagValues.map((x: { error: { code: string } }) => x.error.code)).toEqual(['2', '2', '2']);
    });
  });

  describe('alarms', () => {
    const A = `query ($f: String, $l: [String], $fl: String) { activeAlarms(filterString: $f, languages: $l, filterLanguage: $fl) {
      name instanceID state priority alarmClassName stateMachine eventText languages backColor flashing userResponse sourceType } }`;
    const write = (name: string, value: unknown) =>
      gql(
        `mutation ($n: String!, $v: Variant!) { writeTagValues(input: [{name: $n, value: $v}]) { error { code } } }`,
        { n: name, v: value },
        { token: operator },
      );
    const active = async (f = '', token = operator) => {
      const r = await gql(A, { f }, { token });
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return r.data.activeAlarms as Array<Record<string, any>>;
    };

    beforeAll(async () => {
      await write('Pump.Fault', true);
      await write('Motor.Trip', true);
      await write('Info.Flag', true);
      await waitUntil(async () => (await active()).length === 3, 'three active alarms');
    });

    it('lists active alarms with Unified attributes and texts per language', async () => {
      const r = await gql(A, { f: "name = 'PumpFault'", l: ['en-US', 'de-DE'] }, { token: operator });
      const [p] = r.data.activeAlarms;
      expect(p).toMatchObject({
        name: 'PumpFault',
        state: 'RAISED',
        priority: 12,
        alarmClassName: 'Alarm',
        stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
        languages: ['en-US', 'de-DE'],
        backColor: '#D32F2FFF',
        flashing: true,
        sourceType: 'TAG',
      });
      expect(p.eventText).toHaveLength(2);
      expect(p.eventText[0]).toBe('Pump fault');
      expect(p.instanceID).toBeGreaterThan(0);
    });

    it.each<[string, string[]]>([
      ['priority >= 12', ['MotorTrip', 'PumpFault']],
      ["alarmClassName = 'warning' OR name LIKE 'Motor*'", ['InfoFlag', 'MotorTrip']],
      ["NOT (priority < 10) AND name <> 'MotorTrip'", ['PumpFault']],
      ["eventText LIKE '*tripped'", ['MotorTrip']],
      ["state = 'RAISED' AND name LIKE 'P?mpFault'", ['PumpFault']],
    ])('filters with %j', async (f, expected) => {
      expect((await active(f)).map((a) => a.name).sort()).toEqual(expected);
    });

    it('answers 301 for a syntax error or unknown attribute, 302/303 for bad languages', async () => {
      expect((await gql(A, { f: 'priority >' }, { token: operator })).errors?.[0].extensions.code).toBe('301');
      expect((await gql(A, { f: 'colour = 1' }, { token: operator })).errors?.[0].extensions.code).toBe('301');
      expect((await gql(A, { l: ['not a language'] }, { token: operator })).errors?.[0].extensions.code).toBe('302');
      expect((await gql(A, { fl: '??' }, { token: operator })).errors?.[0].extensions.code).toBe('303');
    });

    it('shows a restricted user only the alarms of its tags', async () => {
      expect((await active('', tanker)).map((a) => a.name)).toEqual(['PumpFault']);
    });

    it('acknowledges and resets with 304/305 for the wrong class or state', async () => {
      const ACK = `mutation ($i: [AlarmIdentifierInput]!) { acknowledgeAlarms(input: $i) { alarmName alarmInstanceID error { code } } }`;
      const RESET = `mutation ($i: [AlarmIdentifierInput]!) { resetAlarms(input: $i) { alarmName alarmInstanceID error { code } } }`;
      const warnAck = await gql(ACK, { i: [{ name: 'InfoFlag' }, { name: 'Nope' }] }, { token: operator });
      expect(warnAck.data.acknowledgeAlarms.map((x: { error: { code: string } }) => x.error.code)).toEqual(['304', '2']);
      const early = await gql(RESET, { i: [{ name: 'Plant1::MotorTrip' }] }, { token: operator });
      expect(early.data.resetAlarms[0]).toMatchObject({ alarmName: 'Plant1::MotorTrip', error: { code: '305' } });
      expect((await gql(RESET, { i: [{ name: 'PumpFault' }] }, { token: operator })).data.resetAlarms[0].error.code).toBe('304');
      const [pump] = await active("name = 'PumpFault'");
      const ack = await gql(
        ACK,
        {
          i: [
            { name: 'PumpFault', instanceID: pump!.instanceID },
            { name: 'MotorTrip', instanceID: 0 },
          ],
        },
        { token: operator },
      );
      expect(ack.data.acknowledgeAlarms).toEqual([
        { alarmName: 'PumpFault', alarmInstanceID: pump!.instanceID, error: { code: '0' } },
        { alarmName: 'MotorTrip', alarmInstanceID: expect.any(Number), error: { code: '0' } },
      ]);
      expect((await active("name = 'PumpFault'"))[0]!.state).toBe('RAISED_ACKNOWLEDGED');
      await write('Motor.Trip', false);
      await waitUntil(async () => (await active("name = 'MotorTrip'"))[0]?.state === 'RAISED_ACKNOWLEDGED_CLEARED', 'motor cleared');
      expect((await gql(RESET, { i: [{ name: 'MotorTrip' }] }, { token: operator })).data.resetAlarms[0].error.code).toBe('0');
      await waitUntil(async () => (await active("name = 'MotorTrip'")).length === 0, 'motor reset and gone');
      const viewer = await gql(ACK, { i: [{ name: 'PumpFault' }] }, { token: tanker });
      expect(viewer.errors?.[0].extensions.code).toBe('FORBIDDEN');
    });

    it('disables, enables, shelves and unshelves alarms', async () => {
      const op = (m: string, extra = '') =>
        gql(`mutation { ${m}(names: ["InfoFlag", "Plant1::Nope"]${extra}) { alarmName error { code } } }`, {}, { token: operator });
      expect((await op('disableAlarms')).data.disableAlarms).toEqual([
        { alarmName: 'InfoFlag', error: { code: '0' } },
        { alarmName: 'Plant1::Nope', error: { code: '2' } },
      ]);
      const defs = await s.request('GET', '/alarms/definitions/InfoFlag', { token: admin });
      expect(defs.json.enabled).toBe(false);
      expect((await op('enableAlarms')).data.enableAlarms[0].error.code).toBe('0');
      expect((await op('shelveAlarms', ', shelveTimeout: 60000')).data.shelveAlarms[0].error.code).toBe('0');
      expect((await s.request('GET', '/alarms/definitions/InfoFlag', { token: admin })).json.shelvedUntil).toBeDefined();
      expect((await op('unshelveAlarms')).data.unshelveAlarms[0].error.code).toBe('0');
      const audit = await s.request('GET', '/audit?action=alarm.shelve&user=operator', { token: admin });
      expect(audit.json.items[0].details).toMatchObject({ via: 'graphql', durationMs: 60000 });
    });

    it('reads logged alarms from the journal with the filter', async () => {
      const r = await gql(
        `{ loggedAlarms(filterString: "name = 'PumpFault'", languages: ["en-US"]) { name instanceID state changeReason modificationTime eventText deadband } }`,
        {},
        { token: operator },
      );
      const events = r.data.loggedAlarms as Array<{ changeReason: string[]; name: string }>;
      expect(events.length).toBeGreaterThanOrEqual(2);
      expect(events.every((e) => e.name === 'PumpFault')).toBe(true);
      expect(events.map((e) => e.changeReason[0])).toContain('ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT');
      const bad = await gql(`{ loggedAlarms(filterString: "name = ") { name } }`, {}, { token: operator });
      expect(bad.errors?.[0].extensions.code).toBe('301');
      const none = await gql(`{ loggedAlarms(filterString: "name = 'PumpFault'") { name } }`, {}, { token: tanker });
      expect(none.data.loggedAlarms.length).toBeGreaterThan(0);
      const hidden = await gql(`{ loggedAlarms(filterString: "name = 'MotorTrip'") { name } }`, {}, { token: tanker });
      expect(hidden.data.loggedAlarms).toEqual([]);
    });
  });
});
