import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startPeer, type PeerProcess } from './process.js';

export interface NodeRedServer extends PeerProcess {
  auth: Record<string, string>;
}

const BENCH_USER = 'bench';
const BENCH_PASSWORD = 'bench-password';

/** The flow: the same four routes as Tagway's, over `n` numbers held in Node-RED's global context. */
function flow(): unknown[] {
  const tab = { id: 'tab1', type: 'tab', label: 'bench' };
  const routes: Array<{ id: string; method: string; url: string; fn: string }> = [
    {
      id: 'r1',
      method: 'get',
      url: '/tags/:name/value',
      fn: "const t = global.get('tags'); const n = msg.req.params.name; if (!(n in t)) { msg.statusCode = 404; msg.payload = { code: 'TAG_NOT_FOUND' }; return msg; } msg.payload = { name: n, value: t[n], quality: 'GOOD', timestamp: new Date().toISOString() }; return msg;",
    },
    {
      id: 'r2',
      method: 'post',
      url: '/tags/values',
      fn: "const t = global.get('tags'); const ts = new Date().toISOString(); msg.payload = { items: msg.payload.names.map((n) => ({ name: n, value: t[n], quality: 'GOOD', timestamp: ts })) }; return msg;",
    },
    {
      id: 'r3',
      method: 'put',
      url: '/tags/:name/value',
      fn: "const t = global.get('tags'); const n = msg.req.params.name; t[n] = msg.payload.value; msg.payload = { name: n, value: t[n], quality: 'GOOD', timestamp: new Date().toISOString() }; return msg;",
    },
    {
      id: 'r4',
      method: 'put',
      url: '/tags/values',
      fn: "const t = global.get('tags'); msg.payload = { items: msg.payload.items.map((i) => { t[i.name] = i.value; return { name: i.name, status: 'OK' }; }) }; return msg;",
    },
  ];
  const nodes: unknown[] = [tab, { id: 'resp', type: 'http response', z: 'tab1', statusCode: '', headers: {}, wires: [] }];
  for (const r of routes)
    nodes.push(
      { id: `${r.id}in`, type: 'http in', z: 'tab1', url: r.url, method: r.method, upload: false, wires: [[`${r.id}fn`]] },
      { id: `${r.id}fn`, type: 'function', z: 'tab1', func: r.fn, outputs: 1, wires: [['resp']] },
    );
  return nodes;
}

/**
 * Node-RED serving `n` tags through http-in flows (the way Node-RED users expose data). `secure` turns on
 * `httpNodeAuth` (HTTP Basic, checked with bcrypt as Node-RED does); the editor is off.
 */
export async function startNodeRed(nodeRedDir: string, n: number, secure: boolean): Promise<NodeRedServer> {
  const userDir = mkdtempSync(join(tmpdir(), 'tagway-bench-nodered-'));
  const tags = Object.fromEntries(Array.from({ length: n }, (_, i) => [`Bench.T${i}`, i]));
  let auth = '';
  const headers: Record<string, string> = {};
  if (secure) {
    const bcrypt = createRequire(join(nodeRedDir, 'package.json'))('bcryptjs') as { hashSync(p: string, r: number): string };
    auth = `httpNodeAuth: { user: ${JSON.stringify(BENCH_USER)}, pass: ${JSON.stringify(bcrypt.hashSync(BENCH_PASSWORD, 8))} },`;
    headers.authorization = `Basic ${Buffer.from(`${BENCH_USER}:${BENCH_PASSWORD}`).toString('base64')}`;
  }
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', httpAdminRoot: false, flowFile: 'flows.json', ${auth}
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  functionGlobalContext: { tags: ${JSON.stringify(tags)} } };\n`,
  );
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow()));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peer = await startPeer(
    process.execPath,
    [join(nodeRedDir, 'red.js'), '--port', String(port), '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    {
      cwd: userDir,
      url,
      ready: async (u) => (await fetch(u + '/tags/Bench.T7/value', { headers })).status === 200,
    },
  );
  return { ...peer, auth: headers };
}
