import type { Grant, Group } from '../../domain/permissions.js';
import type { GroupRepository } from '../group-repository.js';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';

/** Groups created by administrators (project-file groups live in the project and are never stored here). */
const MIGRATIONS = [
  `CREATE TABLE admin_groups (
     name TEXT PRIMARY KEY,
     description TEXT,
     permissions TEXT NOT NULL,
     updated_at TEXT NOT NULL
   )`,
];

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

export class SqliteGroupRepository extends SqliteRepository implements GroupRepository {
  constructor(private readonly db: Database) {
    super();
    migrate(db, 'admin_groups', MIGRATIONS);
  }

  list(): Promise<Group[]> {
    return this.exec(() => (this.db.prepare('SELECT * FROM admin_groups ORDER BY name').all() as Row[]).map(toGroup));
  }

  get(name: string): Promise<Group | undefined> {
    return this.exec(() => {
      const r = this.db.prepare('SELECT * FROM admin_groups WHERE name = ?').get(name) as Row | undefined;
      return r ? toGroup(r) : undefined;
    });
  }

  upsert(g: Group): Promise<void> {
    return this.exec(() => {
      this.db
        .prepare(`INSERT INTO admin_groups (name, description, permissions, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, updated_at = excluded.updated_at`)
        .run(g.name, g.description ?? null, JSON.stringify(g.permissions), new Date().toISOString());
    });
  }

  delete(name: string): Promise<boolean> {
    return this.exec(() => this.db.prepare('DELETE FROM admin_groups WHERE name = ?').run(name).changes > 0);
  }
}
