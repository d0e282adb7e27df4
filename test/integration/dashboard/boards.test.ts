import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const valueCard = (tags: string[]) => ({ kind: 'value', tags });

describe('/boards', () => {
  let s: TestServer;
  let admin: string;
  let operator: string;
  let viewer: string;
  let outsider: string;
  beforeAll(async () => {
    s = await startTestServer({
      // A scoped reader: sees Line1.* only, so a board shared with their group must hide the rest.
      projectYaml: `${(await import('node:fs')).readFileSync(new URL('../../fixtures/project.yaml', import.meta.url), 'utf8')}
  - { username: scoped, password: scoped-password, groups: [line1readers] }
`.replace(
        '  - name: nobody',
        `  - name: line1readers
    permissions:
      - { permission: "tags:read", tags: "Line1.*" }
  - name: nobody`,
      ),
    });
    admin = await s.login();
    operator = await s.login('operator', 'operator-password');
    viewer = await s.login('viewer', 'viewer-password');
    outsider = await s.login('outsider', 'outsider-password');
  });
  afterAll(() => s?.stop());

  it('creates, lists, reads, replaces and deletes a board of its owner, and audits each change', async () => {
    const body = { name: 'Line 1', widgets: [valueCard(['Line1.Setpoint']), { kind: 'alarms', tags: [] }] };
    const c = await s.request('POST', '/boards', { token: operator, body });
    expect(c.status, c.text).toBe(201);
    expect(c.json).toMatchObject({ owner: 'operator', name: 'Line 1', sharedWith: [], mine: true, hiddenTags: 0 });
    expect(c.json.widgets).toHaveLength(2);
    const id = c.json.id as string;
    expect((await s.request('GET', '/boards', { token: operator })).json.items.map((b: any) => b.id)).toEqual([id]);
    expect((await s.request('GET', `/boards/${id}`, { token: operator })).json.widgets[0]).toMatchObject({
      kind: 'value',
      tags: ['Line1.Setpoint'],
    });
    const u = await s.request('PUT', `/boards/${id}`, { token: operator, body: { ...body, name: 'Line 1 (new)' } });
    expect(u.status, u.text).toBe(200);
    expect(u.json.name).toBe('Line 1 (new)');
    expect(u.json.createdAt).toBe(c.json.createdAt);
    expect((await s.request('DELETE', `/boards/${id}`, { token: operator })).status).toBe(204);
    expect((await s.request('GET', `/boards/${id}`, { token: operator })).status).toBe(404);
    const audit = await s.request('GET', '/audit?action=board.create,board.update,board.delete&order=asc', { token: admin });
    expect(audit.json.items.filter((r: any) => r.target === id).map((r: any) => r.action)).toEqual([
      'board.create',
      'board.update',
      'board.delete',
    ]);
  });

  it('shares read-only with a group: members see it, cannot change or delete it; others get 404', async () => {
    const c = await s.request('POST', '/boards', {
      token: operator,
      body: { name: 'Shared', widgets: [valueCard(['Line1.Setpoint'])], sharedWith: ['viewers'] },
    });
    expect(c.status, c.text).toBe(201);
    const id = c.json.id;
    const seen = await s.request('GET', `/boards/${id}`, { token: viewer });
    expect(seen.status).toBe(200);
    expect(seen.json.mine).toBe(false);
    expect((await s.request('GET', '/boards', { token: viewer })).json.items.map((b: any) => b.id)).toContain(id);
    const put = await s.request('PUT', `/boards/${id}`, { token: viewer, body: { name: 'Mine now', widgets: [] } });
    expect(put.status).toBe(403);
    expect(put.json.code).toBe('FORBIDDEN');
    expect((await s.request('DELETE', `/boards/${id}`, { token: viewer })).status).toBe(403);
    // Not shared with the outsider: answered like a board that does not exist.
    expect((await s.request('GET', `/boards/${id}`, { token: outsider })).json.code).toBe('NOT_FOUND');
    expect((await s.request('PUT', `/boards/${id}`, { token: outsider, body: { name: 'x', widgets: [] } })).status).toBe(404);
    expect((await s.request('DELETE', `/boards/${id}`, { token: outsider })).status).toBe(404);
    // An administrator may delete any board.
    expect((await s.request('DELETE', `/boards/${id}`, { token: admin })).status).toBe(204);
  });

  it('shows a viewer only the tags they may read', async () => {
    const c = await s.request('POST', '/boards', {
      token: admin,
      body: {
        name: 'Mixed',
        widgets: [valueCard(['Line1.Setpoint', 'Line2.Setpoint']), valueCard(['Line2.Setpoint']), { kind: 'trend', tags: ['Sim.Sine'] }],
        sharedWith: ['line1readers'],
      },
    });
    expect(c.status, c.text).toBe(201);
    const scoped = await s.login('scoped', 'scoped-password');
    const seen = await s.request('GET', `/boards/${c.json.id}`, { token: scoped });
    expect(seen.status).toBe(200);
    expect(seen.json.widgets.map((w: any) => w.tags)).toEqual([['Line1.Setpoint']]);
    expect(seen.json.hiddenTags).toBe(3);
    expect(JSON.stringify(seen.json)).not.toContain('Line2');
  });

  it('refuses tags the composer may not read (as unknown), unknown groups, bad bodies and over-budget boards', async () => {
    const scoped = await s.login('scoped', 'scoped-password');
    const hidden = await s.request('POST', '/boards', { token: scoped, body: { name: 'x', widgets: [valueCard(['Line2.Setpoint'])] } });
    expect(hidden.status).toBe(404);
    expect(hidden.json.code).toBe('TAG_NOT_FOUND');
    const unknown = await s.request('POST', '/boards', { token: operator, body: { name: 'x', widgets: [valueCard(['No.Such'])] } });
    expect(unknown.json.code).toBe('TAG_NOT_FOUND');
    const group = await s.request('POST', '/boards', { token: operator, body: { name: 'x', widgets: [], sharedWith: ['ghosts'] } });
    expect(group.status).toBe(400);
    expect(group.json.errors[0]).toMatchObject({ field: 'body.sharedWith' });
    const kind = await s.request('POST', '/boards', {
      token: operator,
      body: { name: 'x', widgets: [{ kind: 'pie', tags: ['Line1.Setpoint'] }] },
    });
    expect(kind.status).toBe(400);
    expect(kind.json.code).toBe('VALIDATION_FAILED');
    const noTags = await s.request('POST', '/boards', { token: operator, body: { name: 'x', widgets: [{ kind: 'gauge', tags: [] }] } });
    expect(noTags.status).toBe(400);
    const many = await s.request('POST', '/boards', {
      token: operator,
      body: { name: 'x', widgets: Array.from({ length: 51 }, () => valueCard(['Line1.Setpoint'])) },
    });
    expect(many.status).toBe(413);
    expect(many.json.code).toBe('PAYLOAD_TOO_LARGE');
    const big = await s.request('POST', '/boards', {
      token: operator,
      body: { name: 'x', widgets: [{ kind: 'value', tags: ['Line1.Setpoint'], options: { note: 'x'.repeat(70_000) } }] },
    });
    expect(big.status).toBe(413);
  });

  it('refuses composing without tags:read, and a user over the board budget', async () => {
    const r = await s.request('POST', '/boards', { token: outsider, body: { name: 'x', widgets: [] } });
    expect(r.status).toBe(403);
    expect((await s.request('GET', '/boards', { token: outsider })).json.items).toEqual([]);
    for (let i = 0; i < 100; i++) {
      const c = await s.request('POST', '/boards', { token: viewer, body: { name: `b${i}`, widgets: [] } });
      expect(c.status).toBe(201);
    }
    const over = await s.request('POST', '/boards', { token: viewer, body: { name: 'one too many', widgets: [] } });
    expect(over.status).toBe(409);
    expect(over.json.detail).toMatch(/delete one/);
  });

  it('answers 401 without credentials and 403 CSRF_FAILED for a cookie without the token', async () => {
    expect((await s.request('GET', '/boards')).status).toBe(401);
    const login = await s.request('POST', '/auth/login', { body: { username: 'operator', password: 'operator-password' } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const r = await s.request('POST', '/boards', { headers: { cookie }, body: { name: 'x', widgets: [] } });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('CSRF_FAILED');
    const ok = await s.request('POST', '/boards', {
      headers: { cookie, 'x-csrf-token': login.json.csrfToken },
      body: { name: 'x', widgets: [] },
    });
    expect(ok.status).toBe(201);
  });
});
