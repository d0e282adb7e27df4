import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from '../../../src/adapters/http/rest/request-logger.js';

function capture(level: pino.Level) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

describe('lazyChildLogger', () => {
  it('writes lines with the request id, and only at enabled levels', () => {
    const { logger, lines } = capture('warn');
    const log = lazyChildLogger(logger, { requestId: 'r-1' }, {});
    log.info('not written');
    log.debug({ a: 1 }, 'not written');
    log.error({ code: 'X' }, 'failed');
    log.warn('careful');
    expect(lines.map((l) => [l.msg, l.requestId, l.code])).toEqual([
      ['failed', 'r-1', 'X'],
      ['careful', 'r-1', undefined],
    ]);
    expect(log.level).toBe('warn');
  });

  it('builds a real child for a route with its own level, and children of children keep the bindings', () => {
    const { logger, lines } = capture('warn');
    const own = lazyChildLogger(logger, { requestId: 'r-2' }, { level: 'debug' });
    own.debug('route debug');
    lazyChildLogger(logger, { requestId: 'r-3' }, {}).child({ part: 'x' }).warn('nested');
    expect(lines.map((l) => [l.msg, l.requestId, l.part])).toEqual([
      ['route debug', 'r-2', undefined],
      ['nested', 'r-3', 'x'],
    ]);
  });
});
