import { Worker } from 'node:worker_threads';
import type { TestServer } from '../helpers/server.js';

/**
 * A scoped attacker, mallory: reads Line1.** and Tank1.Level, writes Line1.** only; Tank1.Secret is out of her sight.
 * nemo holds no permission at all.
 */
export const ATTACK_PROJECT = `
name: Attack plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, connection: internal }
  - { name: Line1.Name, type: String, connection: internal }
  - { name: Tank1.Level, type: Float64, connection: internal, initial: 7 }
  - { name: Tank1.Secret, type: Float64, connection: internal, initial: 9 }
groups:
  - name: line1
    permissions:
      - { permission: "tags:read", tags: "Line1.**" }
      - { permission: "tags:read", tags: "Tank1.Level" }
      - { permission: "tags:write", tags: "Line1.**" }
  - name: nobody
    permissions: []
users:
  - { username: mallory, password: mallory-password, groups: [line1] }
  - { username: nemo, password: nemo-password, groups: [nobody] }
`;

export interface ProbeResult {
  probes: number;
  /** Slowest answer of /health or of the tag read, in ms. */
  maxMs: number;
  /** Statuses other than 200 seen by the probes. */
  failures: string[];
}

/**
 * While `attack` runs: every `everyMs`, GET /health and read one tag (as a client who is not the attacker), each
 * timed. The attack reproductions assert that these stay answered within a generous bound.
 */
export async function probeDuring(
  s: TestServer,
  token: string,
  tag: string,
  attack: Promise<unknown>,
  everyMs = 100,
): Promise<ProbeResult> {
  let done = false;
  const finished = attack.finally(() => {
    done = true;
  });
  const result: ProbeResult = { probes: 0, maxMs: 0, failures: [] };
  const timed = async (path: string, t?: string) => {
    const t0 = performance.now();
    const r = await s.request('GET', path, { token: t });
    result.maxMs = Math.max(result.maxMs, performance.now() - t0);
    if (r.status !== 200) result.failures.push(`${path}: ${r.status}`);
  };
  while (!done) {
    await Promise.all([timed('/health'), timed(`/tags/${encodeURIComponent(tag)}/value`, token)]);
    result.probes++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await finished;
  return result;
}

/** Runs `fn` in a loop until `ms` have passed; returns how many times it ran. */
export async function loopFor(ms: number, fn: () => Promise<void>): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await fn();
    n++;
  }
  return n;
}

export interface AttackResult {
  /** Answers per HTTP status. */
  statuses: Record<string, number>;
  retryAfter: string[];
  /** The first answer body (up to 2,000 characters) per status. */
  samples: Record<string, string>;
  /** Requests that failed without an answer, and the first one's error code. */
  errors: number;
  firstError?: string;
}

/**
 * `loops` parallel keep-alive clients sending the same request again and again for `durationMs`, in a worker
 * thread: the attacker's own TLS and parsing work must not run on the event loop of the server under test.
 */
export function attackInWorker(
  s: TestServer,
  a: { token: string; method: 'POST' | 'PUT'; path: string; body: string; loops: number; durationMs: number },
): Promise<AttackResult> {
  const worker = new Worker(new URL('./attack-worker.mjs', import.meta.url), {
    workerData: { url: s.url + a.path, ca: s.ca, token: a.token, method: a.method, body: a.body, loops: a.loops, durationMs: a.durationMs },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: AttackResult) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`attack worker exited with ${code}`));
    });
  });
}
