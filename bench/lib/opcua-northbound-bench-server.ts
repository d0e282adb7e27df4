/**
 * Child process for bench/northbound-opcua.bench.ts: an OPC UA server with N Double values that all change every
 * TICK ms, either
 *   bare    a node-opcua server with N variables `ns=1;s=V<i>`, set with setValueFromSource (the least any
 *           OPC UA server over these values must do), or
 *   tagway  a whole Tagway (HTTPS, storage, engines) with N internal tags `V<i>` and `northbound.opcua`; the
 *           values enter through the tag engine (TagEngine.update, as a driver delivers them) and reach the
 *           node through the northbound server's change listener.
 * Both offer SecurityPolicy None with anonymous sessions, so that the comparison is of the servers, not of the
 * encryption. Prints `READY` when listening. On stdin `MARK` it prints `CPU <µs user+system since start> <changes
 * made since start>`; SIGTERM stops it.
 */
import { DataType, OPCUACertificateManager, OPCUAServer, Variant, type UAVariable } from 'node-opcua';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultConfig } from '../../src/config.js';
import { Quality } from '../../src/domain/quality.js';
import { startServer } from '../../src/main.js';
import { parseProject } from '../../src/project/load.js';
import { createLogger } from '../../src/server/logger.js';
import { registerBuiltIns } from '../../src/server/built-ins.js';

const mode = process.argv[2] as 'bare' | 'tagway';
const port = Number(process.argv[3]);
const count = Number(process.argv[4] ?? 10_000);
const tickMs = Number(process.argv[5] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), `tagway-bench-nb-${mode}-`));
let changes = 0;
let stop: () => Promise<void>;
let tick: (n: number) => void;

if (mode === 'bare') {
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: join(dir, 'pki'),
    automaticallyAcceptUnknownCertificate: true,
  });
  await serverCertificateManager.initialize();
  const server = new OPCUAServer({
    port,
    hostname: '127.0.0.1',
    serverCertificateManager,
    allowAnonymous: true,
    serverCapabilities: {
      maxMonitoredItems: 100_000,
      maxMonitoredItemsPerSubscription: 100_000,
      operationLimits: { maxMonitoredItemsPerCall: 100_000 },
    } as never,
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const folder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Bench' });
  const vars: UAVariable[] = [];
  for (let i = 0; i < count; i++)
    vars.push(
      ns.addVariable({
        organizedBy: folder,
        browseName: `V${i}`,
        nodeId: `s=V${i}`,
        dataType: DataType.Double,
        minimumSamplingInterval: 0,
        value: new Variant({ dataType: DataType.Double, value: 0 }),
      }),
    );
  await server.start();
  tick = (n) => {
    const now = new Date();
    for (let i = 0; i < vars.length; i++)
      vars[i]!.setValueFromSource(new Variant({ dataType: DataType.Double, value: n + i / 1e6 }), undefined, now);
    changes += vars.length;
  };
  stop = async () => {
    await server.shutdown(0);
    await serverCertificateManager.dispose();
  };
} else {
  registerBuiltIns();
  const lines = ['name: Bench', 'connections:', '  - { name: internal, driver: internal }', 'tags:'];
  for (let i = 0; i < count; i++) lines.push(`  - { name: V${i}, type: Float64, connection: internal, initial: 0 }`);
  lines.push(
    'groups:',
    '  - { name: viewers, permissions: [{ permission: "tags:read" }] }',
    'northbound:',
    `  opcua: { port: ${port}, host: 127.0.0.1, securityPolicies: [None], allowAnonymous: true, anonymousGroup: viewers, maxMonitoredItems: 100000 }`,
  );
  const config = {
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    logLevel: 'warn',
    adminPassword: 'bench-admin-password',
  };
  const server = await startServer(config, {
    project: parseProject(lines.join('\n') + '\n', 'bench.yaml'),
    logger: createLogger('warn'),
    print: () => undefined,
  });
  const engine = server.runtime.tags;
  const indexes = Array.from({ length: count }, (_, i) => engine.get(`V${i}`)!.index);
  tick = (n) => {
    const now = Date.now();
    for (let i = 0; i < indexes.length; i++) engine.update(indexes[i]!, n + i / 1e6, Quality.GOOD, now);
    changes += indexes.length;
  };
  stop = () => server.stop();
}

let n = 0;
const timer = setInterval(() => tick(++n), tickMs);
const cpu0 = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'MARK') return;
  const u = process.cpuUsage(cpu0);
  process.stdout.write(`CPU ${u.user + u.system} ${changes}\n`);
});
process.stdout.write('READY\n');
process.on('SIGTERM', () => {
  clearInterval(timer);
  void stop().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
