import { randomUUID } from 'node:crypto';
import { TagwayError } from '../domain/problems.js';
import type { AuditEvent } from '../runtime/audit.js';
import type { BoardRecord, BoardRepository, BoardWidgetRecord } from '../storage/board-repository.js';
import type { Actor } from './actor.js';

/** The widget kinds the dashboard can draw. */
export const WIDGET_KINDS = ['value', 'gauge', 'trend', 'setpoint', 'alarms', 'indicator'] as const;
export type WidgetKind = (typeof WIDGET_KINDS)[number];

export interface BoardLimits {
  /** Boards one user may own (→ TOO_MANY_REQUESTS... no: PAYLOAD_TOO_LARGE would lie; CONFLICT says "delete one"). */
  maxBoardsPerUser: number;
  maxWidgets: number;
  maxTagsPerWidget: number;
  maxShares: number;
  /** The board's JSON (widgets and their options) at most this many bytes. */
  maxBytes: number;
}

export const DEFAULT_BOARD_LIMITS: BoardLimits = {
  maxBoardsPerUser: 100,
  maxWidgets: 50,
  maxTagsPerWidget: 20,
  maxShares: 20,
  maxBytes: 65_536,
};

export interface BoardInput {
  name: string;
  widgets: Array<{
    id?: string | undefined;
    kind: WidgetKind;
    title?: string | undefined;
    tags: string[];
    options?: Record<string, unknown>;
  }>;
  sharedWith?: string[] | undefined;
}

/** A board as one viewer sees it: widgets only with the tags that viewer may read. */
export interface BoardView extends BoardRecord {
  /** True when the viewer owns it (may change, share and delete it). */
  mine: boolean;
  /** Tags left out because the viewer may not read them (or they no longer exist). */
  hiddenTags: number;
}

export interface BoardServiceDeps {
  repo: BoardRepository;
  audit: { recordSoon(e: AuditEvent): Promise<void> };
  /** True when the project has a tag of this name. */
  tagExists(name: string): boolean;
  /** True when a group of this name exists. */
  groupExists(name: string): boolean;
  now(): number;
  limits?: Partial<BoardLimits>;
}

/**
 * Dashboard boards: every rule about them lives here. A board belongs to the user who created it; only they change,
 * share or delete it (an administrator may delete any). Sharing is read-only and by group. Whoever views a board
 * sees only the tags they may read: a shared board never widens anyone's rights, and a tag outside the viewer's
 * scope is left out as if it did not exist.
 */
export class BoardService {
  readonly limits: BoardLimits;

  constructor(private readonly deps: BoardServiceDeps) {
    this.limits = { ...DEFAULT_BOARD_LIMITS, ...deps.limits };
  }

  async list(actor: Actor): Promise<BoardView[]> {
    const p = actor.principal;
    const boards = await this.deps.repo.listVisible(p.username, p.groups);
    return boards.map((b) => this.view(actor, b));
  }

  async get(actor: Actor, id: string): Promise<BoardView> {
    return this.view(actor, await this.visible(actor, id));
  }

  async create(actor: Actor, input: BoardInput): Promise<BoardView> {
    this.requireComposer(actor);
    this.validate(actor, input);
    const owned = await this.deps.repo.countOwned(actor.principal.username);
    if (owned >= this.limits.maxBoardsPerUser)
      throw new TagwayError('CONFLICT', `You own ${owned} boards, the most allowed (${this.limits.maxBoardsPerUser}); delete one first`);
    const now = this.deps.now();
    const board = this.record(randomUUID(), actor.principal.username, input, now, now);
    await this.deps.repo.save(board);
    await this.audited(actor, 'board.create', board);
    return this.view(actor, board);
  }

  async update(actor: Actor, id: string, input: BoardInput): Promise<BoardView> {
    const old = await this.visible(actor, id);
    if (old.owner !== actor.principal.username)
      throw new TagwayError('FORBIDDEN', `Board '${old.name}' is shared with you read-only; only ${old.owner} may change it`);
    this.requireComposer(actor);
    this.validate(actor, input);
    const board = this.record(id, old.owner, input, old.createdAt, Math.max(this.deps.now(), old.updatedAt));
    await this.deps.repo.save(board);
    await this.audited(actor, 'board.update', board);
    return this.view(actor, board);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const p = actor.principal;
    const admin = p.permissions.unscoped('users:admin');
    const board = admin ? await this.deps.repo.get(id) : await this.visible(actor, id);
    if (!board) throw notFound(id);
    if (board.owner !== p.username && !admin)
      throw new TagwayError('FORBIDDEN', `Board '${board.name}' is shared with you read-only; only ${board.owner} may delete it`);
    await this.deps.repo.delete(id);
    await this.audited(actor, 'board.delete', board);
  }

  /** The board if the actor may see it; NOT_FOUND otherwise, so that ids of others' boards cannot be probed. */
  private async visible(actor: Actor, id: string): Promise<BoardRecord> {
    const b = await this.deps.repo.get(id);
    const p = actor.principal;
    if (!b || (b.owner !== p.username && !b.sharedWith.some((g) => p.groups.includes(g)))) throw notFound(id);
    return b;
  }

  private requireComposer(actor: Actor): void {
    if (!actor.principal.permissions.has('tags:read'))
      throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read', which composing a board needs");
  }

  private validate(actor: Actor, input: BoardInput): void {
    const l = this.limits;
    const perms = actor.principal.permissions;
    if (input.widgets.length > l.maxWidgets)
      throw new TagwayError('PAYLOAD_TOO_LARGE', `A board has at most ${l.maxWidgets} widgets; this one has ${input.widgets.length}`);
    const shares = input.sharedWith ?? [];
    if (shares.length > l.maxShares)
      throw new TagwayError('PAYLOAD_TOO_LARGE', `A board is shared with at most ${l.maxShares} groups; this one names ${shares.length}`);
    const bytes = Buffer.byteLength(JSON.stringify(input.widgets));
    if (bytes > l.maxBytes)
      throw new TagwayError('PAYLOAD_TOO_LARGE', `A board's widgets take at most ${l.maxBytes} bytes; these take ${bytes}`);
    const errors: Array<{ field: string; message: string }> = [];
    const ids = new Set<string>();
    input.widgets.forEach((w, i) => {
      if (w.id !== undefined) {
        if (ids.has(w.id)) errors.push({ field: `body.widgets.${i}.id`, message: `is used by another widget` });
        ids.add(w.id);
      }
      if (w.tags.length > l.maxTagsPerWidget)
        errors.push({ field: `body.widgets.${i}.tags`, message: `has more than ${l.maxTagsPerWidget} tags` });
      if (w.kind !== 'alarms' && w.tags.length === 0) errors.push({ field: `body.widgets.${i}.tags`, message: 'names no tag' });
    });
    for (const g of shares) if (!this.deps.groupExists(g)) errors.push({ field: 'body.sharedWith', message: `no group named '${g}'` });
    if (errors.length > 0)
      throw new TagwayError('VALIDATION_FAILED', `The board is not valid: ${errors[0]!.field} ${errors[0]!.message}`, { errors });
    // The composer may only put tags on a board that they may read themselves (an unknown or unreadable tag is
    // answered alike, as everywhere else).
    for (const w of input.widgets)
      for (const t of w.tags)
        if (!this.deps.tagExists(t) || !perms.allows('tags:read', t)) throw new TagwayError('TAG_NOT_FOUND', `No tag named '${t}'`);
  }

  private record(id: string, owner: string, input: BoardInput, createdAt: number, updatedAt: number): BoardRecord {
    const widgets: BoardWidgetRecord[] = input.widgets.map((w) => ({
      id: w.id ?? randomUUID().slice(0, 8),
      kind: w.kind,
      ...(w.title !== undefined ? { title: w.title } : {}),
      tags: [...new Set(w.tags)],
      ...(w.options !== undefined ? { options: w.options } : {}),
    }));
    return { id, owner, name: input.name, widgets, sharedWith: [...new Set(input.sharedWith ?? [])].sort(), createdAt, updatedAt };
  }

  private view(actor: Actor, b: BoardRecord): BoardView {
    const perms = actor.principal.permissions;
    let hidden = 0;
    const widgets: BoardWidgetRecord[] = [];
    for (const w of b.widgets) {
      const tags = w.tags.filter((t) => this.deps.tagExists(t) && perms.allows('tags:read', t));
      hidden += w.tags.length - tags.length;
      // A widget left without a tag shows nothing the viewer may see; an alarm list without tags shows all alarms.
      if (tags.length === 0 && w.tags.length > 0) continue;
      widgets.push({ ...w, tags });
    }
    return { ...b, widgets, mine: b.owner === actor.principal.username, hiddenTags: hidden };
  }

  private audited(actor: Actor, action: 'board.create' | 'board.update' | 'board.delete', b: BoardRecord): Promise<void> {
    return this.deps.audit.recordSoon({
      action,
      user: actor.principal.username,
      clientAddress: actor.clientAddress,
      target: b.id,
      details: {
        name: b.name,
        widgets: b.widgets.length,
        sharedWith: b.sharedWith,
        ...(b.owner !== actor.principal.username ? { owner: b.owner } : {}),
      },
      result: 'OK',
    });
  }
}

function notFound(id: string): TagwayError {
  return new TagwayError('NOT_FOUND', `No board with id '${id}'`);
}
