import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { TagwayError } from '../domain/problems.js';
import type { Clock } from '../domain/clock.js';
import type { ApiClientRecord, ApiClientRepository } from '../storage/api-client-repository.js';

/**
 * Machine clients of the OAuth2 client-credentials grant. A client is `{clientId, name, groups}` plus an
 * argon2id hash of its secret. The secret is random (256 bits), shown once at creation and never again.
 * Clients come from two places: the project file (read-only here; the file holds the hash) and the database
 * (created by an administrator). All of them are held in memory (`load` at start), so token requests never wait on storage
 * and a deleted client's JWTs can be refused at once by `get(clientId)` in the authentication hook.
 */
export interface PasswordHasher {
  hash(secret: string): Promise<string>;
  verify(phc: string, secret: string): Promise<boolean>;
}

/** argon2id with @node-rs/argon2's defaults (OWASP-level). The lead's passwords.ts can be passed instead. */
export const argon2idHasher: PasswordHasher = {
  // @node-rs/argon2 defaults to argon2id (its Algorithm enum is a const enum, unusable under verbatimModuleSyntax).
  hash: (s) => hash(s),
  verify: async (phc, s) => {
    try {
      return await verify(phc, s);
    } catch {
      return false;
    }
  },
};

export interface ApiClient {
  clientId: string;
  name: string;
  groups: string[];
  source: 'project' | 'admin';
  createdAt: string | null;
  createdBy: string | null;
}

export interface ProjectClient {
  clientId: string;
  name?: string | undefined;
  secretHash: string;
  groups: string[];
}

interface Held extends ApiClient {
  secretHash: string;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{3,64}$/;

export class ApiClients {
  private readonly clients = new Map<string, Held>();
  /** Verified against when the client id is unknown, so both answers take an argon2 verification's time. */
  private dummyHash: Promise<string>;

  constructor(
    private readonly store: ApiClientRepository,
    private readonly clock: Clock,
    private readonly projectClients: readonly ProjectClient[] = [],
    private readonly hasher: PasswordHasher = argon2idHasher,
  ) {
    this.addProjectClients();
    this.dummyHash = hasher.hash(randomBytes(32).toString('base64url'));
  }

  /** Reads the stored clients (at start); project-file clients win over stored ones of the same id. */
  async load(): Promise<void> {
    for (const r of await this.store.list()) this.clients.set(r.clientId, { ...withoutHash(r), source: 'admin', secretHash: r.secretHash });
    this.addProjectClients();
  }

  private addProjectClients(): void {
    for (const p of this.projectClients) {
      if (!CLIENT_ID.test(p.clientId)) throw new Error(`project client id '${p.clientId}' is not valid`);
      this.clients.set(p.clientId, {
        clientId: p.clientId,
        name: p.name ?? p.clientId,
        groups: [...p.groups],
        source: 'project',
        createdAt: null,
        createdBy: null,
        secretHash: p.secretHash,
      });
    }
  }

  list(): ApiClient[] {
    return [...this.clients.values()].map(publicView).sort((a, b) => a.name.localeCompare(b.name) || a.clientId.localeCompare(b.clientId));
  }

  get(clientId: string): ApiClient | undefined {
    const c = this.clients.get(clientId);
    return c && publicView(c);
  }

  /** Name and groups of a client for authenticating a request: no copy (every JWT request calls this); read-only. */
  peek(clientId: string): Readonly<Pick<ApiClient, 'clientId' | 'name' | 'groups'>> | undefined {
    return this.clients.get(clientId);
  }

  /** Creates a client; the returned secret is the only copy there will ever be. */
  async create(p: {
    name: string;
    groups: string[];
    createdBy?: string | undefined;
  }): Promise<{ client: ApiClient; clientSecret: string }> {
    const clientId = 'tgw-' + randomBytes(9).toString('base64url');
    const clientSecret = randomBytes(32).toString('base64url');
    const rec: ApiClientRecord = {
      clientId,
      name: p.name,
      secretHash: await this.hasher.hash(clientSecret),
      groups: [...p.groups],
      createdAt: new Date(this.clock.now()).toISOString(),
      createdBy: p.createdBy ?? null,
    };
    await this.store.insert(rec);
    const held: Held = { ...withoutHash(rec), source: 'admin', secretHash: rec.secretHash };
    this.clients.set(clientId, held);
    return { client: publicView(held), clientSecret };
  }

  async delete(clientId: string): Promise<void> {
    const c = this.clients.get(clientId);
    if (!c) throw new TagwayError('NOT_FOUND', `No client '${clientId}'`);
    if (c.source === 'project') throw new TagwayError('CONFLICT', `Client '${clientId}' is defined in the project file; remove it there`);
    await this.store.delete(clientId);
    this.clients.delete(clientId);
  }

  /** The client when id and secret match, else null. Unknown ids cost the same as wrong secrets. */
  async authenticate(clientId: string, secret: string): Promise<ApiClient | null> {
    const c = this.clients.get(clientId);
    const ok = await this.hasher.verify(c ? c.secretHash : await this.dummyHash, secret);
    // Re-read: the client may have been deleted while argon2 ran.
    return ok && c && this.clients.get(clientId) === c ? publicView(c) : null;
  }
}

function withoutHash(r: ApiClientRecord): Omit<ApiClient, 'source'> {
  return { clientId: r.clientId, name: r.name, groups: [...r.groups], createdAt: r.createdAt, createdBy: r.createdBy };
}

function publicView(c: Held): ApiClient {
  return { clientId: c.clientId, name: c.name, groups: [...c.groups], source: c.source, createdAt: c.createdAt, createdBy: c.createdBy };
}

/** Constant-time string equality for short secrets (CSRF tokens and the like). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
