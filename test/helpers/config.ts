import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** loadConfig with no environment at all (the test process's own TAGWAY_* must not leak in). */
export const load = (argv: string[], env: Record<string, string> = {}) => loadConfig(argv, env);

/** The message of the ConfigError these arguments must cause. */
export function configError(argv: string[], env: Record<string, string> = {}): string {
  try {
    load(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${argv.join(' ')} ${JSON.stringify(env)}`);
}
