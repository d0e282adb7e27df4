import { isGlob, compileGlob, MAX_GLOB_LENGTH } from '../../domain/glob.js';
import type { PermissionSet } from '../../domain/permissions.js';
import { TagwayError, type FieldError } from '../../domain/problems.js';
import { isNumericType, toNumber, type TagValue } from '../../domain/tag-types.js';
import type { TagEngine, TagState } from '../tag-engine.js';
import { LatestValues } from './latest-values.js';

/** What a client asks for: `{tags, deadband | deadbandPercent, minIntervalMs}` of the `subscribe` message. */
export interface TagSubscriptionSpec {
  /** Tag names and globs. */
  tags: readonly string[];
  /** Absolute, in the tag's unit: a numeric change is sent only when it moves more than this from the last sent. */
  deadband?: number | undefined;
  /** The same, as a percentage of the tag's configured min–max range (tags without a range get no deadband). */
  deadbandPercent?: number | undefined;
  /** At most one `values` message per this many ms for the subscription; changes in between are coalesced. */
  minIntervalMs?: number | undefined;
}

export const MAX_MIN_INTERVAL_MS = 3_600_000;
/** Names and globs in one subscription (a whole line by name fits; the list is kept for re-scoping). */
export const MAX_SUBSCRIPTION_ENTRIES = 10_000;
/** Globs (entries with wildcards) in one subscription: each one is a scan of every tag at subscribe time. */
export const MAX_SUBSCRIPTION_GLOBS = 100;

/** Characters of the names and globs of a subscription: what a connection keeps for it. */
export function specChars(spec: TagSubscriptionSpec): number {
  let n = 0;
  for (const t of spec.tags) n += t.length;
  return n;
}

export function validateSpec(spec: TagSubscriptionSpec): void {
  const errors: FieldError[] = [];
  if (!Array.isArray(spec.tags) || spec.tags.length === 0)
    errors.push({ field: 'tags', message: 'must be a non-empty list of tag names or globs' });
  else if (spec.tags.some((t) => typeof t !== 'string' || t.length === 0))
    errors.push({ field: 'tags', message: 'every entry must be a non-empty string' });
  else if (spec.tags.length > MAX_SUBSCRIPTION_ENTRIES)
    errors.push({ field: 'tags', message: `at most ${MAX_SUBSCRIPTION_ENTRIES} names or globs per subscription` });
  else if (spec.tags.some((t) => t.length > MAX_GLOB_LENGTH))
    errors.push({ field: 'tags', message: `every name or glob must have at most ${MAX_GLOB_LENGTH} characters` });
  else if (spec.tags.filter(isGlob).length > MAX_SUBSCRIPTION_GLOBS)
    errors.push({ field: 'tags', message: `at most ${MAX_SUBSCRIPTION_GLOBS} globs per subscription` });
  const nonNegative = (field: string, v: number | undefined, max = Infinity) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)) {
      errors.push({ field, message: `must be a number from 0 to ${max}` });
    }
  };
  nonNegative('deadband', spec.deadband);
  nonNegative('deadbandPercent', spec.deadbandPercent, 100);
  nonNegative('minIntervalMs', spec.minIntervalMs, MAX_MIN_INTERVAL_MS);
  if (spec.deadband !== undefined && spec.deadbandPercent !== undefined) {
    errors.push({ field: 'deadbandPercent', message: 'give either deadband or deadbandPercent, not both' });
  }
  if (errors.length > 0) throw new TagwayError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
}

/**
 * Resolves names and globs once, at subscribe time, into tag indexes the caller may read (`tags:read`), in
 * engine order, without duplicates. A glob silently skips what the caller may not read (a viewer subscribing to
 * `**` gets what it may see); an exact name that does not exist or may not be read fails the whole subscription,
 * as the same name would fail `GET /tags/{name}/value`.
 */
export function resolveTags(
  engine: TagEngine,
  patterns: readonly string[],
  perms: PermissionSet,
  opts: { lenient?: boolean } = {},
): Int32Array {
  const picked = new Uint8Array(engine.size);
  let count = 0;
  const pick = (t: TagState) => {
    if (picked[t.index] === 0 && perms.allows('tags:read', t.def.name)) {
      picked[t.index] = 1;
      count++;
    }
  };
  const missing: string[] = [];
  const forbidden: string[] = [];
  for (const p of patterns) {
    if (!isGlob(p)) {
      const t = engine.get(p);
      if (!t) missing.push(p);
      else if (!perms.allows('tags:read', p)) forbidden.push(p);
      else pick(t);
    } else if (p === '**') {
      for (const t of engine.tags) pick(t);
    } else {
      const m = compileGlob(p);
      for (const t of engine.tags) if (m(t.def.name)) pick(t);
    }
  }
  // Lenient (re-authentication of a live subscription): what can no longer be read simply drops out.
  if (missing.length > 0 && !opts.lenient)
    throw new TagwayError('TAG_NOT_FOUND', `No tag named ${missing.map((n) => `'${n}'`).join(', ')}`);
  if (forbidden.length > 0 && !opts.lenient)
    throw new TagwayError('FORBIDDEN', `Not allowed to read ${forbidden.map((n) => `'${n}'`).join(', ')}`);
  const out = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < picked.length; i++) if (picked[i] === 1) out[j++] = i;
  return out;
}

/**
 * One tag subscription of one connection: the resolved tags, what was last sent of each (for the deadband) and
 * which have news (the coalescing set). Positions (0…n-1) index every per-tag array.
 */
export class TagSubscription {
  readonly kind = 'tags' as const;
  /** The id as JSON, built once: every `values` message repeats it. */
  readonly idJson: string;
  readonly pending: LatestValues;
  readonly minIntervalMs: number;
  /** Clock time before which no `values` message may go out (minIntervalMs). */
  nextAt = 0;
  timer: unknown = undefined;
  private readonly deadbands: Float64Array | undefined;
  private readonly lastValue: (TagValue | undefined)[];
  private readonly lastQuality: Int32Array;

  constructor(
    readonly id: string,
    readonly spec: TagSubscriptionSpec,
    readonly tags: Int32Array,
    engine: TagEngine,
  ) {
    this.idJson = JSON.stringify(id);
    this.minIntervalMs = spec.minIntervalMs ?? 0;
    this.pending = new LatestValues(tags.length);
    this.lastValue = new Array<TagValue | undefined>(tags.length);
    this.lastQuality = new Int32Array(tags.length).fill(-1);
    this.deadbands = computeDeadbands(engine, tags, spec);
  }

  get size(): number {
    return this.tags.length;
  }

  /**
   * Whether the tag's current state differs enough from what this client last got. Quality changes always
   * count; the deadband only damps numeric value changes.
   */
  passes(pos: number, tag: TagState): boolean {
    if (this.lastQuality[pos] !== tag.quality) return true;
    const last = this.lastValue[pos];
    const v = tag.value;
    if (last === v) return false;
    const db = this.deadbands === undefined ? 0 : this.deadbands[pos]!;
    if (db > 0 && last !== undefined) {
      const a = toNumber(tag.def.type, v);
      const b = toNumber(tag.def.type, last);
      if (a === a && b === b) return Math.abs(a - b) > db;
    }
    return true;
  }

  /** Records what went out, for the next deadband comparison. */
  sent(pos: number, tag: TagState): void {
    this.lastValue[pos] = tag.value;
    this.lastQuality[pos] = tag.quality;
  }

  /** Marks every tag as news (the initial snapshot). */
  markAll(): void {
    for (let i = 0; i < this.tags.length; i++) this.pending.mark(i);
  }

  /**
   * After re-authentication the tag set may change: tags still present keep their deadband memory and
   * pending state (the client sees no duplicate), new ones are marked for sending.
   */
  carryOverFrom(old: TagSubscription): void {
    const oldPos = new Map<number, number>();
    for (let i = 0; i < old.tags.length; i++) oldPos.set(old.tags[i]!, i);
    for (let i = 0; i < this.tags.length; i++) {
      const p = oldPos.get(this.tags[i]!);
      if (p === undefined) {
        this.pending.mark(i);
        continue;
      }
      this.lastValue[i] = old.lastValue[p];
      this.lastQuality[i] = old.lastQuality[p]!;
      if (old.pending.has(p)) this.pending.mark(i);
    }
    this.nextAt = old.nextAt;
  }
}

function computeDeadbands(engine: TagEngine, tags: Int32Array, spec: TagSubscriptionSpec): Float64Array | undefined {
  const abs = spec.deadband ?? 0;
  const pct = spec.deadbandPercent ?? 0;
  if (abs <= 0 && pct <= 0) return undefined;
  const out = new Float64Array(tags.length);
  for (let i = 0; i < tags.length; i++) {
    const def = engine.tags[tags[i]!]!.def;
    if (!isNumericType(def.type)) continue;
    if (abs > 0) {
      out[i] = abs;
      continue;
    }
    const min = Number(def.min);
    const max = Number(def.max);
    if (def.min !== undefined && def.max !== undefined && Number.isFinite(min) && Number.isFinite(max) && max > min) {
      out[i] = ((max - min) * pct) / 100;
    }
  }
  return out;
}
