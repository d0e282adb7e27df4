import { connect, ErrorCode, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import { TagwayError, type ProblemCode } from '../domain/problems.js';
import { Quality } from '../domain/quality.js';
import type { TagValue } from '../domain/tag-types.js';
import type { ConnectionState, Driver, DriverTag } from '../drivers/driver.js';
import type { Ownership } from '../runtime/connection-manager.js';
import type { Runtime } from '../runtime/runtime.js';
import type { TagChange, TagState } from '../runtime/tag-engine.js';
import type { ClusterRepository, LeaseRecord } from '../storage/cluster-repository.js';
import type { SessionRecord } from '../storage/session-repository.js';
import { explainNatsTlsFailure, type NatsTls } from './nats-tls.js';
import { natsConnectionOptions, redactNatsUrl } from './redact.js';
import { SESSION_SYNC_MS, SessionSync } from './session-sync.js';

/** Settings of one cluster member (config: --cluster-url, --node-id, --cluster-lease-ms, --cluster-ca/-cert/-key). */
export interface ClusterSettings {
  url: string;
  nodeId: string;
  /** A lease not renewed for this long is free for another node: the failover bound. */
  leaseMs: number;
  /** Set, the link to NATS requires TLS (src/cluster/nats-tls.ts); holds the client key: never logged. */
  tls?: NatsTls | undefined;
}

export const DEFAULT_LEASE_MS = 6000;
/** Most changes in one NATS message (a burst is split; each message stays far below NATS's 1 MB default). */
const MAX_BATCH = 2000;
/**
 * How long a logout waits at most for its announcement to reach the NATS server (a round trip on a healthy link; a
 * link that hangs must not hang the logout: the other nodes' session checks catch what it misses).
 */
const ANNOUNCE_FLUSH_MS = 1000;
/** How long a forwarded write waits for the owner's answer (drivers time out sooner by themselves). */
const WRITE_TIMEOUT_MS = 10_000;

export interface ClusterNodeView {
  id: string;
  address: string;
  state: 'up' | 'down' | 'left';
  lastSeen: string;
  connections: string[];
}

interface OwnerInfo {
  node: string;
  token: number;
  /** Local time of the owner's last heartbeat or value message. */
  heardAt: number;
  state?: ConnectionState | undefined;
}

type WriteReply = { ok: true; v: TagValue; q: number; ts: number } | { ok: false; code: string; message: string };

const enc = new TextEncoder();
const dec = new TextDecoder();
export const pack = (x: unknown): Uint8Array => enc.encode(JSON.stringify(x));
export const unpack = <T>(m: Msg): T => JSON.parse(dec.decode(m.data)) as T;
/** A node id as one NATS subject token (ids are host:port; NATS tokens may not hold '.', ' ', '*' or '>'). */
export const subjectToken = (id: string): string => id.replace(/[^A-Za-z0-9_:-]/g, '_');

/**
 * One node's link to the cluster: leases in PostgreSQL decide which node runs which connection; NATS carries the
 * owners' tag changes to every node, writes to the owner (request/reply), and session and user changes.
 *
 * Timing (lease L, default 6 s): each node ticks every L/4 (heartbeat row, lease renewal, takeover of free or
 * expired leases up to its fair share) and heartbeats on NATS every min(1 s, L/6). A receiver that misses three
 * heartbeats of a connection's owner marks that connection's tags BAD NOT_CONNECTED (never a stale GOOD); an owner that
 * could not renew for 3/4 L stops its drivers before its lease can expire (fencing), and messages carry the lease
 * token, so a late message of a deposed owner is ignored. The same ¾ L rule is checked before every act of an owner
 * (`leasesSafe`), not only by the timer: a process paused past its lease and resumed gives its leases up before it
 * applies a write, publishes a value or renews anything.
 */
export class ClusterLink implements Ownership {
  private nc: NatsConnection | undefined;
  private readonly subs: Subscription[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  /** Leases this node holds: connection → fencing token. */
  private readonly held = new Map<string, number>();
  private readonly owners = new Map<string, OwnerInfo>();
  /** Highest token seen per connection: messages with a lower one come from a deposed owner. */
  private readonly tokens = new Map<string, number>();
  private readonly gaps = new Set<string>();
  /** Forwarded writes waiting for their owner's answer, per connection (ended early when the owner goes silent). */
  private readonly pendingWrites = new Map<string, Set<(err: Error) => void>>();
  /** Local time each free lease was first seen free. */
  private readonly freeSince = new Map<string, number>();
  private readonly tagsOf = new Map<string, TagState[]>();
  private readonly standIns = new Map<string, Driver>();
  private batch: unknown[][] = [];
  private flushScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private ticks = 0;
  /**
   * When the last tick that renewed every held lease started, by the wall clock and by the monotonic one (the
   * pause guard, `leasesSafe`, trusts whichever says more time has passed: a wall clock stepped back by NTP must not
   * stretch a lease, nor a monotonic clock that stood still while the machine was frozen).
   */
  private lastRenewOk = Date.now();
  private lastRenewMono = performance.now();
  private lastDbOk = Date.now();
  private lastRebalance = Date.now();
  private applyingRemote = false;
  private stopped = false;
  private address = '';
  /** Counters for /metrics. */
  private readonly counts = { takeovers: 0, leasesLost: 0, forwardedWrites: 0, forwardedWriteFailures: 0, valueMessages: 0 };
  private readonly logger: Logger;
  /** Told when this node takes or loses a lease (the alarm part, src/cluster/alarms.ts). */
  private leaseListeners: Array<(connection: string, held: boolean) => void> = [];
  /** Catches session ends whose NATS announcement this node missed (after a reconnect, and every SESSION_SYNC_MS). */
  private readonly sessionSync: SessionSync;

  constructor(
    private readonly runtime: Runtime,
    private readonly repo: ClusterRepository,
    private readonly settings: ClusterSettings,
  ) {
    this.logger = runtime.logger.child({ service: 'cluster', node: settings.nodeId });
    this.sessionSync = new SessionSync(
      runtime.sessions,
      runtime.storage.sessions,
      (tokenHash) => this.applyRemote(() => runtime.sessions.forget(tokenHash, 'revoked')),
      () => runtime.clock.now(),
      this.logger,
    );
    for (const t of runtime.tags.tags) {
      const list = this.tagsOf.get(t.def.connection) ?? [];
      list.push(t);
      this.tagsOf.set(t.def.connection, list);
    }
  }

  get nodeId(): string {
    return this.settings.nodeId;
  }

  /** The address other nodes and `/cluster` show (the URL the node serves), known once it listens. */
  setAddress(url: string): void {
    this.address = url;
  }

  // --- Ownership (ConnectionManager asks) ---

  ownerOf(connection: string): string | undefined {
    if (this.held.has(connection)) return this.settings.nodeId;
    return this.gaps.has(connection) ? undefined : this.owners.get(connection)?.node;
  }

  remoteState(connection: string): ConnectionState | undefined {
    return this.gaps.has(connection) ? undefined : this.owners.get(connection)?.state;
  }

  isLocal(connection: string): boolean {
    return this.held.has(connection) && this.leasesSafe();
  }

  // --- for the alarm part (src/cluster/alarms.ts) ---

  /** The connections whose lease this node holds now. */
  heldConnections(): string[] {
    return [...this.held.keys()];
  }

  /** This node's fencing token for a connection it holds. */
  leaseToken(connection: string): number | undefined {
    return this.leasesSafe() ? this.held.get(connection) : undefined;
  }

  /**
   * Whether a message of another node about `connection` with this fencing token is to be believed: not when this
   * node holds the lease itself, nor when a newer token was seen (a deposed owner's late message).
   */
  believes(connection: string, token: number): boolean {
    if (this.held.has(connection) || token < (this.tokens.get(connection) ?? 0)) return false;
    this.noteToken(connection, token);
    return true;
  }

  /** The NATS connection while it is up (undefined while NATS is unreachable or after stop). */
  get natsConnection(): NatsConnection | undefined {
    return this.natsDown || this.stopped || this.nc?.isClosed() ? undefined : this.nc;
  }

  get log(): Logger {
    return this.logger;
  }

  /** Listens for leases taken (after the driver was claimed) and lost (before the tags are marked BAD). */
  onLease(listener: (connection: string, held: boolean) => void): () => void {
    this.leaseListeners.push(listener);
    return () => {
      this.leaseListeners = this.leaseListeners.filter((l) => l !== listener);
    };
  }

  private leaseChanged(connection: string, held: boolean): void {
    for (const l of this.leaseListeners) {
      try {
        l(connection, held);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, connection }, 'lease listener failed');
      }
    }
  }

  /** Connects to NATS and PostgreSQL; call in `compose`, before `runtime.start()` (drivers start only when leased). */
  async start(): Promise<void> {
    const { runtime } = this;
    await this.repo.init();
    await this.repo.ensure(runtime.project.connections.map((c) => c.name));
    try {
      this.nc = await connect({
        ...natsConnectionOptions(this.settings.url),
        ...(this.settings.tls ? { tls: this.settings.tls } : {}),
        name: `tagway ${this.settings.nodeId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        pingInterval: 2000,
        maxPingOut: 2,
      });
    } catch (err) {
      const hint = explainNatsTlsFailure(err, this.settings.tls);
      throw new Error(
        `cluster: cannot reach NATS at ${redactNatsUrl(this.settings.url)}: ${(err as Error).message}${hint ? ` (${hint})` : ''}`,
        { cause: err },
      );
    }
    runtime.connections.manageBy(this);
    for (const c of runtime.project.connections) {
      const standIn = this.standIn(c.name);
      this.standIns.set(c.name, standIn);
      runtime.tags.bindDriver(c.name, standIn);
    }
    const nc = this.nc;
    this.subs.push(
      nc.subscribe('tagway.values', { callback: (_e, m) => this.onValues(m) }),
      nc.subscribe('tagway.hb', { callback: (_e, m) => this.onHeartbeat(m) }),
      nc.subscribe('tagway.released', { callback: (_e, m) => this.onReleased(m) }),
      nc.subscribe('tagway.hello', { callback: (_e, m) => this.onHello(m) }),
      nc.subscribe(`tagway.write.${subjectToken(this.settings.nodeId)}`, { callback: (_e, m) => void this.onWrite(m) }),
      nc.subscribe('tagway.session.created', { callback: (_e, m) => this.onSessionCreated(m) }),
      nc.subscribe('tagway.session.revoked', { callback: (_e, m) => this.onSessionRevoked(m) }),
      nc.subscribe('tagway.session.touched', { callback: (_e, m) => this.onSessionTouched(m) }),
      nc.subscribe('tagway.users.changed', { callback: (_e, m) => this.onUsersChanged(m) }),
    );
    const bus = runtime.events;
    this.unsubscribe.push(
      bus.on('tag.changed', (c) => this.onLocalChange(c)),
      bus.on('session.created', ({ record }) => {
        if (!this.applyingRemote) this.publish('tagway.session.created', { n: this.settings.nodeId, record });
      }),
      bus.on('session.revoked', (e) => {
        // Expiry is judged by each node from its own last-seen time; only deliberate ends cross the cluster, and a
        // user's sessions ended together (a password change keeping only the caller's, a logout of all of them, a
        // user disabled) are deliberate too: the other nodes hold the same sessions and cannot tell otherwise.
        if (this.applyingRemote || e.reason === 'expired') return;
        this.publish('tagway.session.revoked', { n: this.settings.nodeId, sessionId: e.sessionId, reason: e.reason });
        runtime.sessions.announcing(this.announced());
      }),
      bus.on('session.touched', (e) => this.publish('tagway.session.touched', { n: this.settings.nodeId, ...e })),
      bus.on('user.changed', () => {
        if (!this.applyingRemote) this.publish('tagway.users.changed', { n: this.settings.nodeId });
      }),
    );
    this.unsubscribe.push(
      runtime.storageHealth.register(() => {
        const reason = this.health();
        return reason === undefined ? { name: 'cluster', ok: true } : { name: 'cluster', ok: false, reason };
      }),
    );
    void this.watchStatus(nc);
    await nc.flush();
    this.publish('tagway.hello', { n: this.settings.nodeId });
    this.timers.push(
      setInterval(() => void this.tick(), this.tickMs),
      setInterval(() => this.heartbeat(), this.heartbeatMs),
      setInterval(() => this.checkSilence(), 250),
      setInterval(() => void this.sessionSync.run(), SESSION_SYNC_MS),
    );
    await this.tick();
  }

  /** Why this node cannot act as an owner now, or undefined. */
  health(): string | undefined {
    if (!this.nc || this.nc.isClosed()) return 'NATS connection closed';
    if (this.natsDown) return `NATS unreachable (${redactNatsUrl(this.settings.url)}); this node runs no connection`;
    if (Date.now() - this.lastDbOk > this.settings.leaseMs)
      return 'PostgreSQL unreachable for cluster leases; this node runs no connection';
    return undefined;
  }

  private natsDown = false;

  private get tickMs(): number {
    return Math.max(250, Math.floor(this.settings.leaseMs / 4));
  }

  /** NATS heartbeat period: three missed ones mark a gap, well before the lease (L) can expire. */
  private get heartbeatMs(): number {
    return Math.min(1000, Math.floor(this.settings.leaseMs / 6));
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.natsDown = true;
        this.logger.warn('NATS connection lost: giving up every connection this node runs');
        // Nobody hears this node's values now: it must not go on as owner (split brain).
        await this.releaseAll(true);
        // Out of the others' fair share now rather than at its next tick: they take the freed connections sooner.
        await this.repo.heartbeat({ id: this.settings.nodeId, address: this.address, state: 'fenced' }).catch(() => undefined);
      } else if (s.type === 'reconnect') {
        this.natsDown = false;
        this.logger.info('NATS connection back');
        this.publish('tagway.hello', { n: this.settings.nodeId });
        // Session ends announced while this node was away were never delivered here: read them from the database.
        void this.sessionSync.run();
      }
    }
  }

  // --- leases ---

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const me = this.settings.nodeId;
      const ttl = this.settings.leaseMs;
      // A tick that fires late (the process was paused) must not renew leases it may have lost meanwhile: its
      // drivers stop first (the guard), and it starts again from no lease.
      this.leasesSafe();
      const started = Date.now();
      const startedMono = performance.now();
      // A node cut off NATS still reaches PostgreSQL: 'fenced' keeps it out of the others' fair share, or they would
      // leave its freed connections unowned while it cannot run them (found by the fault tests).
      await this.bounded(this.repo.heartbeat({ id: me, address: this.address, state: this.natsDown ? 'fenced' : 'up' }));
      if (this.held.size > 0) {
        const mine = [...this.held].map(([connection, token]) => ({ connection, token }));
        const kept = new Set(await this.bounded(this.repo.renew(me, mine, ttl)));
        for (const { connection } of mine) {
          if (!kept.has(connection)) {
            this.logger.warn({ connection }, 'lease lost to another node: stopping its driver');
            this.counts.leasesLost++;
            await this.dropLocal(connection);
          }
        }
      }
      this.lastRenewOk = started;
      this.lastRenewMono = startedMono;
      this.lastDbOk = Date.now();
      const [nodes, leases] = await this.bounded(Promise.all([this.repo.nodes(), this.repo.leases()]));
      this.lastDbOk = Date.now();
      for (const l of leases) if (l.holder !== null && l.remainingMs > 0) this.noteToken(l.connection, l.token);
      this.gapsFromLeases(leases);
      // The first tick only announces this node, so that nodes starting together see each other before taking.
      if (this.ticks++ === 0 || this.natsDown) return;
      const liveIds = nodes.filter((n) => n.state === 'up' && n.silentMs < ttl).map((n) => n.id);
      if (!liveIds.includes(me)) liveIds.push(me);
      const known = new Set(this.runtime.project.connections.map((c) => c.name));
      const all = leases.filter((l) => known.has(l.connection));
      const load = new Map(liveIds.map((id) => [id, 0]));
      for (const l of all) if (!this.isFree(l) && load.has(l.holder!)) load.set(l.holder!, load.get(l.holder!)! + 1);
      const least = Math.min(...load.values());
      const fair = Math.ceil(all.length / liveIds.length);
      const now = Date.now();
      for (const l of all) {
        if (!this.isFree(l)) {
          this.freeSince.delete(l.connection);
          continue;
        }
        const since = this.freeSince.get(l.connection) ?? now;
        this.freeSince.set(l.connection, since);
        if (this.held.size >= fair || this.held.has(l.connection)) continue;
        // The least loaded nodes go first; the others step in only when a lease stays free (those nodes are slow).
        if (this.held.size > least && now - since < 2 * this.tickMs) continue;
        const token = await this.bounded(this.repo.acquire(l.connection, me, ttl));
        if (token !== undefined) await this.takeOver(l.connection, token);
      }
      this.rebalance(fair, least, load, all);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cluster tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Fencing: an owner that could not renew stops before its lease can expire, so two drivers never run at once.
   * Checked by its own timer: a tick may hang on an unreachable database.
   */
  private checkFence(): void {
    this.leasesSafe();
  }

  private fencing = false;

  /**
   * The pause guard: whether the leases this node holds are still provably its own, i.e. its last renewal started
   * less than ¾ L ago. When not, it gives every one of them up at once (synchronously: `held` is empty when this
   * returns false) and answers false. Called before any act of an owner — a write applied by a driver (local or
   * forwarded), a value or heartbeat published, a history sample, an alarm judged — and not only by the timer:
   * a process paused past its lease (SIGSTOP, a long GC pause, a frozen VM) resumes with its socket input handled
   * before its late timers, so a write waiting in a socket would otherwise reach the driver of a connection another
   * node has run meanwhile (found by test/integration/cluster/pause.test.ts). The same rule as for a database that
   * does not answer (its leases may expire at L and be taken at once), so one check covers both.
   */
  private leasesSafe(): boolean {
    if (this.held.size === 0) return true;
    const since = Math.max(Date.now() - this.lastRenewOk, performance.now() - this.lastRenewMono);
    if (since <= (this.settings.leaseMs * 3) / 4) return true;
    if (!this.fencing) {
      this.logger.warn(
        { sinceRenewalMs: Math.round(since), connections: [...this.held.keys()] },
        since > this.settings.leaseMs
          ? 'leases not renewed for longer than a lease (this process was paused or starved?): they may be taken; stopping every connection this node runs'
          : 'leases not renewed in time (PostgreSQL unreachable?): stopping every connection this node runs',
      );
      this.fencing = true;
      void this.releaseAll(false).finally(() => (this.fencing = false));
    }
    return false;
  }

  /** A database call that takes longer than half a lease fails the tick (the next one retries). */
  private bounded<T>(p: Promise<T>, ms = this.settings.leaseMs / 2, what = 'PostgreSQL'): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer in time`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private isFree(l: LeaseRecord): boolean {
    return l.holder === null || l.remainingMs <= 0;
  }

  /**
   * A node above its fair share gives one connection up now and then (not at once: no flapping), so that a node
   * that joined or came back gets work without a burst of takeovers.
   */
  private rebalance(fair: number, least: number, load: ReadonlyMap<string, number>, all: LeaseRecord[]): void {
    const now = Date.now();
    if ((this.held.size <= fair && this.held.size - least < 2) || now - this.lastRebalance < Math.max(2000, this.settings.leaseMs)) return;
    const anyFree = all.some((l) => this.isFree(l) && !this.held.has(l.connection));
    if (anyFree) return;
    // Only the most loaded node (the highest id among equals) hands over: one connection moves at a time.
    const most = Math.max(...load.values());
    const first = [...load]
      .filter(([, n]) => n === most)
      .map(([id]) => id)
      .sort()
      .at(-1);
    if (this.held.size < most || first !== this.settings.nodeId) return;
    this.lastRebalance = now;
    const connection = [...this.held.keys()].sort().at(-1)!;
    const token = this.held.get(connection)!;
    this.logger.info({ connection }, 'handing a connection over to a less loaded node');
    void this.dropLocal(connection).then(() => this.repo.release(connection, this.settings.nodeId, token));
  }

  private async takeOver(connection: string, token: number): Promise<void> {
    this.held.set(connection, token);
    this.noteToken(connection, token);
    this.gaps.delete(connection);
    this.owners.set(connection, { node: this.settings.nodeId, token, heardAt: Date.now() });
    this.logger.info({ connection, token }, 'lease taken: starting the driver');
    this.counts.takeovers++;
    await this.runtime.connections.claim(connection);
    this.guardWrites(connection);
    this.heartbeat();
    this.publishSnapshot([connection]);
    this.leaseChanged(connection, true);
  }

  /**
   * Client writes on this node reach the claimed driver through the tag engine without asking the link: put the
   * pause guard in front of them, so that a write read from a socket right after a pause past the lease is refused
   * (503 DEVICE_UNAVAILABLE) instead of being applied to a device another node now runs. `release` binds the
   * stand-in again when the lease goes.
   */
  private guardWrites(connection: string): void {
    const driver = this.runtime.connections.driver(connection);
    if (!driver || !this.held.has(connection)) return;
    const refused = () =>
      Promise.reject(
        new TagwayError(
          'DEVICE_UNAVAILABLE',
          `Node '${this.settings.nodeId}' could not renew its lease on connection '${connection}' in time and no longer runs it`,
        ),
      );
    const { writeMany, stats } = driver;
    this.runtime.tags.bindDriver(connection, {
      start: () => driver.start(),
      stop: () => driver.stop(),
      write: (tag, value) => (this.isLocal(connection) ? driver.write(tag, value) : refused()),
      ...(writeMany ? { writeMany: (tags, values) => (this.isLocal(connection) ? writeMany.call(driver, tags, values) : refused()) } : {}),
      ...(driver.publishesWrites !== undefined ? { publishesWrites: driver.publishesWrites } : {}),
      ...(stats ? { stats: () => stats.call(driver) } : {}),
    } satisfies Driver);
  }

  private async dropLocal(connection: string): Promise<void> {
    const token = this.held.get(connection);
    if (token === undefined) return;
    // Said before anything else (found by the fault tests): the other nodes turn this connection's tags BAD now,
    // instead of showing the last values as GOOD until three heartbeats are missed. Lost when NATS is what failed;
    // then `gapsFromLeases` and the heartbeats catch it.
    // Values still batched go first: after the release message they would make this node their owner again there.
    this.flush();
    this.publish('tagway.released', { n: this.settings.nodeId, c: connection, t: token });
    this.held.delete(connection);
    this.leaseChanged(connection, false);
    this.owners.delete(connection);
    await this.runtime.connections.release(connection, this.standIns.get(connection)!);
    this.markGap(connection);
  }

  private async releaseAll(inDatabase: boolean): Promise<void> {
    const mine = [...this.held];
    await Promise.all(mine.map(([c]) => this.dropLocal(c)));
    if (inDatabase)
      await Promise.all(mine.map(([c, t]) => this.repo.release(c, this.settings.nodeId, t).catch(() => undefined))).catch(() => undefined);
  }

  private noteToken(connection: string, token: number): void {
    if (token > (this.tokens.get(connection) ?? 0)) this.tokens.set(connection, token);
  }

  /**
   * Every tag of a connection without a live owner: BAD NOT_CONNECTED, keeping the last value. `abandonWrites`:
   * the owner is gone, writes forwarded to it get no answer (an owner that released the connection itself still
   * answers them).
   */
  private markGap(connection: string, abandonWrites = true): void {
    this.gaps.add(connection);
    // Writes sent to the lost owner get no answer: they end now (outcome unknown) instead of at the timeout.
    const pending = abandonWrites ? this.pendingWrites.get(connection) : undefined;
    if (pending) {
      for (const abandon of pending)
        abandon(
          new TagwayError(
            'DEVICE_TIMEOUT',
            `The node running connection '${connection}' went silent during the write; it may or may not have been applied`,
          ),
        );
      pending.clear();
    }
    const now = this.runtime.clock.now();
    for (const t of this.tagsOf.get(connection) ?? []) this.runtime.tags.setQuality(t.index, Quality.BAD_NOT_CONNECTED, now);
  }

  /** An owner that gave a connection up (fenced, handed over, stopping) said so: a gap from now on. */
  private onReleased(m: Msg): void {
    const { n, c, t } = unpack<{ n: string; c: string; t: number }>(m);
    const o = this.owners.get(c);
    if (n === this.settings.nodeId || this.held.has(c) || !o || o.node !== n || o.token !== t) return;
    this.logger.info({ connection: c, owner: n }, 'owner released the connection: its tags are BAD until a node takes the lease');
    this.owners.delete(c);
    this.markGap(c, false);
  }

  /**
   * The lease table says the owner this node hears of no longer holds a connection (it released it, or its lease
   * ran out, while its NATS messages cannot say so: a node cut off NATS frees its leases in PostgreSQL). Found by
   * the fault tests: without this, its tags stayed GOOD here until three heartbeats were missed.
   */
  private gapsFromLeases(leases: readonly LeaseRecord[]): void {
    for (const l of leases) {
      const o = this.owners.get(l.connection);
      if (this.held.has(l.connection) || this.gaps.has(l.connection) || !o || l.token < o.token) continue;
      if (l.holder === o.node && l.remainingMs > 0) continue;
      this.logger.info(
        { connection: l.connection, owner: o.node },
        'owner no longer holds the lease: its tags are BAD until a node takes it',
      );
      this.owners.delete(l.connection);
      this.markGap(l.connection);
    }
  }

  private checkSilence(): void {
    this.checkFence();
    const now = Date.now();
    for (const c of this.tagsOf.keys()) {
      if (this.held.has(c) || this.gaps.has(c)) continue;
      const o = this.owners.get(c);
      // Before any owner was heard of, tags keep their initial UNCERTAIN quality; a silent owner means a gap.
      if (o !== undefined && now - o.heardAt > 3 * this.heartbeatMs) {
        this.logger.info({ connection: c, owner: o.node }, 'owner silent: its tags are BAD until a node takes the lease');
        this.owners.delete(c);
        this.markGap(c);
      }
    }
  }

  // --- NATS traffic ---

  private publish(subject: string, payload: unknown): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || this.stopped) return;
    try {
      nc.publish(subject, pack(payload));
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, subject }, 'NATS publish failed');
    }
  }

  private heartbeat(): void {
    if (this.natsDown) return;
    // A late heartbeat after a pause would name leases that may be lost (the others ignore older tokens, but a
    // lease that expired untaken would look alive).
    this.leasesSafe();
    const o: Record<string, [number, ConnectionState]> = {};
    for (const [c, token] of this.held) o[c] = [token, this.runtime.connections.get(c).state];
    this.publish('tagway.hb', { n: this.settings.nodeId, o });
  }

  private onHeartbeat(m: Msg): void {
    const hb = unpack<{ n: string; o: Record<string, [number, ConnectionState]> }>(m);
    if (hb.n === this.settings.nodeId) return;
    const now = Date.now();
    for (const [c, [token, state]] of Object.entries(hb.o)) this.heardFrom(c, hb.n, token, now, state);
  }

  /** Records a message of a connection's owner; false when it comes from a deposed owner (lower token). */
  private heardFrom(connection: string, node: string, token: number, now: number, state?: ConnectionState): boolean {
    if (this.held.has(connection) || !this.tagsOf.has(connection)) return false;
    if (token < (this.tokens.get(connection) ?? 0)) return false;
    this.noteToken(connection, token);
    const o = this.owners.get(connection);
    if (o && o.node === node && o.token === token) {
      o.heardAt = now;
      if (state !== undefined) o.state = state;
    } else this.owners.set(connection, { node, token, heardAt: now, state });
    // An owner heard again after a gap (a pause longer than three heartbeats): its unchanged values would stay BAD
    // here, so ask the owners for a snapshot.
    if (this.gaps.delete(connection)) this.askForSnapshot();
    return true;
  }

  private onLocalChange(c: TagChange): void {
    const connection = c.tag.def.connection;
    const token = this.held.get(connection);
    if (token === undefined) return;
    this.batch.push([c.tag.def.name, c.tag.value, c.tag.quality, c.tag.timestamp, connection, token]);
    if (this.batch.length >= MAX_BATCH) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    // Once per batch rather than per change (the hot path): values read by a driver that ran late, after a pause past
    // the lease, are not this node's to publish.
    if (!this.leasesSafe()) {
      this.batch = [];
      return;
    }
    const v = this.batch;
    this.batch = [];
    this.publish('tagway.values', { n: this.settings.nodeId, v });
    this.counts.valueMessages++;
  }

  private publishSnapshot(connections: readonly string[]): void {
    for (const c of connections) {
      const token = this.held.get(c);
      if (token === undefined) continue;
      for (const t of this.tagsOf.get(c) ?? []) this.batch.push([t.def.name, t.value, t.quality, t.timestamp, c, token]);
    }
    this.flush();
  }

  private onValues(m: Msg): void {
    const msg = unpack<{ n: string; v: Array<[string, TagValue, number, number, string, number]> }>(m);
    if (msg.n === this.settings.nodeId) return;
    const now = Date.now();
    const tags = this.runtime.tags;
    let lastConn = '';
    let lastOk = false;
    for (const [name, value, quality, ts, connection, token] of msg.v) {
      if (connection !== lastConn) {
        lastConn = connection;
        lastOk = this.heardFrom(connection, msg.n, token, now);
      }
      if (!lastOk) continue;
      const t = tags.get(name);
      if (t && t.def.connection === connection) tags.update(t.index, value, quality, ts);
    }
  }

  private snapshotAsked = false;

  private askForSnapshot(): void {
    if (this.snapshotAsked) return;
    this.snapshotAsked = true;
    setImmediate(() => {
      this.snapshotAsked = false;
      this.publish('tagway.hello', { n: this.settings.nodeId });
    });
  }

  private onHello(m: Msg): void {
    const { n } = unpack<{ n: string }>(m);
    if (n === this.settings.nodeId) return;
    this.heartbeat();
    this.publishSnapshot([...this.held.keys()]);
  }

  // --- writes ---

  /** Takes the writes of a connection another node runs: forwards them to the owner and waits for its driver. */
  private standIn(connection: string): Driver {
    return {
      start: async () => undefined,
      stop: async () => undefined,
      // The reply carries the owner's value, quality and time, applied here before the write is answered.
      publishesWrites: true,
      write: (tag: DriverTag, value: TagValue) => this.forwardWrite(connection, tag, value),
    };
  }

  private async forwardWrite(connection: string, tag: DriverTag, value: TagValue): Promise<void> {
    const owner = this.ownerOf(connection);
    const nc = this.nc;
    if (owner === undefined || owner === this.settings.nodeId || !nc || this.natsDown)
      throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${connection}' has no running owner in the cluster at the moment`);
    let reply: WriteReply;
    this.counts.forwardedWrites++;
    let abandon!: (err: Error) => void;
    const ownerLost = new Promise<never>((_resolve, reject) => (abandon = reject));
    const pending = this.pendingWrites.get(connection) ?? new Set();
    this.pendingWrites.set(connection, pending);
    pending.add(abandon);
    try {
      const m = await Promise.race([
        nc.request(`tagway.write.${subjectToken(owner)}`, pack({ c: connection, t: tag.def.name, v: value }), {
          timeout: WRITE_TIMEOUT_MS,
        }),
        ownerLost,
      ]);
      reply = unpack<WriteReply>(m);
    } catch (err) {
      if (err instanceof TagwayError) {
        this.counts.forwardedWriteFailures++;
        throw err;
      }
      this.counts.forwardedWriteFailures++;
      const code = (err as { code?: string }).code;
      if (code === ErrorCode.Timeout)
        throw new TagwayError('DEVICE_TIMEOUT', `Node '${owner}' running connection '${connection}' did not answer the write in time`);
      throw new TagwayError('DEVICE_UNAVAILABLE', `Node '${owner}' running connection '${connection}' is unreachable`);
    } finally {
      pending.delete(abandon);
    }
    if (!reply.ok) throw new TagwayError(reply.code as ProblemCode, reply.message);
    this.runtime.tags.update(tag.index, reply.v, reply.q, reply.ts);
  }

  /** A write forwarded by another node, which authorised, validated and audits it: only the driver's part here. */
  private async onWrite(m: Msg): Promise<void> {
    let answer: WriteReply;
    try {
      const req = unpack<{ c: string; t: string; v: unknown }>(m);
      // isLocal: also refused when this node's leases are no longer provably its own (the pause guard).
      if (!this.isLocal(req.c))
        throw new TagwayError('DEVICE_UNAVAILABLE', `Node '${this.settings.nodeId}' no longer runs connection '${req.c}'`);
      const engine = this.runtime.tags;
      const tag = engine.require(req.t);
      if (tag.def.connection !== req.c) throw new TagwayError('TAG_NOT_FOUND', `No tag named '${req.t}' on connection '${req.c}'`);
      const value = engine.validate(tag, req.v);
      const driver = this.runtime.connections.driver(req.c);
      if (!driver) throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${req.c}' is not running`);
      await driver.write(tag, value);
      if (!driver.publishesWrites) engine.update(tag.index, value, Quality.GOOD, this.runtime.clock.now());
      answer = { ok: true, v: tag.value, q: tag.quality, ts: tag.timestamp };
    } catch (err) {
      answer =
        err instanceof TagwayError
          ? { ok: false, code: err.code, message: err.message }
          : { ok: false, code: 'DEVICE_UNAVAILABLE', message: (err as Error).message };
    }
    // The change was published (tagway.values) before this reply: the writer's node sees the value first.
    this.flush();
    m.respond(pack(answer));
  }

  // --- sessions and users ---

  /** Applies a change that came from elsewhere (NATS or the shared database) without announcing it again. */
  private applyRemote(f: () => void): void {
    this.applyingRemote = true;
    try {
      f();
    } finally {
      this.applyingRemote = false;
    }
  }

  /**
   * Resolves once what was published so far has reached the NATS server (a flush: ping after the messages, its
   * pong), bounded by ANNOUNCE_FLUSH_MS; at once while NATS is down (nothing to wait for: the others check the
   * database after they reconnect). Never rejects.
   */
  private announced(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed() || this.natsDown) return Promise.resolve();
    return this.bounded(nc.flush(), ANNOUNCE_FLUSH_MS, 'NATS').catch(() => undefined);
  }

  private onSessionCreated(m: Msg): void {
    const { n, record } = unpack<{ n: string; record: SessionRecord }>(m);
    if (n === this.settings.nodeId) return;
    this.applyRemote(() => this.runtime.sessions.adopt(record));
  }

  private onSessionRevoked(m: Msg): void {
    const { n, sessionId, reason } = unpack<{ n: string; sessionId: string; reason: 'logout' | 'refresh' | 'revoked' | 'user' }>(m);
    if (n === this.settings.nodeId) return;
    this.applyRemote(() => this.runtime.sessions.forget(sessionId, reason));
  }

  private onSessionTouched(m: Msg): void {
    const { n, sessionId, lastSeenAt } = unpack<{ n: string; sessionId: string; lastSeenAt: number }>(m);
    if (n !== this.settings.nodeId) this.runtime.sessions.touched(sessionId, lastSeenAt);
  }

  private onUsersChanged(m: Msg): void {
    const { n } = unpack<{ n: string }>(m);
    if (n === this.settings.nodeId) return;
    // The change is in the shared database already; re-reading announces it here (sessions end, channels close).
    void this.runtime.users.refreshFromStore();
  }

  // --- view and stop ---

  /** Figures for `GET /metrics`. */
  stats(): {
    ownedConnections: number;
    healthy: boolean;
    takeovers: number;
    leasesLost: number;
    forwardedWrites: number;
    forwardedWriteFailures: number;
    valueMessages: number;
  } {
    return { ownedConnections: this.held.size, healthy: this.health() === undefined, ...this.counts };
  }

  async nodes(): Promise<ClusterNodeView[]> {
    const [nodes, leases] = await Promise.all([this.repo.nodes(), this.repo.leases()]);
    return nodes.map((n) => ({
      id: n.id,
      address: n.address,
      state: n.state === 'left' ? 'left' : n.state === 'up' && n.silentMs < this.settings.leaseMs ? 'up' : 'down',
      lastSeen: new Date(n.lastSeen).toISOString(),
      connections: leases.filter((l) => l.holder === n.id && l.remainingMs > 0).map((l) => l.connection),
    }));
  }

  /** A clean stop: leases are freed at once (other nodes take over on their next tick, not after the lease time). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribe) u();
    await this.sessionSync.stop();
    this.flush();
    this.stopped = true;
    this.held.clear();
    try {
      await this.repo.leave(this.settings.nodeId);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not free the leases at stop; they expire by themselves');
    }
    for (const s of this.subs) s.unsubscribe();
    await this.nc?.close().catch(() => undefined);
    await this.repo.close().catch(() => undefined);
  }
}
