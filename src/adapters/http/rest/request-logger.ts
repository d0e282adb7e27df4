import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilentOrString, LogFn, Logger } from 'pino';

/**
 * fastify's `childLoggerFactory`: every request gets a logger bound to its request id, but building a pino child
 * (serialising the bindings, and the redaction set-up) costs every request while almost none of them logs at the
 * default `warn` level. This child is built on the first line that is actually written, so the hot path pays one
 * small object instead.
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  // A route with its own level or serializers needs the real child from the start.
  if (opts.level !== undefined || opts.serializers !== undefined) return logger.child(bindings, opts);
  // The app's logger is pino (src/server/logger.ts).
  return new LazyChildLogger(logger as unknown as Logger, bindings) as unknown as FastifyBaseLogger;
}

class LazyChildLogger {
  private built: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly own: Bindings,
  ) {}

  get level(): LevelWithSilentOrString {
    return this.parent.level;
  }

  private real(): Logger {
    return (this.built ??= this.parent.child(this.own));
  }

  private write(level: Level, args: Parameters<LogFn>): void {
    if (this.parent.isLevelEnabled(level)) (this.real()[level] as (...a: unknown[]) => void)(...args);
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }

  fatal(...args: Parameters<LogFn>): void {
    this.write('fatal', args);
  }
  error(...args: Parameters<LogFn>): void {
    this.write('error', args);
  }
  warn(...args: Parameters<LogFn>): void {
    this.write('warn', args);
  }
  info(...args: Parameters<LogFn>): void {
    this.write('info', args);
  }
  debug(...args: Parameters<LogFn>): void {
    this.write('debug', args);
  }
  trace(...args: Parameters<LogFn>): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, opts) as unknown as FastifyBaseLogger;
  }

  bindings(): Bindings {
    return { ...this.parent.bindings(), ...this.own };
  }
}
