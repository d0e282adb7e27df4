import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  execute,
  executeSync,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Principal } from '../../../auth/principal.js';
import { isGlob } from '../../../domain/glob.js';
import type { AlarmOccurrence } from '../../../domain/alarms/records.js';
import type { PushConnection } from '../../../runtime/push/connection.js';
import type { PushHub } from '../../../runtime/push/hub.js';
import { PUSH_CLOSE, type ChannelOwner, type PushEncoder, type PushSink } from '../../../runtime/push/types.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Actor } from '../../../services/actor.js';
import { isFailure } from '../../../services/tag-service.js';
import { toGraphQLError } from './errors.js';
import { UNIFIED_LIMITS, authenticate, checkDocument, complexityRule } from './limits.js';
import { unifiedQuality } from './quality.js';
import { alarmContext, compileActiveFilter, mapActive, OK, systemTagValue, type ResolverDeps, type UnifiedContext } from './resolvers.js';
import { UnifiedCode } from './errors.js';

/**
 * Subscriptions (and, on the same socket, queries and mutations) over WebSocket on `/graphql`, in both protocols
 * Unified clients use: `graphql-transport-ws` (the graphql-ws library) and the legacy `graphql-ws`
 * (subscriptions-transport-ws). Written here over `ws` and graphql-js, since the protocols are small and they must
 * ride on the runtime's push hub: each socket is one hub connection, so tag values are coalesced (latest value per
 * tag) while a client reads slowly, a client that stops reading is dropped, and a revoked session closes its
 * sockets (ChannelRevocation).
 */

export const UNIFIED_WS_LIMITS = {
  /** Largest client message in bytes. */
  maxMessageBytes: 256 * 1024,
  /** A socket that has not sent connection_init after this long is closed (4408). */
  initTimeoutMs: 10_000,
  /** Operations open at once on one socket. */
  maxOperations: 100,
  /** Protocol ping interval; a socket that has not answered the previous ping by the next one is terminated. */
  heartbeatMs: 30_000,
} as const;

const PROTOCOLS = ['graphql-transport-ws', 'graphql-ws'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const CLOSE = { BAD_MESSAGE: 4400, UNAUTHORIZED: 4401, INIT_TIMEOUT: 4408, DUPLICATE_ID: 4409, TOO_MANY_INIT: 4429 } as const;

interface Operation {
  id: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  /** Subscriptions only: the field and, for tag values, what was sent already (first Added, then Modified). */
  field?: string;
  added?: Set<string>;
  /** Tag name → the names the client used for it. */
  echo?: Map<string, string[]>;
  /** Glob subscriptions echo tag names bare or prefixed as their pattern was written. */
  globPrefixed?: boolean;
  alarms?: AlarmWatch;
  /** The selection as a projection of plain notification objects; undefined where execute() is needed. */
  project?: ((root: Record<string, unknown>) => unknown) | undefined;
}

/** The last state a client was sent of each alarm occurrence of an activeAlarms subscription. */
interface AlarmWatch {
  args: Record<string, unknown>;
  known: Map<number, Record<string, unknown>>;
  refreshing: boolean;
  again: boolean;
}

/** Frames the encoder builds are joined by this; the sink sends each as its own WebSocket message. */
const FRAME_SEPARATOR = '\n';

export class UnifiedSockets {
  private readonly wss: WebSocketServer;
  private readonly open = new Set<WebSocket>();

  constructor(
    readonly runtime: Runtime,
    readonly schema: GraphQLSchema,
    readonly hub: PushHub,
    readonly deps: ResolverDeps,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: UNIFIED_WS_LIMITS.maxMessageBytes,
      handleProtocols: (offered) => {
        for (const p of PROTOCOLS) if (offered.has(p)) return p;
        return false;
      },
    });
    const fields = schema.getSubscriptionType()!.getFields();
    for (const name of Object.keys(fields)) fields[name]!.resolve = (root: Record<string, unknown>) => root[name];
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.open.add(ws);
      ws.once('close', () => this.open.delete(ws));
      new UnifiedSocket(this, ws, req).start();
    });
  }

  close(): void {
    for (const ws of this.open) ws.close(PUSH_CLOSE.GOING_AWAY, 'server stopping');
    this.wss.close();
  }
}

class UnifiedSocket {
  private readonly protocol: Protocol;
  private principal: Principal | undefined;
  private token: string | undefined;
  private conn: PushConnection | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private initialised = false;
  private readonly ops = new Map<string, Operation>();
  private readonly byHubId = new Map<string, Operation>();
  private readonly clientAddress: string;

  constructor(
    private readonly s: UnifiedSockets,
    private readonly ws: WebSocket,
    private readonly req: IncomingMessage,
  ) {
    this.protocol = ws.protocol === 'graphql-ws' ? 'graphql-ws' : 'graphql-transport-ws';
    this.clientAddress = req.socket.remoteAddress ?? '';
  }

  start(): void {
    // A peer that vanished without closing (a pulled cable) would hold its subscriptions until the OS gives up.
    let alive = true;
    this.ws.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) return this.ws.terminate();
      alive = false;
      this.ws.ping();
    }, UNIFIED_WS_LIMITS.heartbeatMs);
    heartbeat.unref();
    this.ws.once('close', () => clearInterval(heartbeat));
    this.initTimer = setTimeout(
      () => this.ws.close(CLOSE.INIT_TIMEOUT, 'Connection initialisation timeout'),
      UNIFIED_WS_LIMITS.initTimeoutMs,
    );
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return this.ws.close(CLOSE.BAD_MESSAGE, 'Binary messages are not accepted');
      void this.onMessage(String(data)).catch((err: unknown) => {
        this.s.runtime.logger.warn({ err }, 'graphql websocket message failed');
        this.ws.close(1011, 'internal error');
      });
    });
    this.ws.on('close', () => this.dispose());
    this.ws.on('error', () => this.dispose());
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private dispose(): void {
    clearTimeout(this.initTimer);
    this.conn?.dispose();
    this.conn = undefined;
    this.ops.clear();
    this.byHubId.clear();
  }

  private actor(): Actor {
    return { principal: this.principal!, clientAddress: this.clientAddress, via: 'graphql' };
  }

  private async onMessage(text: string): Promise<void> {
    let msg: { type?: unknown; id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return this.ws.close(CLOSE.BAD_MESSAGE, 'Invalid message received');
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.type !== 'string')
      return this.ws.close(CLOSE.BAD_MESSAGE, 'Invalid message received');
    switch (msg.type) {
      case 'connection_init':
        return this.init(msg.payload);
      case 'ping':
        return this.send(msg.payload === undefined ? { type: 'pong' } : { type: 'pong', payload: msg.payload });
      case 'pong':
      case 'ka':
        return;
      case 'connection_terminate':
        // Legacy clients end this way; the original answers with an error, we simply close.
        return this.ws.close(1000, 'terminated');
      case 'subscribe':
      case 'start':
        return this.subscribe(msg.id, msg.payload);
      case 'complete':
      case 'stop':
        if (typeof msg.id === 'string') this.stop(msg.id, false);
        return;
      default:
        return this.ws.close(CLOSE.BAD_MESSAGE, `Invalid message type '${String(msg.type).slice(0, 40)}'`);
    }
  }

  private async init(payload: unknown): Promise<void> {
    if (this.initialised) return this.ws.close(CLOSE.TOO_MANY_INIT, 'Too many initialisation requests');
    this.initialised = true;
    clearTimeout(this.initTimer);
    const p = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
    const fromPayload = p.Authorization ?? p.authorization ?? (p.headers as Record<string, unknown> | undefined)?.Authorization;
    const auth = await authenticate(this.s.runtime, fromPayload ?? this.req.headers.authorization);
    if (!auth.principal) {
      if (this.protocol === 'graphql-ws') this.send({ type: 'connection_error', payload: { message: auth.authError ?? 'Unauthorized' } });
      return this.ws.close(CLOSE.UNAUTHORIZED, 'Unauthorized');
    }
    this.principal = auth.principal;
    this.token = auth.token;
    this.conn = this.s.hub.connect(this.sink(), this.encoder(), auth.principal.permissions);
    this.conn.setOwner(this.owner());
    this.send({ type: 'connection_ack' });
  }

  private owner(): ChannelOwner<Principal> {
    const token = this.token;
    return {
      principal: this.principal!,
      recheck: async () => (token === undefined ? undefined : (await authenticate(this.s.runtime, `Bearer ${token}`)).principal),
      rescoped: (p) => {
        this.principal = p;
        this.dropUnreadable();
      },
    };
  }

  /**
   * After a permission change the hub has dropped the tags the user may no longer read from the subscriptions;
   * the client is told with `Removed` (the service decides what is readable, as everywhere).
   */
  private dropUnreadable(): void {
    for (const op of this.ops.values()) {
      if (!op.added || op.added.size === 0) continue;
      const names = [...op.added];
      let readable: boolean[];
      try {
        readable = this.s.deps.services.tags.readMany(this.actor(), names).map((r) => !isFailure(r));
      } catch {
        readable = names.map(() => false); // no tags:read left at all
      }
      readable.forEach((ok, i) => {
        if (ok) return;
        const tag = names[i]!;
        op.added!.delete(tag);
        for (const name of this.echoNames(op, tag))
          this.ws.send(
            this.frame(op, {
              name,
              value: null,
              error: { code: UnifiedCode.UNKNOWN_NAME, description: `No tag named '${name}'` },
              notificationReason: 'Removed',
            }),
          );
      });
    }
  }

  private sink(): PushSink {
    const ws = this.ws;
    return {
      send: (text) => {
        if (ws.readyState !== 1 || text === '') return;
        for (const frame of text.split(FRAME_SEPARATOR)) ws.send(frame);
      },
      bufferedAmount: () => ws.bufferedAmount,
      close: (code, reason) => {
        ws.close(code, reason.slice(0, 120));
        // A client that stopped reading never answers the close frame.
        setTimeout(() => ws.terminate(), 1000).unref();
      },
      onDrain: (listener) => {
        const raw = (ws as unknown as { _socket?: { on(e: string, l: () => void): void } })._socket;
        raw?.on('drain', listener);
      },
    };
  }

  private encoder(): PushEncoder {
    return {
      values: (idJson, items) => {
        const op = this.byHubId.get(JSON.parse(idJson) as string);
        if (!op) return '';
        const frames: string[] = [];
        for (const item of items) {
          const v = JSON.parse(item) as { name: string; value: unknown; qualityCode: number; timestamp: string };
          const reason = op.added!.has(v.name) ? 'Modified' : 'Added';
          op.added!.add(v.name);
          const value = { value: v.value, timestamp: v.timestamp, quality: unifiedQuality(v.qualityCode) };
          for (const name of this.echoNames(op, v.name))
            frames.push(this.frame(op, { name, value, error: OK, notificationReason: reason }));
        }
        return frames.join(FRAME_SEPARATOR);
      },
      alarm: (idJson) => {
        const op = this.byHubId.get(JSON.parse(idJson) as string);
        if (op?.alarms) void this.refreshAlarms(op);
        return '';
      },
      resync: (idJson) => {
        const op = this.byHubId.get(JSON.parse(idJson) as string);
        if (op?.alarms) void this.refreshAlarms(op);
        return '';
      },
    };
  }

  private echoNames(op: Operation, tag: string): string[] {
    const exact = op.echo!.get(tag);
    if (exact) return exact;
    return [op.globPrefixed ? this.s.deps.names.prefixed(tag) : tag];
  }

  /** One `next` (or legacy `data`) message: the notification shaped by the operation's selection. */
  private frame(op: Operation, notification: Record<string, unknown>): string {
    if (op.project) {
      const data = op.project({ [op.field!]: notification });
      return JSON.stringify({ id: op.id, type: this.protocol === 'graphql-ws' ? 'data' : 'next', payload: { data } });
    }
    const result = executeSync({
      schema: this.s.schema,
      document: op.document,
      operationName: op.operationName,
      variableValues: op.variables,
      rootValue: { [op.field!]: notification },
    });
    return JSON.stringify({ id: op.id, type: this.protocol === 'graphql-ws' ? 'data' : 'next', payload: result });
  }

  private fail(id: string, errors: GraphQLError[]): void {
    const list = errors.map((e) => e.toJSON());
    this.send({ id, type: 'error', payload: this.protocol === 'graphql-ws' ? list[0] : list });
  }

  private async subscribe(id: unknown, payload: unknown): Promise<void> {
    if (!this.principal || !this.conn) return this.ws.close(CLOSE.UNAUTHORIZED, 'Unauthorized');
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) return this.ws.close(CLOSE.BAD_MESSAGE, 'Invalid message received');
    if (this.ops.has(id)) return this.ws.close(CLOSE.DUPLICATE_ID, `Subscriber for ${id} already exists`);
    if (this.ops.size >= UNIFIED_WS_LIMITS.maxOperations)
      return this.fail(id, [
        new GraphQLError(`At most ${UNIFIED_WS_LIMITS.maxOperations} operations per socket`, { extensions: { code: 'TOO_MANY_REQUESTS' } }),
      ]);
    const p = (payload ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (typeof p.query !== 'string') return this.ws.close(CLOSE.BAD_MESSAGE, 'Invalid message received');
    if (p.query.length > UNIFIED_LIMITS.maxQueryChars)
      return this.fail(id, [new GraphQLError('The query is too long', { extensions: { code: 'QUERY_TOO_LARGE' } })]);
    let document: DocumentNode;
    try {
      document = parse(p.query, { maxTokens: UNIFIED_LIMITS.maxTokens });
    } catch (err) {
      return this.fail(id, [withCode(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')]);
    }
    const tooComplex = checkDocument(document);
    if (tooComplex) return this.fail(id, [tooComplex]);
    const errors = validate(this.s.schema, document, [...specifiedRules, complexityRule]);
    if (errors.length > 0)
      return this.fail(
        id,
        errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')),
      );
    if (depthOf(document) > UNIFIED_LIMITS.maxDepth)
      return this.fail(id, [new GraphQLError('The query is nested too deeply', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    const operationName = typeof p.operationName === 'string' ? p.operationName : undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return this.fail(id, [new GraphQLError('No operation to run', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    const coerced = getVariableValues(this.s.schema, operation.variableDefinitions ?? [], (p.variables ?? {}) as Record<string, unknown>);
    if (coerced.errors)
      return this.fail(
        id,
        coerced.errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')),
      );
    const op: Operation = { id, document, operation, operationName, variables: coerced.coerced };
    if (operation.operation !== 'subscription') return this.runOnce(op);
    const fields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
    if (fields.length !== 1 || operation.selectionSet.selections.length !== 1)
      return this.fail(id, [
        new GraphQLError('A subscription selects exactly one field', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ]);
    const fieldNode = fields[0]!;
    const field = fieldNode.name.value;
    const def = this.s.schema.getSubscriptionType()!.getFields()[field]!;
    const args = getArgumentValues(def, fieldNode, op.variables);
    op.field = field;
    op.project = projection(document, operation);
    this.ops.set(id, op);
    try {
      if (field === 'tagValues') this.startTags(op, args.names as string[]);
      else if (field === 'activeAlarms') await this.startAlarms(op, args);
      else if (field === 'reduState')
        this.ws.send(
          this.frame(op, {
            value: { value: this.s.deps.reduState(), timestamp: new Date(this.s.deps.now()).toISOString() },
            notificationReason: 'Added',
          }),
        );
    } catch (err) {
      this.stop(id, true);
      this.fail(id, [toGraphQLError(err)]);
    }
  }

  /** A query or mutation sent over the socket: one result, then complete. */
  private async runOnce(op: Operation): Promise<void> {
    const contextValue: UnifiedContext = {
      principal: this.principal,
      authError: undefined,
      token: this.token,
      clientAddress: this.clientAddress,
      requestId: `ws-${op.id}`,
      sizeBytes: undefined,
    };
    const result = await execute({
      schema: this.s.schema,
      document: op.document,
      operationName: op.operationName,
      variableValues: op.variables,
      contextValue,
    });
    this.send({ id: op.id, type: this.protocol === 'graphql-ws' ? 'data' : 'next', payload: result });
    this.send({ id: op.id, type: 'complete' });
  }

  private startTags(op: Operation, names: readonly string[]): void {
    const { deps } = this.s;
    op.added = new Set();
    op.echo = new Map();
    const exact = names.filter((n) => !isGlob(n));
    const globs = names.filter(isGlob);
    op.globPrefixed = globs.some((g) => g.includes('::'));
    const patterns: string[] = [];
    for (const g of globs) {
      const local = deps.names.local(g);
      if (local !== undefined) patterns.push(local);
    }
    const locals = exact.map((n) => (deps.names.systemTag(n) ? undefined : deps.names.local(n)));
    const wanted = locals.filter((l): l is string => l !== undefined);
    const read = wanted.length > 0 ? deps.services.tags.readMany(this.actor(), wanted) : [];
    let k = 0;
    const frames: string[] = [];
    exact.forEach((name, i) => {
      const sys = deps.names.systemTag(name);
      if (sys) {
        const value = { value: systemTagValue(deps, sys), timestamp: new Date(deps.now()).toISOString(), quality: unifiedQuality(0xc0) };
        frames.push(this.frame(op, { name, value, error: OK, notificationReason: 'Added' }));
        return;
      }
      if (locals[i] === undefined) {
        frames.push(
          this.frame(op, {
            name,
            value: null,
            error: { code: UnifiedCode.UNKNOWN_NAME, description: `No tag named '${name}'` },
            notificationReason: 'Added',
          }),
        );
        return;
      }
      const r = read[k++]!;
      if (isFailure(r)) {
        frames.push(
          this.frame(op, {
            name,
            value: null,
            error: { code: UnifiedCode.UNKNOWN_NAME, description: r.error.message },
            notificationReason: 'Added',
          }),
        );
        return;
      }
      const list = op.echo!.get(r.def.name) ?? [];
      if (!list.includes(name)) list.push(name);
      op.echo!.set(r.def.name, list);
      patterns.push(r.def.name);
    });
    for (const f of frames) this.ws.send(f);
    if (patterns.length === 0) return;
    const hubId = `t:${op.id}`;
    this.byHubId.set(hubId, op);
    this.conn!.subscribe(hubId, { tags: [...new Set(patterns)] });
  }

  private async startAlarms(op: Operation, args: Record<string, unknown>): Promise<void> {
    compileActiveFilter(args); // a bad filter or language fails the subscription at once (301/302/303)
    op.alarms = { args, known: new Map(), refreshing: false, again: false };
    const hubId = `a:${op.id}`;
    this.byHubId.set(hubId, op);
    this.conn!.subscribeAlarms(hubId, {});
    await this.refreshAlarms(op);
  }

  /**
   * Compares the current list (filtered) with what the client was last sent: Added, Modified, Removed. Journal
   * events only trigger it, so however many events arrive while a refresh runs, one more refresh follows.
   */
  private async refreshAlarms(op: Operation): Promise<void> {
    const w = op.alarms!;
    if (w.refreshing) {
      w.again = true;
      return;
    }
    w.refreshing = true;
    try {
      do {
        w.again = false;
        if (this.ws.bufferedAmount > this.s.hub.options.highWaterBytes) {
          // The client reads slowly: the diff waits (the list is the state, nothing is lost by waiting).
          await new Promise((r) => setTimeout(r, this.s.hub.options.congestionCheckMs));
          w.again = true;
          continue;
        }
        if (!this.ops.has(op.id) || !this.principal) return;
        const { deps } = this.s;
        const actor = this.actor();
        const { languages, filterLanguage, match } = compileActiveFilter(w.args);
        const list: AlarmOccurrence[] = await deps.services.alarms.current(actor);
        const textsOf = async (lang: string) =>
          new Map<number | string, string>((await deps.services.alarms.current(actor, {}, lang)).map((o) => [o.id, o.text]));
        const ctx = await alarmContext(deps, actor, [filterLanguage, ...languages], textsOf);
        const rows = mapActive(deps, actor, list, ctx, languages, filterLanguage, match);
        if (!this.ops.has(op.id)) return;
        const seen = new Set<number>();
        for (const row of rows) {
          const id = row.instanceID as number;
          seen.add(id);
          const before = w.known.get(id);
          const json = JSON.stringify({ ...row, duration: 0, durationIso: '' });
          if (before && before.json === json) continue;
          w.known.set(id, { json, row });
          this.ws.send(this.frame(op, { ...row, notificationReason: before ? 'Modified' : 'Added' }));
        }
        for (const [id, before] of w.known) {
          if (seen.has(id)) continue;
          w.known.delete(id);
          this.ws.send(this.frame(op, { ...(before.row as Record<string, unknown>), state: 'REMOVED', notificationReason: 'Removed' }));
        }
      } while (w.again);
    } finally {
      w.refreshing = false;
    }
  }

  private stop(id: string, quiet: boolean): void {
    const op = this.ops.get(id);
    if (!op) return;
    this.ops.delete(id);
    for (const hubId of [`t:${id}`, `a:${id}`]) {
      if (this.byHubId.delete(hubId)) this.conn?.unsubscribe(hubId);
    }
    if (!quiet && this.protocol === 'graphql-ws') this.send({ id, type: 'complete' });
  }
}

type Projector = (value: unknown) => unknown;

/**
 * The selection set of a subscription as a projection of the plain notification object: what graphql-js's
 * default resolvers would answer, without executing per notification (a fan-out sends thousands a second).
 * Aliases, fragments and `__typename` are followed; a document with directives (@skip, @include) answers
 * undefined and is executed instead.
 */
export function projection(
  doc: DocumentNode,
  operation: OperationDefinitionNode,
): ((root: Record<string, unknown>) => unknown) | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const build = (
    set: SelectionSetNode,
    typeName: string,
    seen: ReadonlySet<string>,
  ): Array<[string, string, Projector | undefined]> | undefined => {
    const out: Array<[string, string, Projector | undefined]> = [];
    for (const sel of set.selections) {
      if (sel.directives && sel.directives.length > 0) return undefined;
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        if (sel.name.value === '__typename') {
          out.push([key, '__typename', () => typeName]);
          continue;
        }
        let sub: Projector | undefined;
        if (sel.selectionSet) {
          const inner = build(sel.selectionSet, '', seen);
          if (!inner) return undefined;
          sub = objectProjector(inner);
        }
        out.push([key, sel.name.value, sub]);
      } else {
        const f = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
        if (!f || (sel.kind === Kind.FRAGMENT_SPREAD && seen.has(sel.name.value))) return undefined;
        const inner = build(f.selectionSet, typeName, sel.kind === Kind.FRAGMENT_SPREAD ? new Set([...seen, sel.name.value]) : seen);
        if (!inner) return undefined;
        out.push(...inner);
      }
    }
    return out;
  };
  if (operation.selectionSet.selections.some((s) => s.directives && s.directives.length > 0)) return undefined;
  const fields = build(operation.selectionSet, 'Subscription', new Set());
  // Nested objects have no __typename we know here; a nested __typename is left to execute().
  if (!fields || JSON.stringify(operation).includes('"__typename"')) return undefined;
  const root = objectProjector(fields);
  return (r) => root(r);
}

function objectProjector(fields: Array<[string, string, Projector | undefined]>): Projector {
  return (value) => {
    if (value === null || value === undefined) return null;
    const one = (v: Record<string, unknown>) => {
      const o: Record<string, unknown> = {};
      for (const [key, name, sub] of fields) {
        // Merged fields (the same key twice, from fragments) keep the first position, as graphql-js does.
        const got = sub ? sub(v[name]) : (v[name] ?? null);
        o[key] =
          key in o && typeof o[key] === 'object' && o[key] !== null && typeof got === 'object' && got !== null
            ? { ...(o[key] as object), ...(got as object) }
            : got;
      }
      return o;
    };
    return Array.isArray(value)
      ? value.map((x) => (x === null || x === undefined ? null : one(x as Record<string, unknown>)))
      : one(value as Record<string, unknown>);
  };
}

function withCode(e: GraphQLError, code: string): GraphQLError {
  return e.extensions?.code
    ? e
    : new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code } });
}

/** Selection depth of the deepest operation (fragments followed). */
function depthOf(doc: DocumentNode): number {
  const fragments = new Map<string, { selectionSet: { selections: readonly unknown[] } }>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const depth = (sel: { selections: readonly unknown[] }, level: number, seen: Set<string>): number => {
    let max = level;
    for (const raw of sel.selections) {
      const s = raw as { kind: string; selectionSet?: { selections: readonly unknown[] }; name?: { value: string } };
      if (s.kind === Kind.FIELD) max = Math.max(max, s.selectionSet ? depth(s.selectionSet, level + 1, seen) : level + 1);
      else if (s.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depth(s.selectionSet!, level, seen));
      else {
        const f = fragments.get(s.name!.value);
        if (f && !seen.has(s.name!.value)) max = Math.max(max, depth(f.selectionSet, level, new Set([...seen, s.name!.value])));
      }
      if (max > 100) return max;
    }
    return max;
  };
  let max = 0;
  for (const d of doc.definitions) if (d.kind === Kind.OPERATION_DEFINITION) max = Math.max(max, depth(d.selectionSet, 0, new Set()));
  return max;
}

/**
 * Routes WebSocket upgrades of `/graphql` and `/graphql/` to the Unified sockets, and every other upgrade to the
 * listeners that were there (the native `/ws`), so the two WebSocket front ends do not need to know each other.
 */
export function attachSubscriptions(app: FastifyInstance, sockets: UnifiedSockets): void {
  app.addHook('onReady', async () => {
    const server = app.server;
    const others = server.listeners('upgrade') as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/graphql' || path === '/graphql/') return sockets.handleUpgrade(req, socket, head);
      if (others.length === 0) socket.destroy();
      for (const l of others) l.call(server, req, socket, head);
    });
  });
  app.addHook('onClose', async () => sockets.close());
}
