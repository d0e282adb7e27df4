import type { ApiClientRecord, ApiClientRepository } from '../api-client-repository.js';
import { DuplicateKeyError } from '../errors.js';
import { migrate, type Database } from './database.js';
import { isUniqueViolation } from './gate.js';
import { SqliteRepository } from './repository.js';
import { apiClientRecordOf, type ApiClientRow } from '../rows.js';

export type { ApiClientRecord };

const MIGRATIONS = [
  `CREATE TABLE api_clients (
     client_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     groups TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT
   )`,
];

export class SqliteApiClientRepository extends SqliteRepository implements ApiClientRepository {
  constructor(private readonly db: Database) {
    super();
    migrate(db, 'api_clients', MIGRATIONS);
  }

  list(): Promise<ApiClientRecord[]> {
    return this.exec(() =>
      (this.db.prepare('SELECT * FROM api_clients ORDER BY name, client_id').all() as ApiClientRow[]).map(apiClientRecordOf),
    );
  }

  get(clientId: string): Promise<ApiClientRecord | undefined> {
    return this.exec(() => {
      const r = this.db.prepare('SELECT * FROM api_clients WHERE client_id = ?').get(clientId) as ApiClientRow | undefined;
      return r ? apiClientRecordOf(r) : undefined;
    });
  }

  insert(c: ApiClientRecord): Promise<void> {
    return this.exec(() => {
      try {
        this.db
          .prepare('INSERT INTO api_clients (client_id, name, secret_hash, groups, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
          .run(c.clientId, c.name, c.secretHash, JSON.stringify(c.groups), c.createdAt, c.createdBy);
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('api_clients', c.clientId);
        throw err;
      }
    });
  }

  delete(clientId: string): Promise<boolean> {
    return this.exec(() => this.db.prepare('DELETE FROM api_clients WHERE client_id = ?').run(clientId).changes > 0);
  }
}
