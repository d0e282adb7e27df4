import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  type ClientSession,
  type UserIdentityInfo,
} from 'node-opcua';
import { serverPkiDir, setCertificateTrust } from '../../../src/northbound/opcua/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** A port nobody listens on right now (the OPC UA server binds it next). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface OpcUaFixture {
  s: TestServer;
  endpointUrl: string;
  dir: string;
  clientCertificateFile: string;
  /** A session over SignAndEncrypt / Basic256Sha256 (or the mode given) as the user, or anonymous. */
  connect(
    user?: { name: string; password: string } | { certificate: Buffer; privateKey: string },
    mode?: 'None' | 'SignAndEncrypt',
  ): Promise<Connected>;
  stop(): Promise<void>;
}

export interface Connected {
  client: OPCUAClient;
  session: ClientSession;
  close(): Promise<void>;
}

/**
 * One client PKI and key pair per test file (making an RSA key pair takes seconds), trusted in the server's PKI
 * with the same function `tagway opcua trust` uses, then a Tagway with `northbound.opcua` on a free port.
 * Every PKI lives in the file's temp dir (node-opcua's default, ~/.config, would be shared).
 */
export async function startOpcUaFixture(projectYaml: (port: number) => string): Promise<OpcUaFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-opcua-nb-'));
  const clientCertificateManager = new OPCUACertificateManager({
    rootFolder: join(dir, 'client-pki'),
    automaticallyAcceptUnknownCertificate: true,
  });
  await clientCertificateManager.initialize();
  const maker = OPCUAClient.create({ applicationName: 'TagwayTest', clientCertificateManager });
  await maker.createDefaultCertificate();
  const clientCertificateFile = maker.certificateFile;
  const dataDir = join(dir, 'data');
  await setCertificateTrust(serverPkiDir(dataDir), clientCertificateFile, 'trust');
  const port = await freePort();
  const s = await startTestServer({ projectYaml: projectYaml(port), dataDir });
  const endpointUrl = `opc.tcp://127.0.0.1:${port}`;
  const open: Connected[] = [];
  return {
    s,
    endpointUrl,
    dir,
    clientCertificateFile,
    async connect(user, mode = 'SignAndEncrypt') {
      const client = OPCUAClient.create({
        applicationName: 'TagwayTest',
        clientCertificateManager,
        endpointMustExist: false,
        securityMode: mode === 'None' ? MessageSecurityMode.None : MessageSecurityMode.SignAndEncrypt,
        securityPolicy: mode === 'None' ? SecurityPolicy.None : SecurityPolicy.Basic256Sha256,
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
        requestedSessionTimeout: 60_000,
      });
      await client.connect(endpointUrl);
      const identity: UserIdentityInfo = !user
        ? { type: UserTokenType.Anonymous }
        : 'certificate' in user
          ? { type: UserTokenType.Certificate, certificateData: user.certificate, privateKey: user.privateKey }
          : { type: UserTokenType.UserName, userName: user.name, password: user.password };
      let session: ClientSession;
      try {
        session = await client.createSession(identity);
      } catch (err) {
        await client.disconnect();
        throw err;
      }
      const c: Connected = {
        client,
        session,
        close: async () => {
          await session.close().catch(() => undefined);
          await client.disconnect();
        },
      };
      open.push(c);
      return c;
    },
    async stop() {
      for (const c of open) await c.close().catch(() => undefined);
      await s.stop();
      await clientCertificateManager.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
