import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE } from '../../../src/project/load.js';
import type { TagwayEvents } from '../../../src/runtime/event-bus.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';

/** The composition root wires the engines' committed facts onto the event bus, the seam a cluster will cross. */
describe('event bus of a running server', () => {
  let s: TestServer;
  const seen: { [K in keyof TagwayEvents]?: TagwayEvents[K][] } = {};
  const record =
    <K extends keyof TagwayEvents>(k: K) =>
    (e: TagwayEvents[K]) => {
      ((seen[k] ??= []) as TagwayEvents[K][]).push(e);
    };
  beforeAll(async () => {
    s = await startTestServer({ projectFile: DEMO_PROJECT_FILE });
    const bus = s.server.runtime.events;
    bus.on('tag.changed', record('tag.changed'));
    bus.on('alarm.committed', record('alarm.committed'));
    bus.on('audit.recorded', record('audit.recorded'));
    bus.on('session.revoked', record('session.revoked'));
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('carries a write (tag.changed, audit.recorded), the alarm it raises (alarm.committed) and a logout (session.revoked)', async () => {
    const token = await s.login();
    const w = await s.request('PUT', '/tags/Line1.EmergencyStop/value', { token, body: { value: true } });
    expect(w.status).toBe(200);
    await waitUntil(
      () => seen['tag.changed']?.some((c) => c.tag.def.name === 'Line1.EmergencyStop' && c.tag.value === true),
      'tag.changed',
    );
    await waitUntil(
      () => seen['audit.recorded']?.some((a) => a.action === 'tag.write' && a.target === 'Line1.EmergencyStop' && a.result === 'OK'),
      'audit.recorded of the write',
    );
    await waitUntil(
      () => seen['alarm.committed']?.some((e) => e.alarm === 'Line1.EmergencyStop' && e.event === 'RAISED'),
      'alarm.committed RAISED',
    );
    expect((await s.request('POST', '/auth/logout', { token })).status).toBe(204);
    await waitUntil(() => seen['session.revoked']?.some((e) => e.reason === 'logout' && e.username === 'admin'), 'session.revoked');
  }, 30_000);
});
