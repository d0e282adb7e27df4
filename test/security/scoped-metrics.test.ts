import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Finding 15: /metrics and /connections showed global figures to a reader whose `tags:read` is scoped. Now such a
 * reader sees the connections that supply its tags (with the count of its tags) and tag figures over its tags only,
 * and no server-wide figures.
 */
describe('scoped readers of /metrics and /connections', () => {
  let s: TestServer;
  let scoped: string;
  let full: string;
  beforeAll(async () => {
    s = await startTestServer({
      projectYaml: `
name: Scoped metrics
connections:
  - { name: line1, driver: internal }
  - { name: tank, driver: internal }
  - { name: sim, driver: simulator }
tags:
  - { name: Line1.Speed, type: Float64, connection: line1 }
  - { name: Line1.Count, type: Int32, connection: line1 }
  - { name: Line1.Secret, type: Int32, connection: line1 }
  - { name: Tank1.Level, type: Float64, connection: tank }
  - { name: Tank1.Temp, type: Float64, connection: tank }
  - { name: Sim.Sine, type: Float64, connection: sim, simulation: { kind: sine, cycleMs: 100, periodMs: 2000, min: 0, max: 10 } }
groups:
  - name: line1-readers
    permissions:
      - { permission: "tags:read", tags: "Line1.S*" }
  - name: readers
    permissions:
      - { permission: "tags:read" }
users:
  - { username: scoped, password: scoped-password-1, groups: [line1-readers] }
  - { username: reader, password: reader-password-1, groups: [readers] }
`,
    });
    scoped = await s.login('scoped', 'scoped-password-1');
    full = await s.login('reader', 'reader-password-1');
  });
  afterAll(async () => {
    await s?.stop();
  });

  const tagCounts = (text: string) =>
    ['GOOD', 'UNCERTAIN', 'BAD'].reduce(
      (n, q) => n + Number(new RegExp(`^tagway_tags\\{quality="${q}"\\} (\\d+)$`, 'm').exec(text)?.[1]),
      0,
    );

  it('an unscoped reader sees every connection and every tag', async () => {
    const m = await s.request('GET', '/metrics', { token: full });
    expect(m.status).toBe(200);
    expect(tagCounts(m.text)).toBe(6);
    for (const c of ['line1', 'tank', 'sim']) expect(m.text).toContain(`tagway_connection_up{connection="${c}"`);
    expect(m.text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(m.text).toMatch(/^tagway_push_connections \d+$/m);
    const c = await s.request('GET', '/connections', { token: full });
    expect(c.json.items.map((i: any) => [i.name, i.tagCount])).toEqual([
      ['line1', 3],
      ['tank', 2],
      ['sim', 1],
    ]);
  });

  it('a scoped reader gets figures over its own tags and connections only', async () => {
    const m = await s.request('GET', '/metrics', { token: scoped });
    expect(m.status).toBe(200);
    // Line1.Speed and Line1.Secret match Line1.S*; Line1.Count and the other connections' tags do not.
    expect(tagCounts(m.text)).toBe(2);
    expect(m.text).toContain('tagway_connection_up{connection="line1"');
    expect(m.text).not.toContain('connection="tank"');
    expect(m.text).not.toContain('connection="sim"');
    for (const global of ['process_resident_memory_bytes', 'nodejs_heap_used_bytes', 'tagway_push_connections', 'tagway_alarms_current'])
      expect(m.text).not.toContain(global);

    const c = await s.request('GET', '/connections', { token: scoped });
    expect(c.status).toBe(200);
    expect(c.json.items.map((i: any) => [i.name, i.tagCount])).toEqual([['line1', 2]]);
    expect((await s.request('GET', '/connections/line1', { token: scoped })).json.tagCount).toBe(2);
    // Out of scope answers exactly like a connection that does not exist.
    const hidden = await s.request('GET', '/connections/tank', { token: scoped });
    const missing = await s.request('GET', '/connections/nope', { token: scoped });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.json.detail).toBe(missing.json.detail.replace('nope', 'tank'));
    expect((await s.request('GET', '/connections/line1/browse', { token: scoped })).status).toBe(403);
  });
});
