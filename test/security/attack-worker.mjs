// An attacking client in its own thread, so that its TLS and parsing work does not run on the server's event loop
// (the test server runs in the test's process). Started by `attackInWorker` in tags-probe.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

const { url, ca, token, method, body, loops, durationMs } = workerData;
const agent = new Agent({ connect: { ca: ca || undefined }, connections: loops });
const statuses = {};
const retryAfter = new Set();
const samples = {};
const end = Date.now() + durationMs;
let errors = 0;
let firstError;

async function loop() {
  while (Date.now() < end) {
    try {
      const r = await request(url, {
        method,
        body,
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      const text = await r.body.text();
      statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
      if (r.headers['retry-after'] !== undefined) retryAfter.add(String(r.headers['retry-after']));
      samples[r.statusCode] ??= text.slice(0, 2000);
    } catch (err) {
      errors++;
      firstError ??= String(err?.code ?? err);
    }
  }
}

await Promise.all(Array.from({ length: loops }, loop));
await agent.close();
parentPort.postMessage({ statuses, retryAfter: [...retryAfter], samples, errors, firstError });
