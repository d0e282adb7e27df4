import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { TagwayError } from '../../../src/domain/problems.js';
import type { Driver } from '../../../src/drivers/driver.js';
import type { AuditEvent } from '../../../src/runtime/audit.js';
import type { ConnectionStatus } from '../../../src/runtime/connection-manager.js';
import type { Actor } from '../../../src/services/actor.js';
import { ConnectionService } from '../../../src/services/connection-service.js';
import { MetricsService } from '../../../src/services/metrics-service.js';

const status = (name: string, driver: string, tagCount: number): ConnectionStatus => ({
  name,
  driver,
  state: 'CONNECTED',
  since: new Date(0).toISOString(),
  lastError: null,
  reconnects: 0,
  lastConnected: null,
  tagCount,
  stats: { reads: 1, writes: 0, errors: 0 },
});

function actor(grants: Grant[]): Actor {
  const principal: Principal = {
    username: 'u',
    displayName: 'u',
    groups: [],
    permissions: new PermissionSet(grants),
    authMethod: 'session',
  };
  return { principal, clientAddress: '127.0.0.1', via: 'rest' };
}

function setup(opts: { reload?: () => Promise<any> } = {}) {
  const conns = [status('line1', 'modbus-tcp', 2), status('tank', 'opcua', 1), status('sim', 'simulator', 0)];
  const audits: AuditEvent[] = [];
  const browsed: Array<[Driver, string | undefined]> = [];
  const driver = { start: async () => undefined, stop: async () => undefined, write: async () => undefined } as Driver;
  const service = new ConnectionService({
    connections: {
      list: () => conns,
      get: (name) => {
        const c = conns.find((x) => x.name === name);
        if (!c) throw new TagwayError('NOT_FOUND', `No connection named '${name}'`);
        return c;
      },
      driver: (name) => (name === 'sim' ? undefined : driver),
    },
    tags: {
      tags: [
        { def: { name: 'Line1.A', connection: 'line1' } },
        { def: { name: 'Line1.B', connection: 'line1' } },
        { def: { name: 'Tank1.Level', connection: 'tank' } },
      ],
    },
    audit: { record: (e) => audits.push(e) },
    reload: opts.reload ?? (async () => ({ changed: ['line1'], added: [], removed: [], unchanged: ['tank'] })),
    projectFile: () => '/plant.yaml',
    driverModule: (d) =>
      d === 'opcua' || d === 'simulator'
        ? {
            browse: async (dr, nodeId) => {
              browsed.push([dr, nodeId]);
              return [{ nodeId: 'ns=1;s=X', browseName: '1:X', displayName: 'X', nodeClass: 'Variable' }];
            },
          }
        : {},
  });
  return { service, audits, browsed, driver };
}

describe('ConnectionService', () => {
  it('lists every connection to an unscoped reader', () => {
    const { service } = setup();
    expect(service.list(actor([{ permission: 'tags:read' }])).map((c) => [c.name, c.tagCount])).toEqual([
      ['line1', 2],
      ['tank', 1],
      ['sim', 0],
    ]);
  });

  it('shows a scoped reader only the connections of its tags, with the count of its tags', () => {
    const { service } = setup();
    const a = actor([{ permission: 'tags:read', tags: 'Line1.A' }]);
    expect(service.list(a).map((c) => [c.name, c.tagCount])).toEqual([['line1', 1]]);
    expect(service.get(a, 'line1').tagCount).toBe(1);
    // An out-of-scope connection answers like one that does not exist.
    expect(() => service.get(a, 'tank')).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: "No connection named 'tank'" }));
    expect(() => service.get(a, 'nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: "No connection named 'nope'" }));
  });

  it('refuses readers without tags:read', () => {
    const { service } = setup();
    const a = actor([{ permission: 'alarms:read' }]);
    expect(() => service.list(a)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => service.get(a, 'line1')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('browses through the driver module capability, NOT_FOUND for drivers without one', async () => {
    const { service, browsed, driver } = setup();
    const a = actor([{ permission: 'tags:read' }]);
    expect(await service.browse(a, 'tank', 'ns=1;s=Plant')).toHaveLength(1);
    expect(browsed).toEqual([[driver, 'ns=1;s=Plant']]);
    await expect(service.browse(a, 'line1', undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.browse(a, 'nope', undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.browse(a, 'sim', undefined)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
  });

  it('browsing needs unscoped tags:read', async () => {
    const { service, browsed } = setup();
    await expect(service.browse(actor([{ permission: 'tags:read', tags: 'Tank1.**' }]), 'tank', undefined)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(service.browse(actor([]), 'tank', undefined)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(browsed).toEqual([]);
  });

  it('reloads for admins and audits success and refusal', async () => {
    const { service, audits } = setup();
    const admin = actor([{ permission: 'users:admin' }]);
    expect((await service.reload(admin)).changed).toEqual(['line1']);
    expect(audits).toEqual([
      {
        action: 'connections.reload',
        user: 'u',
        clientAddress: '127.0.0.1',
        target: '/plant.yaml',
        details: { changed: ['line1'], added: [], removed: [] },
        result: 'OK',
      },
    ]);
    await expect(service.reload(actor([{ permission: 'tags:read' }]))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(audits).toHaveLength(1);

    const failing = setup({
      reload: async () => {
        throw new TagwayError('INVALID_STATE', 'needs a restart', { errors: [{ field: '/tags', message: 'tag added' }] });
      },
    });
    await expect(failing.service.reload(admin)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(failing.audits[0]).toMatchObject({ result: 'INVALID_STATE', details: { errors: ['tag added'] } });
  });
});

describe('MetricsService', () => {
  const make = () => {
    const { service } = setup();
    return new MetricsService({
      tags: {
        tags: [
          { def: { name: 'Line1.A' }, quality: 0xc0 },
          { def: { name: 'Line1.B' }, quality: 0x00 },
          { def: { name: 'Tank1.Level' }, quality: 0xc0 },
        ],
      },
      connections: service,
      uptimeMs: () => 5000,
      sources: [() => [{ name: 'tagway_alarms_current', help: 'h', type: 'gauge', samples: [{ value: 3 }] }]],
    });
  };
  const sample = (m: ReturnType<MetricsService['collect']>, name: string) => m.find((x) => x.name === name)?.samples;

  it('gives an unscoped reader the global figures', () => {
    const m = make().collect(actor([{ permission: 'tags:read' }]));
    expect(sample(m, 'tagway_tags')).toEqual([
      { labels: { quality: 'GOOD' }, value: 2 },
      { labels: { quality: 'UNCERTAIN' }, value: 0 },
      { labels: { quality: 'BAD' }, value: 1 },
    ]);
    expect(sample(m, 'tagway_connection_up')).toHaveLength(3);
    expect(sample(m, 'tagway_alarms_current')).toEqual([{ value: 3 }]);
    expect(sample(m, 'process_resident_memory_bytes')).toHaveLength(1);
  });

  it('gives a scoped reader figures over its tags only, and no server-wide ones', () => {
    const m = make().collect(actor([{ permission: 'tags:read', tags: 'Line1.*' }]));
    expect(sample(m, 'tagway_tags')).toEqual([
      { labels: { quality: 'GOOD' }, value: 1 },
      { labels: { quality: 'UNCERTAIN' }, value: 0 },
      { labels: { quality: 'BAD' }, value: 1 },
    ]);
    expect(sample(m, 'tagway_connection_up')).toEqual([{ labels: { connection: 'line1', driver: 'modbus-tcp' }, value: 1 }]);
    expect(sample(m, 'tagway_alarms_current')).toBeUndefined();
    expect(sample(m, 'process_resident_memory_bytes')).toBeUndefined();
    expect(() => make().collect(actor([]))).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});
