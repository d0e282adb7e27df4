import {
  AttributeIds,
  type ClientMonitoredItemGroup,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  Variant,
  VariantArrayType,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import { coerceValue } from '../../domain/coerce.js';
import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import { Backoff } from '../backoff.js';
import { ConnectionSupervisor } from '../shared/supervisor.js';
import type { ConnectionDefinition, ConnectionStats, Driver, DriverHost, DriverTag } from '../driver.js';
import { formatNodeId, parseNodeId, type ParsedNodeId } from './address.js';
import { browseChildren, type BrowseItem } from './browse.js';
import { readOpcUaOptions, readOpcUaTagOptions, type OpcUaOptions } from './options.js';
import { statusName, statusToQuality, writeStatusToProblem } from './status-mapping.js';
import { errorText, withTimeout } from './timeout.js';
import { variantToWire, wireToVariant } from './values.js';

/** One monitored item: a node sampled at one rate, feeding every tag that names it. */
interface Item {
  nodeId: string;
  samplingMs: number;
  tags: DriverTag[];
  /** A value that did not fit a tag was logged; stays quiet until a good value arrives. */
  complained: boolean;
}

/** One connection attempt's client, session, subscription and monitored items. */
interface Link {
  client: OPCUAClient;
  session?: ClientSession | undefined;
  subscription?: ClientSubscription | undefined;
  groups: ClientMonitoredItemGroup[];
  /** The supervisor took the link as its session (a loss from now on is a lost connection, not a failed attempt). */
  up: boolean;
  /** Gone: late callbacks of its client are ignored. */
  dead: boolean;
  /** Node id per tag index for this session (namespace URIs resolved). */
  nodeIds: Map<number, string>;
}

const SECURITY_MODE = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
} as const;

/**
 * OPC UA client driver: one session, one subscription, monitored items (the server pushes changes; nothing is
 * polled). node-opcua's own reconnection is switched off (`maxRetry: 0`): on any loss the whole client is torn
 * down and rebuilt by the shared ConnectionSupervisor, which keeps the state machine small and makes `stop()` final.
 */
export class OpcUaDriver implements Driver {
  readonly publishesWrites = false;
  readonly options: OpcUaOptions;
  private readonly parsed = new Map<number, ParsedNodeId>();
  private readonly tagSampling = new Map<number, number | undefined>();
  private readonly counters: ConnectionStats = { reads: 0, writes: 0, errors: 0, rttMs: undefined };
  private readonly supervisor: ConnectionSupervisor<Link>;
  private certificateManager: OPCUACertificateManager | undefined;
  /** Built-in data type per node id, read once on the first write (a node's type does not change at run time). */
  private readonly dataTypes = new Map<string, number>();
  private certificateReady = false;
  private running = false;
  private readonly teardowns = new Set<Promise<void>>();

  constructor(
    private readonly connection: ConnectionDefinition,
    private readonly tags: DriverTag[],
    private readonly host: DriverHost,
  ) {
    const { options, problems } = readOpcUaOptions(connection, host.dataDir);
    if (problems.length > 0) {
      throw new TagwayError('VALIDATION_FAILED', `Connection '${connection.name}': ${problems.map(([k, m]) => `${k} ${m}`).join('; ')}`);
    }
    this.options = options;
    for (const tag of tags) {
      const p = parseNodeId(tag.def.address ?? '');
      const t = readOpcUaTagOptions(tag.def.options);
      if (!p.ok || t.problems.length > 0) {
        host.logger.warn({ tag: tag.def.name }, p.ok ? `tag options: ${t.problems.map(([k, m]) => `${k} ${m}`).join('; ')}` : p.message);
        continue;
      }
      this.parsed.set(tag.index, p.nodeId);
      this.tagSampling.set(tag.index, t.options.samplingIntervalMs);
    }
    // Tags with an unusable address keep BAD_CONFIGURATION_ERROR: the supervisor marks only the others.
    this.supervisor = new ConnectionSupervisor<Link>(
      host,
      tags.filter((t) => this.parsed.has(t.index)),
      new Backoff(options.reconnectMinMs, options.reconnectMaxMs),
      {
        open: (signal) => this.open(signal),
        close: (link) => this.teardown(link),
        up: (link) => {
          link.up = true;
        },
        down: (link) => {
          link.dead = true;
        },
      },
      {
        failedAttemptState: 'ERROR',
        stoppedQuality: Quality.BAD_NOT_CONNECTED,
        onFailure: (reason, phase) =>
          host.logger.warn(
            { connection: connection.name, endpoint: options.endpointUrl },
            `OPC UA ${phase === 'connect' ? 'connect failed' : 'connection lost'}: ${reason}`,
          ),
      },
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const tag of this.tags) if (!this.parsed.has(tag.index)) this.host.setQuality(tag.index, Quality.BAD_CONFIGURATION_ERROR);
    this.certificateManager = new OPCUACertificateManager({
      rootFolder: this.options.pkiDir,
      automaticallyAcceptUnknownCertificate: this.options.acceptUnknownCertificate,
    });
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.supervisor.stop();
    await Promise.allSettled([...this.teardowns]);
    await this.certificateManager?.dispose().catch(() => undefined);
    this.certificateManager = undefined;
    this.certificateReady = false;
  }

  stats(): ConnectionStats {
    return { ...this.counters, errors: this.counters.errors + this.supervisor.failures };
  }

  get isConnected(): boolean {
    return this.supervisor.session !== undefined;
  }

  // ---- connection life cycle ----

  /**
   * One attempt: connects, opens the session and subscription and monitors every item. A loss while it is under
   * way fails the attempt at once (not after the step's timeout); whatever it opened is released when it fails.
   */
  private async open(signal: AbortSignal): Promise<Link> {
    const o = this.options;
    const client = OPCUAClient.create({
      applicationName: 'Tagway',
      clientName: `Tagway ${this.connection.name}`,
      endpointMustExist: false,
      securityMode: SECURITY_MODE[o.securityMode],
      securityPolicy: SecurityPolicy[o.securityPolicy],
      connectionStrategy: { maxRetry: 0, initialDelay: o.reconnectMinMs, maxDelay: o.reconnectMaxMs },
      clientCertificateManager: this.certificateManager!,
      // A server that hangs without closing the socket is noticed by the session's periodic read of its state.
      keepSessionAlive: true,
      keepAliveInterval: Math.max(1000, o.timeoutMs),
      requestedSessionTimeout: Math.max(10_000, o.timeoutMs * 4),
      transportTimeout: o.timeoutMs,
    });
    const link: Link = { client, groups: [], up: false, dead: false, nodeIds: new Map() };
    let failEarly: (err: Error) => void = () => undefined;
    const early = new Promise<never>((_, reject) => {
      failEarly = reject;
    });
    early.catch(() => undefined);
    const lost = (why: string) => (): void => {
      if (link.dead) return;
      if (link.up) this.supervisor.lost(link, why);
      else failEarly(new Error(why));
    };
    const onAbort = (): void => failEarly(new Error('stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('connection_lost', lost('connection lost'));
    client.on('close', lost('connection closed'));
    try {
      await Promise.race([this.connect(link, lost), early]);
      return link;
    } catch (err) {
      link.dead = true;
      await this.teardown(link);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async connect(link: Link, lost: (why: string) => () => void): Promise<void> {
    const o = this.options;
    const client = link.client;
    if (!this.certificateReady) {
      // Creating the client certificate (an RSA key pair) takes seconds on a slow or busy machine: done once per
      // PKI folder and not counted against the peer's timeout.
      await this.certificateManager!.initialize();
      await client.createDefaultCertificate();
      this.certificateReady = true;
      this.check(link);
    }
    await withTimeout(client.connect(o.endpointUrl), o.timeoutMs, `connect to ${o.endpointUrl}`);
    this.check(link);
    const identity: UserIdentityInfo =
      o.username === undefined
        ? { type: UserTokenType.Anonymous }
        : { type: UserTokenType.UserName, userName: o.username, password: o.password ?? '' };
    const session = await withTimeout(client.createSession(identity), o.timeoutMs, 'create session');
    link.session = session;
    this.check(link);
    session.on('session_closed', lost('session closed'));
    session.on('keepalive_failure', lost('the server stopped answering (keep-alive failed)'));

    await this.resolveNodeIds(session, link);
    const subscription = await withTimeout(
      session.createSubscription2({
        requestedPublishingInterval: o.publishingIntervalMs,
        // Keep-alive about every 10 publishing intervals (at least 1 s of silence) and a lifetime three times that.
        requestedMaxKeepAliveCount: Math.max(3, Math.ceil(1000 / o.publishingIntervalMs)),
        requestedLifetimeCount: Math.max(9, 3 * Math.ceil(1000 / o.publishingIntervalMs)) * 4,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 1,
      }),
      o.timeoutMs,
      'create subscription',
    );
    link.subscription = subscription;
    this.check(link);
    subscription.on('terminated', lost('subscription terminated'));
    await this.monitor(subscription, link);
  }

  /** An attempt that was given up (lost, stopped) goes no further. */
  private check(link: Link): void {
    if (link.dead || !this.running) throw new Error('superseded');
  }

  /** Node ids for this session: `nsu=` addresses need the server's namespace array, which may change on restart. */
  private async resolveNodeIds(session: ClientSession, link: Link): Promise<void> {
    const ids = new Map<number, string>();
    let namespaces: string[] | undefined;
    for (const tag of this.tags) {
      const p = this.parsed.get(tag.index);
      if (!p) continue;
      if (typeof p.namespace === 'string') {
        namespaces ??= await withTimeout(session.readNamespaceArray(), this.options.timeoutMs, 'read namespace array');
        this.check(link);
        const ns = namespaces.indexOf(p.namespace);
        if (ns < 0) {
          this.host.logger.warn({ tag: tag.def.name }, `namespace URI '${p.namespace}' is not on the server`);
          this.host.setQuality(tag.index, Quality.BAD_CONFIGURATION_ERROR);
          continue;
        }
        ids.set(tag.index, formatNodeId(p, ns));
      } else {
        ids.set(tag.index, formatNodeId(p));
      }
    }
    link.nodeIds = ids;
  }

  private async monitor(subscription: ClientSubscription, link: Link): Promise<void> {
    // One monitored item per (node, sampling interval); several tags may share it.
    const byKey = new Map<string, Item>();
    for (const tag of this.tags) {
      const nodeId = link.nodeIds.get(tag.index);
      if (nodeId === undefined) continue;
      const samplingMs = this.tagSampling.get(tag.index) ?? this.options.samplingIntervalMs;
      const key = `${samplingMs}|${nodeId}`;
      let item = byKey.get(key);
      if (!item) {
        item = { nodeId, samplingMs, tags: [], complained: false };
        byKey.set(key, item);
      }
      item.tags.push(tag);
    }
    const bySampling = new Map<number, Item[]>();
    for (const item of byKey.values()) {
      const list = bySampling.get(item.samplingMs) ?? [];
      list.push(item);
      bySampling.set(item.samplingMs, list);
    }
    const chunk = this.options.monitoredItemsPerRequest;
    for (const [samplingMs, items] of bySampling) {
      for (let start = 0; start < items.length; start += chunk) {
        const part = items.slice(start, start + chunk);
        const group = await withTimeout(
          subscription.monitorItems(
            part.map((it) => ({ nodeId: it.nodeId, attributeId: AttributeIds.Value })),
            { samplingInterval: samplingMs, queueSize: 1, discardOldest: true },
            TimestampsToReturn.Both,
          ),
          this.options.timeoutMs + part.length,
          'create monitored items',
        );
        link.groups.push(group);
        this.check(link);
        group.on('changed', (_item: unknown, dataValue: DataValue, index: number) => {
          if (link.dead) return;
          const it = part[index];
          if (it) this.onValue(it, dataValue);
        });
        group.monitoredItems.forEach((mi, i) => {
          const status = mi.statusCode?.value ?? 0;
          const it = part[i];
          if (it && status >= 0x80000000) {
            this.host.logger.warn({ node: it.nodeId, tags: it.tags.map((t) => t.def.name) }, `cannot monitor: ${statusName(status)}`);
            for (const t of it.tags) this.host.setQuality(t.index, statusToQuality(status));
          }
        });
      }
    }
  }

  private onValue(item: Item, dv: DataValue): void {
    this.counters.reads++;
    const status = dv.statusCode.value >>> 0;
    const quality = statusToQuality(status);
    const ts = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? this.host.clock.now();
    if ((quality & 0xc0) === 0) {
      for (const t of item.tags) this.host.setQuality(t.index, quality, ts);
      return;
    }
    const variant = dv.value;
    const wire = variant.arrayType === VariantArrayType.Scalar ? variantToWire(variant.dataType, variant.value) : variant.value;
    let allFit = true;
    for (const t of item.tags) {
      const r = coerceValue(t.def.type, wire);
      if (r.ok) {
        this.host.update(t.index, r.value, quality, ts);
      } else {
        allFit = false;
        this.host.setQuality(t.index, Quality.BAD_CONFIGURATION_ERROR, ts);
        if (!item.complained) {
          this.host.logger.warn(
            { tag: t.def.name, node: item.nodeId },
            `value of data type ${DataType[variant.dataType]} does not fit the tag: ${r.message}`,
          );
        }
      }
    }
    item.complained = !allFit;
  }

  /** Closes a link; `stop()` also awaits teardowns started by failed attempts. Never rejects. */
  private teardown(link: Link): Promise<void> {
    const p = (async () => {
      link.client.removeAllListeners('connection_lost');
      link.client.removeAllListeners('close');
      for (const g of link.groups) g.removeAllListeners('changed');
      link.subscription?.removeAllListeners('terminated');
      link.session?.removeAllListeners('session_closed');
      link.session?.removeAllListeners('keepalive_failure');
      // Closing the session tells a live server to drop our subscription at once; on a dead link it fails fast.
      if (link.session) await withTimeout(link.session.close(true), 1000, 'close session').catch(() => undefined);
      await withTimeout(link.client.disconnect(), 2000, 'disconnect').catch(() => undefined);
    })();
    this.teardowns.add(p);
    void p.finally(() => this.teardowns.delete(p));
    return p;
  }

  // ---- writes and browse ----

  private liveLink(what: string): Link & { session: ClientSession } {
    const link = this.supervisor.session;
    if (!link?.session) {
      throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.connection.name}' is not connected; cannot ${what}`);
    }
    return link as Link & { session: ClientSession };
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    const { session, nodeIds } = this.liveLink(`write '${tag.def.name}'`);
    const nodeId = nodeIds.get(tag.index);
    if (nodeId === undefined)
      throw new TagwayError('DEVICE_UNAVAILABLE', `Tag '${tag.def.name}': address '${tag.def.address ?? ''}' is not usable on this server`);
    const started = performance.now();
    try {
      let dataType = this.dataTypes.get(nodeId);
      if (dataType === undefined) {
        dataType = await withTimeout(session.getBuiltInDataType(nodeId as never), this.options.timeoutMs, `read data type of ${nodeId}`);
        this.dataTypes.set(nodeId, dataType);
      }
      const v = wireToVariant(dataType, value, tag.def.name);
      const status = await withTimeout(
        session.write({
          nodeId,
          attributeId: AttributeIds.Value,
          value: { value: new Variant({ dataType: v.dataType, arrayType: VariantArrayType.Scalar, value: v.value }) },
        }),
        this.options.timeoutMs,
        `write ${nodeId}`,
      );
      const code = status.value >>> 0;
      if (code >= 0x80000000) {
        if (writeStatusToProblem(code) === 'TYPE_MISMATCH') this.dataTypes.delete(nodeId);
        throw new TagwayError(writeStatusToProblem(code), `Tag '${tag.def.name}': the server refused the write with ${statusName(code)}`);
      }
      this.counters.writes++;
      this.counters.rttMs = Math.round((performance.now() - started) * 10) / 10;
    } catch (err) {
      this.counters.errors++;
      if (err instanceof TagwayError) throw err;
      throw new TagwayError('DEVICE_UNAVAILABLE', `Tag '${tag.def.name}': write failed: ${errorText(err)}`, { cause: err });
    }
  }

  /** The children of a node (default: the Objects folder), for `GET /connections/{name}/browse`. */
  async browse(nodeId?: string): Promise<BrowseItem[]> {
    const { session } = this.liveLink('browse');
    return browseChildren(session, nodeId, this.options.timeoutMs);
  }
}
