import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProject } from '../../src/project/load.js';
import { ProjectError } from '../../src/project/problems.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 11, finding 10: a tag scope on a permission that is not about tags was accepted and ignored, so
 * `users:admin` scoped to `Line1.*` was full admin (such a user put itself into `admins`) and a scoped `audit:read`
 * read everything. Such scopes are now refused: 400 on the group API, a problem with its line in the project file.
 */
describe('tag scopes on non-tag permissions', () => {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await s.login();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('the group API refuses them with 400 on create and change, and nothing is stored', async () => {
    for (const permission of ['users:admin', 'audit:read']) {
      const r = await s.request('POST', '/groups', {
        token: admin,
        body: {
          name: 'scoped',
          permissions: [
            { permission: 'tags:read', tags: 'Line1.**' },
            { permission, tags: 'Line1.*' },
          ],
        },
      });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('VALIDATION_FAILED');
      expect(r.json.errors[0].field).toBe('body.permissions.1.tags');
      expect((await s.request('GET', '/groups/scoped', { token: admin })).status).toBe(404);
    }
    expect(
      (
        await s.request('POST', '/groups', {
          token: admin,
          body: { name: 'line1', permissions: [{ permission: 'tags:read', tags: 'Line1.**' }] },
        })
      ).status,
    ).toBe(201);
    const p = await s.request('PATCH', '/groups/line1', {
      token: admin,
      body: { permissions: [{ permission: 'users:admin', tags: 'Line1.*' }] },
    });
    expect(p.status).toBe(400);
    expect((await s.request('GET', '/groups/line1', { token: admin })).json.permissions).toEqual([
      { permission: 'tags:read', tags: 'Line1.**' },
    ]);
  });

  it('a scoped non-tag grant stored before the fix grants nothing after a restart (fail closed)', async () => {
    // Written the way an older version stored it, past today's API check.
    await s.server.runtime.storage.groups.upsert({
      name: 'legacy',
      permissions: [
        { permission: 'users:admin', tags: 'Line1.*' },
        { permission: 'audit:read', tags: 'Line1.*' },
        { permission: 'tags:read', tags: 'Line1.**' },
      ],
    });
    await s.restart();
    admin = await s.login();
    expect((await s.request('GET', '/groups/legacy', { token: admin })).json.permissions).toEqual([
      { permission: 'tags:read', tags: 'Line1.**' },
    ]);
    const created = await s.request('POST', '/users', {
      token: admin,
      body: { username: 'lena', password: 'Strong-Pass-for-L1', groups: ['legacy'] },
    });
    expect(created.status).toBe(201);
    const lena = await s.login('lena', 'Strong-Pass-for-L1');
    expect((await s.request('GET', '/users', { token: lena })).status).toBe(403);
    expect((await s.request('PATCH', '/users/lena', { token: lena, body: { groups: ['admins'] } })).status).toBe(403);
    expect((await s.request('GET', '/audit', { token: lena })).status).toBe(403);
  }, 30_000);

  it('the project loader reports them with their line', () => {
    const yaml = [
      'name: P',
      'connections: [{ name: internal, driver: internal }]',
      'tags:',
      '  - { name: A, type: Bool, connection: internal }',
      'groups:',
      '  - name: g',
      '    permissions:',
      '      - { permission: "tags:read", tags: "A*" }',
      '      - { permission: "users:admin", tags: "Line1.*" }',
      '',
    ].join('\n');
    let problems: Array<{ line: number; path: string; message: string }> = [];
    try {
      parseProject(yaml, 'p.yaml');
    } catch (e) {
      if (!(e instanceof ProjectError)) throw e;
      problems = e.problems;
    }
    expect(problems).toEqual([expect.objectContaining({ line: 9, path: '/groups/0/permissions/1/tags' })]);
    expect(problems[0]!.message).toMatch(/users:admin.*not about tags/);
  });
});
