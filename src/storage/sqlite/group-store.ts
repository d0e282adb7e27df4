import type { Grant, Group } from '../../domain/permissions.js';
import { migrate, type Database } from './database.js';

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

export class SqliteGroupStore {
  constructor(private readonly db: Database) {
    migrate(db, 'admin_groups', MIGRATIONS);
  }

  list(): Group[] {
    return (this.db.prepare('SELECT * FROM admin_groups ORDER BY name').all() as Row[]).map((r) => ({
      name: r.name,
      ...(r.description === null ? {} : { description: r.description }),
      permissions: JSON.parse(r.permissions) as Grant[],
    }));
  }

  upsert(g: Group): void {
    this.db
      .prepare(`INSERT INTO admin_groups (name, description, permissions, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, updated_at = excluded.updated_at`)
      .run(g.name, g.description ?? null, JSON.stringify(g.permissions), new Date().toISOString());
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM admin_groups WHERE name = ?').run(name).changes > 0;
  }
}
