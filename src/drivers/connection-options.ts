import { didYouMean } from '../domain/suggest.js';

/**
 * Reads a connection's (or a tag's) driver-specific options strictly: each reader call both answers the value
 * (or its default) and records a problem `[key, message]` when the value is missing or malformed, so one pass
 * serves `validateConnection` (the problems) and `create` (the values). Unknown keys are problems too: a typo
 * such as `samplingIntervallMs` must not be silently ignored.
 */
export type OptionProblem = [string, string];

/** Keys every connection has, owned by the project loader rather than the driver. */
export const GENERIC_CONNECTION_KEYS = ['name', 'driver', 'description', 'enabled'] as const;

export class OptionReader {
  readonly problems: OptionProblem[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly options: Readonly<Record<string, unknown>>,
    ignore: readonly string[] = GENERIC_CONNECTION_KEYS,
  ) {
    for (const k of ignore) this.seen.add(k);
  }

  /** For options read by hand. */
  markSeen(key: string): void {
    this.seen.add(key);
  }

  private get(key: string): unknown {
    this.seen.add(key);
    return this.options[key];
  }

  string(key: string, opts: { required?: boolean; pattern?: RegExp; patternText?: string } = {}): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) {
      if (opts.required) this.problems.push([key, 'is required']);
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push([key, 'must be a non-empty string']);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problems.push([key, `must be ${opts.patternText ?? `like ${opts.pattern}`}`]);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string | number>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.get(key);
    if (v === undefined || v === null) return fallback;
    if (!(allowed as readonly unknown[]).includes(v)) {
      this.problems.push([key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`]);
      return fallback;
    }
    return v as T;
  }

  number(key: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.get(key);
    if (v === undefined || v === null) return fallback;
    const { min = -Infinity, max = Infinity, integer = true } = opts;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      this.problems.push([key, `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`]);
      return fallback;
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.problems.push([key, 'must be true or false']);
      return fallback;
    }
    return v;
  }

  /** Records every key that no reader asked for. Call after all readers. */
  finish(): OptionProblem[] {
    for (const k of Object.keys(this.options))
      if (!this.seen.has(k)) this.problems.push([k, `is not an option of this driver${didYouMean(k, this.seen)}`]);
    return this.problems;
  }
}

/**
 * Problems as `DriverModule.validateConnection` answers them: a JSON pointer relative to the connection (the
 * loader turns it into a line and column) and a message that names the option.
 */
export function asConnectionProblems(problems: readonly OptionProblem[]): Array<[string, string]> {
  return problems.map(([key, message]) => [`/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, `'${key}' ${message}`]);
}
