import type { AuditParams, PermissionGrant } from '../../../../client/src/index.js';
import { compileGlob } from '../../../../src/domain/glob.js';
import { AUDIT_MAX_LIMIT } from '../../../../src/storage/audit-repository.js';
import { PERMISSIONS, TAG_SCOPED_PERMISSIONS, type Permission } from '../../../../src/domain/permissions.js';
import type { Messages } from '../../i18n.js';

/**
 * The checks of the administration forms, pure so that test/web can hold them to the server's rules. They mirror
 * src/adapters/http/rest/admin/routes.ts and src/services/user-admin-service.ts (same patterns, the domain's own glob
 * compiler and scope rule); the server still decides and its problem detail is shown when it refuses.
 */

/** Fills `{name}`-style placeholders of a message. */
export function fill(message: string, values: Record<string, string | number>): string {
  return message.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

export { PERMISSIONS };
export const isTagPermission = (p: Permission): boolean => TAG_SCOPED_PERMISSIONS.has(p);

/** One row of the grant editor: the scope as typed (empty = all tags). */
export interface GrantRow {
  permission: Permission;
  tags: string;
}

export const MAX_GRANTS = 256;
const MAX_SCOPE = 256;

export function rowsOf(grants: readonly PermissionGrant[]): GrantRow[] {
  return grants.map((g) => ({ permission: g.permission, tags: g.tags ?? '' }));
}

/** What the server receives: an empty scope is no scope. */
export function grantsOf(rows: readonly GrantRow[]): PermissionGrant[] {
  return rows.map((r) => (r.tags.trim() === '' ? { permission: r.permission } : { permission: r.permission, tags: r.tags.trim() }));
}

/** The problem of each row (undefined when fine) and of the list as a whole. */
export function grantProblems(rows: readonly GrantRow[], t: Messages): { rows: Array<string | undefined>; list: string | undefined } {
  const seen = new Set<string>();
  const out = rows.map((r) => {
    const scope = r.tags.trim();
    if (!(PERMISSIONS as readonly string[]).includes(r.permission)) return fill(t.adminBadGlob, { reason: r.permission });
    if (scope !== '' && !isTagPermission(r.permission)) return fill(t.adminScopeOnlyTags, { permission: r.permission });
    if (scope.length > MAX_SCOPE) return fill(t.adminBadGlob, { reason: `> ${MAX_SCOPE}` });
    if (scope !== '') {
      try {
        compileGlob(scope);
      } catch (err) {
        return fill(t.adminBadGlob, { reason: (err as Error).message });
      }
    }
    const key = `${r.permission}\u0000${scope}`;
    if (seen.has(key)) return t.adminDuplicateGrant;
    seen.add(key);
    return undefined;
  });
  return { rows: out, list: rows.length > MAX_GRANTS ? t.adminTooManyGrants : undefined };
}

export const grantsValid = (rows: readonly GrantRow[], t: Messages): boolean => {
  const p = grantProblems(rows, t);
  return p.list === undefined && p.rows.every((x) => x === undefined);
};

const GROUP_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export const groupNameProblem = (name: string, t: Messages): string | undefined =>
  GROUP_NAME.test(name) ? undefined : t.adminGroupNameRule;
export const usernameProblem = (name: string, t: Messages): string | undefined => (USERNAME.test(name) ? undefined : t.adminUsernameRule);

/** The audit filter as typed in the form (datetime-local values are local times without a zone). */
export interface AuditForm {
  from: string;
  to: string;
  user: string;
  action: string;
  /** One tag's exact name; empty for any. */
  tag: string;
  order: 'asc' | 'desc';
}

export const PAGE_SIZE = 50;

/** The query of an audit filter, or the reason it cannot be sent. */
export function auditQuery(f: AuditForm, t: Messages): { ok: true; params: AuditParams } | { ok: false; message: string } {
  const params: AuditParams = { limit: PAGE_SIZE };
  const time = (s: string): string | undefined => {
    if (s.trim() === '') return undefined;
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? 'bad' : d.toISOString();
  };
  const from = time(f.from);
  const to = time(f.to);
  if (from === 'bad' || to === 'bad') return { ok: false, message: t.adminRangeInvalid };
  if (from !== undefined && to !== undefined && from >= to) return { ok: false, message: t.adminRangeInvalid };
  if (from !== undefined) params.from = from;
  if (to !== undefined) params.to = to;
  const user = f.user.trim();
  if (user !== '') params.user = user.slice(0, 128);
  const actions = f.action
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (actions.length) params.action = [...new Set(actions)].join(',').slice(0, 512);
  // Tag names never start or end with a space, so trimming cannot turn one name into another.
  const tag = f.tag.trim();
  if (tag !== '') params.tag = tag.slice(0, 1024);
  if (f.order === 'asc') params.order = 'asc';
  return { ok: true, params };
}

/** The CSV download of the same filter: every row the API gives in one answer, not one page. */
export function auditCsvQuery(params: AuditParams): AuditParams {
  const { cursor: _c, limit: _l, ...rest } = params;
  // The API's largest page; a larger set goes on at the answer's Link header (docs/dashboard.md).
  return { ...rest, limit: AUDIT_MAX_LIMIT };
}
