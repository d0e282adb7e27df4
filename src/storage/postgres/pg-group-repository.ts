import type { Grant, Group } from '../../domain/permissions.js';
import type { GroupRepository } from '../group-repository.js';
import { PgRepository, type PgMigrations } from './db.js';

export const GROUP_MIGRATIONS: PgMigrations = {
  module: 'admin_groups',
  steps: [`CREATE TABLE admin_groups (name TEXT PRIMARY KEY, description TEXT, permissions TEXT NOT NULL, updated_at TEXT NOT NULL)`],
};

interface Row {
  name: string;
  description: string | null;
  permissions: string;
}

const toGroup = (r: Row): Group => ({
  name: r.name,
  ...(r.description === null ? {} : { description: r.description }),
  permissions: JSON.parse(r.permissions) as Grant[],
});

export class PgGroupRepository extends PgRepository implements GroupRepository {
  list(): Promise<Group[]> {
    return this.db.run(async (db) => (await db.query<Row>('SELECT * FROM admin_groups ORDER BY name COLLATE "C"')).rows.map(toGroup));
  }

  get(name: string): Promise<Group | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<Row>('SELECT * FROM admin_groups WHERE name = $1', [name])).rows[0];
      return r ? toGroup(r) : undefined;
    });
  }

  upsert(g: Group): Promise<void> {
    return this.db.run(async (db) => {
      await db.query(
        `INSERT INTO admin_groups (name, description, permissions, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, updated_at = excluded.updated_at`,
        [g.name, g.description ?? null, JSON.stringify(g.permissions), new Date().toISOString()],
      );
    });
  }

  delete(name: string): Promise<boolean> {
    return this.db.run(async (db) => ((await db.query('DELETE FROM admin_groups WHERE name = $1', [name])).rowCount ?? 0) > 0);
  }
}
