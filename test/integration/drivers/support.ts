import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { waitUntil } from '../../helpers/wait.js';
import type { ConnectionState, DriverHost, DriverTag } from '../../../src/drivers/driver.js';
import { systemClock } from '../../../src/domain/clock.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteKeyValueRepository } from '../../../src/storage/sqlite/sqlite-key-value-repository.js';

/** A real TagEngine and a DriverHost on top of it, recording the connection states the driver reports. */
export interface Harness {
  engine: TagEngine;
  host: DriverHost;
  tags: DriverTag[];
  states: Array<{ state: ConnectionState; error?: string | undefined }>;
  lastState(): ConnectionState | undefined;
  close(): void;
}

export function harness(defs: TagDefinition[]): Harness {
  const engine = new TagEngine(defs, systemClock);
  const db: Database = openDatabase(':memory:');
  const states: Harness['states'] = [];
  const host: DriverHost = {
    clock: systemClock,
    logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    kv: new SqliteKeyValueRepository(db),
    update: (i, v, q, ts) => engine.update(i, v, q, ts),
    setQuality: (i, q, ts) => engine.setQuality(i, q, ts),
    state: (state, error) => {
      states.push({ state, error });
    },
  };
  return {
    engine,
    host,
    states,
    tags: engine.tags.map((t) => ({ index: t.index, def: t.def })),
    lastState: () => states.at(-1)?.state,
    close: () => db.close(),
  };
}

/** Polls until `check` returns a truthy value (never asserts a duration; the bound only stops a hung test). */
export function waitFor<T>(check: () => T | undefined | false | null, what: string, boundMs = 15_000): Promise<T> {
  return waitUntil(check, what, boundMs);
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A TCP server that accepts connections and never says a word: the peer every driver must survive. */
export async function silentServer(): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function def(
  name: string,
  type: TagDefinition['type'],
  connection: string,
  address: string,
  extra: Partial<TagDefinition> = {},
): TagDefinition {
  return { name, type, connection, address, access: 'readwrite', ...extra };
}
