import type { Logger } from 'pino';
import { TagwayError } from '../domain/problems.js';
import type { ConnectionDefinition, ConnectionState, ConnectionStats, Driver, DriverHost, DriverTag } from '../drivers/driver.js';
import { driverModule } from '../drivers/registry.js';
import type { Database } from '../storage/sqlite/database.js';
import type { Clock } from './clock.js';
import type { TagEngine } from './tag-engine.js';

export interface ConnectionStatus {
  name: string;
  driver: string;
  description?: string | undefined;
  state: ConnectionState;
  since: string;
  lastError: string | null;
  tagCount: number;
  stats: ConnectionStats;
}

type StateListener = (status: ConnectionStatus, previous: ConnectionState) => void;

interface Entry {
  def: ConnectionDefinition;
  driver: Driver;
  tags: DriverTag[];
  state: ConnectionState;
  since: number;
  lastError: string | null;
}

/**
 * Creates one driver per connection, binds it to the tag engine and keeps each connection's state.
 * Connections are independent: one failing to start or dropping never touches the others.
 */
export class ConnectionManager {
  private readonly entries = new Map<string, Entry>();
  private listeners: StateListener[] = [];

  constructor(
    connections: readonly ConnectionDefinition[],
    private readonly engine: TagEngine,
    private readonly deps: { clock: Clock; logger: Logger; db: Database; dataDir?: string | undefined },
  ) {
    const tagsByConnection = new Map<string, DriverTag[]>();
    for (const tag of engine.tags) {
      const list = tagsByConnection.get(tag.def.connection) ?? [];
      list.push(tag);
      tagsByConnection.set(tag.def.connection, list);
    }
    for (const def of connections) {
      const module = driverModule(def.driver);
      if (!module) throw new Error(`unknown driver '${def.driver}' for connection '${def.name}'`);
      const tags = tagsByConnection.get(def.name) ?? [];
      const entry = { def, tags, state: 'CONNECTING', since: deps.clock.now(), lastError: null } as unknown as Entry;
      entry.driver = module.create(def, tags, this.hostFor(entry));
      this.entries.set(def.name, entry);
      engine.bindDriver(def.name, entry.driver);
    }
  }

  private hostFor(entry: Entry): DriverHost {
    const { clock, db } = this.deps;
    const logger = this.deps.logger.child({ connection: entry.def.name });
    const engine = this.engine;
    return {
      clock,
      db,
      logger,
      dataDir: this.deps.dataDir,
      update: (index, value, quality, timestamp) => engine.update(index, value, quality, timestamp),
      setQuality: (index, quality, timestamp) => engine.setQuality(index, quality, timestamp),
      state: (state, error) => {
        const previous = entry.state;
        if (error !== undefined && state !== 'CONNECTED') entry.lastError = error;
        if (previous === state) return;
        entry.state = state;
        entry.since = clock.now();
        if (state === 'CONNECTED') logger.info('connected');
        else if (state !== 'CONNECTING') logger.warn({ state, error }, 'connection not available');
        const status = this.statusOf(entry);
        for (const l of this.listeners) { try { l(status, previous); } catch { /* listeners never break drivers */ } }
      },
    };
  }

  async start(): Promise<void> {
    await Promise.all([...this.entries.values()].map(async (e) => {
      try {
        await e.driver.start();
      } catch (err) {
        e.state = 'ERROR';
        e.lastError = (err as Error).message;
        this.deps.logger.error({ connection: e.def.name, err }, 'driver failed to start');
      }
    }));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map(async (e) => {
      try { await e.driver.stop(); } catch (err) { this.deps.logger.warn({ connection: e.def.name, err }, 'driver failed to stop cleanly'); }
    }));
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  list(): ConnectionStatus[] { return [...this.entries.values()].map((e) => this.statusOf(e)); }

  get(name: string): ConnectionStatus {
    const e = this.entries.get(name);
    if (!e) throw new TagwayError('NOT_FOUND', `No connection named '${name}'`);
    return this.statusOf(e);
  }

  driver(name: string): Driver | undefined { return this.entries.get(name)?.driver; }

  definition(name: string): ConnectionDefinition | undefined { return this.entries.get(name)?.def; }

  private statusOf(e: Entry): ConnectionStatus {
    return {
      name: e.def.name,
      driver: e.def.driver,
      description: e.def.description,
      state: e.state,
      since: new Date(e.since).toISOString(),
      lastError: e.lastError,
      tagCount: e.tags.length,
      stats: e.driver.stats?.() ?? { reads: 0, writes: 0, errors: 0 },
    };
  }
}
