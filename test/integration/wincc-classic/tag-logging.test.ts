import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { BASE, call, H0, LINER, PROJECT, seedHistory, TAGS_ONLY } from './fixture.js';

const iso = (t: number) => new Date(t).toISOString();

describe('WinCC classic tagLogging', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    seedHistory(s);
  });
  afterAll(() => s?.stop());

  const TL = `${BASE}/tagLogging`;
  const window = { timeFrom: iso(H0), timeTo: iso(H0 + 10_000) };

  it('Archives and Archive/{a}: the one configured archive; another name is not found', async () => {
    const r = await call(s, 'GET', `${TL}/Archives`);
    expect(r.json).toEqual([{ archiveName: 'PlantArchive', archiveType: 'TagLogging', variableCount: 3 }]);
    expect((await call(s, 'GET', `${TL}/Archives`, { auth: LINER })).json[0].variableCount).toBe(2);
    expect((await call(s, 'GET', `${TL}/Archive/plantarchive`)).json).toMatchObject({ archiveName: 'PlantArchive' });
    const other = await call(s, 'GET', `${TL}/Archive/Tagway`);
    expect(other.status).toBe(404);
    expect(other.json).toMatchObject({ errorcode: 6, code: 'NOT_FOUND' });
  });

  it('Archive variables, Variables and Variable/{tag}, with the timer of each', async () => {
    const r = await call(s, 'GET', `${TL}/Archive/PlantArchive/Variables`, { auth: LINER });
    expect(r.json).toEqual([
      { variableName: 'Line1.Speed', archiveName: 'PlantArchive', dataType: 9, loggingMode: 'onChange', timerName: 'OnChange', cycleMs: 0 },
      {
        variableName: 'Line1.Count',
        archiveName: 'PlantArchive',
        dataType: 6,
        loggingMode: 'cyclic',
        timerName: '5 min',
        cycleMs: 300_000,
      },
    ]);
    expect((await call(s, 'GET', `${TL}/Variables`)).json).toHaveLength(3);
    expect((await call(s, 'GET', `${TL}/Archive/PlantArchive/Variable/Line1.Count`)).json).toMatchObject({ timerName: '5 min' });
    expect((await call(s, 'GET', `${TL}/Variable/Line1.Speed`)).json).toMatchObject({ loggingMode: 'onChange' });
    expect((await call(s, 'GET', `${TL}/Variable/Line1.Temp`)).status).toBe(404); // not logged
    expect((await call(s, 'GET', `${TL}/Variable/Secret.Value`, { auth: LINER })).status).toBe(403);
    expect((await call(s, 'GET', `${TL}/Archive/Other/Variables`)).status).toBe(404);
  });

  it('Timers: the historian logging cycles; Timer/{name}', async () => {
    expect((await call(s, 'GET', `${TL}/Timers`)).json).toEqual([
      { timerName: 'OnChange', cycleMs: 0, variableCount: 2 },
      { timerName: '5 min', cycleMs: 300_000, variableCount: 1 },
    ]);
    expect((await call(s, 'GET', `${TL}/Timer/5min`)).json).toMatchObject({ cycleMs: 300_000 });
    expect((await call(s, 'GET', `${TL}/Timer/1 h`)).status).toBe(404);
  });

  it('POST Values with {"variableNames"}: per variable its values or its error, in request order', async () => {
    const q = `timeFrom=${encodeURIComponent(window.timeFrom)}&timeTo=${encodeURIComponent(window.timeTo)}`;
    const r = await call(s, 'POST', `${TL}/Values?${q}`, {
      auth: LINER,
      body: { variableNames: ['Line1.Speed', 'Nope', 'Secret.Value', 'Line1.Count'] },
    });
    expect(r.status).toBe(200);
    expect(r.json.map((v: { variableName: string }) => v.variableName)).toEqual(['Line1.Speed', 'Nope', 'Secret.Value', 'Line1.Count']);
    expect(r.json[0]).toMatchObject({ archiveName: 'PlantArchive', error: '' });
    expect(r.json[0].values.map((v: { value: number }) => v.value)).toEqual([1, 2, 3, 4, 5]);
    expect(r.json[0].values[0]).toEqual({ value: 1, timestamp: iso(H0 + 1000), qualityCode: 192 });
    expect(r.json[1].error).not.toBe('');
    expect(r.json[2].error).not.toBe('');
    expect(r.json[2].values).toEqual([]);
    expect(r.json[3].values.map((v: { value: number }) => v.value)).toEqual([42]);
  });

  it('POST Values with {"archives": [...]}: each variable its own window, range and maxValues', async () => {
    const r = await call(s, 'POST', `${TL}/Values`, {
      body: {
        archives: [
          {
            name: 'PlantArchive',
            variables: [
              { name: 'Line1.Speed', ...window, maxValues: 2 },
              // WinCC's local form without a zone is UTC; `to` is inclusive.
              { name: 'Line1.Speed', timeFrom: '2025-06-01 10:00:03', timeTo: '2025-06-01 10:00:04' },
              { name: 'Line1.Speed', timeTo: iso(H0 + 5000), range: 2 },
              { name: 'Secret.Value', ...window },
            ],
          },
          { name: 'Elsewhere', variables: [{ name: 'Line1.Speed' }] },
        ],
      },
    });
    expect(r.status).toBe(200);
    const values = (i: number) => r.json[i].values.map((v: { value: number }) => v.value);
    expect(values(0)).toEqual([1, 2]);
    expect(values(1)).toEqual([3, 4]);
    expect(values(2)).toEqual([3, 4, 5]);
    expect(values(3)).toEqual([8]);
    expect(r.json[4]).toMatchObject({ archiveName: 'Elsewhere', variableName: 'Line1.Speed', values: [] });
    expect(r.json[4].error).toMatch(/archive/);
    const bad = await call(s, 'POST', `${TL}/Values`, {
      body: { archives: [{ name: 'PlantArchive', variables: [{ name: 'Line1.Speed', timeFrom: 'yesterday' }] }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ errorcode: 4 });
    expect((await call(s, 'POST', `${TL}/Values`, { body: { neither: 1 } })).status).toBe(400);
  });

  it('POST Archive/{a}/values?maxValues=N and GET Archive/{a}/Value/{v}', async () => {
    const q = `timeFrom=${encodeURIComponent(window.timeFrom)}&timeTo=${encodeURIComponent(window.timeTo)}`;
    const r = await call(s, 'POST', `${TL}/Archive/PlantArchive/values?maxValues=3&${q}`, { body: { variableNames: ['Line1.Speed'] } });
    expect(r.json[0].values.map((v: { value: number }) => v.value)).toEqual([1, 2, 3]);
    expect(
      (await call(s, 'POST', `${TL}/Archive/PlantArchive/values?maxValues=0`, { body: { variableNames: ['Line1.Speed'] } })).status,
    ).toBe(400);
    expect((await call(s, 'POST', `${TL}/Archive/Other/values`, { body: { variableNames: ['Line1.Speed'] } })).status).toBe(404);
    const one = await call(s, 'GET', `${TL}/Archive/PlantArchive/Value/Line1.Speed?${q}&maxValues=2`);
    expect(one.json).toMatchObject({ variableName: 'Line1.Speed', error: '' });
    expect(one.json.values).toHaveLength(2);
    expect((await call(s, 'GET', `${TL}/Archive/PlantArchive/Value/Nope`)).status).toBe(404);
    expect((await call(s, 'GET', `${TL}/Archive/PlantArchive/Value/Secret.Value`, { auth: LINER })).status).toBe(403);
  });

  it('paging across the tagLogging lists', async () => {
    for (const path of ['Archive/PlantArchive/Variables', 'Variables', 'Timers', 'Archives']) {
      const all = (await call(s, 'GET', `${TL}/${path}`)).json;
      const first = await call(s, 'GET', `${TL}/${path}?itemLimit=1`);
      expect(first.json).toEqual(all.slice(0, 1));
      expect(first.headers['x-continuation-point']).toBe(all.length > 1 ? '1' : undefined);
      const rest = await call(s, 'GET', `${TL}/${path}?itemLimit=100&continuationPoint=1`);
      expect(rest.json).toEqual(all.slice(1));
    }
  });

  it('a user without history:read is refused in the error model', async () => {
    const r = await call(s, 'GET', `${TL}/Archives`, { auth: TAGS_ONLY });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ errorcode: 2, code: 'FORBIDDEN' });
  });
});
