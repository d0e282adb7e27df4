/**
 * A local HTTPS webhook receiver in its own process (bench/exports.bench.ts part 2), so that the sender's CPU per
 * delivery is measured without the receiver's, and the two run on the machine's two cores as Tagway and an ERP
 * would. Argv: certificate and key files (PEM). Answers 200 `{"ok":true}` to every POST and
 * keeps each Idempotency-Key in arrival order. IPC: `{ op: 'take' }` answers `{ keys, cpuUs }` (keys since the last
 * take, this process's CPU time since start) and forgets the keys.
 */
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

let keys: string[] = [];
const server = createServer({ cert: readFileSync(process.argv[2]!), key: readFileSync(process.argv[3]!) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    keys.push(String(req.headers['idempotency-key']));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: { op: string }) => {
  if (m.op === 'take') {
    const u = process.cpuUsage();
    process.send!({ keys, cpuUs: u.user + u.system });
    keys = [];
  } else if (m.op === 'exit') server.close(() => process.exit(0));
});
