import { resolve } from 'node:path';
// The project file's connections are checked against the registered drivers (its groups are what we need).
import { ApiClients } from '../auth/api-clients.js';
import { GroupAdmin } from '../auth/group-admin.js';
import { SessionService } from '../auth/sessions.js';
import { UserDirectory } from '../auth/user-directory.js';
import { systemClock } from '../domain/clock.js';
import { TagwayError } from '../domain/problems.js';
import { DEMO_PROJECT_FILE, loadProjectFile } from '../project/load.js';
import { formatProblem, ProjectError } from '../project/problems.js';
import { AuditTrail } from '../runtime/audit.js';
import { createLogger } from '../server/logger.js';
import type { Actor } from '../services/actor.js';
import { systemPrincipal, UserAdminService } from '../services/user-admin-service.js';
import { openStorage } from '../storage/open.js';

/**
 * `tagway user add|passwd|disable|enable|unlock|list` — works on the data directory's database directly, so an
 * operator can recover access with the server stopped or running (a running server notices the change within a
 * fraction of a second and refuses a disabled user). Passwords come from stdin, never from arguments (they would show in `ps`).
 * The rules are those of the REST API (UserAdminService: groups must exist, an enabled admin must remain, the
 * password policy); every change is audited with user `cli`. Groups come from the project file (`--project`,
 * TAGWAY_PROJECT, or the demo plant, as for `tagway start`) plus those administrators created.
 */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readPassword(): Promise<string>;
}

const USAGE = `usage:
  tagway user list                              [--data-dir DIR]
  tagway user add NAME --groups G1,G2 [--display-name TEXT]   (password on stdin)
  tagway user passwd NAME                       (new password on stdin)
  tagway user disable NAME | enable NAME
  tagway user unlock NAME                       (clear a lockout: enables the user)
options: --data-dir DIR, --database-url URL (PostgreSQL; default TAGWAY_DATABASE_URL), --project FILE (its groups; default TAGWAY_PROJECT or the demo plant)`;

export async function runUserCommand(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const v = args[++i];
        if (v === undefined) {
          io.err(`option ${a} needs a value`);
          return 2;
        }
        flags.set(a.slice(2), v);
      }
    } else positional.push(a);
  }
  const [sub, name] = positional;
  const dataDir = resolve(flags.get('data-dir') ?? env.TAGWAY_DATA_DIR ?? 'data');
  if (!sub || (sub !== 'list' && !name)) {
    io.err(USAGE);
    return 2;
  }
  let groups;
  let projectClients;
  try {
    const project = loadProjectFile(flags.get('project') ?? env.TAGWAY_PROJECT ?? DEMO_PROJECT_FILE);
    groups = project.groups;
    projectClients = project.raw.clients ?? [];
  } catch (err) {
    if (!(err instanceof ProjectError)) throw err;
    for (const p of err.problems) io.err(formatProblem(p));
    return 1;
  }
  const storage = await openStorage({ dataDir, databaseUrl: flags.get('database-url') ?? (env.TAGWAY_DATABASE_URL || undefined) });
  const users = new UserDirectory(storage.users, groups, createLogger('silent'));
  // Ends sessions in the repository; a running server drops them from memory when it sees the user change.
  const sessions = new SessionService(storage.sessions, users, systemClock);
  try {
    await users.load();
    const clients = new ApiClients(storage.apiClients, systemClock, projectClients);
    await clients.load();
    const groupAdmin = new GroupAdmin(storage.groups, users, clients);
    await groupAdmin.load();
    const audit = new AuditTrail(storage.audit, systemClock);
    const service = new UserAdminService({
      users,
      groups: groupAdmin,
      clients,
      sessions,
      audit,
    });
    const actor: Actor = { principal: systemPrincipal('cli'), clientAddress: '', via: 'cli' };
    try {
      switch (sub) {
        case 'list':
          for (const u of service.listUsers(actor))
            io.out(`${u.username.padEnd(24)} ${u.disabled ? 'disabled' : 'enabled '} ${u.source.padEnd(8)} ${u.groups.join(',')}`);
          return 0;
        case 'add': {
          const groupNames = (flags.get('groups') ?? '')
            .split(',')
            .map((g) => g.trim())
            .filter(Boolean);
          if (groupNames.length === 0) {
            io.err('--groups is required');
            return 2;
          }
          const password = await io.readPassword();
          await service.createUser(actor, { username: name!, displayName: flags.get('display-name'), password, groups: groupNames });
          io.out(`user '${name}' added to ${groupNames.join(', ')}`);
          return 0;
        }
        case 'passwd':
          service.getUser(actor, name!);
          await service.updateUser(actor, name!, { password: await io.readPassword() });
          io.out(`user '${name}': password changed`);
          return 0;
        case 'disable':
          await service.updateUser(actor, name!, { disabled: true });
          io.out(`user '${name}': disabled, sessions ended`);
          return 0;
        case 'enable':
          await service.updateUser(actor, name!, { disabled: false });
          io.out(`user '${name}': enabled`);
          return 0;
        case 'unlock': {
          const r = await service.unlockUser(actor, name!);
          io.out(
            `user '${name}': ${r.enabled ? 'enabled again' : 'was not disabled'}; a running server's cooling-off ends on its own or with POST /users/${name}/unlock`,
          );
          return 0;
        }
        default:
          io.err(USAGE);
          return 2;
      }
    } catch (err) {
      if (!(err instanceof TagwayError)) throw err;
      io.err(
        err.code === 'NOT_FOUND' ? `no user '${name}'` : err.code === 'CONFLICT' && sub === 'add' ? `user '${name}' exists` : err.message,
      );
      return 1;
    }
  } finally {
    users.stop();
    await sessions.flush();
    await storage.close();
  }
}
