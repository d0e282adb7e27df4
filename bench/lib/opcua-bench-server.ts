/**
 * Child process for bench/opcua-monitored.bench.ts: a node-opcua server on the given port with N Double variables
 * `ns=1;s=V<i>` that all change every TICK ms. Runs in its own process so that its CPU does not count against
 * the client being measured. Prints `READY <port>` when listening; exits on SIGTERM.
 */
import { DataType, OPCUACertificateManager, OPCUAServer, Variant, type UAVariable } from 'node-opcua';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 10_000);
const tickMs = Number(process.argv[4] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-opcua-'));
const serverCertificateManager = new OPCUACertificateManager({ rootFolder: join(dir, 'pki'), automaticallyAcceptUnknownCertificate: true });
await serverCertificateManager.initialize();
const server = new OPCUAServer({
  port,
  hostname: '127.0.0.1',
  serverCertificateManager,
  serverCapabilities: { maxMonitoredItemsPerCall: 100_000, operationLimits: { maxMonitoredItemsPerCall: 100_000 } } as never,
});
await server.initialize();
const addressSpace = server.engine.addressSpace!;
const ns = addressSpace.getOwnNamespace();
const folder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Bench' });
const vars: UAVariable[] = [];
for (let i = 0; i < count; i++) {
  vars.push(
    ns.addVariable({
      organizedBy: folder,
      browseName: `V${i}`,
      nodeId: `s=V${i}`,
      dataType: DataType.Double,
      minimumSamplingInterval: 10,
      value: new Variant({ dataType: DataType.Double, value: 0 }),
    }),
  );
}
await server.start();
let n = 0;
const timer = setInterval(() => {
  n++;
  for (let i = 0; i < vars.length; i++) vars[i]!.setValueFromSource(new Variant({ dataType: DataType.Double, value: n + i / 1e6 }));
}, tickMs);
process.stdout.write(`READY ${port}\n`);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void server.shutdown(0).then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
