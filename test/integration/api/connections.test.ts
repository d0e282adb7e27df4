import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil as waitFor } from '../../helpers/wait.js';
import { ModbusPeer } from '../drivers/modbus-peer.js';
import { startPeer, type Peer } from '../drivers/opcua-peer.js';
import { freePort, tempDir } from '../drivers/support.js';

/** Drivers seen through the HTTP API: connection state, BAD quality while down, 503 writes, OPC UA browse. */
describe('connections over HTTPS with real Modbus and OPC UA peers', () => {
  let s: TestServer;
  let token: string;
  let modbus: ModbusPeer;
  let opcua: Peer;
  const dir = tempDir('tagway-conn-');
  beforeAll(async () => {
    modbus = new ModbusPeer(await freePort());
    await modbus.start();
    modbus.holding[0] = 1234;
    const opcuaPort = await freePort();
    opcua = await startPeer(opcuaPort, dir.path);
    s = await startTestServer({
      projectYaml: `
name: Connections test
connections:
  - { name: mb, driver: modbus-tcp, host: 127.0.0.1, port: ${modbus.port}, pollMs: 100, timeoutMs: 500, reconnectMinMs: 100, reconnectMaxMs: 300 }
  - { name: ua, driver: opcua, endpointUrl: "opc.tcp://127.0.0.1:${opcuaPort}", pkiDir: "${dir.path}/client", reconnectMinMs: 100, reconnectMaxMs: 300 }
  - { name: internal, driver: internal }
tags:
  - { name: Mb.Value, type: Int16, connection: mb, address: "holding:0", access: readwrite }
  - { name: Ua.Double, type: Float64, connection: ua, address: "ns=1;s=Plant.Double", access: readwrite }
  - { name: Local, type: Bool, connection: internal }
`,
    });
    token = await s.login();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await modbus?.stop().catch(() => undefined);
    await opcua?.stop();
    dir.remove();
  });

  const value = async (name: string) => (await s.request('GET', `/tags/${name}/value`, { token })).json;

  it('lists connections with their state and counters', async () => {
    await waitFor(
      async () => (await value('Mb.Value')).quality === 'GOOD' && (await value('Ua.Double')).quality === 'GOOD',
      'both drivers connected',
    );
    const r = await s.request('GET', '/connections', { token });
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.json.items.map((c: any) => [c.name, c]));
    expect(byName.mb).toMatchObject({ driver: 'modbus-tcp', state: 'CONNECTED', tagCount: 1 });
    expect(byName.ua).toMatchObject({ driver: 'opcua', state: 'CONNECTED', tagCount: 1 });
    expect(byName.mb.stats.reads).toBeGreaterThan(0);
    // A count from the start (a poll timeout on a loaded machine may already have cost one reconnect; the drop
    // below checks that each loss counts exactly once).
    expect(Number.isInteger(byName.mb.reconnects) && byName.mb.reconnects >= 0).toBe(true);
    expect(Date.parse(byName.mb.lastConnected)).toBeGreaterThan(0);
    expect(byName.internal.reconnects).toBe(0);
    expect((await s.request('GET', '/connections/mb', { token })).json.name).toBe('mb');
    expect((await s.request('GET', '/connections/nope', { token })).json.code).toBe('NOT_FOUND');
    expect((await s.request('GET', '/connections')).status).toBe(401);
    expect((await value('Mb.Value')).value).toBe(1234);
  });

  it('writes through Modbus to the device', async () => {
    const w = await s.request('PUT', '/tags/Mb.Value/value', { token, body: { value: -2 } });
    expect(w.status).toBe(200);
    expect(modbus.holding[0]).toBe(0xfffe);
  });

  it('browses the OPC UA address space', async () => {
    const root = await s.request('GET', '/connections/ua/browse', { token });
    expect(root.status).toBe(200);
    const plant = root.json.items.find((i: any) => i.browseName.endsWith('Plant'));
    expect(plant).toMatchObject({ nodeClass: 'Object' });
    const children = await s.request('GET', `/connections/ua/browse?nodeId=${encodeURIComponent(plant.nodeId)}`, { token });
    expect(children.json.items.find((i: any) => i.nodeId.includes('Plant.Double'))).toMatchObject({
      nodeClass: 'Variable',
      dataType: 'Double',
    });
    expect((await s.request('GET', '/connections/mb/browse', { token })).json.code).toBe('NOT_FOUND');
    expect((await s.request('GET', '/connections/ua/browse?nodeId=garbage', { token })).status).toBe(400);
  });

  it('reads BAD and refuses writes with 503 while a device is down, then recovers', async () => {
    const before = (await s.request('GET', '/connections/mb', { token })).json;
    await modbus.stop();
    const bad = await waitFor(async () => {
      const v = await value('Mb.Value');
      return v.quality === 'BAD' ? v : undefined;
    }, 'Modbus tag BAD');
    expect(bad.subStatus).toBe('NOT_CONNECTED');
    expect(bad.value).toBe(-2);
    const w = await s.request('PUT', '/tags/Mb.Value/value', { token, body: { value: 5 } });
    expect(w.status).toBe(503);
    expect(w.json.code).toBe('DEVICE_UNAVAILABLE');
    const status = (await s.request('GET', '/connections/mb', { token })).json;
    expect(status.state).not.toBe('CONNECTED');
    expect(status.lastError).toEqual(expect.any(String));
    expect((await s.request('GET', '/health')).json.status).toBe('degraded');
    expect((await value('Local')).quality).toBe('GOOD');
    await modbus.start();
    modbus.holding[0] = 77;
    await waitFor(async () => {
      const v = await value('Mb.Value');
      return v.quality === 'GOOD' && v.value === 77;
    }, 'Modbus tag back to GOOD');
    // The drop and the return are counted once, in the API and in /metrics.
    const after = (await s.request('GET', '/connections/mb', { token })).json;
    expect(after).toMatchObject({ state: 'CONNECTED', reconnects: before.reconnects + 1 });
    expect(Date.parse(after.lastConnected)).toBeGreaterThan(Date.parse(before.lastConnected));
    const metrics = (await s.request('GET', '/metrics', { token })).text;
    expect(metrics).toContain(`tagway_connection_reconnects_total{connection="mb",driver="modbus-tcp"} ${before.reconnects + 1}`);
  });
});
