import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { parseProject } from '../../../src/project/load.js';

describe('project file: API clients', () => {
  it('accepts clients with an argon2id secret hash and refuses a plain secret', async () => {
    const h = await hash('bridge-secret-1234');
    const base = `name: P\nconnections: [{ name: internal, driver: internal }]\ntags: []\n`;
    const p = parseProject(`${base}clients:\n  - { clientId: scada-bridge, secretHash: '${h}', groups: [viewers] }\n`);
    expect(p.raw.clients).toEqual([{ clientId: 'scada-bridge', secretHash: h, groups: ['viewers'] }]);
    expect(() => parseProject(`${base}clients:\n  - { clientId: scada-bridge, secret: plain, groups: [viewers] }\n`)).toThrow();
  });
});
