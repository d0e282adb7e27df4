import pino, { type Logger } from 'pino';

/** Structured logs; credentials are redacted even if a future log line carries them by mistake. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tagway' },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
          'req.headers.cookie',
          'clientSecret',
          '*.clientSecret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * One log line per error signature per interval: a fault that hits every request (a full disk) would otherwise
 * write a full stack per request (28 MB of log a minute). `admit` answers whether to log now and how many
 * occurrences were suppressed since the last line. Signatures are bounded (the oldest is forgotten first).
 */
export class RepeatLimiter {
  private readonly seen = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxSignatures = 1000,
  ) {}

  admit(signature: string): { suppressed: number } | undefined {
    const t = this.now();
    const s = this.seen.get(signature);
    if (s && t < s.until) {
      s.suppressed++;
      return undefined;
    }
    const suppressed = s?.suppressed ?? 0;
    this.seen.delete(signature);
    if (this.seen.size >= this.maxSignatures) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(signature, { until: t + this.intervalMs, suppressed: 0 });
    return { suppressed };
  }
}

/** What makes two errors "the same" for RepeatLimiter: type, code, message without numbers, first stack frame. */
export function errorSignature(err: unknown): string {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown };
  const frame = typeof e.stack === 'string' ? (e.stack.split('\n').find((l) => l.trimStart().startsWith('at ')) ?? '').trim() : '';
  const message = typeof e.message === 'string' ? e.message.slice(0, 200).replace(/\d+/g, '#') : '';
  return `${String(e.name)}|${String(e.code)}|${message}|${frame}`;
}
