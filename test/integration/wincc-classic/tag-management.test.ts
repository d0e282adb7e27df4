import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { BASE, call, LINER, PROJECT } from './fixture.js';

describe('WinCC classic tagManagement', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
  });
  afterAll(() => s?.stop());

  const TM = `${BASE}/tagManagement`;

  it('POST Values: a top-level array in request order; unknown and forbidden names get their own error', async () => {
    const names = ['Line1.Speed', 'No.Such.Tag', 'Secret.Value', 'Line1.Stop', 'Big.Count', 'T.When'];
    const r = await call(s, 'POST', `${TM}/Values`, { auth: LINER, body: { variableNames: names } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json.map((i: { variableName: string }) => i.variableName)).toEqual(names);
    expect(r.json[0]).toMatchObject({ variableName: 'Line1.Speed', dataType: 9, value: 1.5, qualityCode: 192, error: '' });
    expect(r.json[0].timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(r.json[1].error).not.toBe('');
    // A tag outside the caller's scope is answered exactly like an unknown one.
    expect(r.json[2]).toMatchObject({ variableName: 'Secret.Value', dataType: 0, value: null });
    expect(r.json[2].error).toBe(r.json[2].error.replace('Secret.Value', 'Secret.Value'));
    expect(r.json[2].error).not.toBe('');
    expect(r.json[3]).toMatchObject({ dataType: 1, value: false, error: '' });
    // Outside liner's scope too.
    expect(r.json[4].error).not.toBe('');
    const admin = await call(s, 'POST', `${TM}/Values`, { body: { variableNames: ['Big.Count', 'T.When', 'Line1.Count'] } });
    expect(admin.json).toMatchObject([
      { dataType: 13, value: '9007199254740993', error: '' },
      { dataType: 15, value: '2025-06-01T10:00:00.000Z', error: '' },
      { dataType: 6, value: 7, error: '' },
    ]);
  });

  it('names are NFC-normalised and lose BOM and zero-width characters; PascalCase body keys are read', async () => {
    const r = await call(s, 'POST', `${TM}/values`, { body: { VariableNames: ['\uFEFFLine1.Spe\u200Bed', 'Line1.\u2060Stop'] } });
    expect(r.status).toBe(200);
    expect(r.json.map((i: { variableName: string; error: string }) => [i.variableName, i.error])).toEqual([
      ['Line1.Speed', ''],
      ['Line1.Stop', ''],
    ]);
    const one = await call(s, 'GET', `${TM}/Value/${encodeURIComponent('Line1.\u200BSpeed')}`);
    expect(one.json).toMatchObject({ variableName: 'Line1.Speed', error: '' });
  });

  it('a name with ::, dots, spaces and a slash, percent-encoded in the URL', async () => {
    const name = 'Odd::Name. with space/x';
    const r = await call(s, 'GET', `${TM}/Value/${encodeURIComponent(name)}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ variableName: name, dataType: 11, value: 'odd', error: '' });
    const w = await call(s, 'PUT', `${TM}/Value/${encodeURIComponent(name)}`, { body: { value: 'even' } });
    expect(w.json).toMatchObject({ variableName: name, errorcode: 0, error: '' });
    expect((await call(s, 'GET', `${TM}/variable/${encodeURIComponent(name)}`)).json).toMatchObject({
      variableName: name,
      dataTypeName: 'TEXT_16',
    });
    // Malformed percent-encoding is refused by the HTTP server's router before any profile sees it: still JSON.
    const bad = await call(s, 'GET', `${TM}/Value/%E0%A4%A`);
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBeTruthy();
  });

  it('GET Value: one object; an unknown name is a 404 with the item and the error model', async () => {
    const r = await call(s, 'GET', `${TM}/Value/Line1.Speed`);
    expect(r.json).toMatchObject({ variableName: 'Line1.Speed', dataType: 9, value: 1.5, qualityCode: 192, error: '' });
    const u = await call(s, 'GET', `${TM}/Value/Nope`);
    expect(u.status).toBe(404);
    expect(u.json).toMatchObject({ variableName: 'Nope', errorcode: 5, code: 'TAG_NOT_FOUND' });
    expect(u.json.error).toMatch(/Nope/);
  });

  it('PUT Value answers errorcode 0, or the item errorcode for a bad value, a read-only or forbidden tag', async () => {
    const ok = await call(s, 'PUT', `${TM}/Value/Line1.Limited`, { auth: LINER, body: { value: 7.5 } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ variableName: 'Line1.Limited', errorcode: 0, code: 'OK', error: '' });
    expect((await call(s, 'GET', `${TM}/Value/Line1.Limited`)).json.value).toBe(7.5);
    const range = await call(s, 'PUT', `${TM}/Value/Line1.Limited`, { auth: LINER, body: { value: 99 } });
    expect(range.status).toBe(200);
    expect(range.json).toMatchObject({ errorcode: 13, code: 'OUT_OF_RANGE' });
    const type = await call(s, 'PUT', `${TM}/Value/Line1.Limited`, { auth: LINER, body: { value: 'fast' } });
    expect(type.json).toMatchObject({ errorcode: 12, code: 'TYPE_MISMATCH' });
    const hidden = await call(s, 'PUT', `${TM}/Value/Secret.Value`, { auth: LINER, body: { value: 1 } });
    expect(hidden.json.errorcode).not.toBe(0);
    expect((await call(s, 'GET', `${TM}/Value/Secret.Value`)).json.value).toBe(7);
    const noValue = await call(s, 'PUT', `${TM}/Value/Line1.Limited`, { body: { other: 1 } });
    expect(noValue.status).toBe(400);
    expect(noValue.json).toMatchObject({ errorcode: 4 });
  });

  it('PUT Values: a top-level array; a bad item does not stop the others', async () => {
    const r = await call(s, 'PUT', `${TM}/Values`, {
      auth: LINER,
      body: [
        { variableName: 'Line1.Speed', value: 3.25 },
        { variableName: 'Line1.Limited', value: 1000 },
        { variableName: 'Nope', value: 1 },
        { variableName: 'Secret.Value', value: 1 },
        { VariableName: 'Line1.Temp', Value: 21 },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json.map((i: { variableName: string; errorcode: number }) => [i.variableName, i.errorcode === 0])).toEqual([
      ['Line1.Speed', true],
      ['Line1.Limited', false],
      ['Nope', false],
      ['Secret.Value', false],
      ['Line1.Temp', true],
    ]);
    expect(r.json[1].error).not.toBe('');
    const after = await call(s, 'POST', `${TM}/Values`, { body: { variableNames: ['Line1.Speed', 'Line1.Temp', 'Secret.Value'] } });
    expect(after.json.map((i: { value: unknown }) => i.value)).toEqual([3.25, 21, 7]);
    const notArray = await call(s, 'PUT', `${TM}/Values`, { body: { variableName: 'x', value: 1 } });
    expect(notArray.status).toBe(400);
  });

  it('variables, variable, Connections, Connection, Groups, Group; a restricted user sees its scope only', async () => {
    const all = await call(s, 'GET', `${TM}/variables`);
    expect(all.json.map((v: { variableName: string }) => v.variableName)).toContain('Secret.Value');
    const mine = await call(s, 'GET', `${TM}/variables`, { auth: LINER });
    expect(mine.json.map((v: { variableName: string }) => v.variableName)).toEqual([
      'Line1.Speed',
      'Line1.Count',
      'Line1.Stop',
      'Line1.Temp',
      'Line1.Limited',
    ]);
    expect(mine.json[3]).toMatchObject({
      variableName: 'Line1.Temp',
      dataType: 9,
      dataTypeName: 'DOUBLE',
      unit: 'degC',
      groupName: 'Line1',
    });
    expect((await call(s, 'GET', `${TM}/variable/Secret.Value`, { auth: LINER })).status).toBe(404);
    const conns = await call(s, 'GET', `${TM}/Connections`);
    expect(conns.json.map((c: { connectionName: string }) => c.connectionName)).toEqual(['internal', 'spare']);
    expect(conns.json[0]).toMatchObject({ driver: 'internal', variableCount: 9 });
    // A scoped reader sees the connections of its tags only.
    const linerConns = await call(s, 'GET', `${TM}/Connections`, { auth: LINER });
    expect(linerConns.json).toEqual([expect.objectContaining({ connectionName: 'internal', variableCount: 5 })]);
    expect((await call(s, 'GET', `${TM}/Connection/spare`, { auth: LINER })).status).toBe(404);
    expect((await call(s, 'GET', `${TM}/Connection/internal`)).json).toMatchObject({ connectionName: 'internal' });
    expect((await call(s, 'GET', `${TM}/Connection/none`)).status).toBe(404);
    expect((await call(s, 'GET', `${TM}/Groups`)).json.map((g: { groupName: string }) => g.groupName)).toEqual(['Line1', 'Secret']);
    expect((await call(s, 'GET', `${TM}/Groups`, { auth: LINER })).json.map((g: { groupName: string }) => g.groupName)).toEqual(['Line1']);
    expect((await call(s, 'GET', `${TM}/Group/Line1`)).json).toMatchObject({ groupName: 'Line1', variableCount: 5 });
    expect((await call(s, 'GET', `${TM}/Group/Secret`, { auth: LINER })).status).toBe(404);
  });

  it('structure types: Tagway has none (empty lists, named ones not found)', async () => {
    expect((await call(s, 'GET', `${TM}/StructureTypes`)).json).toEqual([]);
    expect((await call(s, 'GET', `${TM}/StructureVariables`)).json).toEqual([]);
    const t = await call(s, 'GET', `${TM}/StructureType/Motor`);
    expect(t.status).toBe(404);
    expect(t.json).toMatchObject({ errorcode: 6, code: 'NOT_FOUND' });
    expect((await call(s, 'GET', `${TM}/StructureVariable/Motor`)).status).toBe(404);
    const p = await call(s, 'POST', `${TM}/StructureVariables`, { body: { typeNames: ['Motor'] } });
    expect(p.status).toBe(200);
    expect(p.json).toEqual([
      { typeName: 'Motor', variables: [], errorcode: 6, code: 'NOT_FOUND', error: "No structure type named 'Motor'" },
    ]);
    expect((await call(s, 'POST', `${TM}/StructureVariables`, { body: { typeNames: 'Motor' } })).status).toBe(400);
  });

  it('paging: itemLimit and continuationPoint walk variables, with X-Continuation-Point until the last page', async () => {
    const all = (await call(s, 'GET', `${TM}/variables`)).json.map((v: { variableName: string }) => v.variableName);
    const seen: string[] = [];
    let next: string | undefined = '0';
    let pages = 0;
    while (next !== undefined) {
      const r = await call(s, 'GET', `${TM}/variables?itemLimit=4&continuationPoint=${next}`);
      expect(r.status).toBe(200);
      expect(r.json.length).toBeLessThanOrEqual(4);
      seen.push(...r.json.map((v: { variableName: string }) => v.variableName));
      next = r.headers['x-continuation-point'] as string | undefined;
      pages++;
    }
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 4));
    for (const path of ['Connections', 'Groups', 'StructureTypes', 'StructureVariables', 'variables']) {
      const whole = (await call(s, 'GET', `${TM}/${path}`)).json;
      const first = await call(s, 'GET', `${TM}/${path}?itemLimit=1`);
      expect(first.json, path).toEqual(whole.slice(0, 1));
      expect(first.headers['x-continuation-point'], path).toBe(whole.length > 1 ? '1' : undefined);
      const rest = await call(s, 'GET', `${TM}/${path}?ITEMLIMIT=50&ContinuationPoint=1`);
      expect(rest.json, path).toEqual(whole.slice(1));
    }
    const bad = await call(s, 'GET', `${TM}/variables?itemLimit=0`);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ errorcode: 4 });
  });

  it('bulk read: malformed bodies are refused as a whole in the error model', async () => {
    const r = await call(s, 'POST', `${TM}/Values`, { body: { variableNames: [1] } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ errorcode: 4, code: 'VALIDATION_FAILED' });
    const empty = await s.request('POST', `${TM}/Values`, {
      headers: { authorization: LINER, 'content-type': 'application/json' },
      rawBody: '',
    });
    expect(empty.status).toBe(400);
    expect(empty.json.errorcode).toBe(4);
    const broken = await s.request('POST', `${TM}/Values`, {
      headers: { authorization: LINER, 'content-type': 'application/json' },
      rawBody: '{',
    });
    expect(broken.status).toBe(400);
    expect(broken.json.errorcode).toBe(4);
    const tooMany = await call(s, 'POST', `${TM}/Values`, { body: { variableNames: Array.from({ length: 10_001 }, (_, i) => `n${i}`) } });
    expect(tooMany.status).toBe(413);
    expect(tooMany.json).toMatchObject({ errorcode: 14, code: 'PAYLOAD_TOO_LARGE' });
  });
});
