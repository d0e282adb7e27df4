import { DataType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TagwayError } from '../../../src/domain/problems.js';
import { Quality } from '../../../src/domain/quality.js';
import type { TagType, TagValue } from '../../../src/domain/tag-types.js';
import { browse, opcua, type OpcUaDriver } from '../../../src/drivers/opcua/index.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { get, set, startPeer, USER, type Peer } from './opcua-peer.js';
import { def, freePort, harness, silentServer, tempDir, waitFor, type Harness } from './support.js';

/** Tag type and the value the peer's initial value reads as, per variable. */
const EXPECTED: Array<[string, TagType, TagValue]> = [
  ['Bool', 'Bool', true],
  ['SByte', 'Int8', -12],
  ['Byte', 'UInt8', 200],
  ['Int16', 'Int16', -30000],
  ['UInt16', 'UInt16', 60000],
  ['Int32', 'Int32', -2000000000],
  ['UInt32', 'UInt32', 4000000000],
  ['Int64', 'Int64', '-2'],
  ['UInt64', 'UInt64', '18446744073709551615'],
  ['Float', 'Float32', 1.5],
  ['Double', 'Float64', 3.141592653589793],
  ['String', 'String', 'héllo'],
  ['DateTime', 'DateTime', '2026-11-25T04:00:00.123Z'],
];

const FAST = {
  publishingIntervalMs: 50,
  samplingIntervalMs: 20,
  timeoutMs: 3000,
  reconnectMinMs: 100,
  reconnectMaxMs: 400,
  acceptUnknownCertificate: true,
};

describe('opcua driver against a node-opcua server', () => {
  const dir = tempDir('tagway-opcua-');
  let port: number;
  let peer: Peer;
  let h: Harness;
  let driver: OpcUaDriver;

  function tagDefs(connection: string): TagDefinition[] {
    return [
      ...EXPECTED.map(([n, type]) => def(`${connection}.${n}`, type, connection, `ns=1;s=Plant.${n}`)),
      def(`${connection}.Unknown`, 'Float64', connection, 'ns=1;s=Plant.DoesNotExist'),
      def(
        `${connection}.ByUri`,
        'Float64',
        connection,
        `nsu=${peer.server.engine.addressSpace!.getOwnNamespace().namespaceUri};s=Plant.Double`,
      ),
      def(`${connection}.ReadOnly`, 'Float64', connection, 'ns=1;s=Plant.ReadOnly'),
      def(`${connection}.WrongType`, 'Bool', connection, 'ns=1;s=Plant.Double'),
      def(`${connection}.SmallFromByte`, 'Int16', connection, 'ns=1;s=Plant.Byte', { options: { samplingIntervalMs: 50 } }),
    ];
  }

  function start(name: string, options: Record<string, unknown>): { h: Harness; driver: OpcUaDriver } {
    const hh = harness(tagDefs(name));
    // One client PKI for all drivers of this file: the key pair is made once (node-opcua locks the folder).
    const d = opcua.create({ name, driver: 'opcua', pkiDir: `${dir.path}/client`, ...FAST, ...options }, hh.tags, hh.host) as OpcUaDriver;
    hh.engine.bindDriver(name, d);
    return { h: hh, driver: d };
  }

  const value = (hh: Harness, name: string) => hh.engine.require(name);

  beforeAll(async () => {
    port = await freePort();
    peer = await startPeer(port, dir.path);
    ({ h, driver } = start('plc', { endpointUrl: peer.endpointUrl }));
    await driver.start();
    await waitFor(() => h.lastState() === 'CONNECTED', 'connected');
  });

  afterAll(async () => {
    await driver?.stop();
    h?.close();
    await peer?.stop().catch(() => undefined);
    dir.remove();
  });

  it('reads every type through monitored items', async () => {
    for (const [n, , expected] of EXPECTED) {
      const tag = await waitFor(() => {
        const t = value(h, `plc.${n}`);
        return t.quality === Quality.GOOD && t;
      }, `plc.${n} GOOD`);
      expect(tag.value, n).toEqual(expected);
    }
    // A namespace given by URI resolves to the same node.
    await waitFor(() => value(h, 'plc.ByUri').value === 3.141592653589793, 'nsu= address');
    // Changes on the server arrive without polling.
    set(peer, 'Double', DataType.Double, 42.25);
    set(peer, 'Int64', DataType.Int64, [0x7fffffff, 0xffffffff]);
    await waitFor(() => value(h, 'plc.Double').value === 42.25, 'changed Double');
    await waitFor(() => value(h, 'plc.Int64').value === '9223372036854775807', 'changed Int64');
    expect(driver.stats().reads).toBeGreaterThan(0);
  });

  it('marks an unknown node and a value that does not fit the tag as configuration errors', async () => {
    await waitFor(() => value(h, 'plc.Unknown').quality === Quality.BAD_CONFIGURATION_ERROR, 'unknown node BAD config');
    await waitFor(() => value(h, 'plc.WrongType').quality === Quality.BAD_CONFIGURATION_ERROR, 'Double into Bool BAD config');
    // A Byte fits an Int16 tag: conversions that lose nothing are fine.
    await waitFor(() => value(h, 'plc.SmallFromByte').quality === Quality.GOOD, 'Byte into Int16');
    expect(opcua.validateTag!({ type: 'Int16', address: 'ns=1;x=1' })).toMatch(/not an OPC UA NodeId/);
    expect(
      opcua.validateConnection!({ name: 'x', driver: 'opcua', endpointUrl: 'http://x', samplingIntervallMs: 5 }).map(([k]) => k),
    ).toEqual(['/endpointUrl', '/samplingIntervallMs']);
  });

  it("writes every type with the node's data type", async () => {
    const writes: Array<[string, TagValue, unknown]> = [
      ['Bool', false, false],
      ['SByte', -128, -128],
      ['Byte', 255, 255],
      ['Int16', 32767, 32767],
      ['UInt16', 0, 0],
      ['Int32', 123456, 123456],
      ['UInt32', 4294967295, 4294967295],
      ['Int64', '-9007199254740993', [0xffdfffff, 0xffffffff]],
      ['UInt64', '9007199254740993', [0x00200000, 0x00000001]],
      ['Float', 0.25, 0.25],
      ['Double', -1e300, -1e300],
      ['String', 'written ✓', 'written ✓'],
      ['DateTime', '2030-01-02T03:04:05.678Z', new Date('2030-01-02T03:04:05.678Z')],
    ];
    for (const [n, v, onServer] of writes) {
      const tag = value(h, `plc.${n}`);
      await h.engine.write(tag, v);
      expect(get(peer, n), n).toEqual(onServer);
      expect(tag.value).toEqual(v);
    }
    // The subscription then reports the same value back, still GOOD.
    await waitFor(
      () => value(h, 'plc.Int64').value === '-9007199254740993' && value(h, 'plc.Int64').quality === Quality.GOOD,
      'Int64 echoed',
    );
    expect(driver.stats().writes).toBe(writes.length);
    expect(driver.stats().rttMs).toBeGreaterThan(0);
  });

  it('refuses writes the node cannot take', async () => {
    // An Int16 tag on a Byte node: 300 is a valid Int16 but not a Byte.
    await expect(h.engine.write(value(h, 'plc.SmallFromByte'), 300)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(h.engine.write(value(h, 'plc.ReadOnly'), 1)).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(get(peer, 'ReadOnly')).toBe(7);
  });

  it("browses the server's folders and variables", async () => {
    const top = await browse(driver);
    expect(top).toContainEqual(
      expect.objectContaining({ nodeId: 'ns=1;s=Plant', browseName: '1:Plant', displayName: 'Plant', nodeClass: 'Object' }),
    );
    expect(top).toContainEqual(expect.objectContaining({ nodeId: 'i=2253', nodeClass: 'Object', displayName: 'Server' }));
    const plant = await browse(driver, 'ns=1;s=Plant');
    expect(plant).toContainEqual({
      nodeId: 'ns=1;s=Plant.Double',
      browseName: '1:Double',
      displayName: 'Double',
      nodeClass: 'Variable',
      dataType: 'Double',
    });
    expect(plant).toContainEqual(expect.objectContaining({ nodeId: 'ns=1;s=Plant.Int64', dataType: 'Int64' }));
    expect(plant).toHaveLength(14);
    // Server.ServerStatus.CurrentTime is a UtcTime (a subtype of DateTime), named by the type's BrowseName.
    const status = await browse(driver, 'i=2256');
    expect(status).toContainEqual(expect.objectContaining({ nodeId: 'i=2258', dataType: 'UtcTime' }));
    await expect(browse(driver, 'ns=1;s=Nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(browse(driver, 'bogus')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('connects with SignAndEncrypt (Basic256Sha256) and a user name', async () => {
    const before = {
      sessions: peer.server.currentSessionCount,
      subscriptions: peer.server.currentSubscriptionCount,
      channels: peer.server.currentChannelCount,
    };
    const s = start('secure', {
      endpointUrl: peer.endpointUrl,
      securityMode: 'SignAndEncrypt',
      username: USER.name,
      password: USER.password,
    });
    try {
      await s.driver.start();
      await waitFor(() => s.h.lastState() === 'CONNECTED', 'secure connected');
      await waitFor(() => value(s.h, 'secure.String').quality === Quality.GOOD, 'secure read');
      await s.h.engine.write(value(s.h, 'secure.Int32'), -7);
      expect(get(peer, 'Int32')).toBe(-7);
      expect(peer.server.currentSessionCount).toBe(before.sessions + 1);
    } finally {
      await s.driver.stop();
      s.h.close();
    }
    // stop() closed its session, subscription and secure channel on the server.
    await waitFor(
      () =>
        peer.server.currentSessionCount === before.sessions &&
        peer.server.currentSubscriptionCount === before.subscriptions &&
        peer.server.currentChannelCount === before.channels,
      'server back to the counts before',
    );
    expect(value(s.h, 'secure.String').quality).toBe(Quality.BAD_NOT_CONNECTED);
  });

  it('reports a wrong password as ERROR and keeps retrying without crashing', async () => {
    const s = start('wrongpw', { endpointUrl: peer.endpointUrl, securityMode: 'SignAndEncrypt', username: USER.name, password: 'wrong' });
    try {
      await s.driver.start();
      const err = await waitFor(() => s.h.states.find((x) => x.state === 'ERROR'), 'ERROR state');
      expect(err.error).toMatch(/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/);
      expect(value(s.h, 'wrongpw.Double').quality).toBe(Quality.BAD_NOT_CONNECTED);
      await expect(s.h.engine.write(value(s.h, 'wrongpw.Double'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
      // It tries again (back-off), each attempt ending in ERROR again.
      await waitFor(() => s.h.states.filter((x) => x.state === 'ERROR').length >= 2, 'second attempt');
    } finally {
      await s.driver.stop();
      s.h.close();
    }
  });

  it('does not hang on a peer that accepts TCP and never answers', async () => {
    const silent = await silentServer();
    const s = start('silent', { endpointUrl: `opc.tcp://127.0.0.1:${silent.port}`, timeoutMs: 300 });
    try {
      await s.driver.start();
      expect(s.h.lastState()).toBe('CONNECTING');
      await expect(s.h.engine.write(value(s.h, 'silent.Double'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
      const err = await waitFor(() => s.h.states.find((x) => x.state === 'ERROR'), 'ERROR after timeout');
      expect(err.error).toMatch(/no answer|timeout|Timeout/i);
      expect(value(s.h, 'silent.Double').quality).toBe(Quality.BAD_NOT_CONNECTED);
    } finally {
      await s.driver.stop();
      s.h.close();
      await silent.close();
    }
  });

  it('goes BAD when the server stops and comes back GOOD when it restarts on the same port', async () => {
    await waitFor(() => value(h, 'plc.Double').quality === Quality.GOOD, 'GOOD before');
    await peer.stop();
    await waitFor(() => value(h, 'plc.Double').quality === Quality.BAD_NOT_CONNECTED, 'BAD NOT_CONNECTED');
    for (const [n] of EXPECTED) expect(value(h, `plc.${n}`).quality, n).toBe(Quality.BAD_NOT_CONNECTED);
    expect(['DISCONNECTED', 'ERROR', 'CONNECTING']).toContain(h.lastState());
    const err = await h.engine.write(value(h, 'plc.Double'), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagwayError);
    expect((err as TagwayError).code).toBe('DEVICE_UNAVAILABLE');

    peer = await startPeer(port, dir.path);
    set(peer, 'Double', DataType.Double, 99.5);
    await waitFor(() => h.lastState() === 'CONNECTED', 'reconnected', 20_000);
    await waitFor(() => value(h, 'plc.Double').quality === Quality.GOOD && value(h, 'plc.Double').value === 99.5, 'GOOD again');
    await h.engine.write(value(h, 'plc.Double'), 12.5);
    expect(get(peer, 'Double')).toBe(12.5);
  });
});
