import { compileGlob, type GlobMatcher } from './glob.js';

/**
 * Permissions are granted to groups, optionally scoped by a tag-name glob. A user holds the union of the
 * grants of their groups. Checking is a tiny pure function so that it can be tested exhaustively.
 */
export const PERMISSIONS = [
  'tags:read',
  'tags:write',
  'alarms:read',
  'alarms:acknowledge',
  'history:read',
  'users:admin',
  'audit:read',
  'exports:read',
  'exports:run',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Permissions about tags, the only ones a tag-name glob can scope; on the others a scope would mean nothing. */
export const TAG_SCOPED_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'tags:read',
  'tags:write',
  'alarms:read',
  'alarms:acknowledge',
  'history:read',
]);

/** The problem with a grant's scope, or undefined: `users:admin` on `Line1.*` must not silently mean full admin. */
export function grantScopeProblem(g: Grant): string | undefined {
  if (g.tags === undefined || TAG_SCOPED_PERMISSIONS.has(g.permission)) return undefined;
  return `'${g.permission}' is not about tags and cannot be scoped by 'tags'; remove 'tags' (it grants everything) or use a tag permission`;
}

export interface Grant {
  permission: Permission;
  tags?: string | undefined;
}

export interface Group {
  name: string;
  description?: string | undefined;
  permissions: Grant[];
}

/** The compiled permissions of one principal, cheap to test per tag. */
export class PermissionSet {
  private readonly unscopedSet = new Set<Permission>();
  private readonly scoped = new Map<Permission, GlobMatcher[]>();
  readonly grants: readonly Grant[];

  constructor(grants: Grant[]) {
    this.grants = grants;
    for (const g of grants) {
      if (g.tags === undefined || g.tags === '**') this.unscopedSet.add(g.permission);
      else {
        const list = this.scoped.get(g.permission) ?? [];
        list.push(compileGlob(g.tags));
        this.scoped.set(g.permission, list);
      }
    }
  }

  static forGroups(groupNames: readonly string[], groups: ReadonlyMap<string, Group>): PermissionSet {
    const grants: Grant[] = [];
    for (const n of groupNames) for (const g of groups.get(n)?.permissions ?? []) grants.push(g);
    return new PermissionSet(grants);
  }

  /** Holds the permission for at least some tags (or, for non-tag permissions, at all). */
  has(p: Permission): boolean {
    return this.unscopedSet.has(p) || this.scoped.has(p);
  }

  /** Holds the permission for this tag. */
  allows(p: Permission, tag: string): boolean {
    if (this.unscopedSet.has(p)) return true;
    const list = this.scoped.get(p);
    if (!list) return false;
    for (const m of list) if (m(tag)) return true;
    return false;
  }

  /** Holds the permission for every tag (no glob limits it). */
  unscoped(p: Permission): boolean {
    return this.unscopedSet.has(p);
  }

  /** Distinct permission names held, for /users/current. */
  names(): Permission[] {
    return PERMISSIONS.filter((p) => this.has(p));
  }
}
