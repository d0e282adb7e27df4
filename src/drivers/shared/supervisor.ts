import { Quality } from '../../domain/quality.js';
import type { Backoff } from '../backoff.js';
import type { DriverHost, DriverTag } from '../driver.js';

/**
 * The life of one device connection, the same for every protocol: connect, report the state, and when the
 * link fails mark every tag BAD NOT_CONNECTED (never a stale GOOD) and try again after an exponential,
 * jittered delay, forever, until `stop`. The protocol part only knows how to open and close one session.
 */
export interface SessionFactory<S> {
  /** Opens a session. Rejects when it cannot; must release what it opened when it fails or `signal` aborts. */
  open(signal: AbortSignal): Promise<S>;
  /** Releases the session's socket and timers; resolves once they are gone. Never rejects. */
  close(session: S): Promise<void>;
  /** The session is up: start polling. */
  up(session: S): void;
  /** The session is gone (lost or stopped): stop polling. */
  down(session: S): void;
}

/**
 * What differs between protocols in how a connection's life is reported. Polled protocols (Modbus, S7) report a
 * failed attempt as DISCONNECTED and a stopped connection's tags as out of service; subscription protocols
 * (OPC UA, MQTT) have always reported a failed attempt as ERROR and stopped tags as not connected, and their users'
 * dashboards and tests rely on that.
 */
export interface SupervisorPolicy {
  /** State reported when an attempt fails before its session was up. Default DISCONNECTED. */
  failedAttemptState?: 'DISCONNECTED' | 'ERROR';
  /** Quality of every tag after stop(). Default BAD_OUT_OF_SERVICE. */
  stoppedQuality?: number;
  /** Told of every failure, for the protocol's own log line. */
  onFailure?(reason: string, phase: 'connect' | 'lost'): void;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'object' && err !== null && 'code' in err) return String((err as { code: unknown }).code);
  return String(err);
}

/** What the supervisor needs of its host: a driver's host, or a front end's connection to a broker (no tags). */
export type SupervisorHost = Pick<DriverHost, 'clock' | 'setQuality' | 'state'>;

export class ConnectionSupervisor<S> {
  private current: S | undefined;
  private stopped = false;
  private retryTimer: unknown;
  private abort: AbortController | undefined;
  private attempt: Promise<void> | undefined;
  /** Connection failures and losses, for `stats().errors`. */
  failures = 0;

  constructor(
    private readonly host: SupervisorHost,
    private readonly tags: readonly DriverTag[],
    private readonly backoff: Backoff,
    private readonly factory: SessionFactory<S>,
    private readonly policy: SupervisorPolicy = {},
  ) {}

  get session(): S | undefined {
    return this.current;
  }
  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.host.state('CONNECTING');
    const abort = new AbortController();
    this.abort = abort;
    this.attempt = this.factory
      .open(abort.signal)
      .then(
        async (session) => {
          if (this.stopped || abort.signal.aborted) {
            await this.factory.close(session);
            return;
          }
          this.current = session;
          this.backoff.reset();
          this.host.state('CONNECTED');
          try {
            this.factory.up(session);
          } catch (err) {
            this.lost(session, errorMessage(err));
          }
        },
        (err: unknown) => {
          if (this.stopped || abort.signal.aborted) return;
          this.failures++;
          const reason = errorMessage(err);
          this.markAll(Quality.BAD_NOT_CONNECTED);
          this.host.state(this.policy.failedAttemptState ?? 'DISCONNECTED', reason);
          this.policy.onFailure?.(reason, 'connect');
          this.scheduleRetry();
        },
      )
      .finally(() => {
        if (this.abort === abort) this.abort = undefined;
      });
  }

  /** The protocol layer saw the session die (socket closed, protocol error). Idempotent. */
  lost(session: S, reason: string): void {
    if (session !== this.current) return;
    this.current = undefined;
    this.failures++;
    this.factory.down(session);
    void this.factory.close(session);
    this.markAll(Quality.BAD_NOT_CONNECTED);
    this.host.state('DISCONNECTED', reason);
    this.policy.onFailure?.(reason, 'lost');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = this.host.clock.setTimeout(() => this.connect(), this.backoff.next());
  }

  markAll(quality: number): void {
    const now = this.host.clock.now();
    for (const t of this.tags) this.host.setQuality(t.index, quality, now);
  }

  /** Stops for good: no timer, socket or pending attempt survives. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) {
      this.host.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.abort?.abort();
    const s = this.current;
    this.current = undefined;
    if (s !== undefined) {
      this.factory.down(s);
      await this.factory.close(s);
    }
    if (this.attempt) await this.attempt.catch(() => undefined);
    // A stopped connection serves no values: its tags say so rather than keep their last GOOD.
    this.markAll(this.policy.stoppedQuality ?? Quality.BAD_OUT_OF_SERVICE);
    this.host.state('DISCONNECTED', 'stopped');
  }
}

/**
 * Runs `task` now and then every `periodMs`; a cycle that comes while the previous run is still busy is
 * skipped (counted), never queued, so a slow device cannot build up a backlog of polls.
 */
export class PollCycle {
  private timer: unknown;
  private busy = false;
  skipped = 0;
  constructor(
    private readonly clock: DriverHost['clock'],
    readonly periodMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  start(): void {
    this.stop();
    this.timer = this.clock.setInterval(() => this.tick(), this.periodMs);
    this.tick();
  }

  private tick(): void {
    if (this.busy) {
      this.skipped++;
      return;
    }
    this.busy = true;
    this.task()
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
      });
  }

  stop(): void {
    if (this.timer !== undefined) {
      this.clock.clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
