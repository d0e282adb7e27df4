import type modbusSerial from 'modbus-serial';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TagwayError } from '../../domain/problems.js';
import type { Clock } from '../../domain/clock.js';

/**
 * One TCP connection to a Modbus device and the one-request-at-a-time queue in front of it.
 *
 * Many devices (and most gateways) answer one request at a time, so requests are sent one after the other;
 * polls submit one request at a time too, so a write waits for at most one read. Every request has a
 * deadline from the moment it is submitted: a device that accepts TCP but never answers makes it reject
 * DEVICE_TIMEOUT, and the queue moves on (a late answer carries another transaction id and is dropped).
 * The socket is ours (modbus-serial only links to it), so closing never depends on the library's events.
 */
// modbus-serial is CommonJS: its class is `module.exports` and, for TypeScript, `.default` (which the package
// also sets at run time).
type ModbusRTUClass = (typeof modbusSerial)['default'];
export type Client = InstanceType<ModbusRTUClass>;

// Loaded on the first connect: projects without Modbus do not pay for modbus-serial (and serialport) at start-up.
let ModbusRTU: ModbusRTUClass | undefined;
async function loadModbusRTU(): Promise<ModbusRTUClass> {
  ModbusRTU ??= ((await import('modbus-serial')) as unknown as { default: typeof modbusSerial }).default.default;
  return ModbusRTU;
}

interface Op {
  run: (client: Client) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: unknown;
  settled: boolean;
  label: string;
}

export class ModbusSession {
  closed = false;
  lastRttMs: number | undefined;
  private readonly queue: Op[] = [];
  private inFlight: Op | undefined;
  private readonly closedPromise: Promise<void>;
  onClose: ((reason: string) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly client: Client,
    private readonly clock: Clock,
  ) {
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.failAll(new TagwayError('DEVICE_UNAVAILABLE', 'the connection to the device closed'));
        resolve();
      });
    });
    socket.on('close', () => {
      const cb = this.onClose;
      this.onClose = undefined;
      cb?.('the device closed the connection');
    });
  }

  /** Connects within `timeoutMs`; everything opened is released on failure or abort. */
  static async open(host: string, port: number, timeoutMs: number, clock: Clock, signal: AbortSignal): Promise<ModbusSession> {
    const ModbusRTU = await loadModbusRTU();
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      // Without this, a dead peer (cable pulled, device rebooted) leaves a half-open socket for hours.
      socket.setKeepAlive(true, 10_000);
      let done = false;
      const finish = (err: unknown, session?: ModbusSession) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        if (err !== undefined) {
          socket.destroy();
          reject(err);
        } else resolve(session!);
      };
      const onError = (err: Error) => finish(err);
      const onAbort = () => finish(new Error('aborted'));
      const timer = clock.setTimeout(() => finish(new Error(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      signal.addEventListener('abort', onAbort);
      socket.once('error', onError);
      socket.once('connect', () => {
        const client = new ModbusRTU();
        // Errors after the connect surface as 'close'; the listener only keeps them from being unhandled.
        socket.on('error', () => undefined);
        client.linkTCP(socket, { port }).then(
          () => finish(undefined, new ModbusSession(socket, client, clock)),
          (err: unknown) => finish(err),
        );
      });
    });
  }

  /** Runs one request exclusively, rejecting DEVICE_TIMEOUT when no answer comes within `timeoutMs`. */
  exec<T>(label: string, timeoutMs: number, run: (client: Client) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TagwayError('DEVICE_UNAVAILABLE', 'not connected to the device'));
    return new Promise<T>((resolve, reject) => {
      const op: Op = { run, resolve: resolve as (v: unknown) => void, reject, timer: undefined, settled: false, label };
      op.timer = this.clock.setTimeout(() => {
        this.settle(op, new TagwayError('DEVICE_TIMEOUT', `the device did not answer ${label} within ${timeoutMs} ms`));
        if (this.inFlight === op) {
          this.inFlight = undefined;
          this.pump();
        } else {
          const i = this.queue.indexOf(op);
          if (i >= 0) this.queue.splice(i, 1);
        }
      }, timeoutMs);
      this.queue.push(op);
      this.pump();
    });
  }

  private settle(op: Op, err: unknown, value?: unknown): void {
    if (op.settled) return;
    op.settled = true;
    this.clock.clearTimeout(op.timer);
    if (err !== undefined) op.reject(err);
    else op.resolve(value);
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    const op = this.queue.shift();
    if (!op) return;
    this.inFlight = op;
    const t0 = performance.now();
    let p: Promise<unknown>;
    try {
      p = op.run(this.client);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => {
        this.lastRttMs = performance.now() - t0;
        this.settle(op, undefined, v);
      },
      (err: unknown) => this.settle(op, translate(err, op.label)),
    ).finally(() => {
      if (this.inFlight === op) {
        this.inFlight = undefined;
        this.pump();
      }
    });
  }

  private failAll(err: TagwayError): void {
    this.closed = true;
    const ops = this.inFlight ? [this.inFlight, ...this.queue] : [...this.queue];
    this.inFlight = undefined;
    this.queue.length = 0;
    for (const op of ops) this.settle(op, err);
  }

  /** Closes the socket; resolves once it is gone. */
  close(): Promise<void> {
    this.onClose = undefined;
    this.failAll(new TagwayError('DEVICE_UNAVAILABLE', 'the connection was closed'));
    this.socket.destroy();
    return this.closedPromise;
  }
}

/** Modbus exception codes, from the protocol specification. */
const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export class ModbusException extends TagwayError {
  constructor(
    readonly modbusCode: number,
    label: string,
  ) {
    super(
      modbusCode === 3 ? 'OUT_OF_RANGE' : 'DEVICE_UNAVAILABLE',
      `the device refused ${label}: Modbus exception ${modbusCode} (${EXCEPTIONS[modbusCode] ?? 'unknown'})`,
    );
  }
}

function translate(err: unknown, label: string): unknown {
  if (err instanceof TagwayError) return err;
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  if (typeof code === 'number') return new ModbusException(code, label);
  const message = err instanceof Error ? err.message : String(err);
  if (/port not open/i.test(message)) return new TagwayError('DEVICE_UNAVAILABLE', 'not connected to the device', { cause: err });
  return new TagwayError('DEVICE_UNAVAILABLE', `${label} failed: ${message}`, { cause: err });
}
