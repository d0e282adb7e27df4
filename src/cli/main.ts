import { resolve } from 'node:path';
import { runAuditVerify, runAuditVerifyPostgres } from './audit-verify.js';
import { runMigrate, runMigrateData } from './migrate-data.js';
import { runOpcUaCommand } from './opcua-pki.js';
import { runUserCommand } from './user-admin.js';
import { CONFIG_FLAGS, ConfigError, loadConfig } from '../config.js';
import { hashPassword } from '../auth/passwords.js';
import { loadProjectFile } from '../project/load.js';
import { formatProblem, ProjectError } from '../project/problems.js';
import { TagwayError } from '../domain/problems.js';
import { didYouMean } from '../domain/suggest.js';
import type { Runtime } from '../runtime/runtime.js';
import { startServer, type RunningServer } from '../main.js';
import { StartupError } from '../server/instance-lock.js';
import { registerBuiltIns } from '../server/built-ins.js';
import { tagwayVersion } from '../server/version.js';

const COMMANDS = ['start', 'check', 'hash-password', 'user', 'audit', 'opcua', 'migrate', 'migrate-data', 'version', 'help'];

const HELP = `Tagway — open plant-data server

Usage:
  tagway start [options]        start the server (default command)
  tagway check FILE             validate a project file; prints every problem with line and column
  tagway hash-password          read a password from stdin, print its argon2id hash (for passwordHash:)
  tagway user list|add|passwd|disable|enable|unlock …  manage users in the data directory (passwords on stdin)
  tagway audit verify [--data-dir DIR | --database-url URL]   check the audit trail's hash chain; exit 1 names the first tampered row
  tagway opcua list|trust|reject [<thumbprint|file>] [--data-dir DIR]   client certificates of the OPC UA server
  tagway migrate [--database-url URL]   apply pending PostgreSQL migrations only (start applies them too)
  tagway migrate-data --from DIR --to URL   copy a stopped SQLite installation into an empty PostgreSQL database
  tagway version | help

Options of start (each also as an environment variable):
${CONFIG_FLAGS.map((f) => `  ${(f.flag + (f.kind === 'bool' ? '' : ' VALUE')).padEnd(30)} ${f.env}`).join('\n')}
  TAGWAY_ADMIN_PASSWORD         password of the 'admin' user created on first start
`;

const version = tagwayVersion;

/** The value of `--name VALUE` or `--name=VALUE`. */
function option(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === name) return args[i + 1];
    if (a.startsWith(name + '=')) return a.slice(name.length + 1);
  }
  return undefined;
}

async function start(args: string[]): Promise<number> {
  const config = loadConfig(args);
  // The handlers are in place before start-up, so that a signal that arrives while it runs, or right after the
  // "serving" line, stops the server gracefully instead of killing the process (and leaving its PID file).
  let server: RunningServer | undefined; // eslint-disable-line prefer-const -- assigned after the handlers exist
  let pending: string | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (!server) {
      pending ??= signal;
      return;
    }
    if (stopping) {
      process.stderr.write('Forced exit.\n');
      process.exit(1);
    }
    stopping = true;
    const running = server;
    running.runtime.logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        running.runtime.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => {
    if (stopping || !server) return;
    void reloadOnSignal(server.runtime);
  });
  server = await startServer(config);
  if (pending) shutdown(pending);
  return -1; // keep running
}

/**
 * SIGHUP: re-reads the project file and applies connection changes live. An invalid file, or changes that need a
 * restart, are logged and change nothing; Tagway keeps running as it was.
 */
export async function reloadOnSignal(runtime: Runtime): Promise<void> {
  const logger = runtime.logger;
  logger.info({ signal: 'SIGHUP', file: runtime.projectFile }, 'reloading the project file');
  try {
    await runtime.reloadProjectFile(); // logs 'project reloaded' with what changed
  } catch (err) {
    if (err instanceof TagwayError) {
      logger.error({ code: err.code, problems: err.errors?.map((e) => e.message) }, `reload refused, nothing changed: ${err.message}`);
    } else {
      logger.error({ err }, 'reload failed');
    }
  }
}

function check(args: string[]): number {
  const file = args[0];
  if (!file) {
    process.stderr.write('usage: tagway check FILE\n');
    return 2;
  }
  let project;
  try {
    project = loadProjectFile(file);
  } catch (err) {
    if (!(err instanceof ProjectError)) throw err;
    process.stderr.write(
      `${err.problems.map(formatProblem).join('\n')}\n${file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n`,
    );
    return 1;
  }
  process.stdout.write(`${file}: OK — project '${project.name}', ${project.connections.length} connections, ${project.tags.length} tags\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function main(argv: string[]): Promise<number> {
  registerBuiltIns();
  const [command = 'start', ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest);
      case 'check':
        return check(rest);
      case 'hash-password': {
        const pw = await readStdin();
        if (!pw) {
          process.stderr.write('no password on stdin\n');
          return 2;
        }
        process.stdout.write((await hashPassword(pw)) + '\n');
        return 0;
      }
      case 'user':
        return await runUserCommand(rest, {
          out: (l) => process.stdout.write(l + '\n'),
          err: (l) => process.stderr.write(l + '\n'),
          readPassword: readStdin,
        });
      case 'audit': {
        const i = rest.indexOf('--data-dir');
        if (rest[0] !== 'verify') {
          process.stderr.write('usage: tagway audit verify [--data-dir DIR | --database-url URL]\n');
          return 2;
        }
        // An explicit --data-dir wins over TAGWAY_DATABASE_URL from the environment.
        const url = option(rest, '--database-url') ?? (i >= 0 ? undefined : process.env.TAGWAY_DATABASE_URL || undefined);
        if (url) return await runAuditVerifyPostgres(url);
        return runAuditVerify(resolve(i >= 0 && rest[i + 1] ? rest[i + 1]! : (process.env.TAGWAY_DATA_DIR ?? 'data')));
      }
      case 'opcua':
        return await runOpcUaCommand(rest, { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') });
      case 'migrate': {
        const url = option(rest, '--database-url') ?? (process.env.TAGWAY_DATABASE_URL || undefined);
        if (!url) {
          process.stderr.write('usage: tagway migrate --database-url URL (or TAGWAY_DATABASE_URL); SQLite migrates itself at start\n');
          return 2;
        }
        return await runMigrate(url);
      }
      case 'migrate-data': {
        const from = option(rest, '--from');
        const to = option(rest, '--to') ?? (process.env.TAGWAY_DATABASE_URL || undefined);
        if (!from || !to) {
          process.stderr.write('usage: tagway migrate-data --from <SQLite data dir> --to <PostgreSQL URL>\n');
          return 2;
        }
        return await runMigrateData(resolve(from), to);
      }
      case 'version':
      case '--version':
        process.stdout.write(version() + '\n');
        return 0;
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      default:
        if (command.startsWith('--')) return await start(argv);
        process.stderr.write(`unknown command '${command}'${didYouMean(command, COMMANDS)}\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ProjectError) {
      process.stderr.write(`The project file is invalid; Tagway did not start.\n${err.problems.map(formatProblem).join('\n')}\n`);
      return 1;
    }
    if (err instanceof StartupError) {
      process.stderr.write(`Tagway did not start: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`The port is in use: ${e.message}. Choose another with --port or TAGWAY_PORT.\n`);
      return 1;
    }
    if (e.code === 'EACCES') {
      process.stderr.write(`Permission denied: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`Tagway failed: ${e.stack ?? String(err)}\n`);
    return 1;
  }
}
