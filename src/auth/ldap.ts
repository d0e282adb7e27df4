import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';

/**
 * Optional LDAP / Active Directory login. Tagway never stores directory passwords: it binds *as the user* (the
 * directory checks the password), then reads the user's groups and maps directory groups to Tagway groups.
 *
 * Two ways to find the bind name:
 * - `userDn` template: `uid={username},ou=people,dc=example,dc=org`, or for Active Directory the UPN
 *   `{username}@corp.example.com` (AD accepts it as a bind name);
 * - `userSearch` with a service account: search `(uid={username})` under `base`, then bind with the found DN.
 * Groups come from the entry's `memberOf` attribute (AD, OpenLDAP memberof overlay) and/or a `groupSearch`
 * (`(|(member={dn})(memberUid={username}))`), both read with the user's own rights.
 */
export interface LdapSettings {
  url: string;
  /** Upgrade ldap:// with StartTLS before sending a password. */
  startTls?: boolean | undefined;
  tlsOptions?: ConnectionOptions | undefined;
  timeoutMs?: number | undefined;
  userDn?: string | undefined;
  userSearch?:
    | {
        base: string;
        /** `{username}` is replaced, escaped per RFC 4515. */
        filter: string;
        /** Service account; without it the search runs after binding as the user (needs `userDn`). */
        bindDn?: string | undefined;
        bindPassword?: string | undefined;
      }
    | undefined;
  groupSearch?:
    | {
        base: string;
        /** `{dn}` and `{username}` are replaced, escaped per RFC 4515. */
        filter: string;
        /** Attribute naming the group (default `cn`). */
        nameAttribute?: string | undefined;
      }
    | undefined;
  /** Attribute on the user entry listing group DNs (default `memberOf`; ignored when absent). */
  memberOfAttribute?: string | undefined;
  displayNameAttributes?: string[] | undefined;
  /** Directory group (its cn or full DN, case-insensitive) → Tagway groups. */
  groupMap: Record<string, string[]>;
  /** Refuse a user none of whose directory groups is mapped (default true: a directory is not a guest list). */
  requireMappedGroup?: boolean | undefined;
}

export interface LdapUser {
  username: string;
  dn: string;
  displayName: string;
  /** Every directory group found, as DNs (or names when the directory gave only names). */
  directoryGroups: string[];
  /** The Tagway groups they map to. */
  groups: string[];
}

/** The directory could not be reached or answered unexpectedly; distinct from wrong credentials. */
export class LdapUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LdapUnavailableError';
  }
}

/** RFC 4515: escape a value placed inside a search filter. */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** RFC 4514: escape a value placed inside a DN attribute value. */
export function escapeDnValue(v: string): string {
  let s = v.replace(/[\\",+;<>=]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (s.startsWith(' ') || s.startsWith('#')) s = '\\' + s;
  if (s.endsWith(' ') && !s.endsWith('\\ ')) s = s.slice(0, -1) + '\\ ';
  return s;
}

function fill(template: string, values: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? escape(values[k]!) : m));
}

function strings(v: Entry[string] | undefined): string[] {
  if (v === undefined) return [];
  const a = Array.isArray(v) ? v : [v];
  return a.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

/** The first RDN's value, e.g. `cn=Plant Operators,ou=groups,…` → `Plant Operators`. */
function firstRdnValue(dn: string): string | undefined {
  const m = /^[^=]+=((?:\\.|[^,\\])*)/.exec(dn);
  return m?.[1]?.replace(/\\(.)/g, '$1');
}

export class LdapAuthenticator {
  private readonly map = new Map<string, string[]>();

  constructor(private readonly s: LdapSettings) {
    if (!s.userDn && !s.userSearch) throw new Error('ldap: set userDn or userSearch');
    if (s.userSearch && !s.userSearch.bindDn && !s.userDn)
      throw new Error('ldap: userSearch without a service account needs userDn to bind first');
    for (const [k, v] of Object.entries(s.groupMap)) this.map.set(k.toLowerCase(), v);
  }

  /** The user when the directory accepts the password (and a group maps, if required), else null. */
  async authenticate(username: string, password: string): Promise<LdapUser | null> {
    // An empty password would be an *unauthenticated* bind (RFC 4513 §5.1.2), which many servers accept.
    if (password.length === 0 || username.length === 0 || username.length > 256 || /[\0-\x1f]/.test(username)) return null;
    const client = new Client({
      url: this.s.url,
      timeout: this.s.timeoutMs ?? 5000,
      connectTimeout: this.s.timeoutMs ?? 5000,
      tlsOptions: this.s.tlsOptions,
      strictDN: false,
    });
    try {
      if (this.s.startTls) await client.startTLS(this.s.tlsOptions);
      let bindName: string;
      let entry: Entry | undefined;
      const us = this.s.userSearch;
      if (us?.bindDn) {
        await client.bind(us.bindDn, us.bindPassword ?? '');
        entry = await this.findUser(client, username);
        if (!entry) return null;
        bindName = entry.dn;
      } else {
        const template = this.s.userDn!;
        // A UPN template (`{username}@domain`) has no escaping: refuse names that could change its meaning.
        if (!template.includes('=') && /[@\\",+;<>=]/.test(username)) return null;
        bindName = fill(template, { username }, template.includes('=') ? escapeDnValue : (v) => v);
      }
      try {
        await client.bind(bindName, password);
      } catch (e) {
        if (e instanceof InvalidCredentialsError) return null;
        throw e;
      }
      if (!entry) {
        entry = us ? await this.findUser(client, username) : await this.readEntry(client, bindName);
        if (!entry) return null;
      }
      const directoryGroups = new Set<string>(strings(entry[this.s.memberOfAttribute ?? 'memberOf']));
      const gs = this.s.groupSearch;
      if (gs) {
        const nameAttr = gs.nameAttribute ?? 'cn';
        const r = await client.search(gs.base, {
          scope: 'sub',
          filter: fill(gs.filter, { dn: entry.dn, username }, escapeFilterValue),
          attributes: [nameAttr],
        });
        for (const g of r.searchEntries) directoryGroups.add(g.dn);
      }
      const groups = new Set<string>();
      for (const g of directoryGroups) {
        const byDn = this.map.get(g.toLowerCase());
        const cn = firstRdnValue(g);
        const byName = cn === undefined ? undefined : this.map.get(cn.toLowerCase());
        for (const t of [...(byDn ?? []), ...(byName ?? [])]) groups.add(t);
      }
      if (groups.size === 0 && (this.s.requireMappedGroup ?? true)) return null;
      const displayName =
        (this.s.displayNameAttributes ?? ['displayName', 'cn'])
          .map((a) => strings(entry![a])[0])
          .find((x) => x !== undefined && x !== '') ?? username;
      return { username, dn: entry.dn, displayName, directoryGroups: [...directoryGroups], groups: [...groups].sort() };
    } catch (e) {
      throw new LdapUnavailableError(`ldap: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      await client.unbind().catch(() => {
        /* the connection may already be gone */
      });
    }
  }

  private async findUser(client: Client, username: string): Promise<Entry | undefined> {
    const us = this.s.userSearch!;
    const r = await client.search(us.base, {
      scope: 'sub',
      filter: fill(us.filter, { username }, escapeFilterValue),
      sizeLimit: 2,
      attributes: this.attributes(),
    });
    // Two matches means the filter is ambiguous; refuse rather than guess which person this is.
    return r.searchEntries.length === 1 ? r.searchEntries[0] : undefined;
  }

  private async readEntry(client: Client, dn: string): Promise<Entry | undefined> {
    const r = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: this.attributes() });
    return r.searchEntries[0];
  }

  private attributes(): string[] {
    return [...(this.s.displayNameAttributes ?? ['displayName', 'cn']), this.s.memberOfAttribute ?? 'memberOf'];
  }
}
