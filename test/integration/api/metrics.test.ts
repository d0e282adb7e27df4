import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMetrics } from '../../../src/adapters/http/rest/metrics/prometheus.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('GET /metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers Prometheus text with tags, connections, alarms, history and push figures', async () => {
    const token = await s.login('viewer', 'viewer-password');
    const r = await s.request('GET', '/metrics', { token });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const good = Number(/^tagway_tags\{quality="GOOD"\} (\d+)$/m.exec(r.text)?.[1]);
    const bad = Number(/^tagway_tags\{quality="BAD"\} (\d+)$/m.exec(r.text)?.[1]);
    const uncertain = Number(/^tagway_tags\{quality="UNCERTAIN"\} (\d+)$/m.exec(r.text)?.[1]);
    expect(good + bad + uncertain).toBe(20);
    expect(r.text).toMatch(/^tagway_connection_up\{connection="internal",driver="internal"\} 1$/m);
    expect(r.text).toMatch(/^# TYPE tagway_connection_reads_total counter$/m);
    for (const m of ['tagway_alarms_current', 'tagway_history_written_total', 'tagway_push_connections', 'process_resident_memory_bytes']) {
      expect(r.text).toMatch(new RegExp(`^${m} \\d+$`, 'm'));
    }
  });

  it('needs a session and tags:read', async () => {
    expect((await s.request('GET', '/metrics')).status).toBe(401);
    const outsider = await s.login('outsider', 'outsider-password');
    expect((await s.request('GET', '/metrics', { token: outsider })).json.code).toBe('FORBIDDEN');
  });

  it('escapes label values', () => {
    expect(renderMetrics([{ name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { a: 'x"y\\z\nw' }, value: 1 }] }])).toBe(
      '# HELP m h\n# TYPE m gauge\nm{a="x\\"y\\\\z\\nw"} 1\n',
    );
  });
});
