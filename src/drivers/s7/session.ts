import type NodeS7 from 'nodes7';

// Loaded on the first connect: projects without S7 do not pay for nodes7 at start-up.
let NodeS7Class: typeof NodeS7 | undefined;
async function loadNodeS7(): Promise<typeof NodeS7> {
  NodeS7Class ??= ((await import('nodes7')) as unknown as { default: typeof NodeS7 }).default;
  return NodeS7Class;
}
import { TagwayError } from '../../domain/problems.js';
import type { Clock } from '../../domain/clock.js';
import type { S7ConnectionOptions } from './config.js';

/**
 * One nodes7 connection, used once: nodes7 reconnects by itself on fixed 2 s timers and keeps several
 * timers of its own, which would fight our back-off and outlive `stop()`. So a session that fails is
 * disposed of completely (every nodes7 timer cleared, socket destroyed) and the supervisor opens a new one.
 */
const NODES7_TIMERS = ['reconnectTimer', 'rereadTimer', 'connectTimeout', 'PDUTimeout', 'resetTimeout', 'dropConnectionTimer'] as const;

export interface ItemResult {
  ok: boolean;
  value: unknown;
  quality: string;
}

export class S7Session {
  closed = false;
  lastRttMs: number | undefined;
  onClose: ((reason: string) => void) | undefined;
  private currentKeys = '';
  private writeChain: Promise<unknown> = Promise.resolve();
  /** Reads and writes waiting for nodes7; settled at once when the session closes, so no timer outlives it. */
  private readonly pending = new Set<{ timer: unknown; reject: (err: unknown) => void }>();

  private constructor(
    private readonly conn: NodeS7,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    const sock = conn.isoclient;
    // nodes7 only notices a dead link at the next read; listening to the socket marks tags BAD at once.
    sock?.once('close', () => this.fail('the PLC closed the connection'));
  }

  static async open(
    o: S7ConnectionOptions,
    translate: (key: string) => string | undefined,
    clock: Clock,
    signal: AbortSignal,
  ): Promise<S7Session> {
    const NodeS7Ctor = await loadNodeS7();
    return new Promise((resolve, reject) => {
      const conn = new NodeS7Ctor({ silent: true });
      conn.maxGap = o.maxGap;
      conn.setTranslationCB(translate);
      let done = false;
      const finish = (err: unknown) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          dispose(conn);
          reject(err);
        } else resolve(new S7Session(conn, clock, o.timeoutMs));
      };
      const onAbort = () => finish(new Error('aborted'));
      // nodes7 never calls back when the PLC accepts TCP but not the ISO or S7 handshake; this bounds it.
      const timer = clock.setTimeout(
        () => finish(new Error(`no S7 connection to ${o.host}:${o.port} within ${o.timeoutMs} ms`)),
        o.timeoutMs,
      );
      signal.addEventListener('abort', onAbort);
      const params = {
        host: o.host,
        port: o.port,
        rack: o.rack,
        slot: o.slot,
        timeout: o.timeoutMs,
        ...(o.localTSAP !== undefined && o.remoteTSAP !== undefined ? { localTSAP: o.localTSAP, remoteTSAP: o.remoteTSAP } : {}),
      };
      conn.initiateConnection(params, (err) => {
        if (err === undefined || err === null) finish(undefined);
        else
          finish(
            err instanceof Error
              ? err
              : new Error(typeof err === 'string' ? err : `connection failed (${(err as { code?: string }).code ?? String(err)})`),
          );
      });
    });
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.(reason);
  }

  /** Reads the items (nodes7 merges neighbours and packs requests into PDUs); undefined per key when BAD. */
  read(keys: string[]): Promise<Map<string, ItemResult>> {
    if (this.closed) return Promise.reject(new TagwayError('DEVICE_UNAVAILABLE', 'not connected to the PLC'));
    const joined = keys.join('\n');
    if (joined !== this.currentKeys) {
      // nodes7 applies these at the next readAllItems, when no packet is in flight.
      this.conn.removeItems();
      this.conn.addItems(keys);
      this.currentKeys = joined;
    }
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let done = false;
      // nodes7 answers every read (with BAD values on its own packet timeout); this guard covers the rest.
      const timer = this.clock.setTimeout(() => {
        if (done) return;
        done = true;
        this.pending.delete(op);
        this.fail('the PLC did not answer a read');
        reject(new TagwayError('DEVICE_TIMEOUT', `the PLC did not answer within ${2 * this.timeoutMs} ms`));
      }, 2 * this.timeoutMs);
      const op = {
        timer,
        reject: (err: unknown) => {
          if (!done) {
            done = true;
            reject(err);
          }
        },
      };
      this.pending.add(op);
      this.conn.readAllItems(() => {
        if (done) return;
        done = true;
        this.pending.delete(op);
        this.clock.clearTimeout(timer);
        if (this.closed) {
          reject(new TagwayError('DEVICE_UNAVAILABLE', 'the connection to the PLC closed'));
          return;
        }
        // nodes7 drops the link after a read timeout and would reconnect on its own; we reconnect instead.
        if (this.conn.isoConnectionState !== 4) {
          this.fail('the PLC stopped answering');
          reject(new TagwayError('DEVICE_UNAVAILABLE', 'the connection to the PLC was lost'));
          return;
        }
        this.lastRttMs = performance.now() - t0;
        const out = new Map<string, ItemResult>();
        for (const k of keys) {
          const it = this.conn.findItem(k);
          out.set(k, { ok: it?.quality === 'OK', value: it?.value, quality: it?.quality ?? 'missing' });
        }
        resolve(out);
      });
    });
  }

  /** Writes one item; writes are serialised because nodes7 takes one write batch at a time. */
  write(key: string, value: unknown, label: string): Promise<void> {
    const run = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (this.closed) {
          reject(new TagwayError('DEVICE_UNAVAILABLE', 'not connected to the PLC'));
          return;
        }
        let done = false;
        const timer = this.clock.setTimeout(() => {
          if (done) return;
          done = true;
          this.pending.delete(op);
          // The nodes7 write state is now unknown (it still waits for the answer): start afresh.
          this.fail('the PLC did not answer a write');
          reject(new TagwayError('DEVICE_TIMEOUT', `the PLC did not answer ${label} within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
        const op = {
          timer,
          reject: (err: unknown) => {
            if (!done) {
              done = true;
              reject(err);
            }
          },
        };
        this.pending.add(op);
        let queued: number;
        try {
          queued = this.conn.writeItems(key, value, (anyBad) => {
            if (done) return;
            done = true;
            this.pending.delete(op);
            this.clock.clearTimeout(timer);
            if (this.closed || this.conn.isoConnectionState !== 4) {
              this.fail('the connection to the PLC was lost during a write');
              reject(new TagwayError('DEVICE_UNAVAILABLE', `the connection to the PLC was lost during ${label}`));
            } else if (anyBad) {
              reject(new TagwayError('DEVICE_UNAVAILABLE', `the PLC refused ${label} (address missing or write-protected)`));
            } else resolve();
          });
        } catch (err) {
          // nodes7 threw while encoding; its write state is unknown, so this session is done.
          done = true;
          this.pending.delete(op);
          this.clock.clearTimeout(timer);
          this.fail('nodes7 failed to encode a write');
          reject(
            new TagwayError('INTERNAL_ERROR', `nodes7 could not encode ${label}: ${err instanceof Error ? err.message : String(err)}`, {
              cause: err,
            }),
          );
          return;
        }
        if (queued !== 0) {
          done = true;
          this.pending.delete(op);
          this.clock.clearTimeout(timer);
          reject(new TagwayError('DEVICE_UNAVAILABLE', `nodes7 did not accept ${label}`));
        }
      });
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => undefined);
    return p;
  }

  close(): Promise<void> {
    this.closed = true;
    this.onClose = undefined;
    const sock = this.conn.isoclient;
    dispose(this.conn);
    for (const op of this.pending) {
      this.clock.clearTimeout(op.timer);
      op.reject(new TagwayError('DEVICE_UNAVAILABLE', 'the connection to the PLC was closed'));
    }
    this.pending.clear();
    if (!sock || sock.closed) return Promise.resolve();
    return new Promise((resolve) => sock.once('close', () => resolve()));
  }
}

/** Clears every timer nodes7 may hold and destroys its socket. */
function dispose(conn: NodeS7): void {
  for (const k of NODES7_TIMERS) {
    const t = conn[k];
    if (t) clearTimeout(t as NodeJS.Timeout);
    conn[k] = undefined;
  }
  const noop = () => undefined;
  conn.readDoneCallback = noop;
  conn.writeDoneCallback = noop;
  conn.connectCallback = undefined;
  conn.connectionCleanup(); // destroys the socket and clears the packet timers
  conn.isoConnectionState = -1; // nothing in nodes7 reconnects from here
}
