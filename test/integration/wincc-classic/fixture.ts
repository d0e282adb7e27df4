import type { SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { ADMIN_PASSWORD, type Reply, type TestServer } from '../../helpers/server.js';

export const PROJECT = `
name: WinCC classic test
wincc:
  archiveName: PlantArchive
  restFilters:
    - { name: HighPrio, filter: { minPriority: 10 } }
    - { name: Line1Only, filter: { alarm: "Line1.*" } }
connections:
  - { name: internal, driver: internal }
  - { name: spare, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, group: Line1, connection: internal, initial: 1.5, history: { mode: onChange } }
  - { name: Line1.Count, type: Int32, group: Line1, connection: internal, initial: 7, history: { mode: cyclic, intervalMs: 300000 } }
  - { name: Line1.Stop, type: Bool, group: Line1, connection: internal, initial: false }
  - { name: Line1.Temp, type: Float64, group: Line1, unit: degC, connection: internal, initial: 20 }
  - { name: Line1.Limited, type: Float64, group: Line1, connection: internal, min: 0, max: 10, initial: 5 }
  - { name: "Odd::Name. with space/x", type: String, connection: internal, initial: odd }
  - { name: Big.Count, type: Int64, connection: internal, initial: "9007199254740993" }
  - { name: T.When, type: DateTime, connection: internal, initial: "2025-06-01T10:00:00.000Z" }
  - { name: Secret.Value, type: Int32, group: Secret, connection: internal, initial: 7, history: { mode: onChange } }
alarms:
  - { name: Line1.Stop, number: 1, class: Alarm, priority: 16, tag: Line1.Stop, text: { en: "Stop pressed", de: "Halt gedrückt" } }
  - { name: Line1.TempHigh, number: 2, class: Warning, priority: 5, tag: Line1.Temp, limit: { type: H, value: 50 }, hysteresis: 1, text: "Temperature high {value}" }
  - { name: Secret.High, number: 3, class: Alarm, priority: 10, tag: Secret.Value, limit: { type: HH, value: 100 }, text: "Secret high" }
groups:
  - name: line1
    permissions:
      - { permission: "tags:read", tags: "Line1.*" }
      - { permission: "tags:write", tags: "Line1.*" }
      - { permission: "history:read", tags: "Line1.*" }
      - { permission: "alarms:read", tags: "Line1.*" }
  - name: tagsonly
    permissions: [{ permission: "tags:read" }]
users:
  - { username: liner, password: Liner-Strong-Pass-9, groups: [line1] }
  - { username: tagsonly, password: Tags-Only-Strong-9, groups: [tagsonly] }
`;

export const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
export const ADMIN = basic('admin', ADMIN_PASSWORD);
export const LINER = basic('liner', 'Liner-Strong-Pass-9');
export const TAGS_ONLY = basic('tagsonly', 'Tags-Only-Strong-9');
export const BASE = '/WinCCRestService';

export const H0 = Date.UTC(2025, 5, 1, 10, 0, 0);
export const GOOD = 0xc0;

/** A request as classic WinCC clients send it: JSON content type and accept on every request, GETs included. */
export function call(
  s: TestServer,
  method: string,
  path: string,
  opts: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(opts.auth === '' ? {} : { authorization: opts.auth ?? ADMIN }),
    ...opts.headers,
  };
  return s.request(method, path, { headers, ...(opts.body !== undefined ? { rawBody: JSON.stringify(opts.body) } : {}) });
}

/** History rows written straight into the store (the historian's own first points land at "now"). */
export function seedHistory(s: TestServer): void {
  const store = (s.server.runtime.storage as SqliteStorage).history.store;
  const put = (name: string, rows: Array<{ ts: number; value: number }>) =>
    store.insertBatch({
      count: rows.length,
      tagIds: rows.map(() => store.tagId(name)),
      ts: rows.map((r) => r.ts),
      values: rows.map((r) => r.value),
      quality: rows.map(() => GOOD),
    });
  put(
    'Line1.Speed',
    [1, 2, 3, 4, 5].map((k) => ({ ts: H0 + k * 1000, value: k })),
  );
  put('Line1.Count', [{ ts: H0 + 2000, value: 42 }]);
  put('Secret.Value', [{ ts: H0 + 2000, value: 8 }]);
}

export function expectJson(r: Reply): void {
  const type = String(r.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) throw new Error(`content-type ${type} for ${r.status} ${r.text.slice(0, 200)}`);
  JSON.parse(r.text);
}
