import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('connection timeouts and the per-address cap', () => {
  it('has bounded defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 60_000,
      maxConnectionsPerAddress: 64,
    });
  });

  it('reads flags and environment in seconds', () => {
    const c = loadConfig(['--request-timeout-seconds', '20', '--headers-timeout-seconds=5', '--max-connections-per-address', '10'], {
      TAGWAY_KEEP_ALIVE_TIMEOUT_SECONDS: '2',
      TAGWAY_IDLE_TIMEOUT_SECONDS: '90',
    });
    expect(c).toMatchObject({
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 5_000,
      keepAliveTimeoutMs: 2_000,
      idleTimeoutMs: 90_000,
      maxConnectionsPerAddress: 10,
    });
  });

  it('refuses zero, nonsense and a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig(['--request-timeout-seconds', '0'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--idle-timeout-seconds', '99999'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--max-connections-per-address', '0'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--headers-timeout-seconds', '40'], {})).toThrow(/must not be longer/);
  });
});
