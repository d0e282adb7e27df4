import { afterEach, describe, expect, it } from 'vitest';
import { TagwayError } from '../../../src/domain/problems.js';
import { Quality } from '../../../src/domain/quality.js';
import type { Driver } from '../../../src/drivers/driver.js';
import { modbusTcp, type ModbusTcpDriver } from '../../../src/drivers/modbus-tcp/index.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { freePort, freezableProxy, lastState, makeHost, silentServer, tag, tcpHandles, waitFor, type TestHost } from './helpers.js';
import { ModbusPeer } from './modbus-peer.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startPeer(port?: number): Promise<ModbusPeer> {
  const peer = new ModbusPeer(port ?? (await freePort()));
  await peer.start();
  cleanups.push(() => peer.stop());
  return peer;
}

function startDriver(
  port: number,
  defs: TagDefinition[],
  options: Record<string, unknown> = {},
): { host: TestHost; driver: ModbusTcpDriver } {
  const host = makeHost(defs);
  const driver = modbusTcp.create(
    {
      name: 'plc',
      driver: 'modbus-tcp',
      host: '127.0.0.1',
      port,
      timeoutMs: 300,
      pollMs: 50,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      ...options,
    },
    host.driverTags,
    host,
  ) as ModbusTcpDriver;
  for (const t of host.engine.tags) host.engine.bindDriver(t.def.connection, driver as Driver);
  void driver.start();
  cleanups.push(() => driver.stop());
  return { host, driver };
}

const value = (h: TestHost, name: string) => h.engine.require(name).value;
const quality = (h: TestHost, name: string) => h.engine.require(name).quality;
const allGood = (h: TestHost) => h.engine.tags.every((t) => t.quality === Quality.GOOD);

describe('modbus-tcp driver against a modbus-serial ServerTCP', () => {
  it('reads every type and address form', async () => {
    const peer = await startPeer();
    const b = (n: number) => Buffer.alloc(n);
    let x = b(2);
    x.writeInt16BE(-1234);
    peer.setBytes(0, x);
    peer.holding[1] = 65000;
    x = b(4);
    x.writeInt32BE(-123456789);
    peer.setBytes(2, x);
    x = b(4);
    x.writeUInt32BE(4_000_000_000);
    peer.setBytes(4, x);
    x = b(4);
    x.writeFloatBE(12.5);
    peer.setBytes(6, x);
    x = b(8);
    x.writeDoubleBE(Math.PI);
    peer.setBytes(8, x);
    x = b(8);
    x.writeBigInt64BE(-9007199254740993n);
    peer.setBytes(12, x);
    x = b(8);
    x.writeBigUInt64BE(18446744073709551615n);
    peer.setBytes(16, x);
    x = b(10);
    x.write('Hello', 'latin1');
    peer.setBytes(20, x);
    peer.holding[30] = 0b1010;
    // CDAB: the low word first.
    x = b(4);
    x.writeInt32BE(-2);
    peer.setBytes(40, Buffer.concat([x.subarray(2), x.subarray(0, 2)]));
    // Bytes swapped inside each register.
    x = b(4);
    x.writeFloatBE(-0.5);
    x.swap16();
    peer.setBytes(42, x);
    peer.holding[50] = 13824; // half of the S7 analog range 0…27648
    peer.holding[51] = 7;
    peer.coils[5] = true;
    peer.discrete[7] = true;
    peer.input[3] = 777;
    peer.input[4] = 0x8000;

    const { host, driver } = startDriver(peer.port, [
      tag('i16', 'Int16', 'holding:0'),
      tag('classic', 'Int16', '40001'),
      tag('u16', 'UInt16', 'holding:1'),
      tag('i32', 'Int32', 'holding:2'),
      tag('u32', 'UInt32', 'holding:4'),
      tag('f32', 'Float32', 'holding:6'),
      tag('f64', 'Float64', 'holding:8'),
      tag('i64', 'Int64', 'holding:12'),
      tag('u64', 'UInt64', 'holding:16'),
      tag('str', 'String', 'holding:20', { options: { length: 10 } }),
      tag('bit0', 'Bool', 'holding:30.0'),
      tag('bit1', 'Bool', '40031.1'),
      tag('regBool', 'Bool', 'holding:51'),
      tag('cdab', 'Int32', 'holding:40', { options: { wordOrder: 'little' } }),
      tag('swapped', 'Float32', 'holding:42', { options: { byteOrder: 'little' } }),
      tag('scaled', 'Float32', 'holding:50', {
        options: { rawType: 'Int16' },
        scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 },
      }),
      tag('coil', 'Bool', 'coil:5'),
      tag('coilClassic', 'Bool', '00006'),
      tag('di', 'Bool', 'discrete:7', { access: 'read' }),
      tag('diClassic', 'Bool', '10008', { access: 'read' }),
      tag('ir', 'UInt16', 'input:3', { access: 'read' }),
      tag('irClassic', 'UInt16', '30004', { access: 'read' }),
      tag('irBit', 'Bool', 'input:4.15', { access: 'read' }),
    ]);
    await waitFor('all tags GOOD', () => allGood(host));
    expect(Object.fromEntries(host.engine.tags.map((t) => [t.def.name, t.value]))).toEqual({
      i16: -1234,
      classic: -1234,
      u16: 65000,
      i32: -123456789,
      u32: 4_000_000_000,
      f32: 12.5,
      f64: Math.PI,
      i64: '-9007199254740993',
      u64: '18446744073709551615',
      str: 'Hello',
      bit0: false,
      bit1: true,
      regBool: true,
      cdab: -2,
      swapped: -0.5,
      scaled: 50,
      coil: true,
      coilClassic: true,
      di: true,
      diClassic: true,
      ir: 777,
      irClassic: 777,
      irBit: true,
    });
    expect(lastState(host)).toBe('CONNECTED');
    // Neighbouring addresses are merged: one request per area (holding, coils, discrete, input).
    expect(driver.stats().requestsPerCycle).toBe(4);
    expect(driver.stats().reads).toBeGreaterThan(0);
  });

  it('writes every type and the device memory shows it', async () => {
    const peer = await startPeer();
    peer.holding[30] = 0b1001;
    const { host } = startDriver(peer.port, [
      tag('i16', 'Int16', 'holding:0'),
      tag('u32', 'UInt32', 'holding:2'),
      tag('f32', 'Float32', 'holding:4'),
      tag('f64', 'Float64', 'holding:6', { options: { wordOrder: 'little' } }),
      tag('i64', 'Int64', 'holding:10'),
      tag('str', 'String', 'holding:20', { options: { length: 5 } }),
      tag('bit', 'Bool', 'holding:30.2'),
      tag('bitOff', 'Bool', 'holding:30.3'),
      tag('regBool', 'Bool', 'holding:31'),
      tag('scaled', 'Float64', 'holding:32', {
        options: { rawType: 'UInt16' },
        scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 },
      }),
      tag('multi', 'UInt16', 'holding:33', { options: { writeMultiple: true } }),
      tag('coil', 'Bool', 'coil:1'),
      tag('coilMulti', 'Bool', 'coil:2', { options: { writeMultiple: true } }),
    ]);
    await waitFor('connected', () => allGood(host));
    const w = (name: string, v: unknown) => host.engine.write(host.engine.require(name), v);
    await w('i16', -42);
    await w('u32', 4_000_000_001);
    await w('f32', 3.75);
    await w('f64', -1.5e300);
    await w('i64', '-9223372036854775808');
    await w('str', 'Abc');
    await w('bit', true);
    await w('bitOff', false);
    await w('regBool', true);
    await w('scaled', 25);
    await w('multi', 4242);
    await w('coil', true);
    await w('coilMulti', true);
    expect(peer.bytes(0, 1).readInt16BE()).toBe(-42);
    expect(peer.bytes(2, 2).readUInt32BE()).toBe(4_000_000_001);
    expect(peer.bytes(4, 2).readFloatBE()).toBe(3.75);
    const f64 = peer.bytes(6, 4);
    expect(Buffer.concat([f64.subarray(6, 8), f64.subarray(4, 6), f64.subarray(2, 4), f64.subarray(0, 2)]).readDoubleBE()).toBe(-1.5e300);
    expect(peer.bytes(10, 4).readBigInt64BE()).toBe(-9223372036854775808n);
    expect(peer.bytes(20, 3)).toEqual(Buffer.from([0x41, 0x62, 0x63, 0, 0, 0]));
    expect(peer.holding[30]).toBe(0b0101); // bit 2 set, bit 3 cleared, bit 0 kept
    expect(peer.holding[31]).toBe(1);
    expect(peer.holding[32]).toBe(6912);
    expect(peer.holding[33]).toBe(4242);
    expect(peer.coils[1]).toBe(true);
    expect(peer.coils[2]).toBe(true);
    // The engine publishes what was written; the next poll reads the same back.
    await waitFor('read back', () => value(host, 'str') === 'Abc' && value(host, 'i64') === '-9223372036854775808');
    await expect(w('str', 'too long')).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(w('i16', 40000)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('refuses a raw value that does not fit after inverse scaling', async () => {
    const peer = await startPeer();
    const { host } = startDriver(peer.port, [
      tag('scaled', 'Float32', 'holding:0', {
        options: { rawType: 'Int16' },
        scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 },
      }),
    ]);
    await waitFor('connected', () => allGood(host));
    await expect(host.engine.write(host.engine.require('scaled'), 1000)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    expect(peer.holding[0]).toBe(0);
  });

  it('splits a merged request that hits a hole in the device memory', async () => {
    const peer = await startPeer();
    peer.holding[598] = 1;
    peer.holding[612] = 2;
    const { host, driver } = startDriver(
      peer.port,
      [tag('before', 'UInt16', 'holding:598'), tag('after', 'UInt16', 'holding:612'), tag('inHole', 'UInt16', 'holding:605')],
      { maxGap: 20 },
    );
    await waitFor('good tags GOOD', () => quality(host, 'before') === Quality.GOOD && quality(host, 'after') === Quality.GOOD);
    await waitFor('hole BAD config', () => quality(host, 'inHole') === Quality.BAD_CONFIGURATION_ERROR);
    expect([value(host, 'before'), value(host, 'after')]).toEqual([1, 2]);
    expect(driver.stats().requestsPerCycle).toBe(3);
  });

  it('polls groups at their own cycle', async () => {
    const peer = await startPeer();
    const { host, driver } = startDriver(peer.port, [
      tag('fast', 'UInt16', 'holding:0'),
      tag('slow', 'UInt16', 'holding:1', { options: { pollMs: 60_000 } }),
    ]);
    await waitFor('GOOD', () => allGood(host));
    peer.holding[0] = 11;
    peer.holding[1] = 22;
    await waitFor('fast group sees the change', () => value(host, 'fast') === 11);
    // The slow group polled once at connect and not again within its minute.
    expect(value(host, 'slow')).toBe(0);
    expect(driver.stats().requestsPerCycle).toBe(2);
  });

  it('sends one request at a time and skips cycles of a slow device instead of queueing them', async () => {
    const peer = await startPeer();
    peer.delayMs = 60;
    const { host, driver } = startDriver(peer.port, [tag('a', 'Int32', 'holding:0'), tag('b', 'Int32', 'holding:500')], { pollMs: 20 });
    await waitFor('several reads', () => driver.stats().reads >= 6);
    expect(allGood(host)).toBe(true);
    expect(peer.maxInFlight).toBe(1);
    expect(driver.stats().skippedCycles).toBeGreaterThan(0);
    // Writes still get through between the reads of a cycle.
    await host.engine.write(host.engine.require('a'), 77);
    expect(peer.bytes(0, 2).readInt32BE()).toBe(77);
  });

  it('goes BAD when the peer stops, refuses writes, and recovers when it comes back on the same port', async () => {
    const peer = await startPeer();
    peer.holding[0] = 5;
    const { host } = startDriver(peer.port, [tag('a', 'UInt16', 'holding:0'), tag('c', 'Bool', 'coil:0')]);
    await waitFor('GOOD', () => allGood(host));
    await peer.stop();
    await waitFor('NOT_CONNECTED', () => host.engine.tags.every((t) => t.quality === Quality.BAD_NOT_CONNECTED));
    expect(value(host, 'a')).toBe(5); // last value kept, marked BAD
    await expect(host.engine.write(host.engine.require('a'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect(host.states.some((s) => s.state === 'DISCONNECTED')).toBe(true);

    const again = new ModbusPeer(peer.port);
    again.holding[0] = 6;
    await again.start();
    cleanups.push(() => again.stop());
    await waitFor('GOOD again', () => allGood(host) && value(host, 'a') === 6);
    expect(lastState(host)).toBe('CONNECTED');
    await host.engine.write(host.engine.require('a'), 9);
    expect(again.holding[0]).toBe(9);
  });

  it('rejects DEVICE_TIMEOUT when the device accepts TCP but never answers, without hanging', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const { host, driver } = startDriver(silent.port, [tag('a', 'UInt16', 'holding:0', { options: { pollMs: 60_000 } })], {
      timeoutMs: 150,
    });
    await waitFor('connected', () => host.states.some((s) => s.state === 'CONNECTED'));
    const err = await host.engine.write(host.engine.require('a'), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagwayError);
    expect((err as TagwayError).code).toBe('DEVICE_TIMEOUT');
    await waitFor('poll timed out', () => quality(host, 'a') === Quality.BAD_NO_COMMUNICATION);
    expect(lastState(host)).toBe('ERROR');
    expect(driver.stats().errors).toBeGreaterThan(0);
  });

  it('marks tags BAD_NO_COMMUNICATION while a connected device stops answering, and GOOD when it answers again', async () => {
    const peer = await startPeer();
    const proxy = await freezableProxy(peer.port);
    cleanups.push(() => proxy.close());
    peer.holding[0] = 1;
    const { host } = startDriver(proxy.port, [tag('a', 'UInt16', 'holding:0')], { timeoutMs: 100 });
    await waitFor('GOOD', () => allGood(host));
    proxy.frozen = true;
    await waitFor('no communication', () => quality(host, 'a') === Quality.BAD_NO_COMMUNICATION);
    expect(lastState(host)).toBe('ERROR');
    proxy.frozen = false;
    peer.holding[0] = 2;
    await waitFor('GOOD again', () => quality(host, 'a') === Quality.GOOD && value(host, 'a') === 2);
    expect(lastState(host)).toBe('CONNECTED');
  });

  it('stop() leaves no timer and no socket behind', async () => {
    const baseline = tcpHandles();
    const peer = await startPeer();
    const silent = await silentServer();
    const { host: h1, driver: d1 } = startDriver(peer.port, [tag('a', 'UInt16', 'holding:0')]);
    const { host: h2, driver: d2 } = startDriver(silent.port, [tag('b', 'UInt16', 'holding:0')], { timeoutMs: 100 });
    const dead = await freePort();
    const { host: h3, driver: d3 } = startDriver(dead, [tag('c', 'UInt16', 'holding:0')]);
    await waitFor(
      'states',
      () => allGood(h1) && h2.states.some((s) => s.state === 'CONNECTED') && h3.states.some((s) => s.state === 'DISCONNECTED'),
    );
    // A write in flight when the driver stops is answered, not left hanging.
    const pending = h2.engine.write(h2.engine.require('b'), 3).catch((e: unknown) => e);
    await Promise.all([d1.stop(), d2.stop(), d3.stop()]);
    expect(await pending).toMatchObject({ code: expect.stringMatching(/DEVICE_UNAVAILABLE|DEVICE_TIMEOUT/) });
    for (const h of [h1, h2, h3]) {
      expect(h.clock.pending.size).toBe(0);
      expect(lastState(h)).toBe('DISCONNECTED');
      expect(h.engine.tags[0]!.quality).toBe(Quality.BAD_OUT_OF_SERVICE);
    }
    await peer.stop();
    await silent.close();
    await waitFor('sockets closed', () => tcpHandles() <= baseline);
  });
});
