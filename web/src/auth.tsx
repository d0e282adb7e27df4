import { createContext, useContext } from 'react';
import type { CurrentUser } from '../../client/src/index.js';
import { compileGlob } from '../../src/domain/glob.js';

/** What the signed-in user may do, from the grants the server sent. A convenience for the UI: the server decides. */
export class Rights {
  private readonly grants: Array<{ permission: string; match: (tag: string) => boolean }>;
  constructor(readonly user: CurrentUser) {
    this.grants = user.grants.map((g) => ({ permission: g.permission, match: g.tags === undefined ? () => true : compileGlob(g.tags) }));
  }
  /** Holds the permission (for this tag, when given; for some tag at least otherwise). */
  can(permission: string, tag?: string | null): boolean {
    return this.grants.some((g) => g.permission === permission && (tag === undefined || tag === null || g.match(tag)));
  }
}

export interface Auth {
  rights: Rights;
  signOut: () => void;
}

export const AuthContext = createContext<Auth | undefined>(undefined);
export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside a signed-in page');
  return a;
}
