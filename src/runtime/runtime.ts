import type { Logger } from 'pino';
import { Security } from '../auth/security.js';
import { SessionService } from '../auth/sessions.js';
import { UserDirectory } from '../auth/user-directory.js';
import type { Config } from '../config.js';
import { TagwayError } from '../domain/problems.js';
import { loadProjectFile } from '../project/load.js';
import type { Project } from '../project/types.js';
import { formatProblem, ProjectError } from '../project/problems.js';
import { diffProjects, type ReloadResult } from './reload.js';
import type { Storage } from '../storage/open.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { ConnectionManager } from './connection-manager.js';
import { EventBus } from './event-bus.js';
import { GroupCommit } from './group-commit.js';
import { storageCheck, StorageHealth } from './storage-health.js';
import { TagEngine } from './tag-engine.js';

export interface RuntimeOptions {
  config: Config;
  project: Project;
  logger: Logger;
  clock?: Clock;
  /** Where first-start messages (the initial admin password) go; stdout by default. */
  print?: (line: string) => void;
  /** The file the project was read from; without it (an in-memory project) reloads are refused. */
  projectFile?: string | undefined;
  /** Every store, opened by the composition root (src/main.ts); the runtime closes it at `stop`. */
  storage: Storage;
}

/**
 * The running plant: storage, tag engine, drivers, users and sessions. Transport-agnostic: the HTTP API,
 * WebSocket and CLI are thin adapters over it.
 */
export class Runtime {
  readonly config: Config;
  /** The file reloads re-read, or undefined for an in-memory project. */
  readonly projectFile: string | undefined;
  private currentProject: Project;
  private reloading: Promise<unknown> = Promise.resolve();
  readonly logger: Logger;
  readonly clock: Clock;
  /** Every store; the runtime closes it at `stop`. */
  readonly storage: Storage;
  readonly tags: TagEngine;
  readonly connections: ConnectionManager;
  readonly users: UserDirectory;
  readonly sessions: SessionService;
  /** Audit trail, login throttling, Basic cache, JWT keys, API clients, LDAP. */
  readonly security: Security;
  /** In-process events (revocations, user changes, committed alarm events): the seam a cluster will cross. */
  readonly events = new EventBus();
  /** Storage state for /health: parts register their checks (`storageHealth.register(() => ({ name, ok, reason }))`). */
  readonly storageHealth: StorageHealth;
  /** Client writes (internal tag values, audit rows) committed in groups: one transaction and one sync per group. */
  readonly writes: GroupCommit;
  readonly startedAt: number;
  private readonly stopHooks: Array<() => Promise<void> | void> = [];
  private pruneTimer: unknown;
  private readonly print: (line: string) => void;

  constructor(opts: RuntimeOptions) {
    this.config = opts.config;
    this.currentProject = opts.project;
    this.projectFile = opts.projectFile;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.print = opts.print ?? ((l) => process.stdout.write(l + '\n'));
    this.startedAt = this.clock.now();
    this.storage = opts.storage;
    this.storageHealth = new StorageHealth(this.clock, this.config.dataDir);
    this.storageHealth.register(storageCheck('database', this.storage, this.storageHealth));
    this.tags = new TagEngine(this.project.tags, this.clock);
    this.writes = new GroupCommit(this.storage);
    this.connections = new ConnectionManager(this.project.connections, this.tags, {
      clock: this.clock,
      logger: this.logger,
      kv: this.writes.keyValues(this.storage.keyValues),
      dataDir: this.config.dataDir,
    });
    this.users = new UserDirectory(this.storage.users, this.project.groups, this.logger, this.events);
    this.sessions = new SessionService(this.storage.sessions, this.users, this.clock, this.config.sessions, this.events, this.logger);
    this.security = new Security({
      storage: this.storage,
      clock: this.clock,
      dataDir: this.config.dataDir,
      users: this.users,
      tags: this.tags,
      logger: this.logger,
      settings: this.config.security,
      projectClients: this.project.raw.clients ?? [],
      auditStore: this.writes,
    });
  }

  async start(): Promise<void> {
    await this.users.load();
    await this.users.syncProjectUsers(this.project.users);
    await this.users.ensureAdmin(this.config.dataDir, this.config.adminPassword, this.print);
    await this.security.start();
    await this.sessions.load();
    await this.sessions.prune();
    this.pruneTimer = this.clock.setInterval(() => {
      this.sessions.prune().catch((err: unknown) => this.logger.error({ err }, 'pruning sessions failed'));
    }, 5 * 60_000);
    await this.connections.start();
  }

  /** The running project; a live reload replaces it (only connections and tag addresses differ). */
  get project(): Project {
    return this.currentProject;
  }

  /**
   * Applies a new project's connection configuration without a restart: changed connections restart, the others
   * are not touched (ConnectionManager.reload). Throws TagwayError INVALID_STATE, listing each change that needs a
   * restart in `errors`, and then changes nothing. Reloads run one at a time.
   */
  reloadProject(next: Project): Promise<ReloadResult> {
    const run = this.reloading.then(async () => {
      const diff = diffProjects(this.currentProject, next);
      if (diff.restartNeeded.length) {
        throw new TagwayError('INVALID_STATE', `The new project needs a restart: ${diff.restartNeeded.map((r) => r.message).join('; ')}`, {
          errors: diff.restartNeeded.map((r) => ({ field: r.path, message: r.message })),
        });
      }
      await this.connections.reload(next.connections, next.tags, diff);
      this.currentProject = next;
      const result: ReloadResult = { changed: diff.changed, added: diff.added, removed: diff.removed, unchanged: diff.unchanged };
      this.logger.info(result, 'project reloaded');
      return result;
    });
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /**
   * Re-reads the project file and reloads it (`reloadProject`). Throws TagwayError VALIDATION_FAILED with the
   * file's problems in `errors` for an invalid file, INVALID_STATE without a project file or for changes that
   * need a restart.
   */
  async reloadProjectFile(): Promise<ReloadResult> {
    const file = this.projectFile;
    if (file === undefined)
      throw new TagwayError('INVALID_STATE', 'The server was not started from a project file; there is nothing to reload');
    let next: Project;
    try {
      next = loadProjectFile(file);
    } catch (err) {
      if (!(err instanceof ProjectError)) throw err;
      throw new TagwayError(
        'VALIDATION_FAILED',
        `The project file is invalid: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`,
        {
          errors: err.problems.map((p) => ({ field: p.path || '/', message: formatProblem(p) })),
        },
      );
    }
    return this.reloadProject(next);
  }

  /** Registers work to do at shutdown (flush buffers), run in reverse order before storage closes. */
  onStop(hook: () => Promise<void> | void): void {
    this.stopHooks.push(hook);
  }

  async stop(): Promise<void> {
    this.clock.clearInterval(this.pruneTimer);
    await this.reloading; // a reload under way finishes first, so that no driver it starts outlives the stop
    await this.connections.stop();
    await this.security.stop();
    for (const h of [...this.stopHooks].reverse()) {
      try {
        await h();
      } catch (err) {
        this.logger.error({ err }, 'shutdown step failed');
      }
    }
    await this.sessions.flush();
    this.users.stop();
    await this.writes.drain();
    await this.storage.close();
  }
}
