/**
 * Helpers of the cluster tests: one Tagway node as a child process (test/fixtures/cluster-node.ts: real HTTPS,
 * PostgreSQL, NATS) and HTTP calls to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent, request } from 'undici';

export interface ClusterNode {
  id: string;
  proc: ChildProcess;
  base: string;
  agent: Agent;
}

export interface NodeOptions {
  id: string;
  databaseUrl: string;
  /** Directory of the node's own data (a sub-directory named after the node). */
  dir: string;
  projectFile: string;
  natsUrl: string;
  leaseMs: number;
  secretKey: string;
}

export async function call(
  node: ClusterNode,
  method: 'GET' | 'PUT' | 'POST' | 'PATCH',
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: any; text: string }> {
  const r = await request(node.base + path, {
    method,
    dispatcher: node.agent,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await r.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, json, text };
}

/** Starts a node and resolves once it serves (it prints `READY <port> <certificate>`). */
export function startNode(o: NodeOptions): Promise<ClusterNode> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/cluster-node.ts',
      o.databaseUrl,
      join(o.dir, o.id),
      o.projectFile,
      o.natsUrl,
      o.id,
      String(o.leaseMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TAGWAY_SECRET_KEY: o.secretKey } },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`node ${o.id} exited before it was ready (${code ?? signal})`)));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\d+) (\S+)\n/.exec(buf);
      if (m) {
        const ca = Buffer.from(m[2]!, 'base64').toString();
        resolve({ id: o.id, proc, base: `https://127.0.0.1:${m[1]}`, agent: new Agent({ connect: { ca }, pipelining: 0 }) });
      }
    });
  });
}

/** Stops the nodes still running (SIGTERM, SIGKILL after 5 s) and closes their HTTP agents. */
export async function stopNodes(nodes: readonly ClusterNode[]): Promise<void> {
  for (const n of nodes) {
    if (n.proc.exitCode === null && n.proc.signalCode === null) {
      const gone = new Promise((r) => n.proc.once('exit', r));
      n.proc.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
    }
    await n.agent.close();
  }
}
