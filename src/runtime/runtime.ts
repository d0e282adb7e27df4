import type { Logger } from 'pino';
import '../drivers/index.js';
import { Security } from '../auth/security.js';
import { SessionService } from '../auth/sessions.js';
import { UserDirectory } from '../auth/user-directory.js';
import type { Config } from '../config.js';
import type { Project } from '../project/load.js';
import { openDatabase, type Database } from '../storage/sqlite/database.js';
import { SessionStore } from '../storage/sqlite/session-store.js';
import { UserStore } from '../storage/sqlite/user-store.js';
import { systemClock, type Clock } from './clock.js';
import { ConnectionManager } from './connection-manager.js';
import { TagEngine } from './tag-engine.js';
import { join } from 'node:path';

export interface RuntimeOptions {
  config: Config;
  project: Project;
  logger: Logger;
  clock?: Clock;
  /** Where first-start messages (the initial admin password) go; stdout by default. */
  print?: (line: string) => void;
}

/**
 * The running plant: storage, tag engine, drivers, users and sessions. Transport-agnostic: the HTTP API,
 * WebSocket and CLI are thin adapters over it.
 */
export class Runtime {
  readonly config: Config;
  readonly project: Project;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Database;
  readonly tags: TagEngine;
  readonly connections: ConnectionManager;
  readonly users: UserDirectory;
  readonly sessions: SessionService;
  /** Audit trail, login throttling, Basic cache, JWT keys, API clients, LDAP. */
  readonly security: Security;
  readonly startedAt: number;
  private readonly stopHooks: Array<() => Promise<void> | void> = [];
  private pruneTimer: unknown;
  private readonly print: (line: string) => void;

  constructor(opts: RuntimeOptions) {
    this.config = opts.config;
    this.project = opts.project;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.print = opts.print ?? ((l) => process.stdout.write(l + '\n'));
    this.startedAt = this.clock.now();
    this.db = openDatabase(join(this.config.dataDir, 'tagway.db'), { synchronous: this.config.sqliteSynchronous });
    this.tags = new TagEngine(this.project.tags, this.clock);
    this.connections = new ConnectionManager(this.project.connections, this.tags, { clock: this.clock, logger: this.logger, db: this.db, dataDir: this.config.dataDir });
    this.users = new UserDirectory(new UserStore(this.db), this.project.groups, this.logger);
    this.sessions = new SessionService(new SessionStore(this.db), this.users, this.clock, this.config.sessions);
    this.security = new Security({
      db: this.db, clock: this.clock, dataDir: this.config.dataDir, users: this.users, tags: this.tags, logger: this.logger,
      settings: this.config.security, projectClients: this.project.raw.clients ?? [],
    });
  }

  async start(): Promise<void> {
    await this.users.syncProjectUsers(this.project.users);
    await this.users.ensureAdmin(this.config.dataDir, this.config.adminPassword, this.print);
    await this.security.start();
    this.sessions.prune();
    this.pruneTimer = this.clock.setInterval(() => this.sessions.prune(), 5 * 60_000);
    await this.connections.start();
  }

  /** Registers work to do at shutdown (flush buffers), run in reverse order before storage closes. */
  onStop(hook: () => Promise<void> | void): void { this.stopHooks.push(hook); }

  async stop(): Promise<void> {
    this.clock.clearInterval(this.pruneTimer);
    await this.connections.stop();
    this.security.stop();
    for (const h of [...this.stopHooks].reverse()) {
      try { await h(); } catch (err) { this.logger.error({ err }, 'shutdown step failed'); }
    }
    this.db.close();
  }
}
