import { didYouMean } from '../../domain/suggest.js';

/**
 * Reading a connection's or a tag's options from the project file, strictly. Each reader call both answers the
 * value (or its default) and records a problem when the value is malformed, so one pass serves the validators
 * (the problems) and `create` (the values) and the two can never disagree about what an option means. Unknown
 * keys are problems too: a typo such as `samplingIntervallMs` must not silently fall back to a default.
 *
 * A problem is `[path, message]`: the path is the key behind the reader's prefix (`options.pollMs` for a tag's
 * option), the message does not repeat it, so each caller shows the path its own way (a JSON pointer and
 * `'key' message` for the project file, `options.key message` for a tag).
 */
export type OptionProblem = [path: string, message: string];

/** Keys every connection has, owned by the project loader rather than the driver; never reported as unknown. */
export const GENERIC_CONNECTION_KEYS = ['name', 'driver', 'description', 'enabled'] as const;

export interface OptionReaderSetup {
  /** Problems go here (several readers can share one list); a new list by default. */
  problems?: OptionProblem[];
  /** Put before every key in a problem's path, such as `options.` for a tag's options. */
  prefix?: string;
  /** Keys read elsewhere, such as GENERIC_CONNECTION_KEYS. */
  known?: readonly string[];
}

/** An offending value as a message quotes it: bounded, since the project file is input like any other. */
function shown(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export class OptionReader {
  readonly problems: OptionProblem[];
  private readonly prefix: string;
  private readonly seen = new Set<string>();

  constructor(
    private readonly source: Readonly<Record<string, unknown>>,
    setup: OptionReaderSetup = {},
  ) {
    this.problems = setup.problems ?? [];
    this.prefix = setup.prefix ?? '';
    for (const k of setup.known ?? []) this.seen.add(k);
  }

  /** Records a problem with `key` (for checks the readers cannot make, such as two options that go together). */
  problem(key: string, message: string): void {
    this.problems.push([this.prefix + key, message]);
  }

  /** For options read by hand. */
  markSeen(key: string): void {
    this.seen.add(key);
  }

  has(key: string): boolean {
    return this.source[key] !== undefined;
  }

  private get(key: string): unknown {
    this.seen.add(key);
    return this.source[key];
  }

  /** A non-empty string; `pattern` refuses the rest, described by `patternText` (a value is not quoted back). */
  string(key: string, opts: { required?: boolean; pattern?: RegExp; patternText?: string } = {}): string | undefined {
    const v = this.get(key);
    if (v === undefined) {
      if (opts.required) this.problem(key, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.problem(key, 'must be a non-empty string');
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problem(key, `must be ${opts.patternText ?? `like ${opts.pattern}`}`);
      return undefined;
    }
    return v;
  }

  int(key: string, fallback: number, min: number, max: number): number {
    return this.numeric(key, fallback, min, max, true);
  }

  /** An integer, or undefined when the option is not given (no default stands in). */
  optionalInt(key: string, min: number, max: number): number | undefined {
    if (!this.has(key)) {
      this.seen.add(key);
      return undefined;
    }
    return this.int(key, min, min, max);
  }

  /** A finite number, fractions allowed. */
  number(key: string, fallback: number, min: number, max: number): number {
    return this.numeric(key, fallback, min, max, false);
  }

  private numeric(key: string, fallback: number, min: number, max: number, integer: boolean): number {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      this.problem(key, `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${shown(v)}`);
      return fallback;
    }
    return v;
  }

  oneOf<T extends string | number>(key: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string | number>(key: string, allowed: readonly T[], fallback: undefined): T | undefined;
  oneOf<T extends string | number>(key: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(v)) {
      this.problem(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${shown(v)}`);
      return fallback;
    }
    return v as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.problem(key, `must be true or false, got ${shown(v)}`);
      return fallback;
    }
    return v;
  }

  /** Records every key that no reader asked for, and answers all the problems. Call after all readers. */
  rejectUnknown(): OptionProblem[] {
    for (const key of Object.keys(this.source))
      if (!this.seen.has(key)) this.problem(key, `is not an option of this driver${didYouMean(key, this.seen)}`);
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
