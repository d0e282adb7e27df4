import type { BoardRecord, BoardRepository } from '../board-repository.js';
import { PgRepository, type PgMigrations } from './db.js';

export const BOARD_MIGRATIONS: PgMigrations = {
  module: 'boards',
  steps: [
    `CREATE TABLE boards (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, widgets TEXT NOT NULL,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
     CREATE INDEX boards_owner ON boards (owner);
     CREATE TABLE board_shares (board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE, group_name TEXT NOT NULL,
       PRIMARY KEY (board_id, group_name));
     CREATE INDEX board_shares_group ON board_shares (group_name);`,
  ],
};

interface Row {
  id: string;
  owner: string;
  name: string;
  widgets: string;
  created_at: number;
  updated_at: number;
  shares: string[] | null;
}

// Shares in byte order (COLLATE "C"), as SQLite orders them, so both backends answer the same lists.
const SELECT = `SELECT b.*, (SELECT array_agg(group_name ORDER BY group_name COLLATE "C") FROM board_shares s WHERE s.board_id = b.id) AS shares
  FROM boards b`;

const toRecord = (r: Row): BoardRecord => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  widgets: JSON.parse(r.widgets) as BoardRecord['widgets'],
  sharedWith: r.shares ?? [],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class PgBoardRepository extends PgRepository implements BoardRepository {
  get(id: string): Promise<BoardRecord | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<Row>(`${SELECT} WHERE b.id = $1`, [id])).rows[0];
      return r ? toRecord(r) : undefined;
    });
  }

  listVisible(username: string, groups: readonly string[]): Promise<BoardRecord[]> {
    return this.db.run(async (db) =>
      (
        await db.query<Row>(
          `${SELECT} WHERE b.owner = $1 OR b.id IN (SELECT board_id FROM board_shares WHERE group_name = ANY($2::text[]))
           ORDER BY b.name COLLATE "C", b.id COLLATE "C"`,
          [username, [...groups]],
        )
      ).rows.map(toRecord),
    );
  }

  countOwned(owner: string): Promise<number> {
    return this.db.run(
      async (db) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM boards WHERE owner = $1', [owner])).rows[0]!.n,
    );
  }

  save(b: BoardRecord): Promise<void> {
    return this.db.atomic(async (db) => {
      await db.query(
        `INSERT INTO boards (id, owner, name, widgets, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, name = excluded.name, widgets = excluded.widgets,
           created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [b.id, b.owner, b.name, JSON.stringify(b.widgets), b.createdAt, b.updatedAt],
      );
      await db.query('DELETE FROM board_shares WHERE board_id = $1', [b.id]);
      if (b.sharedWith.length > 0)
        await db.query('INSERT INTO board_shares (board_id, group_name) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
          b.id,
          [...b.sharedWith],
        ]);
    });
  }

  delete(id: string): Promise<boolean> {
    return this.db.run(async (db) => ((await db.query('DELETE FROM boards WHERE id = $1', [id])).rowCount ?? 0) > 0);
  }
}
