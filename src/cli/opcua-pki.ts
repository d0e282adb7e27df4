import { resolve } from 'node:path';

export const OPCUA_USAGE = `usage:
  tagway opcua list                              [--data-dir DIR]   client certificates trusted and rejected
  tagway opcua trust  <thumbprint|file>          [--data-dir DIR]   let a client application connect
  tagway opcua reject <thumbprint|file>          [--data-dir DIR]   refuse it (moves it to rejected/)
  --user: the same on the PKI of X.509 user certificates (opcua/user-pki)`;

export interface OpcUaCliOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * \`tagway opcua trust|reject|list\`: manages the client certificates of the OPC UA server's PKI in the data
 * directory (\`<data-dir>/opcua/pki\`). A client the server does not know is refused and its certificate kept in
 * \`rejected/\`, where \`list\` shows its thumbprint; the running server sees a change without a restart.
 */
export async function runOpcUaCommand(args: string[], o: OpcUaCliOutput): Promise<number> {
  const [sub, ...rest] = args;
  const i = rest.indexOf('--data-dir');
  const dataDir = resolve(i >= 0 && rest[i + 1] ? rest[i + 1]! : (process.env.TAGWAY_DATA_DIR ?? 'data'));
  const positional = rest.filter((a, k) => !a.startsWith('--') && rest[k - 1] !== '--data-dir');
  const pki = await import('../northbound/opcua/pki.js');
  const root = rest.includes('--user') ? pki.userPkiDir(dataDir) : pki.serverPkiDir(dataDir);
  if (sub === 'list') {
    for (const [label, folder] of [
      ['trusted', 'trusted/certs'],
      ['rejected', 'rejected'],
    ] as const) {
      for (const c of pki.listCertificates(root, folder)) o.out(`${label.padEnd(9)} ${c.thumbprint}  ${c.subject}`);
    }
    return 0;
  }
  if ((sub === 'trust' || sub === 'reject') && positional.length === 1) {
    try {
      const r = await pki.setCertificateTrust(root, positional[0]!, sub);
      o.out(`${sub === 'trust' ? 'trusted' : 'rejected'} ${r.thumbprint}  ${r.subject}`);
      return 0;
    } catch (err) {
      o.err(`opcua ${sub}: ${(err as Error).message}`);
      return 1;
    }
  }
  o.err(OPCUA_USAGE);
  return 2;
}
