import { DuplicateKeyError } from '../errors.js';
import type { SigningKeyRecord, SigningKeyRepository } from '../signing-key-repository.js';
import { isUniqueViolation, LOCK_NS, LOCKS, PgRepository, type PgMigrations } from './db.js';

export const SIGNING_KEY_MIGRATIONS: PgMigrations = {
  module: 'signing_keys',
  steps: [
    `CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk TEXT NOT NULL, private_enc TEXT NOT NULL,
       created_at BIGINT NOT NULL, retired_at BIGINT)`,
  ],
};

interface Row {
  kid: string;
  alg: string;
  public_jwk: string;
  private_enc: string;
  created_at: number;
  retired_at: number | null;
}

export class PgSigningKeyRepository extends PgRepository implements SigningKeyRepository {
  list(): Promise<SigningKeyRecord[]> {
    return this.db.run(async (db) =>
      (await db.query<Row>('SELECT * FROM signing_keys ORDER BY created_at ASC, kid COLLATE "C" ASC')).rows.map((r) => ({
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
    return this.db.atomic(async (db) => {
      // Two nodes rotating at once take turns, so neither leaves a second active key behind.
      await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NS, LOCKS.signingKeys]);
      await db.query('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL', [fresh.createdAt]);
      try {
        await db.query(
          'INSERT INTO signing_keys (kid, alg, public_jwk, private_enc, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, NULL)',
          [fresh.kid, fresh.alg, fresh.publicJwk, fresh.privateEnc, fresh.createdAt],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('signing_keys', fresh.kid);
        throw err;
      }
    });
  }

  deleteRetired(cutoff: number): Promise<number> {
    return this.db.run(
      async (db) => (await db.query('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= $1', [cutoff])).rowCount ?? 0,
    );
  }
}
