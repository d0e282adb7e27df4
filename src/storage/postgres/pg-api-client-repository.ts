import type { ApiClientRecord, ApiClientRepository } from '../api-client-repository.js';
import { DuplicateKeyError } from '../errors.js';
import { isUniqueViolation, PgRepository, type PgMigrations } from './db.js';
import { apiClientRecordOf, type ApiClientRow } from '../rows.js';

export const API_CLIENT_MIGRATIONS: PgMigrations = {
  module: 'api_clients',
  steps: [
    `CREATE TABLE api_clients (client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, groups TEXT NOT NULL,
       created_at TEXT NOT NULL, created_by TEXT)`,
  ],
};

export class PgApiClientRepository extends PgRepository implements ApiClientRepository {
  list(): Promise<ApiClientRecord[]> {
    return this.db.run(async (db) =>
      (await db.query<ApiClientRow>('SELECT * FROM api_clients ORDER BY name COLLATE "C", client_id COLLATE "C"')).rows.map(
        apiClientRecordOf,
      ),
    );
  }

  get(clientId: string): Promise<ApiClientRecord | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<ApiClientRow>('SELECT * FROM api_clients WHERE client_id = $1', [clientId])).rows[0];
      return r ? apiClientRecordOf(r) : undefined;
    });
  }

  insert(c: ApiClientRecord): Promise<void> {
    return this.db.run(async (db) => {
      try {
        await db.query(
          'INSERT INTO api_clients (client_id, name, secret_hash, groups, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
          [c.clientId, c.name, c.secretHash, JSON.stringify(c.groups), c.createdAt, c.createdBy],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('api_clients', c.clientId);
        throw err;
      }
    });
  }

  delete(clientId: string): Promise<boolean> {
    return this.db.run(async (db) => ((await db.query('DELETE FROM api_clients WHERE client_id = $1', [clientId])).rowCount ?? 0) > 0);
  }
}
