import { migrate, type Database } from './database.js';

/** API clients created by an administrator (project-file clients never reach this table). */
export interface ApiClientRecord {
  clientId: string;
  name: string;
  /** argon2id PHC string; the secret itself is never stored. */
  secretHash: string;
  groups: string[];
  createdAt: string;
  createdBy: string | null;
}

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

interface Row {
  client_id: string;
  name: string;
  secret_hash: string;
  groups: string;
  created_at: string;
  created_by: string | null;
}

const toRecord = (r: Row): ApiClientRecord => ({
  clientId: r.client_id,
  name: r.name,
  secretHash: r.secret_hash,
  groups: JSON.parse(r.groups) as string[],
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class SqliteClientStore {
  constructor(private readonly db: Database) {
    migrate(db, 'api_clients', MIGRATIONS);
  }

  list(): ApiClientRecord[] {
    return (this.db.prepare('SELECT * FROM api_clients ORDER BY name, client_id').all() as Row[]).map(toRecord);
  }

  insert(c: ApiClientRecord): void {
    this.db
      .prepare('INSERT INTO api_clients (client_id, name, secret_hash, groups, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
      .run(c.clientId, c.name, c.secretHash, JSON.stringify(c.groups), c.createdAt, c.createdBy);
  }

  delete(clientId: string): boolean {
    return this.db.prepare('DELETE FROM api_clients WHERE client_id = ?').run(clientId).changes > 0;
  }
}
