import type { SessionService } from '../auth/sessions.js';
import { MAX_PRESENT_QUERY, type SessionRepository } from '../storage/session-repository.js';

/**
 * How often a node checks its cached sessions against the shared database, besides after every NATS reconnect.
 * NATS carries session ends at once; this check only bounds how long one missed message (a drop the client never
 * saw as a disconnect, a slow-consumer cut) leaves a logged-out token working here. Its cost is one primary-key
 * lookup per MAX_PRESENT_QUERY cached sessions: a handful of sessions cost one tiny query per period, and even the
 * cache's upper bound (100,000) stays at 100 indexed queries per period per node.
 */
export const SESSION_SYNC_MS = 5000;

/**
 * Sessions held here for less than this are left out of a check: the node that created one announces it before its
 * row is committed (the write is in the background), so a younger session may lack its row only for now. Measured on
 * this node's own clock (when it first held the session), so clock skew between nodes does not matter.
 */
export const SESSION_SYNC_GRACE_MS = 5000;

/**
 * A session found without its row is looked up once more after this long before it is forgotten: a password change
 * that keeps its own session deletes the user's rows and inserts that one again, and a check between the two must
 * not end it.
 */
export const SESSION_SYNC_CONFIRM_MS = 500;

/**
 * A cluster node's check of its in-memory sessions against PostgreSQL: every cached session whose row is gone (a
 * logout or revocation on another node) is forgotten here, as its NATS announcement would have done.
 */
export class SessionSync {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly sessions: Pick<SessionService, 'heldSince'>,
    private readonly store: Pick<SessionRepository, 'present'>,
    /** Ends one session here without announcing it again (the others read the same database). */
    private readonly forget: (tokenHash: string) => void,
    private readonly now: () => number,
    private readonly logger: { info(o: object, msg: string): void; warn(o: object, msg: string): void },
  ) {}

  /**
   * Runs a check; one asked for while another runs starts when it ends (a reconnect during a periodic check must
   * not be served by a snapshot taken before it). Never rejects: a failed check is logged and the next one retries.
   */
  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** No check starts from now on; resolves when the one under way (if any) has ended, before storage closes. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.running ?? Promise.resolve();
  }

  private async once(): Promise<void> {
    const held = this.sessions.heldSince(this.now() - SESSION_SYNC_GRACE_MS);
    let gone = 0;
    try {
      const missing = await this.absent(held);
      if (missing.length > 0) {
        await new Promise((r) => setTimeout(r, SESSION_SYNC_CONFIRM_MS));
        if (this.stopped) return;
        for (const h of await this.absent(missing)) {
          this.forget(h);
          gone++;
        }
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cluster: sessions not checked against the database; next try soon');
    }
    if (gone > 0)
      this.logger.info({ sessions: gone }, 'cluster: sessions ended on another node forgotten here (their announcement was missed)');
  }

  /** The hashes among `hashes` that have no row, one bounded query per MAX_PRESENT_QUERY of them. */
  private async absent(hashes: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < hashes.length; i += MAX_PRESENT_QUERY) {
      const chunk = hashes.slice(i, i + MAX_PRESENT_QUERY);
      const present = new Set(await this.store.present(chunk));
      for (const h of chunk) if (!present.has(h)) out.push(h);
    }
    return out;
  }
}
