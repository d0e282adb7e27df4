// `npm run soak [-- --minutes N]`: a long mixed-load run against a real server process on loopback, with faults.
// Not part of `npm test`. Default 30 minutes. Prints a table and one JSON line (`SOAK {...}`); exits 1 when an
// acknowledged write was lost or the server stopped answering.
//
// Load: single reads, bulk reads, durable writes (each writer owns a tag and writes an increasing counter; every
// acknowledged value is recorded), logins/logouts, history queries, SSE and WebSocket subscribers.
// Faults: kill -9 of the server process at 1/3 and 2/3 of the run, restart on the same data dir, and a check that
// every writer tag holds its last acknowledged value (or the one in flight at the kill); and a 15 s "full disk"
// window at 1/2 and 5/6 of the run (the child fills its database and sets `PRAGMA max_page_count` on SIGUSR2,
// frees it on SIGUSR1), during which writes must answer 503, never 500, and /health must say degraded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import WebSocket from 'ws';

if (process.argv[2] === '--serve') {
  // The child: the server as `tagway start` runs it (config from flags, startServer, stop on SIGTERM), plus the
  // full-disk switch, which needs the server's own database connection (max_page_count is per connection).
  const { loadConfig } = await import('../src/config.js');
  const { startServer } = await import('../src/main.js');
  const server = await startServer(loadConfig(process.argv.slice(3)));
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
  const { sqliteDatabaseForTests } = await import('../src/storage/sqlite/open-sqlite.js');
  const db = sqliteDatabaseForTests(server.runtime.storage);
  process.on('SIGUSR2', () => {
    db.exec('CREATE TABLE IF NOT EXISTS soak_filler (x BLOB)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 2}`);
    const insert = db.prepare('INSERT INTO soak_filler VALUES (zeroblob(?))');
    for (const size of [65_536, 4096, 512, 64, 8])
      for (let i = 0; i < 100_000; i++) {
        try {
          insert.run(size);
        } catch {
          break;
        }
      }
  });
  process.on('SIGUSR1', () => {
    db.pragma('max_page_count = 1073741823');
    db.exec('DELETE FROM soak_filler');
  });
} else {
  await soak();
}

interface RouteStats {
  ok: number;
  failed: number;
  ms: number[];
}

async function soak(): Promise<void> {
  const minutesArg = process.argv.indexOf('--minutes');
  const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 30;
  if (!(minutes > 0)) throw new Error('--minutes needs a positive number');
  const durationMs = minutes * 60_000;
  const root = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'tagway-soak-'));
  const dataDir = join(dir, 'data');
  const projectFile = join(dir, 'soak.yaml');
  const WRITERS = 4;
  const READ_TAGS = 200;
  const adminPassword = 'soak-admin-password-1';
  writeFileSync(
    projectFile,
    [
      'name: Soak',
      'connections:',
      '  - { name: sim, driver: simulator }',
      '  - { name: internal, driver: internal }',
      'tags:',
      ...Array.from(
        { length: 20 },
        (_, i) =>
          `  - { name: Sim.S${i}, type: Float64, connection: sim, history: { mode: onChange }, simulation: { kind: sine, cycleMs: 200, periodMs: ${5000 + i * 100}, min: 0, max: 100 } }`,
      ),
      ...Array.from({ length: READ_TAGS }, (_, i) => `  - { name: Plant.T${i}, type: Float64, connection: internal, initial: ${i} }`),
      ...Array.from({ length: WRITERS }, (_, i) => `  - { name: Soak.W${i}, type: Int32, connection: internal, initial: 0 }`),
    ].join('\n') + '\n',
  );
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;

  let child: ChildProcess | undefined;
  const startServer = async (): Promise<void> => {
    const c = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'scripts', 'soak.ts'),
        '--serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--project',
        projectFile,
        '--log-level',
        'warn',
        '--login-max-failures-user',
        '1000',
      ],
      { cwd: root, env: { ...process.env, TAGWAY_ADMIN_PASSWORD: adminPassword }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    c.stdout!.on('data', (d) => (out.length < 10_000 ? (out += String(d)) : undefined));
    c.stderr!.on('data', (d) => (out.length < 10_000 ? (out += String(d)) : undefined));
    child = c;
    const until = Date.now() + 60_000;
    while (!/Tagway serving/.test(out)) {
      if (c.exitCode !== null || Date.now() > until) throw new Error(`server did not start:\n${out}`);
      await sleep(100);
    }
  };

  await startServer();
  const ca = readFileSync(join(dataDir, 'tls', 'server.crt'), 'utf8');
  const agent = new Agent({ connect: { ca }, connections: 24, pipelining: 1 });
  const stats = new Map<string, RouteStats>();
  const fullStatuses = new Map<number, number>();
  const record = (route: string, ms: number, ok: boolean, status = 0) => {
    if (diskFull) {
      route += ' (disk full)';
      fullStatuses.set(status, (fullStatuses.get(status) ?? 0) + 1);
    }
    let s = stats.get(route);
    if (!s) stats.set(route, (s = { ok: 0, failed: 0, ms: [] }));
    if (ok) {
      s.ok++;
      s.ms.push(ms);
    } else s.failed++;
  };
  let serverUp = true;
  let diskFull = false;
  const call = async (route: string, method: string, path: string, body?: unknown, token?: string) => {
    const t0 = performance.now();
    try {
      const r = await request(base + path, {
        method: method as 'GET',
        dispatcher: agent,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await r.body.text();
      const ok = r.statusCode < 300;
      if (serverUp) record(route, performance.now() - t0, ok, r.statusCode);
      return { status: r.statusCode, json: text && r.headers['content-type']?.toString().includes('json') ? JSON.parse(text) : undefined };
    } catch (err) {
      if (serverUp) record(route, performance.now() - t0, false);
      return { status: 0, json: undefined, error: err as Error };
    }
  };
  const login = async (): Promise<string> => {
    for (;;) {
      const r = await call('POST /auth/login', 'POST', '/auth/login', { username: 'admin', password: adminPassword });
      if (r.status === 200) return r.json.token as string;
      await sleep(200);
    }
  };

  let token = await login();
  const started = Date.now();
  const deadline = started + durationMs;
  let stopping = false;
  let paused = false;
  const running = () => !stopping && Date.now() < deadline;
  const waitWhilePaused = async () => {
    while (paused && !stopping) await sleep(50);
  };

  // RSS of the server process every 5 s, per incarnation.
  const rss: Array<{ pid: number; samples: Array<{ at: number; mb: number }> }> = [];
  const sampleRss = () => {
    const pid = child?.pid;
    if (!pid || !serverUp) return;
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      let inc = rss[rss.length - 1];
      if (!inc || inc.pid !== pid) rss.push((inc = { pid, samples: [] }));
      inc.samples.push({ at: Date.now() - started, mb: Math.round(kb / 102.4) / 10 });
    } catch {
      /* the process is restarting */
    }
  };
  const rssTimer = setInterval(sampleRss, 5000);
  sampleRss();

  // Durable writes: last acknowledged and in-flight value per writer tag.
  const acked = new Array<number>(WRITERS).fill(0);
  const inFlight = new Array<number | undefined>(WRITERS).fill(undefined);
  let ackedWrites = 0;
  const writer = async (i: number) => {
    let next = 1;
    while (running()) {
      await waitWhilePaused();
      if (!running()) break;
      inFlight[i] = next;
      const r = await call('PUT /tags/{name}/value', 'PUT', `/tags/Soak.W${i}/value`, { value: next }, token);
      if (r.status === 200) {
        acked[i] = next;
        ackedWrites++;
        inFlight[i] = undefined;
        next++;
      } else {
        // Not acknowledged: the value may or may not have been written; the next attempt uses a new one.
        next++;
        if (r.status === 401) token = await login();
        else await sleep(100);
      }
    }
  };
  const reader = async () => {
    while (running()) {
      await waitWhilePaused();
      const r = await call(
        'GET /tags/{name}/value',
        'GET',
        `/tags/Plant.T${Math.floor(Math.random() * READ_TAGS)}/value`,
        undefined,
        token,
      );
      if (r.status === 401) token = await login();
      if (r.status === 0) await sleep(100);
    }
  };
  const bulkReader = async () => {
    const names = Array.from({ length: READ_TAGS }, (_, i) => `Plant.T${i}`);
    while (running()) {
      await waitWhilePaused();
      const r = await call('POST /tags/values', 'POST', '/tags/values', { names }, token);
      if (r.status === 0) await sleep(100);
      await sleep(20);
    }
  };
  const loginLoop = async () => {
    while (running()) {
      await waitWhilePaused();
      const t = await call('POST /auth/login', 'POST', '/auth/login', { username: 'admin', password: adminPassword });
      if (t.status === 200) await call('POST /auth/logout', 'POST', '/auth/logout', undefined, t.json.token);
      await sleep(250);
    }
  };
  const historyLoop = async () => {
    while (running()) {
      await waitWhilePaused();
      const to = new Date().toISOString();
      const from = new Date(Date.now() - 10 * 60_000).toISOString();
      await call(
        'POST /history/query',
        'POST',
        '/history/query',
        { tags: ['Sim.S0', 'Sim.S1', 'Sim.S2', 'Sim.S3', 'Sim.S4'], from, to, limit: 1000 },
        token,
      );
      await sleep(200);
    }
  };
  let sseEvents = 0;
  let sseConnects = 0;
  const sseClient = async () => {
    while (running()) {
      await waitWhilePaused();
      try {
        const r = await request(`${base}/events?tags=Sim.**`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}` },
          bodyTimeout: 60_000,
        });
        if (r.statusCode !== 200) {
          await r.body.text();
          await sleep(500);
          continue;
        }
        sseConnects++;
        const until = Date.now() + 20_000 + Math.random() * 20_000;
        for await (const chunk of r.body) {
          sseEvents += (String(chunk).match(/\ndata:|^data:/g) ?? []).length;
          if (!running() || Date.now() > until) break;
        }
        r.body.destroy();
      } catch {
        await sleep(500);
      }
    }
  };
  let wsMessages = 0;
  let wsConnects = 0;
  const wsClient = async () => {
    while (running()) {
      await waitWhilePaused();
      await new Promise<void>((done) => {
        const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca, headers: { authorization: `Bearer ${token}` } });
        const timer = setTimeout(() => ws.close(), 20_000 + Math.random() * 20_000);
        const check = setInterval(() => !running() && ws.close(), 500);
        ws.on('open', () => {
          wsConnects++;
          ws.send(JSON.stringify({ type: 'subscribe', id: 's', tags: ['Sim.**'] }));
        });
        ws.on('message', () => wsMessages++);
        ws.on('error', () => undefined);
        ws.on('close', () => {
          clearTimeout(timer);
          clearInterval(check);
          done();
        });
      });
      await sleep(200);
    }
  };

  // kill -9 at 1/3 and 2/3 of the run; after each restart every writer tag must hold its last acknowledged value
  // (or the value that was in flight when the process died).
  const lost: Array<{ tag: string; acked: number; found: unknown }> = [];
  let kills = 0;
  const checkDurability = async (when: string) => {
    for (let i = 0; i < WRITERS; i++) {
      const r = await call('GET /tags/{name}/value', 'GET', `/tags/Soak.W${i}/value`, undefined, token);
      const v = r.json?.value;
      const ok = v === acked[i] || (inFlight[i] !== undefined && v === inFlight[i]) || (typeof v === 'number' && v > acked[i]!);
      if (!ok) lost.push({ tag: `Soak.W${i} (${when})`, acked: acked[i]!, found: v });
    }
  };
  let fullWindows = 0;
  let degradedSeen = 0;
  const fullDisk = async () => {
    diskFull = true;
    fullWindows++;
    child!.kill('SIGUSR2');
    await sleep(2000);
    const h = await call('GET /health', 'GET', '/health');
    if (h.json?.storage?.status === 'degraded') degradedSeen++;
    await sleep(13_000);
    child!.kill('SIGUSR1');
    await sleep(200);
    diskFull = false;
  };
  const faults = async () => {
    for (const [at, fault] of [
      [1 / 3, 'kill'],
      [1 / 2, 'full'],
      [2 / 3, 'kill'],
      [5 / 6, 'full'],
    ] as const) {
      while (running() && Date.now() < started + durationMs * at) await sleep(200);
      if (!running()) return;
      if (fault === 'full') {
        await fullDisk();
        continue;
      }
      serverUp = false;
      child!.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      kills++;
      paused = true;
      await sleep(500); // let the loops see their failures
      await startServer();
      serverUp = true;
      token = await login();
      await checkDurability(`after kill ${kills}`);
      paused = false;
    }
  };

  const loops = [
    ...Array.from({ length: WRITERS }, (_, i) => writer(i)),
    reader(),
    reader(),
    reader(),
    bulkReader(),
    loginLoop(),
    historyLoop(),
    sseClient(),
    sseClient(),
    sseClient(),
    wsClient(),
    wsClient(),
    faults(),
  ];
  const progress = setInterval(() => {
    const done = Math.round(((Date.now() - started) / durationMs) * 100);
    const last = rss[rss.length - 1]?.samples.at(-1)?.mb;
    process.stderr.write(`soak ${done}%  acked writes ${ackedWrites}  kills ${kills}  rss ${last ?? '?'} MB\n`);
  }, 30_000);
  await Promise.all(loops);
  stopping = true;
  clearInterval(progress);
  sampleRss();
  clearInterval(rssTimer);
  await checkDurability('at the end');
  // A last graceful restart: everything acknowledged is there after a clean stop too.
  serverUp = false;
  child!.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
  await startServer();
  serverUp = true;
  token = await login();
  await checkDurability('after a clean restart');
  child!.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
  await agent.close();
  rmSync(dir, { recursive: true, force: true });

  // Report.
  const pct = (xs: number[], p: number) => {
    if (xs.length === 0) return 0;
    const s = [...xs].sort((a, b) => a - b);
    return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
  };
  const routes = [...stats.entries()].map(([route, s]) => ({
    route,
    ok: s.ok,
    failed: s.failed,
    p50: pct(s.ms, 50),
    p99: pct(s.ms, 99),
    max: Math.round(s.ms.reduce((m, x) => (x > m ? x : m), 0)),
  }));
  const incarnations = rss.map((inc) => {
    const mbs = inc.samples.map((x) => x.mb);
    // Flatness: the median of the last third against the median of the first third after a 30 s warm-up.
    const warm = inc.samples.filter((x) => x.at - inc.samples[0]!.at >= 30_000).map((x) => x.mb);
    const third = Math.max(1, Math.floor(warm.length / 3));
    const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : 0);
    const early = median(warm.slice(0, third));
    const late = median(warm.slice(-third));
    return {
      samples: mbs.length,
      firstMb: mbs[0] ?? 0,
      lastMb: mbs.at(-1) ?? 0,
      maxMb: mbs.reduce((m, x) => (x > m ? x : m), 0),
      warmEarlyMedianMb: early,
      warmLateMedianMb: late,
      growthPct: early ? Math.round(((late - early) / early) * 1000) / 10 : 0,
    };
  });
  const summary = {
    minutes,
    kills,
    ackedWrites,
    lostWrites: lost.length,
    lost,
    diskFull: { windows: fullWindows, healthDegraded: degradedSeen, statuses: Object.fromEntries(fullStatuses) },
    sse: { connects: sseConnects, events: sseEvents },
    ws: { connects: wsConnects, messages: wsMessages },
    rss: incarnations,
    routes,
  };
  const line = (cols: Array<string | number>, widths: number[]) => cols.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  const w = [26, 9, 7, 9, 9, 9];
  console.log(`\nSoak: ${minutes} min, ${kills} × kill -9, ${ackedWrites} acknowledged writes, ${lost.length} lost`);
  console.log(line(['route', 'ok', 'failed', 'p50 ms', 'p99 ms', 'max ms'], w));
  for (const r of routes) console.log(line([r.route, r.ok, r.failed, r.p50, r.p99, r.max], w));
  console.log(
    `Full-disk windows: ${fullWindows} × 15 s, /health degraded in ${degradedSeen}; answers then by status: ${JSON.stringify(Object.fromEntries(fullStatuses))}`,
  );
  console.log(`SSE: ${sseConnects} connections, ${sseEvents} events; WebSocket: ${wsConnects} connections, ${wsMessages} messages`);
  incarnations.forEach((r, i) =>
    console.log(
      `RSS process ${i + 1}: first ${r.firstMb} MB, last ${r.lastMb} MB, max ${r.maxMb} MB; warm medians ${r.warmEarlyMedianMb} → ${r.warmLateMedianMb} MB (${r.growthPct}%), ${r.samples} samples`,
    ),
  );
  console.log(`SOAK ${JSON.stringify(summary)}`);
  if (lost.length > 0 || (fullStatuses.get(500) ?? 0) > 0 || degradedSeen < fullWindows) process.exitCode = 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
