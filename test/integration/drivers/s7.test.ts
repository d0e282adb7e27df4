import snap7 from 'node-snap7';
import { afterEach, describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import type { Driver } from '../../../src/drivers/driver.js';
import { s7, type S7Driver } from '../../../src/drivers/s7/index.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { freePort, freezableProxy, lastState, makeHost, silentServer, tag, tcpHandles, waitFor, type TestHost } from './helpers.js';

/*
 * node-snap7 keeps its libuv async handles in globals shared by every S7Server, re-initialises them in each
 * constructor and closes them in each destructor: a second server, once garbage-collected, aborts the process
 * (libuv's uv_close assertion). So the whole file uses one native server, created once and kept reachable.
 */
const SERVER = new snap7.S7Server();
SERVER.RegisterArea(SERVER.srvAreaDB, 1, Buffer.alloc(256));
SERVER.RegisterArea(SERVER.srvAreaMK, Buffer.alloc(64));
SERVER.RegisterArea(SERVER.srvAreaPE, Buffer.alloc(16));
SERVER.RegisterArea(SERVER.srvAreaPA, Buffer.alloc(16));
(globalThis as { tagwayS7TestServer?: unknown }).tagwayS7TestServer = SERVER;

/** A real S7 PLC emulation (snap7's server) with DB1, merkers, inputs and outputs, zeroed for each test. */
class S7Peer {
  readonly srv = SERVER;
  constructor(readonly port: number) {
    this.srv.Stop();
    this.srv.SetParam(this.srv.LocalPort, port);
    this.srv.SetArea(this.srv.srvAreaDB, 1, Buffer.alloc(256));
    this.srv.SetArea(this.srv.srvAreaMK, Buffer.alloc(64));
    this.srv.SetArea(this.srv.srvAreaPE, Buffer.alloc(16));
    this.srv.SetArea(this.srv.srvAreaPA, Buffer.alloc(16));
  }
  start(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.srv.StartTo('127.0.0.1', (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())),
    );
  }
  stop(): void {
    this.srv.Stop();
  }
  db(): Buffer {
    return this.srv.GetArea(this.srv.srvAreaDB, 1);
  }
  setDb(edit: (b: Buffer) => void): void {
    const b = this.db();
    edit(b);
    this.srv.SetArea(this.srv.srvAreaDB, 1, b);
  }
  mk(): Buffer {
    return this.srv.GetArea(this.srv.srvAreaMK);
  }
  setMk(edit: (b: Buffer) => void): void {
    const b = this.mk();
    edit(b);
    this.srv.SetArea(this.srv.srvAreaMK, b);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startPeer(port?: number): Promise<S7Peer> {
  const peer = new S7Peer(port ?? (await freePort()));
  await peer.start();
  cleanups.push(() => peer.stop());
  return peer;
}

function startDriver(port: number, defs: TagDefinition[], options: Record<string, unknown> = {}): { host: TestHost; driver: S7Driver } {
  const host = makeHost(defs);
  const driver = s7.create(
    {
      name: 'plc',
      driver: 's7',
      host: '127.0.0.1',
      port,
      rack: 0,
      slot: 1,
      timeoutMs: 500,
      pollMs: 50,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      ...options,
    },
    host.driverTags,
    host,
  ) as S7Driver;
  for (const t of host.engine.tags) host.engine.bindDriver(t.def.connection, driver as Driver);
  void driver.start();
  cleanups.push(() => driver.stop());
  return { host, driver };
}

const value = (h: TestHost, name: string) => h.engine.require(name).value;
const allGood = (h: TestHost) => h.engine.tags.every((t) => t.quality === Quality.GOOD);

describe('s7 driver against a snap7 server', () => {
  it('reads every supported type and address form', async () => {
    const peer = await startPeer();
    peer.setDb((b) => {
      b.writeFloatBE(12.5, 0);
      b.writeInt16BE(-300, 4);
      b.writeUInt16BE(60000, 6);
      b.writeInt32BE(-70000, 8);
      b.writeUInt32BE(4_000_000_000, 12);
      b.writeDoubleBE(Math.E, 16);
      b[24] = 0b0000_0100;
      b[25] = 200;
      b[26] = 'Z'.charCodeAt(0);
      b[30] = 20;
      b[31] = 5;
      b.write('hello', 32, 'latin1');
      b.writeInt16BE(13824, 60);
    });
    peer.setMk((b) => {
      b[10] = 0b10;
      b.writeInt16BE(-5, 20);
      b.writeFloatBE(1.25, 30);
    });
    const { host } = startDriver(peer.port, [
      tag('real', 'Float32', 'DB1,REAL0'),
      tag('int', 'Int16', 'DB1,INT4'),
      tag('word', 'UInt16', 'DB1,WORD6'),
      tag('dint', 'Int32', 'DB1,DINT8'),
      tag('dword', 'UInt32', 'DB1,DWORD12'),
      tag('lreal', 'Float64', 'DB1,LREAL16'),
      tag('bit', 'Bool', 'DB1,X24.2'),
      tag('bitStep7', 'Bool', 'DB1.DBX24.2'),
      tag('byte', 'UInt8', 'DB1,BYTE25'),
      tag('sbyte', 'Int8', 'DB1.DBB25'),
      tag('char', 'String', 'DB1,CHAR26'),
      tag('str', 'String', 'DB1,S30.20'),
      tag('dbw', 'Int16', 'DB1.DBW4'),
      tag('dbd', 'Float32', 'DB1.DBD0'),
      tag('scaled', 'Float64', 'DB1,INT60', { scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 } }),
      tag('m', 'Bool', 'M10.1'),
      tag('mw', 'Int16', 'MW20'),
      tag('mr', 'Float32', 'MD30'),
      tag('in', 'Bool', 'I0.0', { access: 'read' }),
      tag('out', 'Bool', 'Q0.1'),
      tag('eIn', 'Bool', 'E0.0', { access: 'read' }),
    ]);
    await waitFor('all tags GOOD', () => allGood(host));
    expect(Object.fromEntries(host.engine.tags.map((t) => [t.def.name, t.value]))).toEqual({
      real: 12.5,
      int: -300,
      word: 60000,
      dint: -70000,
      dword: 4_000_000_000,
      lreal: Math.E,
      bit: true,
      bitStep7: true,
      byte: 200,
      sbyte: -56,
      char: 'Z',
      str: 'hello',
      dbw: -300,
      dbd: 12.5,
      scaled: 50,
      m: true,
      mw: -5,
      mr: 1.25,
      in: false,
      out: false,
      eIn: false,
    });
    expect(lastState(host)).toBe('CONNECTED');
  });

  it('writes and the PLC memory shows it', async () => {
    const peer = await startPeer();
    peer.setDb((b) => {
      b[24] = 0b1000_0001;
    });
    const { host } = startDriver(peer.port, [
      tag('real', 'Float32', 'DB1,REAL0'),
      tag('int', 'Int16', 'DB1,INT4'),
      tag('dint', 'Int32', 'DB1,DINT8'),
      tag('dword', 'UInt32', 'DB1,DWORD12'),
      tag('lreal', 'Float64', 'DB1,LREAL16'),
      tag('bit', 'Bool', 'DB1,X24.2'),
      tag('sbyte', 'Int8', 'DB1,BYTE25'),
      tag('str', 'String', 'DB1,S30.20'),
      tag('scaled', 'Float32', 'DB1,INT60', { scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 } }),
      tag('mw', 'UInt16', 'MW20'),
      tag('q', 'Bool', 'Q0.1'),
    ]);
    await waitFor('GOOD', () => allGood(host));
    const w = (name: string, v: unknown) => host.engine.write(host.engine.require(name), v);
    await w('real', 99.25);
    await w('int', -12345);
    await w('dint', -2_000_000_000);
    await w('dword', 4_000_000_001);
    await w('lreal', -1e-300);
    await w('bit', true);
    await w('sbyte', -2);
    await w('str', 'Tagway');
    await w('scaled', 25);
    await w('mw', 65535);
    await w('q', true);
    const db = peer.db();
    expect(db.readFloatBE(0)).toBe(99.25);
    expect(db.readInt16BE(4)).toBe(-12345);
    expect(db.readInt32BE(8)).toBe(-2_000_000_000);
    expect(db.readUInt32BE(12)).toBe(4_000_000_001);
    expect(db.readDoubleBE(16)).toBe(-1e-300);
    expect(db[24]).toBe(0b1000_0101); // only bit 2 changed
    expect(db[25]).toBe(254);
    expect(db[31]).toBe(6);
    expect(db.toString('latin1', 32, 38)).toBe('Tagway');
    expect(db.readInt16BE(60)).toBe(6912);
    expect(peer.mk().readUInt16BE(20)).toBe(65535);
    expect(peer.srv.GetArea(peer.srv.srvAreaPA)[0]).toBe(0b10);
    await waitFor('read back', () => value(host, 'dword') === 4_000_000_001 && value(host, 'str') === 'Tagway');
    await expect(w('str', 'x'.repeat(21))).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('marks only the item the PLC refuses BAD and keeps the connection', async () => {
    const peer = await startPeer();
    peer.setDb((b) => b.writeInt16BE(3, 0));
    const { host } = startDriver(peer.port, [tag('ok', 'Int16', 'DB1,INT0'), tag('missing', 'Int16', 'DB99,INT0')]);
    await waitFor('ok GOOD', () => host.engine.require('ok').quality === Quality.GOOD);
    await waitFor('missing BAD', () => host.engine.require('missing').quality === Quality.BAD_NO_COMMUNICATION);
    expect(value(host, 'ok')).toBe(3);
    expect(lastState(host)).toBe('CONNECTED');
    await expect(host.engine.write(host.engine.require('missing'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    await host.engine.write(host.engine.require('ok'), 4);
    expect(peer.db().readInt16BE(0)).toBe(4);
  });

  it('goes BAD when the PLC stops, refuses writes, and recovers when it is back on the same port', async () => {
    const peer = await startPeer();
    peer.setDb((b) => b.writeInt16BE(7, 4));
    const { host } = startDriver(peer.port, [tag('int', 'Int16', 'DB1,INT4'), tag('fast', 'Bool', 'M0.0', { options: { pollMs: 30 } })]);
    await waitFor('GOOD', () => allGood(host));
    peer.stop();
    await waitFor('NOT_CONNECTED', () => host.engine.tags.every((t) => t.quality === Quality.BAD_NOT_CONNECTED));
    expect(value(host, 'int')).toBe(7);
    await expect(host.engine.write(host.engine.require('int'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    peer.setDb((b) => b.writeInt16BE(8, 4));
    await peer.start();
    await waitFor('GOOD again', () => allGood(host) && value(host, 'int') === 8);
    expect(lastState(host)).toBe('CONNECTED');
    await host.engine.write(host.engine.require('int'), 9);
    expect(peer.db().readInt16BE(4)).toBe(9);
  });

  it('rejects DEVICE_TIMEOUT when a connected PLC stops answering, then reconnects', async () => {
    const peer = await startPeer();
    const proxy = await freezableProxy(peer.port);
    cleanups.push(() => proxy.close());
    const { host } = startDriver(proxy.port, [tag('int', 'Int16', 'DB1,INT4', { options: { pollMs: 60_000 } })], { timeoutMs: 200 });
    await waitFor('GOOD', () => allGood(host));
    proxy.frozen = true;
    await expect(host.engine.write(host.engine.require('int'), 5)).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    await waitFor('NOT_CONNECTED', () => host.engine.require('int').quality === Quality.BAD_NOT_CONNECTED);
    proxy.frozen = false;
    await waitFor('GOOD again', () => allGood(host));
    await host.engine.write(host.engine.require('int'), 6);
    expect(peer.db().readInt16BE(4)).toBe(6);
  });

  it('never connects to a port that accepts TCP but speaks no S7, and stays clean', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const { host } = startDriver(silent.port, [tag('int', 'Int16', 'DB1,INT4')], { timeoutMs: 100 });
    await waitFor('connect attempt failed', () => host.states.filter((s) => s.state === 'DISCONNECTED').length >= 2);
    expect(host.engine.require('int').quality).toBe(Quality.BAD_NOT_CONNECTED);
    await expect(host.engine.write(host.engine.require('int'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
  });

  it('stop() leaves no timer and no socket behind', async () => {
    const baseline = tcpHandles();
    const peer = await startPeer();
    const silent = await silentServer();
    const { host: h1, driver: d1 } = startDriver(peer.port, [tag('a', 'Int16', 'DB1,INT0')]);
    const { host: h2, driver: d2 } = startDriver(silent.port, [tag('b', 'Int16', 'DB1,INT0')], { timeoutMs: 100 });
    const proxy = await freezableProxy(peer.port);
    const { host: h3, driver: d3 } = startDriver(proxy.port, [tag('c', 'Int16', 'DB1,INT0', { options: { pollMs: 60_000 } })], {
      timeoutMs: 5000,
    });
    await waitFor('states', () => allGood(h1) && allGood(h3) && h2.states.some((s) => s.state === 'DISCONNECTED'));
    // A write that is waiting for a frozen PLC when the driver stops is answered, not left hanging.
    proxy.frozen = true;
    const pending = h3.engine.write(h3.engine.require('c'), 1).catch((e: unknown) => e);
    await Promise.all([d1.stop(), d2.stop(), d3.stop()]);
    expect(await pending).toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    await proxy.close();
    for (const h of [h1, h2, h3]) {
      expect(h.clock.pending.size).toBe(0);
      expect(lastState(h)).toBe('DISCONNECTED');
    }
    await silent.close();
    await waitFor('sockets closed', () => tcpHandles() <= baseline);
  });
});
