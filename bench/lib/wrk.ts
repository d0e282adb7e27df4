import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * HTTP load with wrk, a C load generator: a Node client (autocannon) saturates one of the machine's two cores itself
 * and compresses every ratio toward 1. The servers under test run in THIS process, so the process's CPU time during
 * the run (process.cpuUsage, all threads) divided by the requests served is the server's CPU per request.
 */
export interface WrkResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server CPU (user + system) per request, µs. */
  cpuUsPerRequest: number;
}

/** wrk must be there; as root it is installed from Debian's package, otherwise the bench stops and names it. */
export function ensureWrk(): void {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('the HTTP benchmarks need wrk: apt-get install wrk (as root)');
  execFileSync(
    'sh',
    ['-c', 'apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1)'],
    {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
}

/** CPU time (user + system, all threads) of another process in µs, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1_000_000) / 100;
}

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

/** Parses wrk's text report (with --latency). */
export function parseWrk(out: string): Omit<WrkResult, 'cpuUsPerRequest'> {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p50 = ms(/\n\s+50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = ms(/\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = e ? Number(e[1]) + Number(e[2]) + Number(e[3]) + Number(e[4]) : 0;
  return { rps, requests, p50, p99, non2xx, errors };
}

/** Runs wrk against one request shape while this process serves it; answers throughput, latency and CPU/request. */
export async function wrk(opts: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  seconds?: number;
  /** A server in another process (a peer product): its CPU is read from /proc/<pid>/stat instead. */
  pid?: number | undefined;
}): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-wrk-'));
  const script = join(dir, 'request.lua');
  const lines = [`wrk.method = ${JSON.stringify(opts.method ?? 'GET')}`];
  if (opts.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(opts.body)}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(script, lines.join('\n') + '\n');
  const args = ['-t1', `-c${opts.connections ?? 50}`, `-d${opts.seconds ?? 5}s`, '--latency', '-s', script, opts.url];
  const before = process.cpuUsage();
  const beforeOther = opts.pid === undefined ? 0 : processCpuUs(opts.pid);
  // Asynchronous spawn: the servers under test run on this process's event loop and must keep serving.
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  const used = process.cpuUsage(before);
  const usedUs = opts.pid === undefined ? used.user + used.system : processCpuUs(opts.pid) - beforeOther;
  rmSync(dir, { recursive: true, force: true });
  const r = parseWrk(out);
  return { ...r, cpuUsPerRequest: usedUs / Math.max(1, r.requests) };
}
