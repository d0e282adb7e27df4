import {
  AttributeIds,
  BrowseDirection,
  DataType,
  makeBrowsePath,
  NodeClass,
  StatusCodes,
  TimestampsToReturn,
  Variant,
  VariantArrayType,
  type ClientMonitoredItem,
  type ClientSessionRawSubscriptionService,
  type DataValue,
} from 'node-opcua';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import { serverPkiDir, readCertificate, thumbprintOf } from '../../../src/northbound/opcua/pki.js';
import { runOpcUaCommand } from '../../../src/cli/opcua-pki.js';
import { waitUntil } from '../../helpers/wait.js';
import { startOpcUaFixture, type Connected, type OpcUaFixture } from './opcua-client.js';

const project = (port: number): string => `
name: OPC UA northbound
connections:
  - { name: internal, driver: internal }
tags:
  - { name: T.Bool, type: Bool, connection: internal, initial: true }
  - { name: T.Int8, type: Int8, connection: internal, initial: -12 }
  - { name: T.UInt8, type: UInt8, connection: internal, initial: 200 }
  - { name: T.Int16, type: Int16, connection: internal, initial: -30000 }
  - { name: T.UInt16, type: UInt16, connection: internal, initial: 60000 }
  - { name: T.Int32, type: Int32, connection: internal, initial: -2000000000 }
  - { name: T.UInt32, type: UInt32, connection: internal, initial: 4000000000 }
  - { name: T.Int64, type: Int64, connection: internal, initial: "-9007199254740993" }
  - { name: T.UInt64, type: UInt64, connection: internal, initial: "18446744073709551615" }
  - { name: T.Float32, type: Float32, connection: internal, initial: 1.5 }
  - { name: T.Float64, type: Float64, connection: internal, initial: 3.141592653589793 }
  - { name: T.String, type: String, connection: internal, initial: "héllo" }
  - { name: T.DateTime, type: DateTime, connection: internal, initial: "2026-11-25T04:00:00.123Z" }
  - { name: T.Pressure, type: Float64, unit: bar, description: "Header pressure", connection: internal, min: 0, max: 10, initial: 5 }
  - { name: T.ReadOnly, type: Int32, connection: internal, access: read, initial: 42 }
  - { name: Line1/Filler.Speed, type: Float64, connection: internal, initial: 1.5 }
  - { name: Line1.Setpoint, type: Float64, connection: internal, initial: 10 }
  - { name: Line2.Setpoint, type: Float64, connection: internal, initial: 20 }
  - { name: Hidden.Secret, type: Int32, connection: internal, initial: 7 }
  - { name: NotExposed, type: Int32, connection: internal, initial: 1 }
groups:
  - name: operators
    permissions:
      - { permission: "tags:read", tags: "T.**" }
      - { permission: "tags:read", tags: "Line*.**" }
      - { permission: "tags:read", tags: "Line1/**" }
      - { permission: "tags:write", tags: "Line1.**" }
  - name: nobody
    permissions: []
users:
  - { username: operator, password: operator-password, groups: [operators] }
  - { username: outsider, password: outsider-password, groups: [nobody] }
northbound:
  opcua:
    port: ${port}
    host: 127.0.0.1
    tags: "**.*"
`;

const EXPECTED: Array<[string, DataType, unknown]> = [
  ['T.Bool', DataType.Boolean, true],
  ['T.Int8', DataType.SByte, -12],
  ['T.UInt8', DataType.Byte, 200],
  ['T.Int16', DataType.Int16, -30000],
  ['T.UInt16', DataType.UInt16, 60000],
  ['T.Int32', DataType.Int32, -2000000000],
  ['T.UInt32', DataType.UInt32, 4000000000],
  // -9007199254740993 = 0xFFDFFFFF_FFFFFFFF: not representable as a JS number, exact as [high, low]
  ['T.Int64', DataType.Int64, [0xffdfffff, 0xffffffff]],
  ['T.UInt64', DataType.UInt64, [0xffffffff, 0xffffffff]],
  ['T.Float32', DataType.Float, 1.5],
  ['T.Float64', DataType.Double, 3.141592653589793],
  ['T.String', DataType.String, 'héllo'],
  ['T.DateTime', DataType.DateTime, new Date('2026-11-25T04:00:00.123Z')],
];

describe('OPC UA server (northbound.opcua)', () => {
  let f: OpcUaFixture;
  let operator: Connected;
  let admin: string;

  beforeAll(async () => {
    f = await startOpcUaFixture(project);
    operator = await f.connect({ name: 'operator', password: 'operator-password' });
    admin = await f.s.login();
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  const read = (c: Connected, name: string, attributeId = AttributeIds.Value): Promise<DataValue> =>
    c.session.read({ nodeId: `ns=1;s=${name}`, attributeId });

  it('creates its certificate in the data dir on first start', () => {
    const own = join(serverPkiDir(f.s.dataDir), 'own', 'certs');
    expect(existsSync(own) && readdirSync(own).length).toBeGreaterThan(0);
  });

  it('browses Objects/Tagway/<segments> with one variable per exposed tag (ns=1;s=<name>)', async () => {
    const path = await operator.session.translateBrowsePath(makeBrowsePath('RootFolder', '/Objects/1:Tagway/1:T/1:Pressure'));
    expect(path.statusCode).toEqual(StatusCodes.Good);
    expect(path.targets![0]!.targetId.toString()).toBe('ns=1;s=T.Pressure');
    const slash = await operator.session.translateBrowsePath(makeBrowsePath('RootFolder', '/Objects/1:Tagway/1:Line1/1:Filler/1:Speed'));
    expect(slash.targets![0]!.targetId.toString()).toBe('ns=1;s=Line1/Filler.Speed');
    const root = await operator.session.browse({ nodeId: 'ns=1;s=@Tagway', browseDirection: BrowseDirection.Forward, resultMask: 63 });
    const names = root.references!.map((r) => r.browseName.name).sort();
    // Hidden.* is exposed but the operator may not read it: its folder is not shown to them. NotExposed is outside the glob.
    expect(names).toEqual(['Line1', 'Line2', 'T']);
    const t = await operator.session.browse({
      nodeId: 'ns=1;s=@T',
      browseDirection: BrowseDirection.Forward,
      nodeClassMask: NodeClass.Variable,
    });
    expect(t.references!.map((r) => r.nodeId.toString()).sort()).toEqual(
      [...EXPECTED.map(([n]) => n), 'T.Pressure', 'T.ReadOnly'].map((n) => `ns=1;s=${n}`).sort(),
    );
  });

  it('reads every type with its OPC UA DataType, source timestamp and Good status', async () => {
    for (const [name, dataType, value] of EXPECTED) {
      const dv = await read(operator, name);
      expect(dv.statusCode, name).toEqual(StatusCodes.Good);
      expect(dv.value.dataType, name).toBe(dataType);
      expect(dv.value.value, name).toEqual(value);
      expect(dv.sourceTimestamp, name).toBeInstanceOf(Date);
      const dt = await read(operator, name, AttributeIds.DataType);
      expect(dt.value.value.value, name).toBe(dataType);
    }
  });

  it('gives Description and EngineeringUnits from the project', async () => {
    const d = await read(operator, 'T.Pressure', AttributeIds.Description);
    expect(d.value.value.text).toBe('Header pressure');
    const eu = await operator.session.translateBrowsePath(makeBrowsePath('ns=1;s=T.Pressure', '.EngineeringUnits'));
    const v = await operator.session.read({ nodeId: eu.targets![0]!.targetId, attributeId: AttributeIds.Value });
    expect(v.value.value.displayName.text).toBe('bar');
  });

  it('maps the quality byte to the StatusCode (BAD NOT_CONNECTED → BadNotConnected, UNCERTAIN LAST_USABLE → UncertainLastUsableValue)', async () => {
    const engine = f.s.server.runtime.tags;
    const tag = engine.get('T.Int32')!;
    engine.setQuality(tag.index, Quality.BAD_NOT_CONNECTED);
    expect((await read(operator, 'T.Int32')).statusCode).toEqual(StatusCodes.BadNotConnected);
    engine.setQuality(tag.index, Quality.UNCERTAIN_LAST_USABLE_VALUE);
    expect((await read(operator, 'T.Int32')).statusCode).toEqual(StatusCodes.UncertainLastUsableValue);
    engine.setQuality(tag.index, Quality.GOOD);
    expect((await read(operator, 'T.Int32')).statusCode).toEqual(StatusCodes.Good);
  });

  it('AccessLevel comes from the tag, UserAccessLevel from the tag and the user', async () => {
    const al = async (name: string, attr: AttributeIds): Promise<number> => (await read(operator, name, attr)).value.value as number;
    expect(await al('Line1.Setpoint', AttributeIds.AccessLevel)).toBe(3);
    expect(await al('Line1.Setpoint', AttributeIds.UserAccessLevel)).toBe(3);
    expect(await al('Line2.Setpoint', AttributeIds.AccessLevel)).toBe(3);
    expect(await al('Line2.Setpoint', AttributeIds.UserAccessLevel)).toBe(1); // CurrentRead only: no tags:write there
    expect(await al('T.ReadOnly', AttributeIds.AccessLevel)).toBe(1);
  });

  it('a monitored item hears a change made through REST within a second, without polling', async () => {
    const sub = await operator.session.createSubscription2({
      requestedPublishingInterval: 50,
      requestedMaxKeepAliveCount: 20,
      requestedLifetimeCount: 100,
      publishingEnabled: true,
    });
    const item: ClientMonitoredItem = await sub.monitor(
      { nodeId: 'ns=1;s=Line1.Setpoint', attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 10, discardOldest: true },
      TimestampsToReturn.Both,
    );
    const seen: unknown[] = [];
    item.on('changed', (dv: DataValue) => seen.push(dv.value.value));
    await waitUntil(() => seen.length > 0, 'the initial value');
    const r = await f.s.request('PUT', '/tags/Line1.Setpoint/value', { token: admin, body: { value: 12.25 } });
    expect(r.status).toBe(200);
    // The requirement is "within 1 s": the bound is that requirement, not a benchmark.
    await waitUntil(() => seen.includes(12.25), 'the change of Line1.Setpoint', 1000, 10);
    await sub.terminate();
  });

  it('an operator writes a tag in scope: Good, the value changes, and the audit names the OPC UA user', async () => {
    const status = await operator.session.write({
      nodeId: 'ns=1;s=Line1.Setpoint',
      attributeId: AttributeIds.Value,
      value: { value: new Variant({ dataType: DataType.Double, value: 33.5 }) },
    });
    expect(status).toEqual(StatusCodes.Good);
    const r = await f.s.request('GET', '/tags/Line1.Setpoint/value', { token: admin });
    expect(r.json.value).toBe(33.5);
    const audit = await f.s.request('GET', '/audit?action=tag.write&user=operator', { token: admin });
    const row = audit.json.items.find((i: { target: string; result: string }) => i.target === 'Line1.Setpoint' && i.result === 'OK');
    expect(row).toBeDefined();
    expect(row.clientAddress).toBe('127.0.0.1');
  });

  it('a write out of scope is BadUserAccessDenied, changes nothing and is audited as refused', async () => {
    const status = await operator.session.write({
      nodeId: 'ns=1;s=Line2.Setpoint',
      attributeId: AttributeIds.Value,
      value: { value: new Variant({ dataType: DataType.Double, value: 99 }) },
    });
    expect(status).toEqual(StatusCodes.BadUserAccessDenied);
    const r = await f.s.request('GET', '/tags/Line2.Setpoint/value', { token: admin });
    expect(r.json.value).toBe(20);
    const audit = await f.s.request('GET', '/audit?action=tag.write&user=operator', { token: admin });
    expect(
      audit.json.items.some((i: { target: string; result: string }) => i.target === 'Line2.Setpoint' && i.result === 'FORBIDDEN'),
    ).toBe(true);
  });

  it('a write the tag refuses answers in OPC UA terms: read-only → BadNotWritable, over max → BadOutOfRange', async () => {
    const ro = await operator.session.write({
      nodeId: 'ns=1;s=T.ReadOnly',
      attributeId: AttributeIds.Value,
      value: { value: new Variant({ dataType: DataType.Int32, value: 1 }) },
    });
    // T.* is not writable for the operator at all: the permission answers first, as in REST.
    expect(ro).toEqual(StatusCodes.BadUserAccessDenied);
    const admin2 = await f.connect({ name: 'admin', password: 'admin-password-for-tests' });
    expect(
      await admin2.session.write({
        nodeId: 'ns=1;s=T.ReadOnly',
        attributeId: AttributeIds.Value,
        value: { value: new Variant({ dataType: DataType.Int32, value: 1 }) },
      }),
    ).toEqual(StatusCodes.BadNotWritable);
    expect(
      await admin2.session.write({
        nodeId: 'ns=1;s=T.Pressure',
        attributeId: AttributeIds.Value,
        value: { value: new Variant({ dataType: DataType.Double, value: 11 }) },
      }),
    ).toEqual(StatusCodes.BadOutOfRange);
    expect(
      await admin2.session.write({
        nodeId: 'ns=1;s=T.UInt64',
        attributeId: AttributeIds.Value,
        value: { value: new Variant({ dataType: DataType.UInt64, arrayType: VariantArrayType.Scalar, value: [0, 5] }) },
      }),
    ).toEqual(StatusCodes.Good);
    expect((await f.s.request('GET', '/tags/T.UInt64/value', { token: admin })).json.value).toBe('5');
    await admin2.close();
  });

  it('a tag the user may not read: hidden from browse, reads and subscriptions refused with BadUserAccessDenied', async () => {
    expect((await read(operator, 'Hidden.Secret')).statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    const sub = await operator.session.createSubscription2({ requestedPublishingInterval: 100, publishingEnabled: true });
    const result = await (operator.session as unknown as ClientSessionRawSubscriptionService).createMonitoredItems({
      subscriptionId: sub.subscriptionId,
      timestampsToReturn: TimestampsToReturn.Both,
      itemsToCreate: [
        {
          itemToMonitor: { nodeId: 'ns=1;s=Hidden.Secret', attributeId: AttributeIds.Value },
          monitoringMode: 2,
          requestedParameters: { samplingInterval: 0, queueSize: 1, clientHandle: 1 },
        },
      ],
    });
    expect(result.results![0]!.statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    await sub.terminate();
    const outsider = await f.connect({ name: 'outsider', password: 'outsider-password' });
    const root = await outsider.session.browse({ nodeId: 'ns=1;s=@Tagway', browseDirection: BrowseDirection.Forward });
    expect(root.references ?? []).toEqual([]);
    expect((await read(outsider, 'T.Int32')).statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    await outsider.close();
  });

  it('anonymous sessions and wrong passwords are refused; a None endpoint is not offered unless listed', async () => {
    await expect(f.connect()).rejects.toThrow();
    await expect(f.connect({ name: 'operator', password: 'wrong' })).rejects.toThrow();
    await expect(f.connect({ name: 'operator', password: 'operator-password' }, 'None')).rejects.toThrow();
    const audit = await f.s.request('GET', '/audit?action=auth.login_failed&user=operator', { token: admin });
    expect(audit.json.items.length).toBeGreaterThan(0);
  });

  it('a user whose rights are taken away loses them in their open session at once', async () => {
    const viewer = await f.connect({ name: 'operator', password: 'operator-password' });
    expect((await read(viewer, 'Line1.Setpoint')).statusCode).toEqual(StatusCodes.Good);
    const r = await f.s.request('PATCH', '/users/operator', { token: admin, body: { groups: ['nobody'] } });
    expect(r.status).toBeLessThan(300);
    expect((await read(viewer, 'Line1.Setpoint')).statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    await f.s.request('PATCH', '/users/operator', { token: admin, body: { groups: ['operators'] } });
    expect((await read(viewer, 'Line1.Setpoint')).statusCode).toEqual(StatusCodes.Good);
  });

  it('tagway opcua reject|trust <thumbprint> refuses and re-admits a client application on the running server', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const thumbprint = thumbprintOf(readCertificate(f.clientCertificateFile));
    expect(await runOpcUaCommand(['list', '--data-dir', f.s.dataDir], io)).toBe(0);
    expect(lines.some((l) => l.startsWith('trusted') && l.includes(thumbprint))).toBe(true);
    expect(await runOpcUaCommand(['reject', thumbprint, '--data-dir', f.s.dataDir], io)).toBe(0);
    await waitUntil(
      () =>
        f.connect({ name: 'operator', password: 'operator-password' }).then(
          async (c) => {
            await c.close();
            return false;
          },
          () => true,
        ),
      'the rejected client to be refused',
      10_000,
      200,
    );
    expect(await runOpcUaCommand(['trust', thumbprint, '--data-dir', f.s.dataDir], io)).toBe(0);
    const back = await waitUntil(
      () => f.connect({ name: 'operator', password: 'operator-password' }).catch(() => undefined),
      'the trusted client to be admitted again',
      10_000,
      200,
    );
    expect((await read(back, 'Line1.Setpoint')).statusCode).toEqual(StatusCodes.Good);
    expect(await runOpcUaCommand(['trust', 'not-a-thumbprint', '--data-dir', f.s.dataDir], io)).toBe(1);
  });

  it('an X.509 user certificate trusted in the user PKI logs in as the user its CN names; an unknown CN is refused', async () => {
    const make = (cn: string): { certificate: Buffer; privateKey: string; file: string } => {
      const key = join(f.dir, `${cn}.key.pem`);
      const file = join(f.dir, `${cn}.cert.pem`);
      try {
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', file, '-days', '2', '-subj', `/CN=${cn}`],
          {
            stdio: 'pipe',
            // Something in node-opcua's PKI sets OPENSSL_CONF to the string 'undefined' in this process.
            env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OPENSSL_CONF')),
          },
        );
      } catch (err) {
        throw new Error(String((err as { stderr?: Buffer }).stderr));
      }
      return { certificate: readCertificate(file), privateKey: readFileSync(key, 'utf8'), file };
    };
    const io = { out: () => undefined, err: () => undefined };
    const op = make('operator');
    const ghost = make('ghost');
    await expect(f.connect(op)).rejects.toThrow(); // not trusted yet
    expect(await runOpcUaCommand(['trust', op.file, '--user', '--data-dir', f.s.dataDir], io)).toBe(0);
    expect(await runOpcUaCommand(['trust', ghost.file, '--user', '--data-dir', f.s.dataDir], io)).toBe(0);
    const c = await waitUntil(() => f.connect(op).catch(() => undefined), 'the certificate user to be admitted', 10_000, 200);
    expect((await read(c, 'Line1.Setpoint')).statusCode).toEqual(StatusCodes.Good);
    expect(
      await c.session.write({
        nodeId: 'ns=1;s=Line2.Setpoint',
        attributeId: AttributeIds.Value,
        value: { value: new Variant({ dataType: DataType.Double, value: 1 }) },
      }),
    ).toEqual(StatusCodes.BadUserAccessDenied);
    await expect(f.connect(ghost)).rejects.toThrow();
    const audit = await f.s.request('GET', '/audit?action=auth.login&user=operator', { token: admin });
    expect(audit.json.items.some((i: { details?: { method?: string } }) => i.details?.method === 'x509')).toBe(true);
    await c.close();
  });
});
