import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import { Backoff } from '../backoff.js';
import type { ConnectionStats, Driver, DriverHost, DriverTag } from '../driver.js';
import { engValueToRaw, rawToTagValue } from '../shared/scaling.js';
import { ConnectionSupervisor, PollCycle } from '../shared/supervisor.js';
import type { S7Binding, S7ConnectionOptions } from './config.js';
import { S7Session } from './session.js';

interface Item {
  readonly key: string;
  readonly tag: DriverTag;
  readonly b: S7Binding;
}

interface Group {
  readonly pollMs: number;
  readonly items: Item[];
  cycle: PollCycle | undefined;
}

export interface S7Stats extends ConnectionStats {
  skippedCycles: number;
}

/**
 * Polls S7 tags through nodes7. Polling groups (tags with the same `pollMs`) that fall due together are read
 * in one `readAllItems`, which merges neighbouring addresses and packs them into as few PDUs as the PLC's
 * negotiated size allows; a group whose previous read is still waiting skips its cycle.
 */
export class S7Driver implements Driver {
  readonly publishesWrites = false;
  private readonly byIndex = new Map<number, Item>();
  private readonly byKey = new Map<string, Item>();
  private readonly groups: Group[] = [];
  private readonly supervisor: ConnectionSupervisor<S7Session>;
  private waiting: Array<{ group: Group; done: () => void }> = [];
  /** The session a read is running on; per session, so a late answer from a dead one cannot unblock the next. */
  private readingOn: S7Session | undefined;
  private reads = 0;
  private writes = 0;
  private errors = 0;

  constructor(
    private readonly name: string,
    opts: S7ConnectionOptions,
    bindings: ReadonlyArray<{ tag: DriverTag; binding: S7Binding }>,
    private readonly host: DriverHost,
  ) {
    const byCycle = new Map<number, Item[]>();
    for (const { tag, binding } of bindings) {
      // nodes7 names items; the tag index is a short, unique, stable name.
      const item: Item = { key: `t${tag.index}`, tag, b: binding };
      this.byIndex.set(tag.index, item);
      this.byKey.set(item.key, item);
      const list = byCycle.get(binding.pollMs) ?? [];
      list.push(item);
      byCycle.set(binding.pollMs, list);
    }
    for (const [pollMs, items] of [...byCycle].sort((a, b) => a[0] - b[0])) this.groups.push({ pollMs, items, cycle: undefined });
    const translate = (key: string) => this.byKey.get(key)?.b.address.canonical;
    this.supervisor = new ConnectionSupervisor(
      host,
      bindings.map((b) => b.tag),
      new Backoff(opts.reconnectMinMs, opts.reconnectMaxMs),
      {
        open: (signal) => S7Session.open(opts, translate, host.clock, signal),
        close: (s) => s.close(),
        up: (s) => this.up(s),
        down: () => this.down(),
      },
    );
  }

  async start(): Promise<void> {
    this.supervisor.start();
  }
  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  stats(): S7Stats {
    let skipped = 0;
    for (const g of this.groups) skipped += g.cycle?.skipped ?? 0;
    return {
      reads: this.reads,
      writes: this.writes,
      errors: this.errors + this.supervisor.failures,
      rttMs: this.supervisor.session?.lastRttMs,
      skippedCycles: skipped,
    };
  }

  private up(session: S7Session): void {
    session.onClose = (reason) => this.supervisor.lost(session, reason);
    this.waiting = [];
    for (const g of this.groups) {
      g.cycle = new PollCycle(
        this.host.clock,
        g.pollMs,
        () =>
          new Promise<void>((done) => {
            this.waiting.push({ group: g, done });
            this.readDue(session);
          }),
      );
      g.cycle.start();
    }
  }

  private down(): void {
    for (const g of this.groups) g.cycle?.stop();
    // Release the waiting cycles so nothing keeps a reference to the dead session.
    for (const w of this.waiting.splice(0)) w.done();
  }

  /** Reads every group that is due, in one batch; then the next batch if more fell due meanwhile. */
  private readDue(session: S7Session): void {
    if (this.readingOn === session || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0);
    const items = batch.flatMap((w) => w.group.items);
    this.readingOn = session;
    session
      .read(items.map((i) => i.key))
      .then(
        (results) => {
          this.reads++;
          const now = this.host.clock.now();
          for (const it of items) {
            const r = results.get(it.key);
            if (!r || !r.ok) {
              this.host.setQuality(it.tag.index, Quality.BAD_NO_COMMUNICATION, now);
              continue;
            }
            const v = this.toTagValue(it, r.value);
            if (v === undefined) this.host.setQuality(it.tag.index, Quality.BAD_CONFIGURATION_ERROR, now);
            else this.host.update(it.tag.index, v, Quality.GOOD, now);
          }
        },
        () => {
          this.errors++; /* the supervisor marks the tags NOT_CONNECTED and reconnects */
        },
      )
      .finally(() => {
        if (this.readingOn === session) this.readingOn = undefined;
        for (const w of batch) w.done();
        if (!session.closed) this.readDue(session);
      });
  }

  private toTagValue(it: Item, raw: unknown): TagValue | undefined {
    const type = it.tag.def.type;
    if (typeof raw === 'boolean') return type === 'Bool' ? raw : undefined;
    if (typeof raw === 'string') return type === 'String' ? raw : undefined;
    if (typeof raw !== 'number') return undefined;
    let n = raw;
    if (it.b.rawType === 'Int8' && n > 127) n -= 256;
    if (!Number.isFinite(n)) return undefined;
    return rawToTagValue(n, type, it.b.scaling);
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    const it = this.byIndex.get(tag.index);
    if (!it) throw new TagwayError('INVALID_STATE', `Tag '${tag.def.name}' is not served by connection '${this.name}'`);
    const session = this.supervisor.session;
    if (!session || session.closed) throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.name}' is not connected to its PLC`);
    const a = it.b.address;
    let out: unknown;
    if (a.type === 'X') out = value === true;
    else if (a.type === 'STRING' || a.type === 'CHAR') {
      const s = String(value);
      const max = a.type === 'CHAR' ? 1 : a.length;
      if (a.type === 'CHAR' && s.length !== 1)
        throw new TagwayError('OUT_OF_RANGE', `Tag '${tag.def.name}': a CHAR holds exactly one character`);
      if (s.length > max)
        throw new TagwayError('OUT_OF_RANGE', `Tag '${tag.def.name}': the string has ${s.length} characters; ${a.canonical} holds ${max}`);
      // nodes7 writes one byte per character.
      if (/[^\u0000-\u00ff]/.test(s))
        throw new TagwayError('OUT_OF_RANGE', `Tag '${tag.def.name}': only Latin-1 characters fit an S7 string`);
      out = s;
    } else {
      let raw = Number(engValueToRaw(tag.def.name, value, it.b.rawType, it.b.scaling));
      if (it.b.rawType === 'Int8' && raw < 0) raw += 256;
      out = raw;
    }
    try {
      await session.write(it.key, out, `the write of ${tag.def.name} (${a.canonical})`);
      this.writes++;
    } catch (err) {
      this.errors++;
      throw err;
    }
  }
}
