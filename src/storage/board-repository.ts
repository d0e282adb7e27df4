/**
 * Dashboard boards: named compositions of widgets a user builds in the web dashboard, each owned by one user and
 * shareable read-only with groups. The store keeps them as documents; every rule (who may see, change or share
 * one, budgets, which tags a viewer sees) lives in the BoardService.
 */
export interface BoardWidgetRecord {
  id: string;
  kind: string;
  title?: string | undefined;
  tags: string[];
  /** Kind-specific settings (a gauge's range, a trend's span), small JSON. */
  options?: Record<string, unknown> | undefined;
}

export interface BoardRecord {
  id: string;
  owner: string;
  name: string;
  widgets: BoardWidgetRecord[];
  /** Groups whose members may view (never change) the board. */
  sharedWith: string[];
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export interface BoardRepository {
  get(id: string): Promise<BoardRecord | undefined>;
  /** Boards owned by `username` or shared with any of `groups`, ordered by name, then id. */
  listVisible(username: string, groups: readonly string[]): Promise<BoardRecord[]>;
  countOwned(owner: string): Promise<number>;
  /** Inserts or replaces the board with this id. */
  save(board: BoardRecord): Promise<void>;
  /** True when it existed. */
  delete(id: string): Promise<boolean>;
}
