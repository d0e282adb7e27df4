import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The peer products compared in docs/performance.md, at the versions measured there. */
export const PEER_VERSIONS = { fuxa: '1.3.4', nodeRed: '4.1.8' } as const;

/** bench/peers/ (git-ignored): the peers are installed from the npm registry on first use, never by `npm install`. */
export const PEERS_DIR = join(import.meta.dirname, '..', '..', 'peers');

export function ensurePeers(): { fuxaDir: string; nodeRedDir: string } {
  const fuxaDir = join(PEERS_DIR, 'node_modules', '@frangoteam', 'fuxa');
  const nodeRedDir = join(PEERS_DIR, 'node_modules', 'node-red');
  if (!existsSync(join(fuxaDir, 'main.js')) || !existsSync(join(nodeRedDir, 'red.js'))) {
    mkdirSync(PEERS_DIR, { recursive: true });
    writeFileSync(join(PEERS_DIR, 'package.json'), '{ "name": "tagway-bench-peers", "private": true }\n');
    console.log(`Installing FUXA ${PEER_VERSIONS.fuxa} and Node-RED ${PEER_VERSIONS.nodeRed} into bench/peers/ (a few minutes, once) …`);
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `@frangoteam/fuxa@${PEER_VERSIONS.fuxa}`,
        `node-red@${PEER_VERSIONS.nodeRed}`,
      ],
      { cwd: PEERS_DIR, stdio: 'inherit' },
    );
  }
  return { fuxaDir, nodeRedDir };
}
