import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Why Tagway refused to start before it touched anything (a second instance, a taken port). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** The lock file is also the PID file: `kill -HUP "$(cat data/tagway.pid)"` signals exactly this instance. */
export const PID_FILE = 'tagway.pid';

/** Data dirs this process holds: a second in-process start on the same dir must fail like a second process. */
const heldHere = new Set<string>();

export interface DataDirLock {
  file: string;
  release(): void;
}

/**
 * Takes the data directory for this process. Two instances on one data dir would interleave writes to the same
 * SQLite journal and both create an admin; a lock whose PID is dead (a crash, kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, PID_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      const ours = pid === process.pid && !heldHere.has(file);
      if (pid !== undefined && !ours && isAlive(pid)) {
        throw new StartupError(
          `The data directory ${dataDir} is in use by another Tagway: ${describeProcess(pid)} holds ${file}. ` +
            `Stop it first, or give this instance its own --data-dir.`,
        );
      }
      // Stale (dead PID, our own leftover, or unreadable): take it over.
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    heldHere.add(file);
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        heldHere.delete(file);
        // Only our own lock: a successor may already have taken over a lock we lost.
        if (readPid(file) === process.pid) rmSync(file, { force: true });
      },
    };
  }
  throw new StartupError(`Could not take the lock ${file}; another instance keeps replacing it.`);
}

function readPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, which still means the directory is in use.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "PID 1234 (node bin/tagway.js start)"; the command line only where /proc shows it. */
export function describeProcess(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    if (cmd) return `PID ${pid} (${cmd.length > 120 ? cmd.slice(0, 117) + '…' : cmd})`;
  } catch {
    // not Linux, or not ours to read
  }
  return `PID ${pid}`;
}

/**
 * Fails when the port cannot be bound, before start-up opens the database, starts drivers or creates the admin.
 * The probe is closed again at once; the real listen follows moments later (a race with a third party is
 * still reported by listen itself).
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        const holder = listeningPid(port);
        reject(
          new StartupError(
            `Port ${port} on ${host} is already in use${holder === undefined ? '' : ` by ${describeProcess(holder)}`}. ` +
              `Stop that process, or choose another port with --port or TAGWAY_PORT.`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(new StartupError(`Port ${port} on ${host} may not be bound by this user (ports below 1024 need privileges).`));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new StartupError(`${host} is not an address of this machine (--host / TAGWAY_HOST).`));
      } else reject(err);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Best effort on Linux: the process that listens on a TCP port, found through /proc (undefined elsewhere). */
function listeningPid(port: number): number | undefined {
  try {
    const inodes = new Set<string>();
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is f[1] ("0100007F:20FB"), st f[3] ("0A" = LISTEN), inode f[9].
        if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
          if (m && inodes.has(m[1]!)) return Number(entry);
        } catch {
          // the descriptor closed meanwhile
        }
      }
    }
  } catch {
    // /proc not available
  }
  return undefined;
}
