import { coerceValue } from '../../domain/coerce.js';
import { Quality } from '../../domain/quality.js';
import { defaultValue, type TagValue } from '../../domain/tag-types.js';
import type { CommitRider, Driver, DriverHost, DriverTag } from '../driver.js';

const NAMESPACE = 'internal';

interface Waiter {
  resolve: (storedAt: number) => void;
  reject: (e: unknown) => void;
}

/**
 * Internal tags: values that live in Tagway itself (setpoints, recipe values), retained in the key-value store
 * (namespace `internal`, one entry per tag name) across restarts.
 * A write resolves only after its value is committed. Writes arriving in the same tick (a bulk PUT) share one
 * transaction, so 1,000 writes cost one fsync rather than 1,000.
 */
export class InternalDriver implements Driver {
  /** Values waiting for the next commit, and one waiter per write call (a bulk write's items share one). */
  private pending: Array<{ key: string; value: unknown; at: number }> = [];
  private waiters: Waiter[] = [];
  private flushScheduled = false;
  private writes = 0;
  private errors = 0;

  constructor(
    private readonly tags: DriverTag[],
    private readonly host: DriverHost,
  ) {}

  async start(): Promise<void> {
    const saved = new Map((await this.host.kv.list(NAMESPACE)).map((e) => [e.key, e]));
    for (const tag of this.tags) {
      const row = saved.get(tag.def.name);
      let value = tag.def.initial ?? defaultValue(tag.def.type);
      let at = this.host.clock.now();
      if (row) {
        // The project may have changed the tag's type or limits since the value was stored.
        const r = coerceValue(tag.def.type, row.value, tag.def);
        if (r.ok) {
          value = r.value;
          at = row.updatedAt;
        } else {
          this.host.logger.warn({ tag: tag.def.name, reason: r.message }, 'retained value no longer fits the tag; using its initial value');
        }
      }
      this.host.update(tag.index, value, Quality.GOOD, at);
    }
    this.host.state('CONNECTED');
  }

  async stop(): Promise<void> {
    await this.flush();
    this.host.state('DISCONNECTED', 'stopped');
  }

  /** With a store that commits riders (the group commit), a write's audit row shares its value's transaction. */
  get commitsRiders(): boolean {
    return this.host.kv.setManyWith !== undefined;
  }

  write(tag: DriverTag, value: TagValue, rider?: CommitRider): Promise<number> {
    return this.writeMany([tag], [value], rider);
  }

  /** Resolves with the time the values were stored with, which the engine publishes them with. */
  writeMany(tags: readonly DriverTag[], values: readonly TagValue[], rider?: CommitRider): Promise<number> {
    const kv = this.host.kv;
    // A store that commits riders is the group commit, which gathers what arrives in one turn of the event loop into
    // one transaction itself: gathering here first would only cost every write one more turn. Only such a store gets
    // riders (`commitsRiders`), so the gathering below never has any.
    if (kv.setManyWith !== undefined) return this.store(kv as Required<DriverHost['kv']>, tags, values, rider);
    return new Promise<number>((resolve, reject) => {
      // `at` is set when the batch is committed: all values of one commit carry the same time.
      for (let i = 0; i < tags.length; i++) this.pending.push({ key: tags[i]!.def.name, value: values[i], at: 0 });
      this.waiters.push({ resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async store(
    kv: Required<DriverHost['kv']>,
    tags: readonly DriverTag[],
    values: readonly TagValue[],
    rider: CommitRider | undefined,
  ): Promise<number> {
    const at = this.host.clock.now();
    const entries = new Array<{ key: string; value: unknown; at: number }>(tags.length);
    for (let i = 0; i < tags.length; i++) entries[i] = { key: tags[i]!.def.name, value: values[i], at };
    try {
      await kv.setManyWith(NAMESPACE, entries, rider === undefined ? undefined : [rider]);
    } catch (err) {
      this.errors++;
      this.host.logger.error({ err }, 'storing internal tag values failed');
      throw err;
    }
    this.writes += entries.length;
    return at;
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.pending = [];
    this.waiters = [];
    const at = this.host.clock.now();
    for (const e of batch) e.at = at;
    try {
      await this.host.kv.setMany(NAMESPACE, batch);
      this.writes += batch.length;
      for (const w of waiters) w.resolve(at);
    } catch (err) {
      this.errors++;
      this.host.logger.error({ err }, 'storing internal tag values failed');
      for (const w of waiters) w.reject(err);
    }
  }

  stats() {
    return { reads: 0, writes: this.writes, errors: this.errors };
  }
}
