import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { waitUntil } from '../../helpers/wait.js';
import type { ConnectionState, DriverHost, DriverTag } from '../../../src/drivers/driver.js';
import { systemClock, type Clock } from '../../../src/domain/clock.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import type { KeyValueRepository } from '../../../src/storage/key-value-repository.js';

/** A port nobody listens on right now (the peer binds it next; restarts reuse it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Polls a condition until it holds; fails with `what` when it does not within `ms` (a hang guard, not a timing assertion). */
export async function waitFor(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  await waitUntil(() => cond() || undefined, what, ms, 10);
}

/** The system clock, counting the timers that are still pending, so a test can see a driver leaves none. */
export class CountingClock implements Clock {
  readonly pending = new Set<unknown>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = systemClock.setTimeout(() => {
      this.pending.delete(h);
      fn();
    }, ms);
    this.pending.add(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h);
    systemClock.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const h = systemClock.setInterval(fn, ms);
    this.pending.add(h);
    return h;
  }
  clearInterval(h: unknown): void {
    this.pending.delete(h);
    systemClock.clearInterval(h);
  }
}

export interface TestHost extends DriverHost {
  engine: TagEngine;
  states: Array<{ state: ConnectionState; error?: string | undefined }>;
  clock: CountingClock;
  driverTags: DriverTag[];
}

/** A real TagEngine and a DriverHost that feeds it, as the runtime does. */
export function makeHost(defs: TagDefinition[]): TestHost {
  const clock = new CountingClock();
  const engine = new TagEngine(defs, clock);
  const states: TestHost['states'] = [];
  return {
    clock,
    engine,
    states,
    logger: pino({ level: 'silent' }),
    kv: undefined as unknown as KeyValueRepository, // protocol drivers keep nothing in storage
    update: (i, v, q, ts) => engine.update(i, v, q, ts),
    setQuality: (i, q, ts) => engine.setQuality(i, q, ts),
    state: (state, error) => {
      states.push({ state, error });
    },
    driverTags: engine.tags.map((t) => ({ index: t.index, def: t.def })),
  };
}

export function lastState(host: TestHost): ConnectionState | undefined {
  return host.states.at(-1)?.state;
}

/** Sockets open in this process (TCP handles), for leak checks. */
export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/** Accepts TCP connections and never says a word: the device that hangs. */
export async function silentServer(port = 0): Promise<{ port: number; close(): Promise<void>; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return {
    port: (srv.address() as { port: number }).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/**
 * A TCP relay in front of a real peer that can be frozen: while frozen it swallows traffic in both
 * directions, so the peer looks alive (TCP up) but never answers.
 */
export async function freezableProxy(targetPort: number): Promise<{ port: number; frozen: boolean; close(): Promise<void> }> {
  const { connect } = await import('node:net');
  const sockets = new Set<Socket>();
  const state = { frozen: false };
  const srv = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => {
      if (!state.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!state.frozen) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    get frozen() {
      return state.frozen;
    },
    set frozen(v: boolean) {
      state.frozen = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

export function tag(name: string, type: TagDefinition['type'], address: string, extra: Partial<TagDefinition> = {}): TagDefinition {
  return { name, type, address, connection: 'plc', access: 'readwrite', ...extra };
}
