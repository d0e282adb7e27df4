import { Aedes, type AedesOptions } from 'aedes';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export interface Broker {
  port: number;
  aedes: Aedes;
  stop(): Promise<void>;
}

/** aedes (MQTT 3.1.1) in this process on 127.0.0.1. */
export async function startAedes(port: number, options: AedesOptions = {}): Promise<Broker> {
  const aedes = await Aedes.createBroker(options);
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    aedes,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

const MOSQUITTO = '/usr/sbin/mosquitto';

/**
 * Debian's mosquitto (MQTT 5). Installed here when missing and running as root (as CI does); otherwise the test
 * fails naming the package, rather than skipping silently.
 */
export function ensureMosquitto(): void {
  if (existsSync(MOSQUITTO)) return;
  if (process.getuid?.() === 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', 'mosquitto'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!existsSync(MOSQUITTO)) throw new Error('MQTT 5 tests need Debian\'s "mosquitto" package: apt-get install -y mosquitto');
}

export interface Mosquitto {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startMosquitto(port: number, dir: string): Promise<Mosquitto> {
  ensureMosquitto();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\n`);
  // As root, mosquitto drops to the user `mosquitto`, which must be able to read the file.
  chmodSync(dir, 0o755);
  chmodSync(conf, 0o644);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > until) {
      child.kill();
      throw new Error(`mosquitto did not listen: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
