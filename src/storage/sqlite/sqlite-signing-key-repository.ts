import { DuplicateKeyError } from '../errors.js';
import type { SigningKeyRecord, SigningKeyRepository } from '../signing-key-repository.js';
import { migrate, type Database } from './database.js';
import { isUniqueViolation } from './gate.js';
import { SqliteRepository } from './repository.js';

const MIGRATIONS = [
  `CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY,
     alg TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     private_enc TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     retired_at INTEGER
   )`,
];

interface Row {
  kid: string;
  alg: string;
  public_jwk: string;
  private_enc: string;
  created_at: number;
  retired_at: number | null;
}

export class SqliteSigningKeyRepository extends SqliteRepository implements SigningKeyRepository {
  private readonly rotateTx;

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'signing_keys', MIGRATIONS);
    const tx = db.transaction((k: Omit<SigningKeyRecord, 'retiredAt'>) => {
      db.prepare('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL').run(k.createdAt);
      db.prepare('INSERT INTO signing_keys (kid, alg, public_jwk, private_enc, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)').run(
        k.kid,
        k.alg,
        k.publicJwk,
        k.privateEnc,
        k.createdAt,
      );
    });
    // IMMEDIATE takes the write lock first, so two processes rotating at once cannot both see "no active key".
    this.rotateTx = (k: Omit<SigningKeyRecord, 'retiredAt'>) => (db.inTransaction ? tx(k) : tx.immediate(k));
  }

  list(): Promise<SigningKeyRecord[]> {
    return this.exec(() =>
      (this.db.prepare('SELECT * FROM signing_keys ORDER BY created_at ASC, kid ASC').all() as Row[]).map((r) => ({
        kid: r.kid,
        alg: r.alg,
        publicJwk: r.public_jwk,
        privateEnc: r.private_enc,
        createdAt: r.created_at,
        retiredAt: r.retired_at,
      })),
    );
  }

  rotate(fresh: Omit<SigningKeyRecord, 'retiredAt'>): Promise<void> {
    return this.exec(() => {
      try {
        this.rotateTx(fresh);
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('signing_keys', fresh.kid);
        throw err;
      }
    });
  }

  deleteRetired(cutoff: number): Promise<number> {
    return this.exec(
      () => this.db.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= ?').run(cutoff).changes,
    );
  }
}
