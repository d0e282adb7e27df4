import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadOnSignal } from '../../../src/cli/main.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil as waitFor } from '../../helpers/wait.js';
import { ModbusPeer } from '../drivers/modbus-peer.js';
import { freePort, tempDir } from '../drivers/support.js';

const OPTS = 'pollMs: 100, timeoutMs: 500, reconnectMinMs: 100, reconnectMaxMs: 300';

function projectYaml(portA: number, portB: number, extraTags = ''): string {
  return `
name: Reload test
connections:
  - { name: A, driver: modbus-tcp, host: 127.0.0.1, port: ${portA}, ${OPTS} }
  - { name: B, driver: modbus-tcp, host: 127.0.0.1, port: ${portB}, ${OPTS} }
  - { name: local, driver: internal }
tags:
  - { name: A.Value, type: Int16, connection: A, address: "holding:0", access: readwrite }
  - { name: B.Value, type: Int16, connection: B, address: "holding:0" }
  - { name: Local, type: Int32, connection: local }
${extraTags}
groups:
  - { name: viewers, permissions: [{ permission: tags:read }] }
users:
  - { username: viewer, password: viewer-password, groups: [viewers] }
`;
}

/** POST /connections/reload against real Modbus peers: only the changed connection restarts. */
describe('live reload of connection configuration', () => {
  let s: TestServer;
  let token: string;
  const peers: ModbusPeer[] = [];
  const dir = tempDir('tagway-reload-');
  const file = join(dir.path, 'project.yaml');
  let p1: ModbusPeer, p2: ModbusPeer, p3: ModbusPeer;

  beforeAll(async () => {
    for (const v of [111, 222, 333]) {
      const p = new ModbusPeer(await freePort());
      await p.start();
      p.holding[0] = v;
      peers.push(p);
    }
    [p1, p2, p3] = peers as [ModbusPeer, ModbusPeer, ModbusPeer];
    writeFileSync(file, projectYaml(p1.port, p2.port));
    s = await startTestServer({ projectFile: file });
    token = await s.login();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    for (const p of peers) await p.stop().catch(() => undefined);
    dir.remove();
  });

  const value = async (name: string) => (await s.request('GET', `/tags/${name}/value`, { token })).json;
  const conns = () => s.server.runtime.connections;

  it('restarts only the connection whose definition changed', async () => {
    await waitFor(async () => (await value('A.Value')).value === 111 && (await value('B.Value')).value === 222, 'both peers read');
    expect((await s.request('PUT', '/tags/Local/value', { token, body: { value: 7 } })).status).toBe(200);
    const driverA = conns().driver('A');
    const driverB = conns().driver('B');
    const driverLocal = conns().driver('local');
    const readsB = conns().get('B').stats.reads;
    expect(readsB).toBeGreaterThan(0);
    const localBefore = await value('Local');
    // A drop and return of A's peer before the reload: counted once.
    await p1.stop();
    await waitFor(async () => (await value('A.Value')).quality === 'BAD', 'A lost');
    await p1.start();
    await waitFor(() => conns().get('A').reconnects === 1 && conns().get('A').state === 'CONNECTED', 'A back');
    const connectedBefore = conns().get('A').lastConnected!;

    writeFileSync(file, projectYaml(p3.port, p2.port));
    const r = await s.request('POST', '/connections/reload', { token });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ changed: ['A'], added: [], removed: [], unchanged: ['B', 'local'] });

    await waitFor(async () => {
      const v = await value('A.Value');
      return v.quality === 'GOOD' && v.value === 333;
    }, 'A reads the third peer');
    expect(conns().driver('A')).not.toBe(driverA);
    expect(conns().driver('B')).toBe(driverB);
    expect(conns().driver('local')).toBe(driverLocal);
    expect(conns().definition('A')).toMatchObject({ port: p3.port });
    // The reload's own restart is no reconnect, and what was counted before it stays.
    await waitFor(() => conns().get('A').lastConnected! > connectedBefore, 'A connected again');
    expect(conns().get('A')).toMatchObject({ state: 'CONNECTED', reconnects: 1 });
    expect(conns().get('B').reconnects).toBe(0);
    // B's driver kept running: its counters went on, no reset.
    await waitFor(async () => conns().get('B').stats.reads > readsB, 'B keeps polling');
    expect(await value('B.Value')).toMatchObject({ value: 222, quality: 'GOOD' });
    expect(await value('Local')).toEqual(localBefore);
    expect(s.server.runtime.project.connections.find((c) => c.name === 'A')).toMatchObject({ port: p3.port });
    // The new driver writes to the new peer.
    expect((await s.request('PUT', '/tags/A.Value/value', { token, body: { value: 5 } })).status).toBe(200);
    expect(p3.holding[0]).toBe(5);
    expect(p1.holding[0]).toBe(111);
    const audit = await s.request('GET', '/audit?action=connections.reload', { token });
    expect(audit.json.items[0]).toMatchObject({ action: 'connections.reload', user: 'admin', result: 'OK' });
  });

  it('refuses a reload that adds a tag with 409, listing what needs a restart, and changes nothing', async () => {
    const before = { A: conns().driver('A'), B: conns().driver('B'), local: conns().driver('local') };
    writeFileSync(file, projectYaml(p1.port, p2.port, '  - { name: Extra, type: Bool, connection: local }'));
    const r = await s.request('POST', '/connections/reload', { token });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('INVALID_STATE');
    expect(r.json.errors).toEqual([{ field: '/tags/Extra', message: "tag 'Extra' added" }]);
    expect({ A: conns().driver('A'), B: conns().driver('B'), local: conns().driver('local') }).toEqual(before);
    expect(conns().driver('A')).toBe(before.A);
    expect(conns().definition('A')).toMatchObject({ port: p3.port });
    expect((await s.request('GET', '/tags/Extra/value', { token })).status).toBe(404);
    expect((await value('A.Value')).value).toBe(5);
  });

  it('answers 400 with the problems for an invalid file, and changes nothing', async () => {
    const driverA = conns().driver('A');
    writeFileSync(
      file,
      projectYaml(p1.port, p2.port).replace('connection: B, address: "holding:0"', 'connection: nowhere, address: "holding:0"'),
    );
    const r = await s.request('POST', '/connections/reload', { token });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('VALIDATION_FAILED');
    expect(r.json.errors).toEqual([
      expect.objectContaining({ field: '/tags/1/connection', message: expect.stringContaining("no connection named 'nowhere'") }),
    ]);
    expect(conns().driver('A')).toBe(driverA);
    expect(conns().definition('A')).toMatchObject({ port: p3.port });
  });

  it('adds and removes connections without tags', async () => {
    writeFileSync(
      file,
      projectYaml(p3.port, p2.port).replace(
        '  - { name: local, driver: internal }',
        '  - { name: local, driver: internal }\n  - { name: spare, driver: internal }',
      ),
    );
    const added = await s.request('POST', '/connections/reload', { token });
    expect(added.json).toEqual({ changed: [], added: ['spare'], removed: [], unchanged: ['A', 'B', 'local'] });
    expect(conns().get('spare').tagCount).toBe(0);
    writeFileSync(file, projectYaml(p3.port, p2.port));
    const removed = await s.request('POST', '/connections/reload', { token });
    expect(removed.json).toEqual({ changed: [], added: [], removed: ['spare'], unchanged: ['A', 'B', 'local'] });
    expect(conns().driver('spare')).toBeUndefined();
    expect((await s.request('GET', '/connections/spare', { token })).status).toBe(404);
  });

  it('reloads on SIGHUP (reloadOnSignal): an invalid file is logged and changes nothing, a valid one applies', async () => {
    const driverA = conns().driver('A');
    writeFileSync(file, 'name: [broken');
    await reloadOnSignal(s.server.runtime);
    expect(conns().driver('A')).toBe(driverA);
    const driverB = conns().driver('B');
    writeFileSync(file, projectYaml(p1.port, p2.port));
    await reloadOnSignal(s.server.runtime);
    expect(conns().driver('A')).not.toBe(driverA);
    expect(conns().driver('B')).toBe(driverB);
    await waitFor(async () => {
      const v = await value('A.Value');
      return v.quality === 'GOOD' && v.value === 111;
    }, 'A back on the first peer');
  });

  it('needs users:admin', async () => {
    const viewer = await s.login('viewer', 'viewer-password');
    expect((await s.request('POST', '/connections/reload', { token: viewer })).status).toBe(403);
    expect((await s.request('POST', '/connections/reload')).status).toBe(401);
  });

  it('answers 409 when the server runs an in-memory project', async () => {
    const mem = await startTestServer({
      projectYaml:
        'name: Memory\nconnections:\n  - { name: local, driver: internal }\ntags:\n  - { name: X, type: Bool, connection: local }\n',
    });
    try {
      const r = await mem.request('POST', '/connections/reload', { token: await mem.login() });
      expect(r.status).toBe(409);
      expect(r.json.code).toBe('INVALID_STATE');
    } finally {
      await mem.stop();
    }
  });
});
