import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  Variant,
  VariantArrayType,
  type UAVariable,
} from 'node-opcua';
import { join } from 'node:path';

/** One variable per OPC UA built-in type Tagway maps, with its initial value as node-opcua holds it. */
export const VARIABLES: Array<{ name: string; dataType: DataType; initial: unknown }> = [
  { name: 'Bool', dataType: DataType.Boolean, initial: true },
  { name: 'SByte', dataType: DataType.SByte, initial: -12 },
  { name: 'Byte', dataType: DataType.Byte, initial: 200 },
  { name: 'Int16', dataType: DataType.Int16, initial: -30000 },
  { name: 'UInt16', dataType: DataType.UInt16, initial: 60000 },
  { name: 'Int32', dataType: DataType.Int32, initial: -2000000000 },
  { name: 'UInt32', dataType: DataType.UInt32, initial: 4000000000 },
  { name: 'Int64', dataType: DataType.Int64, initial: [0xffffffff, 0xfffffffe] }, // -2
  { name: 'UInt64', dataType: DataType.UInt64, initial: [0xffffffff, 0xffffffff] }, // 2^64-1
  { name: 'Float', dataType: DataType.Float, initial: 1.5 },
  { name: 'Double', dataType: DataType.Double, initial: 3.141592653589793 },
  { name: 'String', dataType: DataType.String, initial: 'héllo' },
  { name: 'DateTime', dataType: DataType.DateTime, initial: new Date('2026-11-25T04:00:00.123Z') },
];

export const USER = { name: 'operator', password: 'S3cret!' };

export interface Peer {
  server: OPCUAServer;
  endpointUrl: string;
  variables: Map<string, UAVariable>;
  stop(): Promise<void>;
}

/**
 * A real node-opcua server on 127.0.0.1 with security None and SignAndEncrypt/Basic256Sha256, one user, and a
 * folder `Plant` holding the variables above as `ns=1;s=Plant.<Name>` plus a read-only `Plant.ReadOnly`.
 * Each server gets its own PKI folder (node-opcua's default, ~/.config, would be shared between tests).
 */
export async function startPeer(port: number, pkiRoot: string): Promise<Peer> {
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiRoot, 'server'),
    automaticallyAcceptUnknownCertificate: true,
  });
  await serverCertificateManager.initialize();
  const server = new OPCUAServer({
    port,
    hostname: '127.0.0.1',
    serverCertificateManager,
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    allowAnonymous: true,
    userManager: { isValidUser: (user: string, password: string) => user === USER.name && password === USER.password },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const plant = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Plant', nodeId: 's=Plant' });
  const variables = new Map<string, UAVariable>();
  for (const v of VARIABLES) {
    const variable = ns.addVariable({
      organizedBy: plant,
      browseName: v.name,
      nodeId: `s=Plant.${v.name}`,
      dataType: v.dataType,
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      // Without it node-opcua samples variables once a second (stack.md, gotcha 8).
      minimumSamplingInterval: 10,
      value: new Variant({ dataType: v.dataType, arrayType: VariantArrayType.Scalar, value: v.initial }),
    });
    variables.set(v.name, variable);
  }
  variables.set(
    'ReadOnly',
    ns.addVariable({
      organizedBy: plant,
      browseName: 'ReadOnly',
      nodeId: 's=Plant.ReadOnly',
      dataType: DataType.Double,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
      minimumSamplingInterval: 10,
      value: new Variant({ dataType: DataType.Double, value: 7 }),
    }),
  );
  await server.start();
  return {
    server,
    endpointUrl: `opc.tcp://127.0.0.1:${port}`,
    variables,
    stop: async () => {
      await server.shutdown(0);
      await serverCertificateManager.dispose();
    },
  };
}

export function set(peer: Peer, name: string, dataType: DataType, value: unknown): void {
  peer.variables.get(name)!.setValueFromSource(new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }));
}

export function get(peer: Peer, name: string): unknown {
  return peer.variables.get(name)!.readValue().value.value;
}
