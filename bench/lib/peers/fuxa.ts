import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpJson, startPeer, type PeerProcess } from './process.js';

export interface FuxaServer extends PeerProcess {
  /** Headers that authenticate a request (empty without login). */
  auth: Record<string, string>;
  tagIds: string[];
}

/**
 * FUXA with `n` internal number tags on its own server device, uploaded through its project API, as a user
 * would. `secure` turns its login on (JWT in `x-access-token`, its default admin). Its API rate limit (1,000
 * requests per 5 min by default) and per-request access log are turned off, or the benchmark would measure them.
 */
export async function startFuxa(fuxaDir: string, n: number, secure: boolean): Promise<FuxaServer> {
  const userDir = mkdtempSync(join(tmpdir(), 'tagway-bench-fuxa-'));
  const appData = join(userDir, '_appdata');
  mkdirSync(appData, { recursive: true });
  copyFileSync(join(fuxaDir, 'settings.default.js'), join(appData, 'settings.js'));
  let settings = readFileSync(join(appData, 'settings.js'), 'utf8');
  settings = settings
    .replace(/logApiLevel: '[a-z]+'/, "logApiLevel: 'none'")
    .replace(/apiRateLimitMax: [^,]+,/, 'apiRateLimitMax: 1000000000,')
    .replace(/daqEnabled: true/, 'daqEnabled: false');
  if (secure) settings = settings.replace(/\/\/\s*secureEnabled: true,/, 'secureEnabled: true,');
  writeFileSync(join(appData, 'settings.js'), settings);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peer = await startPeer(process.execPath, ['main.js', '--port', String(port), '--userDir', userDir], {
    cwd: fuxaDir,
    url,
    ready: async (u) => (await fetch(u + '/api/settings')).status < 500,
  });
  const auth: Record<string, string> = {};
  if (secure) {
    const r = await httpJson(url + '/api/signin', 'POST', { username: 'admin', password: '123456' });
    const token = (r.json as { data?: { token?: string } } | undefined)?.data?.token;
    if (!token) throw new Error(`FUXA sign-in failed: ${r.status} ${r.text}`);
    auth['x-access-token'] = token;
  }
  const tagIds = Array.from({ length: n }, (_, i) => `t_bench_${i}`);
  const tags = Object.fromEntries(tagIds.map((id, i) => [id, { id, name: `Bench.T${i}`, type: 'number', init: String(i) }]));
  const project = {
    version: '1.01',
    devices: { '0': { id: '0', name: 'FUXA Server', type: 'FuxaServer', enabled: true, property: {}, tags } },
    hmi: { views: [] },
    server: { id: '0', name: 'FUXA Server', type: 'FuxaServer', property: {}, tags },
  };
  const up = await httpJson(url + '/api/project', 'POST', project, auth);
  if (up.status !== 200) throw new Error(`FUXA project upload failed: ${up.status} ${up.text}`);
  // The upload restarts its devices; wait until a tag reads back.
  for (let i = 0; i < 100; i++) {
    const r = await httpJson(`${url}/api/getTagValue?ids=${encodeURIComponent(JSON.stringify([tagIds[7]]))}`, 'GET', undefined, auth);
    if (r.status === 200 && Array.isArray(r.json) && (r.json as Array<{ value: unknown }>)[0]?.value === 7) break;
    if (i === 99) throw new Error(`FUXA does not serve the uploaded tags: ${r.status} ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  return { ...peer, auth, tagIds };
}
