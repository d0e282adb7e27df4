import type { BoardRecord, BoardRepository } from '../board-repository.js';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';

const MIGRATIONS = [
  `CREATE TABLE boards (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, widgets TEXT NOT NULL,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX boards_owner ON boards (owner);
   CREATE TABLE board_shares (board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE, group_name TEXT NOT NULL,
     PRIMARY KEY (board_id, group_name)) WITHOUT ROWID;
   CREATE INDEX board_shares_group ON board_shares (group_name);`,
];

interface Row {
  id: string;
  owner: string;
  name: string;
  widgets: string;
  createdAt: number;
  updatedAt: number;
  shares: string | null;
}

const SELECT = `SELECT b.id, b.owner, b.name, b.widgets, b.created_at AS createdAt, b.updated_at AS updatedAt,
  (SELECT json_group_array(group_name) FROM (SELECT group_name FROM board_shares s WHERE s.board_id = b.id ORDER BY group_name)) AS shares
  FROM boards b`;

function toRecord(r: Row): BoardRecord {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    widgets: JSON.parse(r.widgets) as BoardRecord['widgets'],
    sharedWith: r.shares ? (JSON.parse(r.shares) as string[]) : [],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export class SqliteBoardRepository extends SqliteRepository implements BoardRepository {
  private readonly selectOne;
  private readonly countOwner;
  private readonly saveTx;
  private readonly deleteOne;
  private readonly db: Database;

  constructor(db: Database) {
    super();
    this.db = db;
    migrate(db, 'boards', MIGRATIONS);
    this.selectOne = db.prepare(`${SELECT} WHERE b.id = ?`);
    this.countOwner = db.prepare('SELECT count(*) AS n FROM boards WHERE owner = ?');
    this.deleteOne = db.prepare('DELETE FROM boards WHERE id = ?');
    const upsert = db.prepare(
      `INSERT INTO boards (id, owner, name, widgets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, name = excluded.name, widgets = excluded.widgets,
         created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    const clearShares = db.prepare('DELETE FROM board_shares WHERE board_id = ?');
    const addShare = db.prepare('INSERT OR IGNORE INTO board_shares (board_id, group_name) VALUES (?, ?)');
    this.saveTx = db.transaction((b: BoardRecord) => {
      upsert.run(b.id, b.owner, b.name, JSON.stringify(b.widgets), b.createdAt, b.updatedAt);
      clearShares.run(b.id);
      for (const g of b.sharedWith) addShare.run(b.id, g);
    });
  }

  get(id: string): Promise<BoardRecord | undefined> {
    return this.exec(() => {
      const r = this.selectOne.get(id) as Row | undefined;
      return r ? toRecord(r) : undefined;
    });
  }

  listVisible(username: string, groups: readonly string[]): Promise<BoardRecord[]> {
    return this.exec(() => {
      const marks = groups.map(() => '?').join(', ');
      const shared = groups.length > 0 ? ` OR b.id IN (SELECT board_id FROM board_shares WHERE group_name IN (${marks}))` : '';
      const rows = this.db.prepare(`${SELECT} WHERE b.owner = ?${shared} ORDER BY b.name, b.id`).all(username, ...groups) as Row[];
      return rows.map(toRecord);
    });
  }

  countOwned(owner: string): Promise<number> {
    return this.exec(() => (this.countOwner.get(owner) as { n: number }).n);
  }

  save(board: BoardRecord): Promise<void> {
    return this.exec(() => {
      this.saveTx(board);
    });
  }

  delete(id: string): Promise<boolean> {
    return this.exec(() => this.deleteOne.run(id).changes > 0);
  }
}
