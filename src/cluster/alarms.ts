import { ErrorCode, type Msg, type Subscription } from 'nats';
import type { AlarmEventRecord, AlarmOccurrence } from '../domain/alarms/records.js';
import { PROBLEMS, TagwayError, type ProblemCode } from '../domain/problems.js';
import type { AlarmEngine } from '../runtime/alarms/engine.js';
import type { AlarmAction, AlarmChange, AlarmPeer, AlarmSettingChange } from '../runtime/alarms/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { LeaseRef } from '../storage/alarm-journal-repository.js';
import { pack, subjectToken, unpack, type ClusterLink } from './link.js';

/** How long a forwarded alarm action waits for the owner (a journal commit normally takes milliseconds). */
const ACTION_TIMEOUT_MS = 5000;
/** Most changes in one NATS message (each view is a few hundred bytes; NATS's default limit is 1 MB). */
const MAX_CHANGES = 500;
/** A connection's list larger than this is not sent as one snapshot (the other nodes keep theirs from the journal). */
const MAX_SNAPSHOT = 1500;
/** Pause before a takeover's rebuild that failed (the journal unreachable) is tried again. */
const ADOPT_RETRY_MS = 1000;

const SUBJECT = {
  changes: 'tagway.alarms.changes',
  snapshot: 'tagway.alarms.snapshot',
  setting: 'tagway.alarms.setting',
  act: (node: string) => `tagway.alarms.act.${subjectToken(node)}`,
};

type ActReply = { ok: true; v: unknown } | { ok: false; code: string; message: string; retryAfter?: string };

/**
 * The alarm part of a cluster member (see docs/scaling.md, "Alarms in a cluster"). The owner of a connection
 * evaluates and journals the alarms on its tags; every node lists every open occurrence:
 *
 * - at start from the shared journal (subscribed first, so nothing committed meanwhile is missed: what arrives
 *   during the load waits and is applied after it, the journal event ids dropping what the load already had);
 * - then from the owners' messages: each committed change (the occurrence's view after it, with its event id),
 *   overrides of definitions, and a connection's whole list after a takeover or when a node says hello. Every
 *   message carries the owner's fencing token: a deposed owner's late messages are ignored, as for values.
 *
 * Operator actions are authorised where they arrive (AlarmService) and forwarded here to the owner (NATS
 * request/reply), which does them as on one node and answers after its journal commit.
 */
export class ClusterAlarms implements AlarmPeer {
  private engine: AlarmEngine | undefined;
  private started = false;
  /** Messages that arrived while the engine loaded the journal, in order. */
  private waiting: Array<() => void> = [];
  /** Connections whose alarms this node evaluates (their occurrences rebuilt from the journal). */
  private readonly adopted = new Set<string>();
  /** Rebuilds run one after the other; actions for a connection being taken over wait for it. */
  private chain: Promise<void> = Promise.resolve();
  private readonly lastToken = new Map<string, number>();
  private readonly connections: ReadonlySet<string>;
  /** Home of alarms on no project connection (orphans in the journal): the project's first connection. */
  private readonly primary: string;
  private readonly subs: Subscription[] = [];
  private offLease: (() => void) | undefined;
  private stopped = false;
  /** For /metrics: forwarded actions (and those refused as unavailable or timed out), fenced journal commits. */
  readonly counts = {
    forwardedActions: 0,
    forwardedActionFailures: 0,
    forwardedActionsUnavailable: 0,
    forwardedActionsTimedOut: 0,
    adoptions: 0,
    fencedCommits: 0,
    fencedEvents: 0,
  };

  constructor(
    private readonly link: ClusterLink,
    runtime: Runtime,
  ) {
    const names = runtime.project.connections.map((c) => c.name);
    this.connections = new Set(names);
    this.primary = names[0] ?? '';
  }

  // --- AlarmPeer (the engine asks) ---

  home(connection: string | undefined): string {
    return connection !== undefined && this.connections.has(connection) ? connection : this.primary;
  }

  owns(connection: string): boolean {
    return this.adopted.has(connection);
  }

  async forward(connection: string, action: AlarmAction): Promise<unknown> {
    const me = this.link.nodeId;
    const owner = this.link.ownerOf(connection);
    if (owner === me) {
      // Taken over a moment ago: the rebuild from the journal runs first.
      await this.chain;
      if (this.adopted.has(connection)) return this.engine!.perform(action);
    }
    const nc = this.link.natsConnection;
    if (owner === undefined || owner === me || !nc) {
      this.counts.forwardedActionsUnavailable++;
      throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${connection}' has no running owner in the cluster at the moment`);
    }
    this.counts.forwardedActions++;
    let reply: ActReply;
    try {
      reply = unpack<ActReply>(await nc.request(SUBJECT.act(owner), pack({ c: connection, a: action }), { timeout: ACTION_TIMEOUT_MS }));
    } catch (err) {
      this.counts.forwardedActionFailures++;
      if ((err as { code?: string }).code === ErrorCode.Timeout) {
        this.counts.forwardedActionsTimedOut++;
        throw new TagwayError(
          'DEVICE_TIMEOUT',
          `Node '${owner}' evaluating the alarms of connection '${connection}' did not answer in time; the action may or may not have been applied`,
        );
      }
      this.counts.forwardedActionsUnavailable++;
      throw new TagwayError('DEVICE_UNAVAILABLE', `Node '${owner}' evaluating the alarms of connection '${connection}' is unreachable`);
    }
    if (reply.ok) return reply.v;
    this.counts.forwardedActionFailures++;
    if (reply.code === 'DEVICE_UNAVAILABLE') this.counts.forwardedActionsUnavailable++;
    const code = (reply.code in PROBLEMS ? reply.code : 'DEVICE_UNAVAILABLE') as ProblemCode;
    throw new TagwayError(code, reply.message, reply.retryAfter ? { headers: { 'Retry-After': reply.retryAfter } } : {});
  }

  committed(connection: string, changes: readonly AlarmChange[], records: readonly AlarmEventRecord[]): void {
    const tk = this.tokenFor(connection);
    for (let i = 0; i < changes.length; i += MAX_CHANGES)
      this.publish(SUBJECT.changes, {
        n: this.link.nodeId,
        c: connection,
        tk,
        x: changes.slice(i, i + MAX_CHANGES),
        r: records.slice(i, i + MAX_CHANGES),
      });
  }

  get holder(): string {
    return this.link.nodeId;
  }

  leaseToken(connection: string): number | undefined {
    return this.link.leaseToken(connection);
  }

  /**
   * The journal refused this node's commit for these leases (see docs/scaling.md, fencing). Its events are gone;
   * where the link still shows this very lease (its renewal has not told yet, or revived an expired lease), the
   * alarms in memory have diverged from the journal: stop judging them and rebuild from the journal as on a takeover.
   */
  fenced(refused: readonly LeaseRef[], droppedEvents: number): void {
    this.counts.fencedCommits++;
    this.counts.fencedEvents += droppedEvents;
    for (const l of refused) {
      // After a takeover under way (the chain), which may itself be the commit that was refused.
      this.chain = this.chain.then(() => {
        if (this.stopped || !this.adopted.has(l.connection) || this.link.leaseToken(l.connection) !== l.token) return;
        this.release(l.connection);
        setTimeout(() => this.adopt(l.connection), ADOPT_RETRY_MS).unref();
      });
    }
  }

  settingChanged(connection: string, change: AlarmSettingChange): void {
    this.publish(SUBJECT.setting, { n: this.link.nodeId, c: connection, tk: this.tokenFor(connection), s: change });
  }

  // --- life cycle ---

  /** Makes the engine a cluster member and subscribes; call before `engine.start()`, then `ready()` after it. */
  async attach(engine: AlarmEngine): Promise<void> {
    this.engine = engine;
    engine.joinCluster(this);
    const nc = this.link.natsConnection;
    if (!nc) throw new Error('cluster: NATS is not connected');
    this.subs.push(
      nc.subscribe(SUBJECT.changes, { callback: (_e, m) => this.received(() => this.onChanges(m)) }),
      nc.subscribe(SUBJECT.snapshot, { callback: (_e, m) => this.received(() => this.onSnapshot(m)) }),
      nc.subscribe(SUBJECT.setting, { callback: (_e, m) => this.received(() => this.onSetting(m)) }),
      nc.subscribe('tagway.hello', { callback: (_e, m) => this.received(() => this.onHello(m)) }),
      nc.subscribe(SUBJECT.act(this.link.nodeId), { callback: (_e, m) => void this.onAct(m) }),
    );
    // The subscriptions are in place at the server before the journal is read: nothing falls between the two.
    await nc.flush();
    this.offLease = this.link.onLease((c, held) => (held ? this.adopt(c) : this.release(c)));
  }

  /** After `engine.start()`: applies what arrived meanwhile and takes over the connections this node holds. */
  ready(): void {
    this.started = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const f of waiting) this.safely(f);
    for (const c of this.link.heldConnections()) this.adopt(c);
  }

  stop(): void {
    this.stopped = true;
    this.offLease?.();
    for (const s of this.subs) s.unsubscribe();
  }

  // --- ownership ---

  private adopt(connection: string): void {
    if (!this.started || this.stopped) return;
    this.chain = this.chain.then(async () => {
      if (this.stopped || this.adopted.has(connection) || !this.link.isLocal(connection)) return;
      try {
        const stillMine = () => this.link.isLocal(connection) && !this.stopped;
        const token = this.link.leaseToken(connection);
        if (token !== undefined) this.lastToken.set(connection, token);
        await this.engine!.adopt(connection, stillMine);
        if (!stillMine()) {
          this.engine!.release(connection);
          return;
        }
        this.adopted.add(connection);
        this.counts.adoptions++;
        this.link.log.info({ connection }, 'alarms of the connection rebuilt from the journal; evaluating them here');
        this.publishSnapshot(connection);
      } catch (err) {
        this.link.log.warn(
          { err: (err as Error).message, connection },
          'could not rebuild the alarms of a connection taken over; retrying',
        );
        setTimeout(() => this.adopt(connection), ADOPT_RETRY_MS).unref();
      }
    });
  }

  private release(connection: string): void {
    // At once, before the link marks the connection's tags BAD: the old owner must not raise alarms on that.
    this.adopted.delete(connection);
    if (this.started) this.engine!.release(connection);
  }

  private tokenFor(connection: string): number {
    return this.link.leaseToken(connection) ?? this.lastToken.get(connection) ?? 0;
  }

  // --- NATS traffic ---

  private publish(subject: string, payload: unknown): void {
    const nc = this.link.natsConnection;
    if (!nc || this.stopped) return;
    try {
      nc.publish(subject, pack(payload));
    } catch (err) {
      this.link.log.debug({ err: (err as Error).message, subject }, 'NATS publish failed');
    }
  }

  private publishSnapshot(connection: string): void {
    const items = this.engine!.snapshotOf(connection);
    if (items.length > MAX_SNAPSHOT) {
      this.link.log.warn({ connection, items: items.length }, 'alarm list too large for one snapshot; other nodes keep theirs');
      return;
    }
    this.publish(SUBJECT.snapshot, { n: this.link.nodeId, c: connection, tk: this.tokenFor(connection), x: items });
  }

  private received(f: () => void): void {
    if (this.stopped) return;
    if (this.started) this.safely(f);
    else this.waiting.push(f);
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.link.log.warn({ err: (err as Error).message }, 'alarm message from another node ignored');
    }
  }

  /** Whether a message about `connection` comes from its current owner (not this node, not a deposed one). */
  private fromOwner(n: string, c: string, tk: number): boolean {
    return n !== this.link.nodeId && typeof c === 'string' && typeof tk === 'number' && !this.adopted.has(c) && this.link.believes(c, tk);
  }

  private onChanges(m: Msg): void {
    const msg = unpack<{ n: string; c: string; tk: number; x: AlarmChange[]; r: AlarmEventRecord[] }>(m);
    if (!this.fromOwner(msg.n, msg.c, msg.tk) || !Array.isArray(msg.x)) return;
    this.engine!.applyRemote(msg.x, Array.isArray(msg.r) ? msg.r : []);
  }

  private onSnapshot(m: Msg): void {
    const msg = unpack<{ n: string; c: string; tk: number; x: Array<[AlarmOccurrence, number | null]> }>(m);
    if (!this.fromOwner(msg.n, msg.c, msg.tk) || !Array.isArray(msg.x)) return;
    this.engine!.replaceRemote(
      msg.c,
      msg.x.map(([v, e]) => [v, e ?? undefined] as const),
    );
  }

  private onSetting(m: Msg): void {
    const msg = unpack<{ n: string; c: string; tk: number; s: AlarmSettingChange }>(m);
    if (!this.fromOwner(msg.n, msg.c, msg.tk)) return;
    this.engine!.applySetting(msg.s);
  }

  /** A node joined or is back on NATS: it may have missed changes, so each owner sends its lists. */
  private onHello(m: Msg): void {
    const { n } = unpack<{ n: string }>(m);
    if (n === this.link.nodeId) return;
    for (const c of this.adopted) this.publishSnapshot(c);
  }

  /** An action another node authorised (and audits, where it audits any): done here as on a single node. */
  private async onAct(m: Msg): Promise<void> {
    let reply: ActReply;
    try {
      const req = unpack<{ c: unknown; a: unknown }>(m);
      const c = req.c;
      const action = checkAction(req.a);
      if (typeof c !== 'string' || !this.link.isLocal(c))
        throw new TagwayError('DEVICE_UNAVAILABLE', `Node '${this.link.nodeId}' no longer runs connection '${String(c)}'`);
      await this.chain;
      if (!this.adopted.has(c)) throw new TagwayError('DEVICE_UNAVAILABLE', `Node '${this.link.nodeId}' no longer runs connection '${c}'`);
      reply = { ok: true, v: await this.engine!.perform(action) };
    } catch (err) {
      reply =
        err instanceof TagwayError
          ? {
              ok: false,
              code: err.code,
              message: err.message,
              ...(err.headers?.['Retry-After'] ? { retryAfter: err.headers['Retry-After'] } : {}),
            }
          : { ok: false, code: 'DEVICE_UNAVAILABLE', message: (err as Error).message };
    }
    m.respond(pack(reply));
  }
}

/** The shape of a forwarded action (the sending node validated its content; this guards the wire format). */
function checkAction(a: unknown): AlarmAction {
  const x = a as Record<string, unknown> | null;
  const bad = () => new TagwayError('VALIDATION_FAILED', 'Malformed alarm action from another node');
  if (typeof x !== 'object' || x === null) throw bad();
  const str = (k: string) => typeof x[k] === 'string';
  const int = (v: unknown) => Number.isSafeInteger(v);
  switch (x.op) {
    case 'acknowledge':
    case 'reset':
      if (int(x.id) && str('user')) return x as unknown as AlarmAction;
      break;
    case 'acknowledgeMany':
      if (Array.isArray(x.ids) && x.ids.length <= 100_000 && x.ids.every(int) && str('user')) return x as unknown as AlarmAction;
      break;
    case 'setEnabled':
      if (str('name') && typeof x.enabled === 'boolean') return x as unknown as AlarmAction;
      break;
    case 'shelve':
      if (str('name') && typeof x.durationMs === 'number') return x as unknown as AlarmAction;
      break;
    case 'unshelve':
      if (str('name')) return x as unknown as AlarmAction;
      break;
  }
  throw bad();
}

/**
 * Makes the alarm engine a member of this node's cluster; call before `engine.start()`. Returns what to call
 * after it (applies what arrived during the start and takes over the connections held).
 */
export async function joinAlarms(link: ClusterLink, runtime: Runtime, engine: AlarmEngine): Promise<ClusterAlarms> {
  const part = new ClusterAlarms(link, runtime);
  await part.attach(engine);
  runtime.onStop(() => part.stop());
  return part;
}
