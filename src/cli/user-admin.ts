import { resolve } from 'node:path';
import { hashPassword } from '../auth/passwords.js';
import { passwordProblems } from '../auth/password-policy.js';
import { AuditTrail } from '../runtime/audit.js';
import { systemClock } from '../domain/clock.js';
import { openStorage } from '../storage/open.js';

/**
 * `tagway user add|passwd|disable|enable|list` — works on the data directory's database directly, so an operator
 * can recover access with the server stopped or running (a running server notices the change within a
 * fraction of a second and refuses a disabled user). Passwords come from stdin, never from arguments (they would show in `ps`).
 * Every change is audited with user `cli`.
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
  tagway user disable NAME | enable NAME`;

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
  const storage = await openStorage({ dataDir });
  try {
    const users = storage.users;
    const audit = new AuditTrail(storage.audit, systemClock);
    const rec = (
      action: 'user.create' | 'user.password' | 'user.disable' | 'user.update',
      target: string,
      details?: Record<string, unknown>,
    ) => audit.record({ action, user: 'cli', clientAddress: null, target, details, result: 'OK' });
    switch (sub) {
      case 'list':
        for (const u of await users.list())
          io.out(`${u.username.padEnd(24)} ${u.disabled ? 'disabled' : 'enabled '} ${u.source.padEnd(8)} ${u.groups.join(',')}`);
        return 0;
      case 'add': {
        if (await users.get(name!)) {
          io.err(`user '${name}' exists`);
          return 1;
        }
        if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name!)) {
          io.err('a user name is 1–64 of A-Z a-z 0-9 _ . @ -');
          return 2;
        }
        const groups = (flags.get('groups') ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        if (groups.length === 0) {
          io.err('--groups is required');
          return 2;
        }
        const password = await io.readPassword();
        const problems = passwordProblems(password, name!);
        if (problems.length) {
          io.err(`password ${problems.join('; ')}`);
          return 1;
        }
        await users.upsert({
          username: name!,
          displayName: flags.get('display-name') ?? name!,
          passwordHash: await hashPassword(password),
          groups,
          disabled: false,
          source: 'local',
        });
        await rec('user.create', name!, { groups });
        io.out(`user '${name}' added to ${groups.join(', ')}`);
        return 0;
      }
      case 'passwd':
      case 'disable':
      case 'enable': {
        const u = await users.get(name!);
        if (!u) {
          io.err(`no user '${name}'`);
          return 1;
        }
        let passwordHash = u.passwordHash;
        if (sub === 'passwd') {
          const password = await io.readPassword();
          const problems = passwordProblems(password, name!);
          if (problems.length) {
            io.err(`password ${problems.join('; ')}`);
            return 1;
          }
          passwordHash = await hashPassword(password);
        }
        const disabled = sub === 'disable' ? true : sub === 'enable' ? false : u.disabled;
        await users.upsert({
          username: u.username,
          displayName: u.displayName,
          passwordHash,
          groups: u.groups,
          disabled,
          source: u.source,
        });
        // A new password or a disabled account ends every session.
        if (sub !== 'enable') await storage.sessions.deleteForUser(u.username);
        await rec(
          sub === 'passwd' ? 'user.password' : sub === 'disable' ? 'user.disable' : 'user.update',
          u.username,
          sub === 'enable' ? { newDisabled: false } : undefined,
        );
        io.out(`user '${name}': ${sub === 'passwd' ? 'password changed' : sub === 'disable' ? 'disabled, sessions ended' : 'enabled'}`);
        return 0;
      }
      default:
        io.err(USAGE);
        return 2;
    }
  } finally {
    await storage.close();
  }
}
