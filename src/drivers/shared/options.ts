import { didYouMean } from '../../domain/suggest.js';

/**
 * Reading driver options from the project file. The same reader serves `validateConnection`/`validateTag`
 * (collect every problem, with its path) and `create` (take the values, defaults filled in), so the two can
 * never disagree about what an option means.
 */
export type Problems = Array<[string, string]>;

/** Keys every connection has whatever its driver; never reported as unknown. */
export const GENERIC_CONNECTION_KEYS = ['name', 'driver', 'description', 'enabled'] as const;

export class OptionReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly source: Record<string, unknown>,
    readonly problems: Problems = [],
    private readonly prefix = '',
  ) {}

  private path(key: string): string {
    return this.prefix + key;
  }

  has(key: string): boolean {
    return this.source[key] !== undefined;
  }

  int(key: string, def: number, min: number, max: number): number {
    this.seen.add(key);
    const v = this.source[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.problems.push([this.path(key), `'${key}' must be an integer, got ${JSON.stringify(v)}`]);
      return def;
    }
    if (v < min || v > max) {
      this.problems.push([this.path(key), `'${key}' must be between ${min} and ${max}, got ${v}`]);
      return def;
    }
    return v;
  }

  optionalInt(key: string, min: number, max: number): number | undefined {
    if (this.source[key] === undefined) {
      this.seen.add(key);
      return undefined;
    }
    return this.int(key, min, min, max);
  }

  string(key: string, def: string): string;
  string(key: string, def: undefined): string | undefined;
  string(key: string, def: string | undefined): string | undefined {
    this.seen.add(key);
    const v = this.source[key];
    if (v === undefined) return def;
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push([this.path(key), `'${key}' must be a non-empty string`]);
      return def;
    }
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key, undefined);
    if (v === undefined && this.source[key] === undefined) this.problems.push([this.path(key), `'${key}' is required`]);
    return v ?? '';
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T;
  oneOf<T extends string>(key: string, values: readonly T[], def: undefined): T | undefined;
  oneOf<T extends string>(key: string, values: readonly T[], def: T | undefined): T | undefined {
    this.seen.add(key);
    const v = this.source[key];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.problems.push([this.path(key), `'${key}' must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`]);
      return def;
    }
    return v as T;
  }

  bool(key: string, def: boolean): boolean {
    this.seen.add(key);
    const v = this.source[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.problems.push([this.path(key), `'${key}' must be true or false, got ${JSON.stringify(v)}`]);
      return def;
    }
    return v;
  }

  /** Reports keys no reader asked for: a typo in the project file should not silently fall back to a default. */
  rejectUnknown(ignore: readonly string[] = []): void {
    for (const key of Object.keys(this.source)) {
      if (!this.seen.has(key) && !ignore.includes(key))
        this.problems.push([this.path(key), `'${key}' is not a known option of this driver${didYouMean(key, this.seen)}`]);
    }
  }
}
