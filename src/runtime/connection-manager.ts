import type { Logger } from 'pino';
import { TagwayError } from '../domain/problems.js';
import type { ConnectionDefinition, ConnectionState, ConnectionStats, Driver, DriverHost, DriverTag } from '../drivers/driver.js';
import { driverModule } from '../drivers/registry.js';
import type { KeyValueRepository } from '../storage/key-value-repository.js';
import type { Clock } from '../domain/clock.js';
import type { ProjectDiff } from './reload.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import type { TagEngine } from './tag-engine.js';

export interface ConnectionStatus {
  name: string;
  driver: string;
  description?: string | undefined;
  state: ConnectionState;
  since: string;
  lastError: string | null;
  /** Times the connection was established again after it had been lost, since the server started. */
  reconnects: number;
  /** When the connection was last established (ISO), null while it never was. */
  lastConnected: string | null;
  tagCount: number;
  stats: ConnectionStats;
  /** In a cluster: the node that runs this connection's driver (absent while no node holds its lease). */
  owner?: string | undefined;
}

/**
 * Who runs which connection, when several nodes share one project (the cluster link): the manager then starts
 * nothing by itself; the link claims and releases connections as it wins and loses their leases.
 */
export interface Ownership {
  /** The node that holds the connection's lease, undefined in a gap. */
  ownerOf(connection: string): string | undefined;
  /** The state the owner reported last (for connections run by another node). */
  remoteState(connection: string): ConnectionState | undefined;
  /** True when this node runs the connection. */
  isLocal(connection: string): boolean;
}

type StateListener = (status: ConnectionStatus, previous: ConnectionState) => void;

interface Entry {
  def: ConnectionDefinition;
  driver: Driver;
  tags: DriverTag[];
  state: ConnectionState;
  since: number;
  lastError: string | null;
  /** A later CONNECTED is then a re-establishment, counted in `reconnects`. */
  everConnected: boolean;
  reconnects: number;
  lastConnected: number | null;
  /** Set once a live reload replaced or removed the connection: late calls of its stopped driver are ignored. */
  retired?: boolean;
}

/**
 * Creates one driver per connection, binds it to the tag engine and keeps each connection's state.
 * Connections are independent: one failing to start or dropping never touches the others.
 */
export class ConnectionManager {
  private readonly entries = new Map<string, Entry>();
  private listeners: StateListener[] = [];
  private stopping = false;
  private ownership: Ownership | undefined;

  constructor(
    connections: readonly ConnectionDefinition[],
    private readonly engine: TagEngine,
    private readonly deps: { clock: Clock; logger: Logger; kv: KeyValueRepository; dataDir?: string | undefined },
  ) {
    const tagsByConnection = new Map<string, DriverTag[]>();
    for (const tag of engine.tags) {
      const list = tagsByConnection.get(tag.def.connection) ?? [];
      list.push(tag);
      tagsByConnection.set(tag.def.connection, list);
    }
    for (const def of connections) this.create(def, tagsByConnection.get(def.name) ?? []);
  }

  /** Creates a connection's driver, binds it in the engine and files it (replacing any entry of that name). */
  private create(def: ConnectionDefinition, tags: DriverTag[]): Entry {
    const module = driverModule(def.driver);
    if (!module) throw new Error(`unknown driver '${def.driver}' for connection '${def.name}'`);
    const entry = {
      def,
      tags,
      state: 'CONNECTING',
      since: this.deps.clock.now(),
      lastError: null,
      everConnected: false,
      reconnects: 0,
      lastConnected: null,
    } as unknown as Entry;
    entry.driver = module.create(def, tags, this.hostFor(entry));
    this.entries.set(def.name, entry);
    this.engine.bindDriver(def.name, entry.driver);
    return entry;
  }

  private hostFor(entry: Entry): DriverHost {
    const { clock, kv } = this.deps;
    const logger = this.deps.logger.child({ connection: entry.def.name });
    const engine = this.engine;
    return {
      clock,
      kv,
      logger,
      dataDir: this.deps.dataDir,
      update: (index, value, quality, timestamp) => {
        if (!entry.retired) engine.update(index, value, quality, timestamp);
      },
      setQuality: (index, quality, timestamp) => {
        if (!entry.retired) engine.setQuality(index, quality, timestamp);
      },
      state: (state, error) => {
        if (entry.retired) return;
        const previous = entry.state;
        if (error !== undefined && state !== 'CONNECTED') entry.lastError = error;
        if (previous === state) return;
        entry.state = state;
        entry.since = clock.now();
        if (state === 'CONNECTED') {
          if (entry.everConnected) entry.reconnects++;
          entry.everConnected = true;
          entry.lastConnected = entry.since;
        }
        if (state === 'CONNECTED') logger.info('connected');
        else if (this.stopping) logger.info({ state }, 'connection stopped');
        else if (state !== 'CONNECTING') logger.warn({ state, error }, 'connection not available');
        this.notify(entry, previous);
      },
    };
  }

  private notify(entry: Entry, previous: ConnectionState): void {
    const status = this.statusOf(entry);
    for (const l of this.listeners) {
      try {
        l(status, previous);
      } catch {
        /* listeners never break drivers */
      }
    }
  }

  /**
   * Hands the choice of which connections run here to a cluster link: `start` then starts none, `claim` starts
   * one, `release` stops one. Call before `start`.
   */
  manageBy(ownership: Ownership): void {
    this.ownership = ownership;
  }

  /** Starts a connection's driver (this node won its lease) and binds it for writes again. */
  async claim(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e || this.stopping) return;
    this.engine.bindDriver(name, e.driver);
    await this.startEntry(e);
  }

  /**
   * Stops a connection's driver (this node lost or gave up its lease) and prepares a fresh one for the next claim
   * (a stopped driver is not restarted); `standIn` takes the connection's writes meanwhile.
   */
  async release(name: string, standIn: Driver): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    e.retired = true;
    this.engine.bindDriver(name, standIn);
    try {
      await e.driver.stop();
    } catch (err) {
      this.deps.logger.warn({ connection: name, err }, 'driver failed to stop cleanly');
    }
    if (this.stopping) return;
    const fresh = this.create(e.def, e.tags);
    // Counted since the server started, across the drivers a lease hands back and forth.
    fresh.reconnects = e.reconnects;
    fresh.lastConnected = e.lastConnected;
    this.engine.bindDriver(name, standIn);
  }

  async start(): Promise<void> {
    if (this.ownership) return;
    await Promise.all([...this.entries.values()].map((e) => this.startEntry(e)));
  }

  private async startEntry(e: Entry): Promise<void> {
    try {
      await e.driver.start();
    } catch (err) {
      e.state = 'ERROR';
      e.lastError = (err as Error).message;
      this.deps.logger.error({ connection: e.def.name, err }, 'driver failed to start');
    }
  }

  /**
   * Applies a live reload that `diffProjects` allowed. Changed connections: the old driver stops, the tags get
   * their new definitions (value and quality kept), a new driver is created from the new definition, bound and
   * started. Added connections start; removed ones stop. Connections not named are not touched at all.
   */
  async reload(
    next: readonly ConnectionDefinition[],
    nextTags: readonly TagDefinition[],
    diff: Pick<ProjectDiff, 'changed' | 'added' | 'removed'>,
  ): Promise<void> {
    // Which node runs a connection is decided by its lease: a reload here would start drivers beside their owners.
    if (this.ownership && diff.changed.length + diff.added.length + diff.removed.length > 0)
      throw new TagwayError(
        'INVALID_STATE',
        'A cluster member does not reload connections live: change the project file on every node and restart them one by one',
      );
    const defs = new Map(next.map((c) => [c.name, c]));
    const old = [...diff.changed, ...diff.removed].flatMap((name) => {
      const e = this.entries.get(name);
      return e ? [e] : [];
    });
    for (const e of old) e.retired = true;
    await Promise.all(
      old.map(async (e) => {
        try {
          await e.driver.stop();
        } catch (err) {
          this.deps.logger.warn({ connection: e.def.name, err }, 'driver failed to stop cleanly');
        }
      }),
    );
    for (const name of diff.removed) {
      this.entries.delete(name);
      this.engine.unbindDriver(name);
      this.deps.logger.info({ connection: name }, 'connection removed by reload');
    }
    const restarted = new Set(diff.changed);
    for (const def of nextTags) if (restarted.has(def.connection)) this.engine.replaceDefinition(def);
    const fresh: Array<{ entry: Entry; previous: ConnectionState | undefined }> = [];
    for (const name of [...diff.changed, ...diff.added]) {
      const def = defs.get(name);
      if (!def) continue;
      const old = this.entries.get(name);
      const previous = old?.state;
      const tags: DriverTag[] = this.engine.tags.filter((t) => t.def.connection === name);
      let entry: Entry;
      try {
        entry = this.create(def, tags);
      } catch (err) {
        // The project was validated, so a driver refusing its options is unexpected: keep the connection, in ERROR.
        const message = (err as Error).message;
        this.deps.logger.error({ connection: name, err }, 'driver could not be created');
        const failed: Driver = {
          start: async () => undefined,
          stop: async () => undefined,
          write: () => Promise.reject(new TagwayError('DEVICE_UNAVAILABLE', `Connection '${name}' failed: ${message}`)),
        };
        entry = {
          def,
          tags,
          driver: failed,
          state: 'ERROR',
          since: this.deps.clock.now(),
          lastError: message,
          everConnected: false,
          reconnects: 0,
          lastConnected: null,
        };
        this.entries.set(name, entry);
        this.engine.bindDriver(name, failed);
      }
      // The counters describe the connection since the server started, not one driver instance: a reload's own
      // restart is not a loss (everConnected starts afresh), but what was counted before stays.
      if (old) {
        entry.reconnects = old.reconnects;
        entry.lastConnected = old.lastConnected;
      }
      fresh.push({ entry, previous });
      this.deps.logger.info(
        { connection: name, driver: def.driver },
        previous === undefined ? 'connection added by reload' : 'connection restarted by reload',
      );
    }
    for (const { entry, previous } of fresh) if (previous !== undefined && previous !== entry.state) this.notify(entry, previous);
    await Promise.all(fresh.map(({ entry }) => this.startEntry(entry)));
  }

  async stop(): Promise<void> {
    // A shutdown is not a fault: drivers going DISCONNECTED now are logged at info, not warn.
    this.stopping = true;
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        try {
          await e.driver.stop();
        } catch (err) {
          this.deps.logger.warn({ connection: e.def.name, err }, 'driver failed to stop cleanly');
        }
      }),
    );
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  list(): ConnectionStatus[] {
    return [...this.entries.values()].map((e) => this.statusOf(e));
  }

  get(name: string): ConnectionStatus {
    const e = this.entries.get(name);
    if (!e) throw new TagwayError('NOT_FOUND', `No connection named '${name}'`);
    return this.statusOf(e);
  }

  driver(name: string): Driver | undefined {
    return this.entries.get(name)?.driver;
  }

  definition(name: string): ConnectionDefinition | undefined {
    return this.entries.get(name)?.def;
  }

  private statusOf(e: Entry): ConnectionStatus {
    const own = this.ownership;
    const local = own === undefined || own.isLocal(e.def.name);
    return {
      name: e.def.name,
      driver: e.def.driver,
      description: e.def.description,
      state: local ? e.state : (own.remoteState(e.def.name) ?? 'DISCONNECTED'),
      since: new Date(e.since).toISOString(),
      lastError: e.lastError,
      reconnects: e.reconnects,
      lastConnected: e.lastConnected === null ? null : new Date(e.lastConnected).toISOString(),
      tagCount: e.tags.length,
      stats: e.driver.stats?.() ?? { reads: 0, writes: 0, errors: 0 },
      ...(own ? { owner: own.ownerOf(e.def.name) } : {}),
    };
  }
}
